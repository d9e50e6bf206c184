"""How many threads and which GPU a process computes with: the limits each worker of a parallel
run (``--jobs``, ``--cluster``) sets before it imports Keras.

The backends size their thread pools once, when they start, from these environment variables
(TensorFlow: ``TF_NUM_INTRAOP_THREADS``; OpenMP and BLAS: ``OMP_NUM_THREADS``; XLA/JAX on the
CPU: ``XLA_FLAGS``, and the CPU affinity) and pick GPUs from ``CUDA_VISIBLE_DEVICES``. A
floating-point sum split over more threads is added in another order, so the thread count of a
run, not only its seed, fixes its output bit for bit: runs with the same ``threads`` give
identical images whether they ran one after another, in worker processes or on a cluster.

Nothing here imports Keras or a backend.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Slot", "cpu_count", "gpu_count", "plan_slots", "slot_environment", "limit_threads",
           "backend_started"]

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false"


@dataclass(frozen=True)
class Slot:
    """What one worker process may use: ``threads`` threads on ``cores`` (CPU ids; empty: any)
    and GPU ``gpu`` (``None``: the GPUs the parent sees)."""

    threads: int
    cores: tuple[int, ...] = ()
    gpu: int | None = None


def cpu_count() -> int:
    """The number of CPUs this process may run on (its affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gpu_count() -> int:
    """The number of NVIDIA GPUs visible to this process, without importing a backend:
    ``CUDA_VISIBLE_DEVICES`` if set, else the ``/dev/nvidiaN`` device files."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v.strip() for v in visible.split(",") if v.strip()]
        return 0 if not ids or ids[0] == "-1" else len(ids)
    return sum(1 for p in Path("/dev").glob("nvidia*") if re.fullmatch(r"nvidia\d+", p.name))


def plan_slots(workers: int, *, threads: int | None = None, cpus: int | None = None,
               gpus: int | None = None) -> list[Slot]:
    """The :class:`Slot` of each of ``workers`` processes on this machine.

    Parameters
    ----------
    workers : int
        Number of worker processes (>= 1).
    threads : int, optional
        Threads per worker; by default an equal share of the CPUs (at least 1).
    cpus, gpus : int, optional
        The machine's CPUs and GPUs; by default :func:`cpu_count` and :func:`gpu_count`.

    Returns
    -------
    list of Slot
        Worker ``i`` runs on its own block of cores when the shares fit the machine (they do not
        overlap), and on GPU ``i mod gpus`` when there are GPUs.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    cpus = cpu_count() if cpus is None else cpus
    gpus = gpu_count() if gpus is None else gpus
    per = max(1, cpus // workers) if threads is None else threads
    if per < 1:
        raise ValueError(f"threads must be >= 1, got {per}")
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = list(range(cpus))
    fits = per * workers <= len(allowed)
    slots = []
    for i in range(workers):
        cores = tuple(allowed[i * per:(i + 1) * per]) if fits else ()
        slots.append(Slot(per, cores, (i % gpus) if gpus else None))
    return slots


def backend_started() -> bool:
    """Whether Keras (and so its backend's thread pools) is imported in this process."""
    return "keras" in sys.modules


def slot_environment(slot: Slot) -> dict[str, str]:
    """The environment variables that give a new process ``slot``'s threads and GPU.

    For a GPU slot, JAX is told not to take most of the GPU's memory up front
    (``XLA_PYTHON_CLIENT_PREALLOCATE=false``, unless set), so that workers can share a GPU.
    """
    env = {name: str(slot.threads) for name in _THREAD_VARS}
    flags = os.environ.get("XLA_FLAGS", "").replace(_XLA_ONE_THREAD, "").strip()
    if slot.threads == 1:
        flags = f"{flags} {_XLA_ONE_THREAD}".strip()
    env["XLA_FLAGS"] = flags
    if slot.gpu is not None:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        ids = [v.strip() for v in visible.split(",")] if visible else None
        env["CUDA_VISIBLE_DEVICES"] = ids[slot.gpu] if ids else str(slot.gpu)
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE",
                                                              "false")
    return env


def limit_threads(slot: Slot) -> None:
    """Make this process compute with ``slot``'s threads, cores and GPU.

    Call it before Keras is imported: it sets :func:`slot_environment`, which the backends read
    when they start, and pins the process to ``slot.cores`` (Linux).

    Raises
    ------
    RuntimeError
        If Keras is imported already with other thread settings (too late to change them).
    """
    if backend_started():
        if os.environ.get("TF_NUM_INTRAOP_THREADS") == str(slot.threads):
            return  # a reused worker that was set up for the same slot
        raise RuntimeError("limit_threads must run before Keras is imported")
    for name, value in slot_environment(slot).items():
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    if slot.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, slot.cores)
