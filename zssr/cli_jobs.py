"""The command line's loop over its jobs: which images run and where (this process, ``--jobs``
worker processes or a Ray ``--cluster``), each image's outcome, the overall bar, the run log and
the summary.

Split from :mod:`zssr.cli` (which parses the command line and picks exit codes). Whatever runs
an image, this process prints each failure once, as ``error: ...`` when it is known; the summary
names the failed inputs only and keeps the inputs' order.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import batch
from .batch import SIGNALS, Job, UsageError
from .progress import ProgressBars, stderr_is_terminal
from .runlog import NAME as RUN_LOG_NAME
from .runlog import RunLog, entry
from .tasks import Attempt, Work, attempt
from .workers import Slot, gpu_count, plan_slots

__all__ = ["Plan", "plan", "check_flags", "run_batch", "summary", "RUN_LOG_NAME"]

#: One job's (status, job, note, seconds); status is ok, skipped or failed.
Outcome = tuple[str, Job, str, float]


@dataclass
class Plan:
    """Which jobs run, which are settled before any runs, and where the rest run.

    ``mode`` is ``serial`` (this process; ``slots[0]`` limits its threads if given), ``pool``
    (one worker process per slot) or ``ray`` (``cluster`` holds :func:`zssr.cluster.run_ray`'s
    options).
    """

    todo: list[int]
    settled: dict[int, Outcome]
    mode: str = "serial"
    slots: list[Slot] = field(default_factory=list)
    cluster: dict[str, Any] = field(default_factory=dict)


def check_flags(args: Any) -> None:
    """The parallel-run flags make sense together (else :class:`UsageError`)."""
    if args.cluster:
        if args.jobs is not None:
            raise UsageError("--jobs runs worker processes on this machine; with --cluster, Ray "
                             "places the work (use --cpus-per-image / --gpus-per-image)")
        if args.cluster not in ("ray", "auto") and not args.cluster.startswith("ray://"):
            raise UsageError(f"--cluster {args.cluster}: give ray (start Ray here), "
                             "ray://HOST:PORT or auto (a cluster started by 'ray start')")
    elif (args.cpus_per_image, args.gpus_per_image, args.retries) != (1.0, 0.0, 2):
        raise UsageError("--cpus-per-image, --gpus-per-image and --retries apply to --cluster")
    for name, low in (("jobs", 1), ("threads", 1), ("retries", 0)):
        value = getattr(args, name)
        if value is not None and value < low:
            raise UsageError(f"--{name} must be >= {low}")
    if not args.cpus_per_image > 0 or args.gpus_per_image < 0:
        raise UsageError("--cpus-per-image must be > 0 and --gpus-per-image >= 0")


def _precheck(job: Job, args: Any, out_dir: Path | None, clashes: dict[Job, Job],
              logged: dict[str, dict]) -> Outcome | None:
    """The outcome of a job that needs no run: its output clashes with an earlier input's, or
    ``--skip-existing`` and its output exists (logged ``ok`` by an earlier run, or not)."""
    if job in clashes:
        name = batch.output_paths(job, out_dir, args.scale, "")[0].name
        print(f"error: {job.path}: its output {name}.* would also be the output of "
              f"{clashes[job].path}; rename one of them or run them with different -o folders",
              file=sys.stderr)
        return "failed", job, "(error above)", 0.0
    if args.skip_existing:
        existing = batch.existing_output(job, out_dir, args.scale)
        if existing is None:
            return None
        item = logged.get(str(job.path.resolve()))
        if item and Path(item["output"]) == existing.resolve():
            return "skipped", job, "done in an earlier run (run log)", 0.0
        return "skipped", job, "output exists", 0.0
    return None


def plan(jobs: list[Job], args: Any) -> Plan:
    """Settle the jobs that need no run and choose where the others run (before Keras is
    imported, so that a serial run can still limit its threads)."""
    out_dir = Path(args.output_dir) if args.output_dir else None
    clashes = batch.output_clashes(jobs, out_dir, args.scale)
    logged = {}
    if out_dir and args.skip_existing:
        try:
            logged = RunLog(out_dir / RUN_LOG_NAME).completed()
        except OSError:  # an unreadable log: the outputs on disk still tell what is done
            pass
    settled, todo = {}, []
    for i, job in enumerate(jobs):
        done = _precheck(job, args, out_dir, clashes, logged)
        if done is None:
            todo.append(i)
        else:
            settled[i] = done
    if args.cluster:
        return Plan(todo, settled, "ray", cluster=dict(
            address=args.cluster, cpus_per_image=args.cpus_per_image,
            gpus_per_image=args.gpus_per_image, retries=args.retries, threads=args.threads))
    gpus = gpu_count()
    workers = args.jobs if args.jobs is not None else (gpus if gpus > 1 else 1)
    workers = max(1, min(workers, len(todo)))
    if workers == 1:
        slots = plan_slots(1, threads=args.threads) if args.threads else []
        return Plan(todo, settled, "serial", slots)
    return Plan(todo, settled, "pool", plan_slots(workers, threads=args.threads))


def _line(record: dict[str, Any]) -> str:
    line = f"{record['output']} ({record['iterations']} it)"
    if record["metrics"]:
        line += (f" PSNR-Y {record['metrics']['psnr_y']:.2f} dB, "
                 f"SSIM-Y {record['metrics']['ssim_y']:.4f}")
    return line


class _Driver:
    """This process's side of a batch: settles each finished image once."""

    def __init__(self, jobs: list[Job], args: Any, run: dict[str, Any], outcomes: list,
                 mode: str) -> None:
        self.jobs, self.args, self.run, self.outcomes = jobs, args, run, outcomes
        self.mode = mode
        out_dir = run["out_dir"]
        batch_run = out_dir is not None and len(jobs) > 1
        self.log = RunLog(Path(out_dir) / RUN_LOG_NAME) if batch_run else None
        self.overall = None
        if len(jobs) > 1 and not args.quiet and stderr_is_terminal():
            from tqdm import tqdm

            self.overall = tqdm(total=len(jobs), desc="images", unit="img", position=0,
                                dynamic_ncols=True, file=sys.stderr)

    def settle(self, index: int, result: Attempt) -> None:
        """Print, record and log one image's :class:`Attempt`."""
        job = self.jobs[index]
        if result.status == "usage":
            raise UsageError(result.message or "usage error")
        if result.status == "interrupted":
            raise KeyboardInterrupt
        if not self.args.quiet:
            for note in result.notes:
                print(note, file=sys.stderr)
        if result.status == "ok":
            record = result.record or {}
            recorder = self.run.get("report")
            if recorder is not None:
                recorder.add(str(job.relative), record, result.events)
            self.done(("ok", job, _line(record), result.seconds))
        else:
            if result.traceback:
                print(result.traceback, file=sys.stderr, end="")
            message = self.run["to_flags"](result.message or "failed")
            message = message.replace(str(job.path.resolve()), str(job.path))  # from a worker
            if not message.startswith(str(job.path)):
                message = f"{job.path}: {message}"
            print(f"error: {message}", file=sys.stderr)
            self.done(("failed", job, "(error above)", result.seconds))
        if self.log is not None:
            record = result.record or {}
            try:
                self.log.append(entry(input=job.path, output=record.get("output"),
                                      sha256=result.sha256, seconds=result.seconds,
                                      status=result.status, error=result.message,
                                      host=result.host))
            except OSError as exc:
                print(f"warning: cannot write the run log {self.log.path} ({exc.strerror or exc}"
                      "); the outputs are written, --skip-existing still finds them",
                      file=sys.stderr)
                self.log = None

    def done(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if self.overall is not None:
            self.overall.update(1)
        elif len(self.jobs) > 1 and not self.args.quiet and self.mode != "serial":
            print(f"[{len(self.outcomes)}/{len(self.jobs)}] {outcome[0]} {outcome[1].path}",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.overall is not None:
            self.overall.close()


def _absolute(job: Job) -> Job:
    return replace(job, path=job.path.resolve())


def _absolute_paths(process: dict[str, Any]) -> dict[str, Any]:
    """:func:`zssr.batch.process`'s arguments with absolute paths, for workers whose current
    folder may differ (the output folder, the ground truth, a weights file)."""
    out = dict(process)
    if out.get("out_dir") is not None:
        out["out_dir"] = Path(out["out_dir"]).resolve()
    if out.get("gt"):
        out["gt"] = str(Path(out["gt"]).resolve())
    weights = out["config"].init_weights
    if weights and Path(weights).is_file():
        out["config"] = replace(out["config"], init_weights=str(Path(weights).resolve()))
    return out


def run_batch(jobs: list[Job], args: Any, run: dict[str, Any], outcomes: list) -> None:
    """Run the jobs of ``run["plan"]`` (a :class:`Plan`) where it says, appending each
    :data:`Outcome` to ``outcomes`` as it is known (which keeps the finished ones when an
    interruption stops the batch).

    ``run`` holds ``process`` (the keyword arguments of :func:`zssr.batch.process`),
    ``out_dir``, ``report`` (a :class:`zssr.report.Recorder` or None), ``to_flags`` (the
    translation of core messages into flags) and ``plan``.
    """
    todo: Plan = run["plan"]
    driver = _Driver(jobs, args, run, outcomes, todo.mode)
    try:
        for i in sorted(todo.settled):
            driver.done(todo.settled[i])
        work = Work(run["process"], record_events=run.get("report") is not None,
                    debug=args.debug)
        if not todo.todo:  # everything skipped: start no workers, no Ray
            return
        if todo.mode == "serial":
            for i in todo.todo:
                SIGNALS.check()
                progress = ProgressBars(jobs[i].path.name, args.quiet,
                                        1 if driver.overall is not None else 0,
                                        on_event=SIGNALS.check)
                driver.settle(i, attempt(jobs[i], work, progress))
            return
        remote = [_absolute(jobs[i]) for i in todo.todo]
        work = replace(work, process=_absolute_paths(work.process))

        def on_done(k: int, result: Attempt) -> None:
            driver.settle(todo.todo[k], result)

        if todo.mode == "pool":
            from .parallel import run_pool

            run_pool(remote, work, todo.slots, on_done, poll=SIGNALS.check)
        else:
            from .cluster import run_ray

            run_ray(jobs=remote, work=work, on_done=on_done, poll=SIGNALS.check,
                    **todo.cluster)
    finally:
        driver.close()


def summary(jobs: list[Job], outcomes: list, say: Callable[..., None]) -> bool:
    """Say one line per job (in the inputs' order) and the totals; returns whether any job
    failed."""
    order = {job: i for i, job in enumerate(jobs)}
    for status, job, note, seconds in sorted(outcomes, key=lambda o: order.get(o[1], 0)):
        say(f"{status:8s} {job.path}  {note}" + (f"  [{seconds:.1f} s]" if seconds else ""))
    count = {s: sum(1 for o in outcomes if o[0] == s) for s in ("ok", "skipped", "failed")}
    if len(jobs) > 1:
        say(f"{count['ok']} done, {count['skipped']} skipped, {count['failed']} failed of "
            f"{len(jobs)}")
    return count["failed"] > 0
