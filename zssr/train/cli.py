"""Command line of the trainers (``python -m zssr.train COMMAND``): translation, not policy.

    python -m zssr.train warm-start --hr-dir ../shared/data/train --checkpoint-dir runs/warm_x2 \\
        --output warm_x2.weights.h5
    python -m zssr.train ship-warm --checkpoint-dir runs/warm_x2 --hardware "2-core CPU"
    python -m zssr.train edsr --hr-dir ../shared/data/train --scale 2 \\
        --checkpoint-dir runs/edsr_x2 --output edsr-baseline_x2.weights.h5
    python -m zssr.train ship-edsr --checkpoint-dir runs/edsr_x2 --scale 2 \\
        --set5 ../shared/data/set5 --hardware "2-core CPU"
    python -m zssr.train score --hr-dir ../shared/data/train --scale 3 FILE.weights.h5 ...

Every flag of ``warm-start`` and ``edsr`` is a field of :class:`zssr.train.TrainConfig` or of the
task (``--time-budget`` is ``time_budget``). Exit codes: 0 done, 2 bad input (the message on
stderr), 130 interrupted by Ctrl-C or SIGTERM (a checkpoint of the last finished step is
written; continue with ``--resume``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["main", "build_parser", "flag", "fields_from"]


def flag(field: str) -> str:
    """The command-line flag of a config field: ``time_budget`` -> ``--time-budget``."""
    return "--" + field.replace("_", "-")


def _run_flags(p: argparse.ArgumentParser, d: dict[str, Any]) -> None:
    """The flags of :class:`~zssr.train.TrainConfig`, with a task's recipe ``d`` as defaults."""
    a = p.add_argument
    a("--hr-dir", dest="hr_dirs", action="append", required=True,
      help="folder of HR training images (searched recursively); repeatable")
    a("--val-dir", dest="val_dirs", action="append", default=None,
      help="folder of validation images (default: hold out --val-count)")
    a("--val-count", type=int, default=d["val_count"],
      help="without --val-dir, the last N training images are held out (default %(default)s)")
    a("--iters", type=int, default=d["iters"],
      help="training steps (default %(default)s; with --time-budget an upper bound)")
    a("--time-budget", type=float, default=None, metavar="SECONDS",
      help="train for this many seconds (validation included) instead of a fixed number of "
           "steps: the cosine runs from --lr to --min-lr over the time, and the run ends when "
           "the time is spent (the step count then depends on the machine's speed)")
    a("--batch-size", type=int, default=d["batch_size"],
      help="crops per step (default %(default)s)")
    a("--lr", type=float, default=d["lr"], help="initial learning rate (default %(default)s)")
    a("--min-lr", type=float, default=d["min_lr"],
      help="final rate of the cosine schedule (default %(default)s)")
    a("--val-every", type=int, default=d["val_every"],
      help="steps between validations and best-weight checks (default %(default)s)")
    a("--checkpoint-dir", required=True,
      help="run folder: last.keras, state.json, log.jsonl, best.weights.h5 (and ema.npz)")
    a("--resume", action="store_true", help="continue from --checkpoint-dir")
    a("--output", default=None, help="write the best weights here (.weights.h5)")
    a("--seed", type=int, default=0, help="seeds the crops and the initial weights (default 0)")
    a("--ema", type=float, default=0.0,
      help="validate and keep an exponential moving average of the weights with this decay, "
           "e.g. 0.999 (about the last 1000 steps); 0: off (default)")
    a("-q", "--quiet", action="store_true", help="no progress bar")
    a("--precision", choices=["float32", "mixed_bfloat16", "auto"], default="float32",
      help="mixed_bfloat16 computes in bfloat16 with float32 weights: faster where bfloat16 is "
           "native, many times slower where it is emulated; auto picks it where it is native, "
           "else float32 (default float32)")


def _warm_flags(p: argparse.ArgumentParser) -> None:
    from .warm_start import WarmStart

    _run_flags(p, WarmStart.defaults)
    a = p.add_argument
    a("--scale", type=float, default=2.0, help="scale of the sons (default 2)")
    a("--crop", type=int, default=96, help="father side (default 96)")
    a("--kernel-mix", type=float, default=0.5,
      help="share of sons made with a random Gaussian kernel (default 0.5)")
    a("--noise-std", type=float, default=0.0, help="Gaussian noise added to the sons (default 0)")
    a("--noise-mix", type=float, default=0.0,
      help="share of sons given noise of a random std up to --noise-max-std (default 0)")
    a("--noise-max-std", type=float, default=15 / 255,
      help="largest random noise std, of the range 0..1 (default 15/255)")
    a("--jpeg-mix", type=float, default=0.0,
      help="share of sons sent through JPEG at a random quality (default 0); with either mix, "
           "validation scores JPEG q75 and noise 5/255 sons instead of clean and blurred ones")
    a("--jpeg-min-quality", type=int, default=30, help="lowest random JPEG quality (default 30)")
    a("--jpeg-max-quality", type=int, default=95, help="highest random JPEG quality (default 95)")
    a("--init-from", default=None,
      help="start from these weights instead of random ones: a .weights.h5 file of the same "
           "depth and width, or 'warm' for the shipped ones (their sha256 is recorded)")
    a("--depth", type=int, default=8,
      help="layers of the ZSSR network (default 8; ZSSR must use the same)")
    a("--width", type=int, default=64,
      help="channels of the ZSSR network (default 64; ZSSR must use the same)")
    p.set_defaults(task_class=WarmStart, handler=_train)


def _edsr_flags(p: argparse.ArgumentParser) -> None:
    from .edsr import EDSR, LOSSES

    _run_flags(p, EDSR.defaults)
    a = p.add_argument
    a("--scale", type=int, required=True, choices=[2, 3, 4])
    a("--model", default="edsr-baseline", choices=["edsr-baseline"])
    a("--blocks", type=int, default=16,
      help="residual blocks (default 16: EDSR-baseline; fewer for experiments)")
    a("--width", type=int, default=64, help="channels (default 64)")
    a("--patch", type=int, default=48, help="LR crop side (default 48)")
    a("--schedule", choices=["cosine", "step"], default="cosine")
    a("--loss", choices=sorted(LOSSES), default="l1",
      help="l1 (default, as EDSR) or l2 (mean squared error)")
    a("--step-every", type=int, default=100000,
      help="step schedule: halve the rate every N steps (default 100000)")
    a("--init-from", default=None,
      help="start from these weights (e.g. x2 weights for an x3/x4 model; their sha256 is "
           "recorded); the run scores them first (step 0)")
    a("--init-scale", type=int, default=2, choices=[2, 3, 4],
      help="scale of --init-from (default 2)")
    p.set_defaults(task_class=EDSR, handler=_train)


def _ship_flags(p: argparse.ArgumentParser, edsr: bool) -> None:
    a = p.add_argument
    a("--checkpoint-dir", required=True, help="the training run's folder")
    if edsr:
        a("--scale", type=int, required=True, choices=[2, 3, 4],
          help="scale the run was trained for")
        a("--name", default="edsr-baseline", help="model name (default %(default)s)")
        a("--set5", required=True, help="Set5 in the EDSR layout")
    else:
        a("--name", default="warm", choices=["warm", "warm-real"],
          help="shipped name: warm (default), or warm-real, the start of JPEG and noisy inputs")
    a("--hardware", required=True, help="where the training ran, in words")
    a("--note", default="", help="free text for the manifest entry")
    p.set_defaults(handler=_ship_edsr if edsr else _ship_warm)


def _score_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("weights", nargs="+", help=".weights.h5 files of the model below")
    a("--hr-dir", dest="hr_dirs", action="append", required=True,
      help="the training folder(s) of the run (repeatable)")
    a("--val-dir", dest="val_dirs", action="append", default=None,
      help="validation folder, if the run had one")
    a("--val-count", type=int, default=10, help="held-out images (default 10)")
    a("--scale", type=int, required=True, choices=[2, 3, 4])
    a("--model", default="edsr-baseline", choices=["edsr-baseline"])
    p.set_defaults(handler=_score)


#: command -> (one-line help, the function that adds its flags)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "warm-start": ("pretrain the ZSSR network across many images (warm-start weights)",
                   _warm_flags),
    "edsr": ("train EDSR-baseline on a folder of HR images", _edsr_flags),
    "ship-warm": ("put a warm-start run's best weights into the package",
                  lambda p: _ship_flags(p, edsr=False)),
    "ship-edsr": ("put an EDSR run's best weights into the package, scored on Set5",
                  lambda p: _ship_flags(p, edsr=True)),
    "score": ("score EDSR weights files on a run's held-out images", _score_flags),
}


def build_parser(prog: str = "python -m zssr.train") -> argparse.ArgumentParser:
    """The parser of every command."""
    p = argparse.ArgumentParser(prog=prog, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_, add) in COMMANDS.items():
        command = sub.add_parser(name, help=help_, description=help_)
        add(command)
        command.set_defaults(parser=command)  # errors are reported with the command's usage
    return p


def fields_from(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The values in ``args`` of the fields of the dataclass ``cls`` (flag dest = field)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if f.init}


def _train(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ..network import precision_warning
    from .config import TrainConfig, TrainConfigError
    from .runner import STOP, run

    try:
        task = args.task_class(**fields_from(args.task_class, args))
        config = TrainConfig(**fields_from(TrainConfig, args))
    except TrainConfigError as e:
        parser.error(f"{flag(e.field)} {e.problem}")
    warning = precision_warning(config.precision, "--precision {}")
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    restore = STOP.install()
    try:
        run(task, config)
    except KeyboardInterrupt:
        print("interrupted; continue with --resume", file=sys.stderr)
        return 130
    finally:
        restore()
    return 0


def _ship_warm(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .ship import ship_warm

    entry = ship_warm(args.checkpoint_dir, hardware=args.hardware, note=args.note,
                      name=args.name)
    print(f"wrote {entry['file']} ({entry['bytes']} bytes, step {entry['iterations']}, "
          f"validation PSNR-Y {entry['validation_psnr_y']}) and its manifest entry")
    return 0


def _ship_edsr(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    import json

    from .ship import ship_edsr

    entry = ship_edsr(args.checkpoint_dir, scale=args.scale, set5=args.set5,
                      hardware=args.hardware, name=args.name, note=args.note)
    print(json.dumps(entry, indent=1))
    return 0


def _score(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .score import score

    for path, value in score(args.weights, hr_dirs=args.hr_dirs, scale=args.scale,
                             val_dirs=args.val_dirs, val_count=args.val_count, model=args.model):
        print(f"{value:.4f}  {path}")
    return 0


def main(argv: list[str] | None = None, *, command: str | None = None,
         prog: str | None = None) -> int:
    """Run the command line ``argv``; with ``command``, ``argv`` holds that command's flags
    only (for the entry modules that stand for one command, e.g. ``python -m zssr.pretrain``).
    Returns the exit code."""
    from .config import TrainConfigError

    if command is None:
        parser = build_parser(**({"prog": prog} if prog else {}))
        args = parser.parse_args(argv)
    else:
        help_, add = COMMANDS[command]
        parser = argparse.ArgumentParser(prog=prog or f"python -m zssr.train {command}",
                                         description=help_)
        add(parser)
        parser.set_defaults(parser=parser)
        args = parser.parse_args(argv)
    try:
        return args.handler(args.parser, args)
    except TrainConfigError as e:
        print(f"error: {flag(e.field)} {e.problem}", file=sys.stderr)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
    return 2
