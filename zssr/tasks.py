"""One image's task, as the command line runs it in its own process, in a worker process
(``--jobs``) or on a Ray worker (``--cluster``): :func:`attempt` runs
:func:`zssr.batch.process` and returns an :class:`Attempt` that can travel between processes.

Nothing is printed here: the process that drives the batch prints errors and notes once, keeps
the summary, the report and the run log.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from . import batch
from .batch import SIGNALS, Job, UsageError

__all__ = ["Work", "Attempt", "attempt", "attempt_in_worker"]


@dataclass(frozen=True)
class Work:
    """What every image of a batch is run with (picklable).

    Attributes
    ----------
    process : dict
        Keyword arguments of :func:`zssr.batch.process` other than the job and its callbacks.
    record_events : bool
        Keep the training events (for ``--report``'s curves).
    debug : bool
        Keep the traceback of a failure.
    """

    process: dict[str, Any]
    record_events: bool = False
    debug: bool = False


@dataclass
class Attempt:
    """The outcome of one image's task.

    ``status`` is ``ok``, ``failed`` (this image only), ``usage`` (the request cannot work for
    any image: the batch stops) or ``interrupted`` (a termination signal stopped it; no output
    was written).
    """

    status: str
    seconds: float = 0.0
    record: dict[str, Any] | None = None
    sha256: str | None = None
    message: str | None = None
    traceback: str | None = None
    notes: list[str] = field(default_factory=list)
    events: list = field(default_factory=list)
    host: str | None = None


def attempt(job: Job, work: Work, progress: Any) -> Attempt:
    """Run ``job`` with ``progress`` (a :class:`zssr.progress.ProgressBars`); a failure of this
    image becomes a ``failed`` :class:`Attempt`.

    Raises
    ------
    UsageError
        The request cannot work for any image.
    KeyboardInterrupt
        A termination signal, at a safe point.
    """
    from .report import TrackedProgress
    from .weights import sha256_file

    notes: list[str] = []
    events: list = []
    if work.record_events:
        progress = TrackedProgress(events, progress)
    t0 = time.perf_counter()
    try:
        record = batch.process(job, progress=progress, note=notes.append, **work.process)
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as exc:  # one bad file must not stop the others
        return Attempt("failed", time.perf_counter() - t0, message=str(exc), notes=notes,
                       traceback=traceback.format_exc() if work.debug else None)
    return Attempt("ok", time.perf_counter() - t0, record=record,
                   sha256=sha256_file(record["output"]), notes=notes, events=events)


def attempt_in_worker(job: Job, work: Work) -> Attempt:
    """:func:`attempt` in a worker process: no bars; a pending termination signal is acted on at
    the next progress event; a usage error or an interruption also becomes an :class:`Attempt`
    (sent back to the driving process)."""
    import socket

    from .progress import ProgressBars

    t0 = time.perf_counter()
    try:
        outcome = attempt(job, work, ProgressBars(job.path.name, True, on_event=SIGNALS.check))
    except UsageError as exc:
        outcome = Attempt("usage", time.perf_counter() - t0, message=str(exc))
    except KeyboardInterrupt:
        outcome = Attempt("interrupted", time.perf_counter() - t0)
    outcome.host = socket.gethostname()
    return outcome
