"""``--cluster ray`` / ``--cluster ray://HOST:PORT``: one Ray task per image.

`Ray <https://docs.ray.io>`_ schedules the tasks on the machines of a cluster by their resource
requests (CPUs and GPUs per image), restarts a task whose worker or machine died (a bounded
number of times) and streams the results back as they finish. Each task reads its input and
writes its output (atomically) itself, so inputs and the output folder must be on storage that
every machine sees at the same path; zssr must be installed on every machine.

Ray is an optional dependency (``pip install 'zssr[ray]'``), imported only here, only when asked
for.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import Any

from .batch import Job, UsageError
from .tasks import Attempt, Work

__all__ = ["import_ray", "run_ray", "LOCAL", "ENV_VARS"]

#: ``--cluster`` value that starts a Ray instance on this machine.
LOCAL = "ray"
#: Environment variables handed to Ray's workers.
ENV_VARS = ("KERAS_BACKEND", "ZSSR_DEBUG", "TF_CPP_MIN_LOG_LEVEL")
_POLL = 0.2
#: Seconds the cancelled tasks get to end after an interruption.
GRACE_SECONDS = 60.0


def import_ray() -> Any:
    """Import Ray, or :class:`~zssr.batch.UsageError` with the install line."""
    try:
        import ray
    except ImportError:
        raise UsageError("cluster: Ray is not installed; pip install ray (the zssr[ray] "
                         "extra)") from None
    return ray


def _task(job: Job, payload: bytes, threads: int) -> Attempt:
    """One image on a Ray worker: threads limited and Keras imported (quietly) before the work
    is unpickled; a cancellation (Ray's KeyboardInterrupt, or SIGTERM) is acted on at the next
    safe point, as in a ``--jobs`` worker."""
    from .batch import SIGNALS
    from .progress import import_backend
    from .tasks import attempt_in_worker
    from .workers import Slot, limit_threads

    limit_threads(Slot(threads))
    import_backend(quiet=True)
    try:
        restore = SIGNALS.install()
    except ValueError:  # not the worker's main thread: Ray's cancellation raises at once
        restore = None
    try:
        return attempt_in_worker(job, pickle.loads(payload))
    finally:
        if restore is not None:
            restore()


def _connect(ray: Any, address: str) -> bool:
    """Start or join Ray; returns whether this call started it (and so must shut it down)."""
    if ray.is_initialized():
        return False
    env = {name: os.environ[name] for name in ENV_VARS if name in os.environ}
    options: dict[str, Any] = {"runtime_env": {"env_vars": env}, "log_to_driver": False,
                               "logging_level": logging.WARNING}
    if address == LOCAL:
        options["include_dashboard"] = False
    else:
        options["address"] = address
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        ray.init(**options)
    except Exception as exc:  # ConnectionError, a version mismatch, a bad address
        raise UsageError(f"cluster={address}: cannot start or reach Ray ({exc})") from None
    finally:
        for sig, handler in previous.items():  # Ray installs its own; ours act at safe points
            signal.signal(sig, handler)
    return True


def run_ray(address: str, jobs: Sequence[Job], work: Work,
            on_done: Callable[[int, Attempt], None], *, cpus_per_image: float = 1,
            gpus_per_image: float = 0, retries: int = 2, threads: int | None = None,
            poll: Callable[[], None] = lambda: None) -> None:
    """Run one Ray task per job; ``on_done(index, attempt)`` is called here as each finishes.

    Parameters
    ----------
    address : str
        ``"ray"`` starts Ray on this machine; ``"ray://HOST:PORT"`` joins a cluster through the
        Ray client (``"auto"`` joins one started with ``ray start`` on this machine). If Ray is
        already initialised in this process, that instance is used and left running.
    jobs : sequence of Job
        The images, with absolute paths that every machine of the cluster can read.
    work : Work
        What each image is run with.
    on_done : callable
        Receives each finished image's index in ``jobs`` and its :class:`Attempt`.
    cpus_per_image, gpus_per_image : float
        Each task's resource request.
    threads : int, optional
        Threads of each task's backend (default: ``ceil(cpus_per_image)``).
    retries : int
        How often a task whose worker process or machine died is run again. An image that fails
        by itself (a bad file) is reported, not retried.
    poll : callable
        Called several times a second; raising ``KeyboardInterrupt`` cancels the tasks.

    Raises
    ------
    UsageError
        Ray is missing or cannot be reached, or an image's task reports a usage error.
    KeyboardInterrupt
        After the tasks were cancelled, when ``poll`` raised it.
    """
    ray = import_ray()
    started = _connect(ray, address)
    threads = threads or max(1, math.ceil(cpus_per_image))
    remote = ray.remote(_task).options(num_cpus=cpus_per_image, num_gpus=gpus_per_image,
                                       max_retries=retries, retry_exceptions=False)
    payload = ray.put(pickle.dumps(work))
    pending = {remote.remote(job, payload, threads): i for i, job in enumerate(jobs)}
    try:
        while pending:
            poll()
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=_POLL)
            for ref in ready:
                index = pending.pop(ref)
                on_done(index, _result(ray, ref, retries))
    except BaseException:
        _cancel(ray, pending, on_done, retries)
        raise
    finally:
        if started:
            ray.shutdown()


def _cancel(ray: Any, pending: dict, on_done: Callable[[int, Attempt], None],
            retries: int) -> None:
    """Cancel the pending tasks and wait for them to end; pass on those that finished anyway."""
    for ref in pending:
        ray.cancel(ref)
    try:
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=GRACE_SECONDS)
        for ref in ready:
            outcome = _result(ray, ref, retries)
            if outcome.status in ("ok", "failed"):
                on_done(pending[ref], outcome)
    except Exception:  # already stopping: what could not be passed on is redone on resume
        pass


def _result(ray: Any, ref: Any, retries: int) -> Attempt:
    """The task's :class:`Attempt`; ``failed`` when the task itself failed (after its retries),
    ``interrupted`` when it was cancelled."""
    try:
        outcome = ray.get(ref)
    except ray.exceptions.TaskCancelledError:
        return Attempt("interrupted")
    except ray.exceptions.RayError as exc:
        text = str(exc).strip().splitlines()
        return Attempt("failed", message=f"the Ray task failed (after up to {retries} retries): "
                                         f"{type(exc).__name__}: {text[-1] if text else ''}")
    return outcome
