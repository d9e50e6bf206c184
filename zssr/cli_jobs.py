"""The command line's loop over its jobs: one image's outcome, the overall bar, the summary.

Split from :mod:`zssr.cli` (which parses the command line and picks exit codes). Each failure is
printed once, as ``error: ...`` when it happens; the summary names the failed inputs only.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from . import batch
from .batch import SIGNALS, Job, UsageError
from .progress import ProgressBars, stderr_is_terminal

__all__ = ["run_one", "outcome", "run_batch", "summary"]

#: One job's (status, job, note, seconds); status is ok, skipped or failed.
Outcome = tuple[str, Job, str, float]


def run_one(job: Job, args: Any, run: dict[str, Any], position: int) -> str:
    """Process one job; returns its line of the summary."""
    progress = ProgressBars(job.path.name, args.quiet, position, on_event=SIGNALS.check)
    note = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    recorder = run.get("report")
    if recorder is not None:
        progress = recorder.track(str(job.relative), progress)
    record = batch.process(job, progress=progress, note=note, **run["process"])
    if recorder is not None:
        recorder.add(str(job.relative), record)
    line = f"{record['output']} ({record['iterations']} it)"
    if record["metrics"]:
        line += (f" PSNR-Y {record['metrics']['psnr_y']:.2f} dB, "
                 f"SSIM-Y {record['metrics']['ssim_y']:.4f}")
    return line


def _failed(job: Job, message: str, seconds: float) -> Outcome:
    print(f"error: {message}", file=sys.stderr)
    return "failed", job, "(error above)", seconds


def outcome(job: Job, args: Any, run: dict[str, Any], position: int) -> Outcome:
    """One job's outcome; :class:`UsageError` and ``KeyboardInterrupt`` stop the batch.

    ``run`` holds ``process`` (the keyword arguments of :func:`zssr.batch.process`),
    ``out_dir``, ``clashes`` (:func:`zssr.batch.output_clashes`) and ``to_flags`` (the
    translation of core messages into flags).
    """
    t0 = time.perf_counter()
    out_dir, clashes = run["out_dir"], run["clashes"]
    if job in clashes:
        name = batch.output_paths(job, out_dir, args.scale, "")[0].name
        return _failed(job, f"{job.path}: its output {name}.* would also be the output of "
                            f"{clashes[job].path}; rename one of them or run them with "
                            "different -o folders", 0.0)
    if args.skip_existing and batch.existing_output(job, out_dir, args.scale) is not None:
        return "skipped", job, "output exists", 0.0
    try:
        return "ok", job, run_one(job, args, run, position), time.perf_counter() - t0
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as exc:  # one bad file must not stop the others
        if args.debug:
            traceback.print_exc()
        message = run["to_flags"](str(exc))
        if not message.startswith(str(job.path)):
            message = f"{job.path}: {message}"
        return _failed(job, message, time.perf_counter() - t0)


def run_batch(jobs: list[Job], args: Any, run: dict[str, Any], outcomes: list) -> None:
    """Run every job in turn, appending each :func:`outcome` to ``outcomes`` (which keeps the
    finished ones when an interruption stops the batch); an overall bar on a terminal."""
    overall = None
    if len(jobs) > 1 and not args.quiet and stderr_is_terminal():
        from tqdm import tqdm

        overall = tqdm(total=len(jobs), desc="images", unit="img", position=0,
                       dynamic_ncols=True, file=sys.stderr)
    try:
        for job in jobs:
            SIGNALS.check()
            outcomes.append(outcome(job, args, run, 1 if overall is not None else 0))
            if overall is not None:
                overall.update(1)
    finally:
        if overall is not None:
            overall.close()


def summary(jobs: list[Job], outcomes: list, say: Callable[..., None]) -> bool:
    """Say one line per job and the totals; returns whether any job failed."""
    for status, job, note, seconds in outcomes:
        say(f"{status:8s} {job.path}  {note}" + (f"  [{seconds:.1f} s]" if seconds else ""))
    count = {s: sum(1 for o in outcomes if o[0] == s) for s in ("ok", "skipped", "failed")}
    if len(jobs) > 1:
        say(f"{count['ok']} done, {count['skipped']} skipped, {count['failed']} failed of "
            f"{len(jobs)}")
    return count["failed"] > 0
