"""Command-line front end: ``python run_zssr.py IMAGE|DIR|GLOB ... --scale 2 [-o OUT]``.

Every ZSSRConfig field is a flag (``max_iters`` -> ``--max-iters``); flags not given keep the
preset's value. Progress bars, messages, folders and exit codes live here, never in the engine.
Exit codes: 0 all done (or skipped), 1 some image failed, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import math
import os
import platform
import re
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .config import ZSSRConfig, preset, preset_names
from .signals import DeferredSignals

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_MAX_PIXELS = 50_000_000
_OUTPUT_NAME = re.compile(r"_zssr_x[0-9.]+(x[0-9.]+)?$")


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
        if text.strip().lower() in ("", "none"):
            return ()
        try:
            return tuple(kind(p) for p in text.split(",") if p.strip() != "")
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a comma-separated list of {kind.__name__}s"
            ) from None
    return parse


def _show(value: Any) -> str:
    """A config value as the user would type it on the command line."""
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" for v in value) if value else "none"
    if isinstance(value, str):
        return value or '""'
    return str(value)


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "recipe (ZSSRConfig fields; each overrides the preset's value)"
    )
    defaults = ZSSRConfig()
    doc = _field_docs()
    for f in dataclasses.fields(ZSSRConfig):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        help_text = doc.get(f.name, "") + f" (ideal: {_show(default)})"
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
    """Each parameter's description in the ZSSRConfig docstring, as plain text for --help."""
    docs: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []

    def flush() -> None:
        plain = " ".join(text).rstrip(".")
        plain = re.sub(r":\w+:`([^`]*)`", r"\1", plain).replace("``", "").replace("`", "")
        for n in names:
            docs[n] = plain.replace("%", "%%")

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


class _QuietStderr:
    """Silence file descriptor 2 (C++ libraries' start-up chatter) unless debugging."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.saved: int | None = None

    def __enter__(self) -> _QuietStderr:
        if self.enabled:
            sys.stderr.flush()
            self.saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            os.dup2(self.saved, 2)
            os.close(self.saved)
            self.saved = None


def _import_backend(debug: bool) -> None:
    """Import Keras and its backend, and find the device, without the C++ log lines."""
    with _QuietStderr(enabled=not debug):
        import keras

        from .network import compute_device

        keras.backend.backend()
        compute_device()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_zssr.py",
        description="Zero-shot super-resolution (ZSSR, Shocher et al. CVPR 2018): trains a small "
                    "network on each input image alone, then upscales it.",
        epilog="Examples: python run_zssr.py photo.png --scale 2; python run_zssr.py photos/ "
               "'scans/*.tif' -o out/ --skip-existing. Each output <stem>_zssr_x<scale>.png "
               "(.tif for float inputs) gets a .json sidecar with the config, seed, iterations, "
               "learning rate, timings, provenance and (with --gt) PSNR/SSIM. Exit codes: 0 ok, "
               "1 an image failed (the others are still done), 2 usage error, 130 interrupted.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image files, folders (searched recursively) or glob patterns")
    parser.add_argument("--scale", type=parse_scale, default=(2.0, 2.0),
                        help="upscaling factor, e.g. 2, 1.5, or 2,1.5 for vertical,horizontal "
                             "(default: 2)")
    parser.add_argument("--kernel", default="bicubic",
                        help="downscaling kernel of the input: 'bicubic' (default), a .mat "
                             "(variable Kernel) or .npy file, or 'estimated': estimate it per "
                             "image with KernelGAN (x2 and x4), saved as <stem>_kernel_x<s>.mat "
                             "and .png next to the output")
    parser.add_argument("--preset", default=None, choices=preset_names(),
                        help="named recipe; flags below override its fields (default: ideal "
                             "with the bicubic kernel, kernel with a given or estimated one). "
                             "With a non-bicubic kernel every preset runs one jump without "
                             "rotations and self-ensemble unless the flags below ask for them")
    parser.add_argument("--real", action="store_true",
                        help="real photo: use the 'real' preset (noisy sons, no "
                             "back-projection); same as --preset real")
    parser.add_argument("--estimate-iters", type=int, default=None,
                        help="KernelGAN iterations for --kernel estimated (default: 1500)")
    parser.add_argument("--estimate-ensemble", type=int, default=None, metavar="N",
                        help="--kernel estimated: average the kernels of N KernelGANs of "
                             "different seeds (default 2; each costs one estimation)")
    parser.add_argument("--estimate-sharpen", type=float, default=None,
                        help="raise the estimated kernel to this power (narrows it; default "
                             "1.5, calibrated on training images; 1 = KernelGAN's kernel)")
    parser.add_argument("-o", "--output-dir", default=None,
                        help="folder for outputs, mirroring the input folders' structure "
                             "(default: next to each input)")
    parser.add_argument("--gt", default=None,
                        help="ground-truth HR image: report PSNR-Y/SSIM-Y (one input only)")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true",
                          help="replace existing outputs (default: refuse)")
    existing.add_argument("--skip-existing", action="store_true",
                          help="skip inputs whose output exists (resume an interrupted batch)")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                        help="refuse inputs whose output would exceed this many pixels "
                             f"(default: {DEFAULT_MAX_PIXELS:,})")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"zssr {__version__}")
    _add_config_flags(parser)
    return parser


def resolve_preset(args: argparse.Namespace) -> str:
    """``--preset``, or ``real`` for ``--real``, or the default for the kernel in use."""
    if args.real:
        if args.preset not in (None, "real"):
            raise UsageError(f"--real selects the 'real' preset; it contradicts --preset "
                             f"{args.preset}")
        return "real"
    if args.preset is not None:
        return args.preset
    return "ideal" if args.kernel == "bicubic" else "kernel"


#: With a non-bicubic kernel these apply unless asked otherwise: rotations and the ensemble
#: assume a kernel symmetric under quarter turns and mirroring (the official given-kernel config
#: turns them off), and a kernel describes one downscaling, so the run is one jump.
KERNEL_SAFE: dict[str, Any] = {"allow_rotation": False, "self_ensemble": False,
                               "gradual_step": 0.0, "scale_steps": (), "base_change_scales": ()}


def config_from_args(args: argparse.Namespace) -> ZSSRConfig:
    """The preset (see :func:`resolve_preset`) with every explicitly given field flag applied.

    With a non-bicubic ``--kernel``, :data:`KERNEL_SAFE` applies to fields the user did not set;
    the names of the fields it changed are left in ``args.kernel_safe`` for the CLI to report.
    """
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(ZSSRConfig)
                 if getattr(args, f.name, None) is not None}
    try:
        args.preset = resolve_preset(args)
        config = preset(args.preset, **overrides)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    args.kernel_safe = []
    if args.kernel != "bicubic":
        changes = {k: v for k, v in KERNEL_SAFE.items()
                   if k not in overrides and getattr(config, k) != v}
        if changes:
            config = config.replace(**changes)
            args.kernel_safe = sorted(changes)
    return config


def format_scale(scale: tuple[float, float]) -> str:
    """``(2, 2)`` -> ``'2'``; ``(2, 1.5)`` -> ``'2x1.5'``."""
    def one(v: float) -> str:
        return f"{v:g}"
    return one(scale[0]) if scale[0] == scale[1] else f"{one(scale[0])}x{one(scale[1])}"


def _versions() -> dict[str, str]:
    import cv2
    import keras
    import scipy

    out = {"zssr": __version__, "python": platform.python_version(), "numpy": np.__version__,
           "scipy": scipy.__version__, "opencv": cv2.__version__, "keras": keras.__version__,
           "keras_backend": keras.backend.backend()}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        out["tensorflow"] = tf.__version__
    elif keras.backend.backend() == "jax":
        import jax

        out["jax"] = jax.__version__
    return out


class _Progress:
    """tqdm bars fed by progress events (one bar per image and phase)."""

    def __init__(self, name: str, quiet: bool, position: int = 0) -> None:
        self.name, self.quiet, self.position = name, quiet, position
        self.bar: Any = None
        self.key: Any = None

    def __call__(self, event: Any) -> None:
        _SIGNALS.check()
        if self.quiet:
            return
        from tqdm import tqdm

        phase = getattr(event, "phase", "estimate")
        key = (phase, getattr(event, "step", 0))
        if key != self.key:
            self.close()
            self.key = key
            n_steps = getattr(event, "n_steps", 1)
            step = f" step {event.step + 1}/{n_steps}" if n_steps > 1 else ""
            label = {"train": "train", "predict": "ensemble", "estimate": "kernel"}[phase]
            self.bar = tqdm(total=event.total, desc=f"{self.name}{step} {label}",
                            unit="pass" if phase == "predict" else "it",
                            leave=False, dynamic_ncols=True, file=sys.stderr,
                            position=self.position)
        self.bar.update(event.iteration - self.bar.n)
        if event.iteration % 10 == 0:
            if phase == "train":
                self.bar.set_postfix(loss=f"{event.loss:.4f}", lr=f"{event.learning_rate:.0e}",
                                     refresh=False)
            elif phase == "estimate":
                self.bar.set_postfix(g=f"{event.g_loss:.3f}", d=f"{event.d_loss:.3f}",
                                     refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _resolve_kernel(spec: str) -> tuple[Any, dict[str, Any]]:
    from .io import sha256_file
    from .kernels import KernelError, load_kernel

    if spec == "bicubic":
        return None, {"kernel": "bicubic"}
    if spec == "estimated":
        return "estimated", {"kernel": "estimated (KernelGAN)"}
    try:
        loaded = load_kernel(spec)
    except KernelError as exc:
        raise UsageError(str(exc)) from None
    return loaded.kernel, {"kernel": "file", "kernel_path": str(Path(spec).resolve()),
                           "kernel_sha256": sha256_file(Path(spec)),
                           "kernel_shape": list(loaded.kernel.shape),
                           "kernel_normalised": loaded.was_normalised,
                           "kernel_original_sum": loaded.original_sum}


@dataclass(frozen=True)
class Job:
    """One input file and where its output goes."""

    path: Path
    relative: Path  # mirrored under the output folder


def _is_zssr_output(path: Path) -> bool:
    return bool(_OUTPUT_NAME.search(path.stem))


def expand_inputs(specs: Sequence[str]) -> tuple[list[Job], int]:
    """Files, folders (recursive) and glob patterns -> jobs; also counts skipped earlier outputs.

    Raises
    ------
    UsageError
        For a path that does not exist, a folder without images or a pattern matching nothing.
    """
    from .io import IMAGE_SUFFIXES

    jobs: list[Job] = []
    ignored = 0
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            found = [f for f in sorted(path.rglob("*")) if f.is_file()
                     and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".")]
            outputs = [f for f in found if _is_zssr_output(f)]
            ignored += len(outputs)
            found = [f for f in found if not _is_zssr_output(f)]
            if not found:
                raise UsageError(f"{path}: folder contains no images "
                                 f"({', '.join(IMAGE_SUFFIXES)})")
            jobs += [Job(f, f.relative_to(path)) for f in found]
        elif path.is_file():
            jobs.append(Job(path, Path(path.name)))
        elif glob.has_magic(spec):
            matches = [Path(m) for m in sorted(glob.glob(spec, recursive=True))]
            files = [m for m in matches if m.is_file() and not _is_zssr_output(m)]
            if not files:
                raise UsageError(f"{spec}: pattern matches no files")
            base = Path(spec.split("*")[0].split("?")[0].split("[")[0])
            base = base if spec.endswith(os.sep) or base.is_dir() else base.parent
            jobs += [Job(f, f.relative_to(base) if f.is_relative_to(base) else Path(f.name))
                     for f in files]
        else:
            raise UsageError(f"{path}: no such file or folder; check the path")
    # The same file named twice (a folder and a file in it, overlapping patterns) runs once.
    seen: set[Path] = set()
    unique = []
    for job in jobs:
        key = job.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(job)
    return unique, ignored


def output_clashes(jobs: Sequence[Job], out_dir: Path | None,
                   scale: tuple[float, float]) -> dict[Job, Job]:
    """Inputs whose output would land on an earlier input's output, mapped to that input.

    ``photo.png`` and ``photo.jpg`` in one folder, or ``a/x.png`` and ``b/x.png`` mirrored into
    one ``-o`` folder, would write the same ``x_zssr_x2`` files; the later one must not run (it
    would fail on, or with ``--overwrite`` replace, the earlier one's result).
    """
    first: dict[Path, Job] = {}
    clashes: dict[Job, Job] = {}
    for job in jobs:
        key = _output_paths(job, out_dir, scale, "")[0].resolve()
        if key in first:
            clashes[job] = first[key]
        else:
            first[key] = job
    return clashes


def _output_paths(job: Job, out_dir: Path | None, scale: tuple[float, float],
                  suffix: str) -> tuple[Path, Path]:
    folder = (out_dir / job.relative.parent) if out_dir is not None else job.path.parent
    stem = f"{job.path.stem}_zssr_x{format_scale(scale)}"
    return folder / f"{stem}{suffix}", folder / f"{stem}.json"


def _existing_output(job: Job, out_dir: Path | None, scale: tuple[float, float]) -> Path | None:
    for suffix in (".png", ".tif"):
        image_path, _ = _output_paths(job, out_dir, scale, suffix)
        if image_path.exists():
            return image_path
    return None


class ProcessingError(Exception):
    """One input could not be processed (exit code 1 for the batch)."""


def _process(job: Job, args: argparse.Namespace, config: ZSSRConfig, kernel: Any,
             kernel_info: dict[str, Any], out_dir: Path | None, position: int) -> dict[str, Any]:
    from .engine import ZSSR
    from .io import output_suffix, read_image, sha256_file, write_image, write_json
    from .metrics import psnr, ssim
    from .network import compute_device, resolve_precision
    from .resize import imresize, output_shape_for

    loaded = read_image(job.path)
    out_shape = output_shape_for(loaded.shape, args.scale)
    if out_shape[0] * out_shape[1] > args.max_pixels:
        raise ProcessingError(
            f"output would be {out_shape[1]}x{out_shape[0]} = {out_shape[0] * out_shape[1]:,} "
            f"pixels, above --max-pixels {args.max_pixels:,}; raise --max-pixels if this machine "
            "has the memory and time, or use a smaller scale"
        )
    out_path, sidecar = _output_paths(job, out_dir, args.scale, output_suffix(loaded.info))
    if out_path.resolve() == job.path.resolve():
        raise ProcessingError(f"{out_path}: output would overwrite the input; choose another -o")
    if out_path.exists() and not args.overwrite:
        raise ProcessingError(f"{out_path} exists; pass --overwrite to replace it or "
                              "--skip-existing to keep it")
    gt = None
    if args.gt:
        gt = read_image(args.gt).pixels
        h, w = out_shape
        if gt.shape[0] < h or gt.shape[1] < w or gt.shape[0] - h > math.ceil(args.scale[0]) \
                or gt.shape[1] - w > math.ceil(args.scale[1]):
            raise UsageError(f"--gt {args.gt}: size {gt.shape[0]}x{gt.shape[1]} does not match "
                             f"the output {h}x{w} (up to a mod-crop)")
        gt = gt[:h, :w]
    progress = _Progress(job.path.name, args.quiet, position)
    if isinstance(kernel, str) and kernel == "estimated":
        kernel, kernel_info = _estimate(job, loaded.pixels, args, out_path, progress)
    try:
        result = ZSSR(config).run(loaded.pixels, args.scale, kernel, progress=progress)
    except ValueError as exc:
        raise ProcessingError(str(exc)) from None
    finally:
        progress.close()
    for s in result.steps:
        if s.retried and not args.quiet:
            print(f"note: {job.path}: {s.retried}", file=sys.stderr)
    alpha = None
    if loaded.alpha is not None:
        alpha = np.clip(imresize(loaded.alpha, args.scale, output_shape=out_shape), 0.0, 1.0)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    metrics = None
    if gt is not None:
        metrics = {"psnr_y": psnr(result.image, gt, scale=args.scale),
                   "ssim_y": ssim(result.image, gt, scale=args.scale),
                   "gt": str(Path(args.gt).resolve()),
                   "protocol": "MATLAB Y, shave ceil(scale), rounded to uint8"}
    info = loaded.info
    record = {
        "input": str(job.path.resolve()), "input_sha256": sha256_file(job.path),
        "input_size": [loaded.shape[1], loaded.shape[0]], "input_mode": info.mode,
        "input_dtype": info.dtype, "exif_orientation_applied": info.orientation,
        "palette_expanded": info.palette, "float_values_clipped": info.clipped_fraction,
        "output": str(out_path.resolve()), "output_size": [out_shape[1], out_shape[0]],
        "output_mode": info.mode if info.mode != "LA" or info.dtype == "uint8" else "RGBA",
        "output_dtype": info.dtype, "alpha": "bicubic" if alpha is not None else None,
        "scale": list(args.scale), "preset": args.preset, "config": config.to_dict(),
        "seed": config.seed, "precision_used": resolve_precision(config.precision), **kernel_info,
        "iterations": result.iterations, "final_learning_rate": result.final_learning_rate,
        "seconds": result.seconds,
        "steps": [{"scale": list(s.scale), "iterations": s.iterations,
                   "final_learning_rate": s.final_learning_rate,
                   "lr_drop_iterations": s.lr_drop_iterations, "final_loss": s.final_loss,
                   "train_seconds": s.train_seconds, "predict_seconds": s.predict_seconds,
                   "back_projection_iters": s.back_projection_iters,
                   "precision": s.precision, "retried": s.retried} for s in result.steps],
        "metrics": metrics, "versions": _versions(), "device": compute_device(),
        "machine": platform.platform(), "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_image(out_path, result.image, info, alpha=alpha, overwrite=args.overwrite)
    write_json(sidecar, record, overwrite=True)
    return record


def _estimate(job: Job, pixels: np.ndarray, args: argparse.Namespace, out_path: Path,
              progress: _Progress) -> tuple[np.ndarray, dict[str, Any]]:
    """KernelGAN estimate for one image; saves the kernel (.mat) and its picture (.png)."""
    from .estimate import KernelGANConfig, estimate_kernel
    from .io import write_image
    from .kernels import kernel_picture, save_kernel

    if args.scale[0] != args.scale[1] or args.scale[0] not in (2.0, 4.0):
        raise UsageError(f"--kernel estimated works for --scale 2 or 4 (KernelGAN estimates x2 "
                         f"kernels, x4 by composition), got {format_scale(args.scale)}")
    scale = int(args.scale[0])
    overrides: dict[str, Any] = {"seed": args.seed if args.seed is not None else 0}
    if args.estimate_iters is not None:
        if args.estimate_iters < 1:
            raise UsageError("--estimate-iters must be >= 1")
        overrides["max_iters"] = args.estimate_iters
    if args.estimate_ensemble is not None:
        if args.estimate_ensemble < 1:
            raise UsageError("--estimate-ensemble must be >= 1")
        overrides["ensemble"] = args.estimate_ensemble
    if args.estimate_sharpen is not None:
        if not args.estimate_sharpen > 0:
            raise UsageError("--estimate-sharpen must be > 0 (1 keeps KernelGAN's kernel)")
        overrides["sharpen"] = args.estimate_sharpen
    cfg = KernelGANConfig(**overrides)
    t0 = time.perf_counter()
    try:
        kernel, kernel_x2 = estimate_kernel(pixels, scale, config=cfg, progress=progress,
                                            return_x2=True)
    except ValueError as exc:
        raise ProcessingError(str(exc)) from None
    finally:
        progress.close()
    seconds = time.perf_counter() - t0
    stem = f"{job.path.stem}_kernel"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    files = {}
    for s, k in {2: kernel_x2, scale: kernel}.items():
        mat = out_path.with_name(f"{stem}_x{s}.mat")
        save_kernel(mat, k)
        png = mat.with_suffix(".png")
        write_image(png, kernel_picture(k).astype(np.float32) / 255.0, overwrite=True)
        files[f"x{s}"] = {"mat": str(mat.resolve()), "png": str(png.resolve()),
                          "shape": list(k.shape)}
    return kernel, {"kernel": "estimated (KernelGAN)", "kernel_files": files,
                    "kernel_estimation_seconds": seconds,
                    "kernel_estimation_config": dataclasses.asdict(cfg)}


#: The first SIGTERM / Ctrl-C is only recorded: the next progress event (every training
#: iteration, every ensemble pass) or the next image raises it, so it never lands inside
#: TensorFlow or a file write; a second one raises at once.
_SIGNALS = DeferredSignals()


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".zssr-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to output folder {folder} ({exc.strerror or exc}); "
                         "choose another -o") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 an image failed, 2 usage, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    try:
        config = config_from_args(args)
        kernel, kernel_info = _resolve_kernel(args.kernel)
        jobs, ignored = expand_inputs(args.inputs)
        if args.gt and len(jobs) != 1:
            raise UsageError("--gt needs exactly one input image")
        if args.max_pixels < 1:
            raise UsageError("--max-pixels must be >= 1")
        if config.init_weights:
            from .warm import NAMES, resolve

            if config.init_weights in NAMES:
                try:
                    resolve(config.init_weights)
                except (FileNotFoundError, ValueError) as e:
                    raise UsageError(f"--init-weights {config.init_weights}: {e}") from None
            elif not Path(config.init_weights).is_file():
                raise UsageError(f"--init-weights: no such file: {config.init_weights} (give a "
                                 f"weights file or one of: {', '.join(NAMES)})")
        out_dir = Path(args.output_dir) if args.output_dir else None
        if out_dir is not None:
            _check_writable(out_dir)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _import_backend(args.debug)
    from .network import precision_warning

    warning = precision_warning(config.precision)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    if args.kernel_safe:
        flags = ", ".join("--" + name.replace("_", "-") for name in args.kernel_safe)
        say(f"note: preset {args.preset} with --kernel {args.kernel}: reset "
            f"{', '.join(args.kernel_safe)} (rotations and the ensemble assume a symmetric "
            f"kernel; a kernel describes one downscaling, so one jump); set {flags} "
            "explicitly to keep them")
    if ignored:
        say(f"note: ignored {ignored} earlier zssr output(s) (*_zssr_x*) found in input folders")

    restore_signals = _SIGNALS.install()
    outcomes: list[tuple[str, Job, str, float]] = []
    overall = None
    if len(jobs) > 1 and not args.quiet:
        from tqdm import tqdm

        overall = tqdm(total=len(jobs), desc="images", unit="img", position=0,
                       dynamic_ncols=True, file=sys.stderr)
    clashes = output_clashes(jobs, out_dir, args.scale)
    try:
        for job in jobs:
            _SIGNALS.check()
            t0 = time.perf_counter()
            if job in clashes:
                name = _output_paths(job, out_dir, args.scale, "")[0].name
                message = (f"{job.path}: its output {name}.* would also be the output of "
                           f"{clashes[job].path}; rename one of them or run them with "
                           "different -o folders")
                print(f"error: {message}", file=sys.stderr)
                outcomes.append(("failed", job, message, 0.0))
            elif args.skip_existing and _existing_output(job, out_dir, args.scale) is not None:
                outcomes.append(("skipped", job, "output exists", 0.0))
            else:
                try:
                    record = _process(job, args, config, kernel, kernel_info, out_dir,
                                      1 if overall is not None else 0)
                    note = f"{record['output']} ({record['iterations']} it)"
                    if record["metrics"]:
                        note += (f" PSNR-Y {record['metrics']['psnr_y']:.2f} dB, "
                                 f"SSIM-Y {record['metrics']['ssim_y']:.4f}")
                    outcomes.append(("ok", job, note, time.perf_counter() - t0))
                except UsageError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return EXIT_USAGE
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # one bad file must not stop the others
                    if args.debug:
                        traceback.print_exc()
                    message = str(exc)
                    if not message.startswith(str(job.path)):
                        message = f"{job.path}: {message}"
                    print(f"error: {message}", file=sys.stderr)
                    outcomes.append(("failed", job, message, time.perf_counter() - t0))
            if overall is not None:
                overall.update(1)
    except KeyboardInterrupt:
        if overall is not None:
            overall.close()
        done = sum(1 for o in outcomes if o[0] == "ok")
        print(f"interrupted after {done} of {len(jobs)} image(s); no partial output was left. "
              "Resume with --skip-existing.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        restore_signals()
    if overall is not None:
        overall.close()
    failed = [o for o in outcomes if o[0] == "failed"]
    if len(jobs) > 1 or args.quiet is False:
        for status, job, note, seconds in outcomes:
            say(f"{status:8s} {job.path}  {note}" + (f"  [{seconds:.1f} s]" if seconds else ""))
    if len(jobs) > 1:
        ok = sum(1 for o in outcomes if o[0] == "ok")
        skipped = sum(1 for o in outcomes if o[0] == "skipped")
        say(f"{ok} done, {skipped} skipped, {len(failed)} failed of {len(jobs)}")
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
