"""Command-line front end: ``zssr IMAGE|DIR|GLOB ... --scale 2 [-o OUT]`` (also
``python -m zssr`` and ``python run_zssr.py``).

Every ZSSRConfig field is a flag (``max_iters`` -> ``--max-iters``); flags not given keep the
preset's value (by default the recommended ``warm``). Progress bars, messages, folders and exit
codes live here and in :mod:`zssr.cli_jobs`, never in the engine. Exit codes: 0 all done (or
skipped), 1 some image failed, 2 usage or environment error (a bad flag, a missing file, a Keras
backend that cannot be imported), 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, batch
from .batch import SIGNALS, Job, ProcessingError, UsageError, format_scale
from .cli_jobs import check_flags, plan, run_batch, summary
from .config import (
    RECOMMENDED,
    ZSSRConfig,
    check_noise_std,
    default_preset,
    kernel_safe,
    parse_value,
    preset,
    preset_names,
)
from .progress import BackendUnavailable, check_backend, import_backend
from .report import Recorder
from .workers import limit_threads

__all__ = ["main", "main_entry", "build_parser", "config_from_args", "Resolved",
           "resolve_preset", "parse_scale", "to_flags", "UsageError", "ProcessingError",
           "format_scale"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_MAX_PIXELS = 50_000_000


def parse_scale(text: str) -> tuple[float, float]:
    """``'2'`` -> (2, 2); ``'2,1.5'`` -> (2, 1.5) (vertical, horizontal)."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"scale {text!r} is not a number or a 'vertical,horizontal' pair such as 2,1.5"
        ) from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"scale {text!r}: give one or two numbers")
    if not all(math.isfinite(v) for v in values) or min(values) < 1 or max(values) <= 1:
        raise argparse.ArgumentTypeError(
            f"scale {text!r} must be finite, >= 1 on both axes and > 1 on at least one"
        )
    return values[0], values[1]


def _show(value: Any) -> str:
    """A config value as the user would type it on the command line."""
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" for v in value) if value else "none"
    return (value or '""') if isinstance(value, str) else str(value)


def _field_type(name: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return parse_value(name, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name}: ")) from None
    parse.__name__ = name
    return parse


#: Config fields whose flag also takes ``auto`` (the default: measured on each input) and, for
#: the JPEG quality, ``off``; see :func:`zssr.batch.resolve_degradation`.
AUTO_FIELDS = {
    "jpeg_quality": "LR sons go through JPEG at this quality (1-100) like the input: auto "
                    "(default) reads it from a JPEG input, off: never",
    "noise_std": "std (of 0..1) of the Gaussian noise added to LR sons: auto (default) models "
                 "noise measured at >= 3.5/255 in inputs of >= 32768 pixels, 0: none"}


def _auto_type(name: str) -> Callable[[str], Any]:
    numeric = _field_type(name)

    def parse(text: str) -> Any:
        word = text.strip().lower()
        if word == "auto":
            return "auto"
        if word == "off" and name == "jpeg_quality":
            return 0
        value = numeric(text)
        if name == "jpeg_quality" and not 0 <= value <= 100:
            raise argparse.ArgumentTypeError("give 1..100, auto or off")
        if name == "noise_std":
            try:
                check_noise_std(value)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(
                    str(exc).removeprefix("noise_std must be ") + "; or auto") from None
        return value
    parse.__name__ = name
    return parse


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "recipe (ZSSRConfig fields; each overrides the preset's value)"
    )
    defaults = preset(RECOMMENDED)  # what a run without --preset starts from
    for f in dataclasses.fields(ZSSRConfig):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        help_text = f.metadata["help"].replace("%", "%%") + f" ({RECOMMENDED}: {_show(default)})"
        if isinstance(default, bool):
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               default=None, help=help_text)
        elif f.name in AUTO_FIELDS:
            help_text = AUTO_FIELDS[f.name]
            group.add_argument(flag, dest=f.name, type=_auto_type(f.name), default=None,
                               metavar="auto|" + ("Q|off" if f.name == "jpeg_quality" else "S"),
                               help=help_text)
        else:
            metavar = "A,B,.." if isinstance(default, tuple) else type(default).__name__.upper()
            choices = f.metadata.get("choices")
            group.add_argument(flag, dest=f.name, type=_field_type(f.name), default=None,
                               choices=choices, metavar=None if choices else metavar,
                               help=help_text)


class _OneLineHelp(argparse.HelpFormatter):
    """``--help`` with one line per option (the terminal wraps long lines, not argparse)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=40, width=160)


class _Parser(argparse.ArgumentParser):
    """A usage error is one line that points to ``--help`` (not the whole usage block)."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``zssr`` argument parser: the run's options, then one flag per config field."""
    parser = _Parser(
        prog="zssr", usage="%(prog)s INPUT [INPUT ...] [--scale S] [options]",
        formatter_class=_OneLineHelp,
        description="Zero-shot super-resolution (ZSSR, Shocher et al. CVPR 2018): trains a small "
                    "network on each input image alone, then upscales it.",
        epilog="Each output <stem>_zssr_x<scale>.png (.tif for float inputs) gets a .json "
               "sidecar (config, seed, timings, provenance, metrics). Exit codes: 0 ok, 1 an "
               "image failed (the others are still done), 2 usage or environment error, 130 "
               "interrupted.",
    )
    add = parser.add_argument
    add("inputs", nargs="+", metavar="INPUT",
        help="image files, folders (searched recursively) or glob patterns")
    add("--scale", type=parse_scale, default=(2.0, 2.0),
        help="upscaling factor: 2, 1.5, or 2,1.5 for vertical,horizontal (default: 2)")
    add("--kernel", default="bicubic",
        help="input's downscaling kernel: bicubic, a .mat/.npy file, or estimated (KernelGAN)")
    add("--preset", default=None, choices=preset_names(),
        help="named recipe (default: warm, kernel-safe with a given or estimated kernel)")
    add("--real", action="store_true", help="real photo: same as --preset real")
    add("--estimate-iters", type=int, default=None, metavar="N",
        help="KernelGAN iterations for --kernel estimated (default: 1500)")
    add("--estimate-ensemble", type=int, default=None, metavar="N",
        help="--kernel estimated: average N KernelGANs of different seeds (default: 2)")
    add("--estimate-sharpen", type=float, default=None, metavar="P",
        help="raise the estimated kernel to this power (default: 1.5; 1 keeps it)")
    add("--report", nargs="?", const="", default=None, metavar="FILE.html",
        help="also write an HTML page: bicubic/zssr slider, kernel, training curve "
             "(default: next to the output, or zssr_report.html for several inputs)")
    add("-o", "--output-dir", default=None, metavar="DIR",
        help="folder for outputs, mirroring the input folders (default: next to each input)")
    add("--gt", default=None, metavar="IMAGE",
        help="ground-truth HR image: report PSNR-Y/SSIM-Y (one input)")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true",
                          help="replace existing outputs (default: refuse)")
    existing.add_argument("--skip-existing", action="store_true",
                          help="skip inputs whose output exists (resume a batch)")
    add("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
        help=f"refuse outputs above this many pixels (default: {DEFAULT_MAX_PIXELS:,})")
    add("--jobs", type=int, default=None, metavar="N",
        help="run N images at once in worker processes (default: 1, or one per GPU)")
    add("--threads", type=int, default=None, metavar="N",
        help="threads per image (default: all cores, shared among --jobs); fixes output bits")
    add("--cluster", default=None, metavar="ray|ray://HOST:PORT|auto",
        help="one Ray task per image: ray starts Ray here, auto joins 'ray start' (needs ray)")
    add("--cpus-per-image", type=float, default=1.0, metavar="N",
        help="--cluster: CPUs each image's task reserves (default: 1)")
    add("--gpus-per-image", type=float, default=0.0, metavar="N",
        help="--cluster: GPUs each image's task reserves, e.g. 1 or 0.5 (default: 0)")
    add("--retries", type=int, default=2, metavar="N",
        help="--cluster: rerun a task whose worker or machine died up to N times (default: 2)")
    add("-q", "--quiet", action="store_true", help="no progress bars or messages")
    add("--debug", action="store_true", help="show tracebacks on errors")
    add("--version", action="version", version=f"zssr {__version__}")
    _add_config_flags(parser)
    return parser


def to_flags(message: str) -> str:
    """A core message in command-line terms: ``name=value`` of a config field or run option
    becomes ``--name value`` (``--name`` for ``True``, ``--no-name`` for a field's ``False``), and
    a bare ``snake_case`` name becomes its flag (``tile_size`` -> ``--tile-size``)."""
    fields = {f.name for f in dataclasses.fields(ZSSRConfig)}
    names = fields | set(vars(build_parser().parse_args(["INPUT"])))

    def flag(name: str) -> str:
        return "-o" if name == "output_dir" else "--" + name.replace("_", "-")

    def assignment(m: re.Match) -> str:
        name, value = m.group(1), m.group(2).strip("'\"")
        if value in ("True", "False") and (value == "True" or name not in fields):
            return flag(name)
        return "--no-" + name.replace("_", "-") if value == "False" else f"{flag(name)} {value}"

    alternatives = "|".join(sorted(names, key=len, reverse=True))
    message = re.sub(rf"\b({alternatives})=('[^']*'|\"[^\"]*\"|[^\s;,()]+(?:,\d+)*)",
                     assignment, message)
    return re.sub(rf"(?<![-\w])({'|'.join(n for n in names if '_' in n)})\b",
                  lambda m: flag(m.group(1)), message)


def resolve_preset(preset_name: str | None, *, real: bool, kernel: str) -> str:
    """``preset_name``, or ``real`` for ``real``, or the default for the kernel in use."""
    if real:
        if preset_name not in (None, "real"):
            raise UsageError(f"--real selects the 'real' preset; it contradicts --preset "
                             f"{preset_name}")
        return "real"
    if preset_name is not None:
        return preset_name
    return default_preset(kernel != "bicubic")


@dataclass(frozen=True)
class Resolved:
    """What the command line asks for: the config, the preset it started from and the fields
    that :func:`zssr.config.kernel_safe` changed for a non-bicubic kernel."""

    config: ZSSRConfig
    preset: str
    kernel_safe: tuple[str, ...] = ()
    degradation: dict[str, Any] = dataclasses.field(default_factory=dict)


def config_from_args(args: argparse.Namespace) -> Resolved:
    """The preset (see :func:`resolve_preset`) with every explicitly given field flag applied;
    with a non-bicubic ``--kernel``, :func:`zssr.config.kernel_safe` for the fields not given.

    ``--jpeg-quality`` and ``--noise-std`` are resolved per input (``auto`` unless given) by
    :func:`zssr.batch.resolve_degradation`; ``degradation`` carries what was asked."""
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(ZSSRConfig)
                 if getattr(args, f.name, None) is not None}
    degradation = {name: overrides.pop(name, "auto") for name in AUTO_FIELDS}
    try:
        name = resolve_preset(args.preset, real=args.real, kernel=args.kernel)
        config = preset(name, **overrides)
    except (ValueError, TypeError) as exc:
        raise UsageError(to_flags(str(exc))) from None
    start = preset(name)
    if start.init_weights and not overrides.keys().isdisjoint({"depth", "width"}) \
            and "init_weights" not in overrides:
        raise UsageError(f"preset {name} starts from shipped weights of a depth-{start.depth}, "
                         f"width-{start.width} network; with --depth or --width also give "
                         "--init-weights '' (a random start) or --preset ideal")
    changed: tuple[str, ...] = ()
    if args.kernel != "bicubic":
        config, changed = kernel_safe(config, keep=overrides)
    degradation["keep"] = tuple(sorted(overrides))
    return Resolved(config, name, changed, degradation)


def _prepare(args: argparse.Namespace) -> tuple[Resolved, Any, dict, list[Job], int]:
    """Everything checked before any image runs; :class:`UsageError` on a bad command line."""
    resolved = config_from_args(args)
    kernel, kernel_info = batch.load_kernel_spec(args.kernel)
    jobs, ignored = batch.expand_inputs(args.inputs)
    check_flags(args)
    if args.gt and len(jobs) != 1:
        raise UsageError("--gt needs exactly one input image")
    if args.max_pixels < 1:
        raise UsageError("--max-pixels must be >= 1")
    if resolved.config.init_weights:
        batch.check_init_weights(resolved.config.init_weights)
    batch.preflight(jobs, out_dir=Path(args.output_dir) if args.output_dir else None,
                    gt=args.gt)
    if args.report is not None:
        args.report = _report_path(args, jobs)
        try:
            batch.check_writable(args.report.parent)
        except UsageError:
            raise UsageError(f"--report {args.report}: its folder cannot be written") from None
    return resolved, kernel, kernel_info, jobs, ignored


def _report_path(args: argparse.Namespace, jobs: list[Job]) -> Path:
    """Where ``--report`` writes: the name given, else beside the one output, else
    ``zssr_report.html`` in the output folder (or the current one)."""
    if args.report:
        if not args.report.lower().endswith((".html", ".htm")):
            raise UsageError(f"--report {args.report}: give an .html file name (or put --report "
                             "after the inputs)")
        return Path(args.report)
    out_dir = Path(args.output_dir) if args.output_dir else None
    if len(jobs) == 1:
        return batch.output_paths(jobs[0], out_dir, args.scale, ".html")[0]
    return (out_dir or Path.cwd()) / "zssr_report.html"


def _estimate_options(args: argparse.Namespace) -> Any:
    """KernelGAN's options for ``--kernel estimated`` (imports Keras: after the quiet import)."""
    if args.kernel == "estimated":
        return batch.estimate_options(seed=args.seed, estimate_iters=args.estimate_iters,
                                      estimate_ensemble=args.estimate_ensemble,
                                      estimate_sharpen=args.estimate_sharpen)
    return None


def _announce(args: argparse.Namespace, resolved: Resolved, ignored: int,
              say: Callable[..., None]) -> None:
    if resolved.config.precision == "mixed_bfloat16":  # the only one warned of; imports Keras
        from .network import precision_warning

        warning = precision_warning(resolved.config.precision, "--precision {}")
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    if resolved.kernel_safe:
        names = ", ".join(resolved.kernel_safe)
        say(f"note: preset {resolved.preset} with --kernel {args.kernel}: reset {names} "
            "(rotations and the ensemble assume a symmetric kernel; a kernel describes one "
            f"downscaling, so one jump); set {to_flags(names)} explicitly to keep them")
    if ignored:
        say(f"note: ignored {ignored} earlier zssr output(s) (*_zssr_x*) found in input folders")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 an image failed, 2 usage, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    try:
        resolved, kernel, kernel_info, jobs, ignored = _prepare(args)
    except UsageError as exc:
        print(f"error: {to_flags(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    todo = plan(jobs, args)
    if todo.mode != "serial":  # JAX here must not take the GPU memory the workers need
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if todo.mode == "serial" and todo.slots:
        try:
            limit_threads(todo.slots[0])  # before Keras starts its thread pools
        except RuntimeError:  # main() called in a process whose Keras runs with other threads
            print("error: --threads: Keras already runs in this process; give --threads to a "
                  "new zssr process", file=sys.stderr)
            return EXIT_USAGE
    try:
        if todo.mode == "serial":
            import_backend(quiet=not args.debug)
        else:  # only the workers need Keras: its import here would delay their start
            check_backend()
    except BackendUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # Keras takes seconds to import: a common moment for Ctrl-C
        print("interrupted while starting; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    _announce(args, resolved, ignored, say)
    out_dir = Path(args.output_dir) if args.output_dir else None
    process = dict(config=resolved.config, preset=resolved.preset, scale=args.scale,
                   kernel=kernel, kernel_info=kernel_info, out_dir=out_dir,
                   overwrite=args.overwrite, max_pixels=args.max_pixels, gt=args.gt,
                   degradation=resolved.degradation)
    run = {"process": process, "out_dir": out_dir, "to_flags": to_flags, "plan": todo,
           "report": Recorder() if args.report is not None else None}
    outcomes: list[tuple[str, Job, str, float]] = []
    restore_signals = SIGNALS.install()
    try:
        # before any kernel estimation or training; Keras only where this process runs images
        batch.check_weights_fit(resolved.config, load=todo.mode == "serial")
        process["estimate"] = _estimate_options(args)
        run_batch(jobs, args, run, outcomes)
    except UsageError as exc:
        print(f"error: {to_flags(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        done = sum(1 for o in outcomes if o[0] == "ok")
        print(f"interrupted after {done} of {len(jobs)} image(s); no partial output was left. "
              "Resume with --skip-existing.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        restore_signals()
        if run["report"] is not None and run["report"].records:
            say(f"report: {run['report'].write(args.report)}")
    return EXIT_FAILED if summary(jobs, outcomes, say) else EXIT_OK


def main_entry() -> None:
    """The ``zssr`` console script: :func:`main`'s return value becomes the exit code."""
    sys.exit(main())


if __name__ == "__main__":
    main_entry()
