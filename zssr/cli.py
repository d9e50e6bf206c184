"""Command-line front end: ``python run_zssr.py IMAGE [IMAGE ...] --scale 2``.

Every ZSSRConfig field is a flag (``max_iters`` -> ``--max-iters``); flags not given keep the
preset's value. Progress bars and messages live here, never in the engine.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import math
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .config import ZSSRConfig, preset, preset_names

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


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


def _tuple_of(kind: type) -> Any:
    def parse(text: str) -> tuple:
        try:
            return tuple(kind(p) for p in text.split(",") if p.strip() != "")
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a comma-separated list of {kind.__name__}s"
            ) from None
    return parse


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "recipe (ZSSRConfig fields; each overrides the preset's value)"
    )
    defaults = ZSSRConfig()
    doc = _field_docs()
    for f in dataclasses.fields(ZSSRConfig):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        help_text = doc.get(f.name, "") + f" (ideal: {default})"
        if isinstance(default, bool):
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               default=None, help=help_text)
        elif isinstance(default, tuple):
            kind = int if f.name == "back_projection_iters" else float
            group.add_argument(flag, dest=f.name, type=_tuple_of(kind), default=None,
                               metavar="A,B,..", help=help_text)
        else:
            group.add_argument(flag, dest=f.name, type=type(default), default=None,
                               metavar=type(default).__name__.upper(), help=help_text)


def _field_docs() -> dict[str, str]:
    """First sentence of each parameter's description in the ZSSRConfig docstring."""
    docs: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []

    def flush() -> None:
        sentence = " ".join(text).split(". ")[0].rstrip(".").replace("%", "%%")
        for n in names:
            docs[n] = sentence.replace("``", "")

    for line in (ZSSRConfig.__doc__ or "").splitlines():
        stripped = line.strip()
        if " : " in stripped and not line.startswith("        "):
            flush()
            names = [n.strip() for n in stripped.split(" : ")[0].split(",")]
            text = []
        elif names and stripped:
            text.append(stripped)
    flush()
    return docs


def _import_backend(debug: bool) -> None:
    """Import Keras (and its backend) with the C++ start-up chatter silenced unless debugging."""
    if debug or "keras" in sys.modules:
        import keras  # noqa: F401
        return
    import os

    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401

        keras.backend.backend()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_zssr.py",
        description="Zero-shot super-resolution (ZSSR, Shocher et al. CVPR 2018): trains a small "
                    "network on each input image alone, then upscales it.",
        epilog="Example: python run_zssr.py photo.png --scale 2 -o out/. Outputs "
               "<stem>_zssr_x<scale>.png and a .json sidecar with the config, seed, iterations, "
               "learning rate, timings and (with --gt) PSNR/SSIM.",
    )
    parser.add_argument("inputs", nargs="+", metavar="IMAGE", help="input image file(s)")
    parser.add_argument("--scale", type=parse_scale, default=(2.0, 2.0),
                        help="upscaling factor, e.g. 2, 1.5, or 2,1.5 for vertical,horizontal "
                             "(default: 2)")
    parser.add_argument("--kernel", default="bicubic",
                        help="downscaling kernel of the input: 'bicubic' (default), a .mat "
                             "(variable Kernel) or .npy file, or 'estimated' (not available yet)")
    parser.add_argument("--preset", default="ideal", choices=preset_names(),
                        help="named recipe (default: ideal); flags below override its fields")
    parser.add_argument("-o", "--output-dir", default=None,
                        help="folder for outputs (default: next to each input)")
    parser.add_argument("--gt", default=None,
                        help="ground-truth HR image: report PSNR-Y/SSIM-Y (one input only)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing outputs (default: refuse)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"zssr {__version__}")
    _add_config_flags(parser)
    return parser


def config_from_args(args: argparse.Namespace) -> ZSSRConfig:
    """The preset named by ``--preset`` with every explicitly given field flag applied."""
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(ZSSRConfig)
                 if getattr(args, f.name, None) is not None}
    try:
        return preset(args.preset, **overrides)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def format_scale(scale: tuple[float, float]) -> str:
    """``(2, 2)`` -> ``'2'``; ``(2, 1.5)`` -> ``'2x1.5'``."""
    def one(v: float) -> str:
        return f"{v:g}"
    return one(scale[0]) if scale[0] == scale[1] else f"{one(scale[0])}x{one(scale[1])}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    import keras

    out = {"zssr": __version__, "python": platform.python_version(), "numpy": np.__version__,
           "keras": keras.__version__, "keras_backend": keras.backend.backend()}
    try:
        import tensorflow as tf

        out["tensorflow"] = tf.__version__
    except ImportError:
        pass
    return out


class _Progress:
    """tqdm bars fed by the engine's progress events."""

    def __init__(self, name: str, quiet: bool) -> None:
        self.name, self.quiet, self.bar, self.key = name, quiet, None, None

    def __call__(self, event: Any) -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        key = (event.phase, event.step)
        if key != self.key:
            self.close()
            self.key = key
            step = f" step {event.step + 1}/{event.n_steps}" if event.n_steps > 1 else ""
            label = "train" if event.phase == "train" else "ensemble"
            self.bar = tqdm(total=event.total, desc=f"{self.name}{step} {label}",
                            unit="it" if event.phase == "train" else "pass",
                            leave=False, dynamic_ncols=True, file=sys.stderr)
        assert self.bar is not None
        self.bar.update(event.iteration - self.bar.n)
        if event.phase == "train" and event.iteration % 10 == 0:
            self.bar.set_postfix(loss=f"{event.loss:.4f}", lr=f"{event.learning_rate:.0e}",
                                 refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _resolve_kernel(spec: str) -> tuple[Any, dict[str, Any]]:
    from .kernels import KernelError, load_kernel

    if spec == "bicubic":
        return None, {"kernel": "bicubic"}
    if spec == "estimated":
        raise UsageError(
            "--kernel estimated: kernel estimation (KernelGAN) is not available in this version; "
            "use --kernel bicubic or --kernel PATH to a .mat/.npy kernel"
        )
    try:
        loaded = load_kernel(spec)
    except KernelError as exc:
        raise UsageError(str(exc)) from None
    return loaded.kernel, {"kernel": "file", "kernel_path": str(Path(spec).resolve()),
                           "kernel_sha256": _sha256(Path(spec)),
                           "kernel_shape": list(loaded.kernel.shape),
                           "kernel_normalised": loaded.was_normalised,
                           "kernel_original_sum": loaded.original_sum}


def _process(path: Path, args: argparse.Namespace, config: ZSSRConfig, kernel: Any,
             kernel_info: dict[str, Any], out_dir: Path | None) -> dict[str, Any]:
    from .engine import ZSSR
    from .io import read_image, write_image, write_json
    from .metrics import psnr, ssim

    image, info = read_image(path)
    target = out_dir if out_dir is not None else path.parent
    stem = f"{path.stem}_zssr_x{format_scale(args.scale)}"
    out_path, sidecar = target / f"{stem}.png", target / f"{stem}.json"
    if out_path.resolve() == path.resolve():
        raise UsageError(f"{out_path}: output would overwrite the input; choose another -o")
    if out_path.exists() and not args.overwrite:
        raise UsageError(f"{out_path} exists; pass --overwrite to replace it")
    progress = _Progress(path.name, args.quiet)
    try:
        result = ZSSR(config).run(image, args.scale, kernel, progress=progress)
    finally:
        progress.close()
    metrics = None
    if args.gt:
        gt, _ = read_image(args.gt)
        h, w = result.image.shape[:2]
        if gt.shape[0] < h or gt.shape[1] < w or gt.shape[0] - h >= args.scale[0] + 1 \
                or gt.shape[1] - w >= args.scale[1] + 1:
            raise UsageError(f"--gt {args.gt}: size {gt.shape[:2]} does not match the output "
                             f"{(h, w)} (up to a mod-crop)")
        gt = gt[:h, :w]
        metrics = {"psnr_y": psnr(result.image, gt, scale=args.scale),
                   "ssim_y": ssim(result.image, gt, scale=args.scale),
                   "gt": str(Path(args.gt).resolve()),
                   "protocol": "MATLAB Y, shave ceil(scale), rounded to uint8"}
    write_image(out_path, result.image, info, overwrite=args.overwrite)
    record = {
        "input": str(path.resolve()), "input_sha256": _sha256(path),
        "input_shape": list(image.shape), "input_dtype": info.dtype,
        "output": str(out_path.resolve()), "output_shape": list(result.image.shape),
        "scale": list(args.scale), "preset": args.preset, "config": config.to_dict(),
        "seed": config.seed, **kernel_info,
        "iterations": result.iterations, "final_learning_rate": result.final_learning_rate,
        "seconds": result.seconds,
        "steps": [{"scale": list(s.scale), "iterations": s.iterations,
                   "final_learning_rate": s.final_learning_rate,
                   "lr_drop_iterations": s.lr_drop_iterations, "final_loss": s.final_loss,
                   "train_seconds": s.train_seconds, "predict_seconds": s.predict_seconds,
                   "back_projection_iters": s.back_projection_iters} for s in result.steps],
        "metrics": metrics, "versions": _versions(), "machine": platform.platform(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(sidecar, record, overwrite=True)
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 a file failed, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    _import_backend(args.debug)
    try:
        config = config_from_args(args)
        kernel, kernel_info = _resolve_kernel(args.kernel)
        if args.gt and len(args.inputs) != 1:
            raise UsageError("--gt needs exactly one input image")
        out_dir = Path(args.output_dir) if args.output_dir else None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
        inputs = [Path(p) for p in args.inputs]
        for p in inputs:
            if not p.exists():
                raise UsageError(f"{p}: no such file; check the path")
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    failed = 0
    for path in inputs:
        try:
            record = _process(path, args, config, kernel, kernel_info, out_dir)
            line = (f"{path.name}: {record['output']} ({record['iterations']} iterations, "
                    f"{record['seconds']:.1f} s)")
            if record["metrics"]:
                line += (f" PSNR-Y {record['metrics']['psnr_y']:.2f} dB, "
                         f"SSIM-Y {record['metrics']['ssim_y']:.4f}")
            say(line)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # one bad file must not stop the others
            failed += 1
            if args.debug:
                traceback.print_exc()
            print(f"error: {path}: {exc}", file=sys.stderr)
            if isinstance(exc, UsageError) and len(inputs) == 1:
                return EXIT_USAGE
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
