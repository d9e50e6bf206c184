"""``--jobs N``: the images of a batch spread over N worker processes on this machine.

Each worker is a fresh (spawned) Python process that limits its threads, cores and GPU to its
:class:`~zssr.workers.Slot` before it imports Keras, then takes images from a shared queue one
at a time and keeps its network pool between them. Results come back as
:class:`~zssr.tasks.Attempt` objects in the order they finish; the caller restores input order.

Stopping: workers ignore Ctrl-C's SIGINT (the terminal sends it to the whole process group) and
act on SIGTERM, which only the driving process sends them, at their next safe point (a training
step or an ensemble pass), so an interrupted image leaves no file; a second SIGTERM stops them at
once (outputs are written through a temporary file and a rename, so even then nothing partial is
left under an output's name). A worker that dies (killed, out of memory) fails its image; a new
worker takes its place.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import queue
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

from .batch import Job
from .tasks import Attempt, Work
from .workers import Slot

__all__ = ["run_pool"]

_POLL = 0.2
#: Seconds the workers get to reach a safe point after an interruption before a second SIGTERM.
GRACE_SECONDS = 60.0


def _worker(slot: Slot, payload: bytes, tasks: Any, results: Any) -> None:
    """A worker process's loop: take ``(index, job)`` from ``tasks``, put the outcome in
    ``results``; ``None`` (or SIGTERM) ends it."""
    from .workers import limit_threads

    try:
        limit_threads(slot)  # before anything imports Keras
        from .batch import SIGNALS
        from .progress import import_backend
        from .tasks import attempt_in_worker

        SIGNALS.install()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver relays Ctrl-C as SIGTERM
        import_backend(quiet=True)  # quietly, and before the work's objects import it
        work = pickle.loads(payload)
        pid = os.getpid()
        while SIGNALS.received is None:
            try:
                item = tasks.get(timeout=_POLL)
            except queue.Empty:
                continue
            if item is None:
                break
            index, job = item
            results.put(("start", pid, index, None))
            outcome = attempt_in_worker(job, work)
            results.put(("done", pid, index, outcome))
            if outcome.status == "interrupted":
                break
    except KeyboardInterrupt:  # a second SIGTERM: stop now (outputs are renamed into place)
        pass


class _Pool:
    def __init__(self, slots: Sequence[Slot], work: Work) -> None:
        self.ctx = mp.get_context("spawn")  # a forked TensorFlow is not safe
        self.tasks, self.results = self.ctx.Queue(), self.ctx.Queue()
        self.payload = pickle.dumps(work)
        self.procs: dict[int, tuple[Any, Slot]] = {}
        self.held: dict[int, int] = {}  # worker pid -> index of the image it runs

    def start(self, slot: Slot) -> None:
        """Start a worker for ``slot``: it inherits its thread settings from the environment
        (read by NumPy's BLAS as it is imported) and an ignored SIGINT (kept by the new Python,
        so a Ctrl-C during its start-up reaches only the driver)."""
        from .workers import slot_environment

        proc = self.ctx.Process(target=_worker, args=(slot, self.payload, self.tasks,
                                                      self.results), daemon=True)
        saved = dict(os.environ)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            os.environ.update({k: v for k, v in slot_environment(slot).items() if v})
            proc.start()
        finally:
            signal.signal(signal.SIGINT, previous)
            os.environ.clear()
            os.environ.update(saved)
        self.procs[proc.pid] = (proc, slot)

    def signal_all(self, signum: int) -> None:
        for proc, _ in self.procs.values():
            if proc.is_alive():
                try:
                    os.kill(proc.pid, signum)
                except ProcessLookupError:
                    pass

    def dead(self) -> list[tuple[int, Any, Slot]]:
        """Workers that ended with a non-zero exit code (removed from the pool)."""
        gone = []
        for pid, (proc, slot) in list(self.procs.items()):
            if not proc.is_alive() and proc.exitcode not in (0, None):
                gone.append((pid, proc, slot))
                del self.procs[pid]
        return gone

    def close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for proc, _ in self.procs.values():
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc, _ in self.procs.values():
            if proc.is_alive():
                proc.kill()
                proc.join()
        self.tasks.cancel_join_thread()
        self.results.cancel_join_thread()


def run_pool(jobs: Sequence[Job], work: Work, slots: Sequence[Slot],
             on_done: Callable[[int, Attempt], None], *,
             poll: Callable[[], None] = lambda: None) -> None:
    """Run ``jobs`` on ``len(slots)`` worker processes; ``on_done(index, attempt)`` is called in
    this process as each image finishes.

    Parameters
    ----------
    jobs : sequence of Job
        The images, with absolute paths (workers do not share a current folder's meaning).
    work : Work
        What each image is run with.
    slots : sequence of Slot
        One per worker (:func:`zssr.workers.plan_slots`).
    on_done : callable
        Receives each finished image's index in ``jobs`` and its :class:`Attempt`; may raise
        (e.g. :class:`zssr.batch.UsageError`) to stop the batch.
    poll : callable
        Called several times a second; raising ``KeyboardInterrupt`` there (a termination signal)
        stops the workers at their next safe point.

    Raises
    ------
    KeyboardInterrupt
        Re-raised after the workers stopped, when ``poll`` raised it or a worker was interrupted;
        the images finished meanwhile are still passed to ``on_done``.
    """
    pool = _Pool(slots, work)
    for index, job in enumerate(jobs):
        pool.tasks.put((index, job))
    for slot in slots:
        pool.tasks.put(None)
        pool.start(slot)
    remaining = set(range(len(jobs)))
    exit_codes: list[int] = []
    try:
        while remaining:
            poll()
            try:
                kind, pid, index, outcome = pool.results.get(timeout=_POLL)
            except queue.Empty:
                for pid, proc, slot in pool.dead():
                    exit_codes.append(proc.exitcode)
                    if pid not in pool.held:
                        continue  # died before taking an image (start-up): not replaced
                    lost = pool.held.pop(pid)
                    remaining.discard(lost)
                    on_done(lost, Attempt("failed", message=(
                        f"the worker process died (exit code {proc.exitcode}); out of "
                        "memory? run with fewer jobs")))
                    if remaining:  # the image's fault, not the worker's: replace it
                        pool.tasks.put(None)
                        pool.start(slot)
                if remaining and not any(p.is_alive() for p, _ in pool.procs.values()):
                    for lost in sorted(remaining):  # no worker is left to take them
                        on_done(lost, Attempt("failed", message=(
                            "no worker process was left to run this image (the last ended "
                            f"with exit code {exit_codes[-1] if exit_codes else '?'})")))
                    remaining.clear()
                continue
            if kind == "start":
                pool.held[pid] = index
                continue
            pool.held.pop(pid, None)
            remaining.discard(index)
            if outcome.status == "interrupted":
                raise KeyboardInterrupt("a worker was interrupted")
            on_done(index, outcome)
    except BaseException:
        _stop(pool, on_done)
        raise
    pool.close(timeout=GRACE_SECONDS)


def _stop(pool: _Pool, on_done: Callable[[int, Attempt], None]) -> None:
    """Stop every worker at its next safe point; pass on what finishes meanwhile."""
    pool.signal_all(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    try:
        while time.monotonic() < deadline:
            try:
                kind, _, index, outcome = pool.results.get(timeout=_POLL)
            except queue.Empty:
                if not any(p.is_alive() for p, _ in pool.procs.values()):
                    break  # every worker has ended and its last messages are in
                continue
            if kind == "done" and outcome.status in ("ok", "failed"):
                try:
                    on_done(index, outcome)
                except Exception:  # already stopping: what is not recorded is redone on resume
                    pass
    except KeyboardInterrupt:  # a second Ctrl-C: stop the workers now
        pool.signal_all(signal.SIGTERM)
    pool.close(timeout=5.0)
