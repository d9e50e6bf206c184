"""Jobs over many images: inputs to jobs, where each output goes, and one image's run from file
to file (read, kernel, ZSSR, write with its sidecar).

Messages name the API's parameters (``overwrite=True``, ``max_pixels``); the command line
translates them into its flags.
"""

from __future__ import annotations

import dataclasses
import glob
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import ZSSRConfig
from .signals import DeferredSignals

__all__ = ["UsageError", "ProcessingError", "Job", "SIGNALS", "expand_inputs", "output_clashes",
           "output_paths", "existing_output", "format_scale", "check_size", "check_writable",
           "preflight", "check_init_weights", "check_weights_fit", "KERNEL_WORDS",
           "load_kernel_spec", "estimate_options", "process"]

_OUTPUT_NAME = re.compile(r"_zssr_x[0-9.]+(x[0-9.]+)?$")

#: The first SIGTERM / Ctrl-C is only recorded: the next progress event (every training
#: iteration, every ensemble pass) or the next image raises it, so it never lands inside
#: TensorFlow or a file write; a second one raises at once.
SIGNALS = DeferredSignals()


class UsageError(Exception):
    """A problem with the request itself, not with one image: the whole batch stops."""


class ProcessingError(Exception):
    """One input could not be processed; the others still are."""


@dataclass(frozen=True)
class Job:
    """One input file and where its output goes."""

    path: Path
    relative: Path  # mirrored under the output folder


def is_zssr_output(path: Path) -> bool:
    """Whether ``path`` is named like one of our outputs (``*_zssr_x2.png``)."""
    return bool(_OUTPUT_NAME.search(path.stem))


def _folder_jobs(path: Path) -> tuple[list[Job], int]:
    from .io import IMAGE_SUFFIXES

    found = [f for f in sorted(path.rglob("*")) if f.is_file()
             and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".")]
    outputs = [f for f in found if is_zssr_output(f)]
    found = [f for f in found if not is_zssr_output(f)]
    if not found:
        raise UsageError(f"{path}: folder contains no images ({', '.join(IMAGE_SUFFIXES)})")
    return [Job(f, f.relative_to(path)) for f in found], len(outputs)


def _glob_jobs(spec: str) -> list[Job]:
    matches = [Path(m) for m in sorted(glob.glob(spec, recursive=True))]
    files = [m for m in matches if m.is_file() and not is_zssr_output(m)]
    if not files:
        raise UsageError(f"{spec}: pattern matches no files")
    base = Path(spec.split("*")[0].split("?")[0].split("[")[0])
    base = base if spec.endswith(os.sep) or base.is_dir() else base.parent
    return [Job(f, f.relative_to(base) if f.is_relative_to(base) else Path(f.name))
            for f in files]


def expand_inputs(specs: Sequence[str]) -> tuple[list[Job], int]:
    """Files, folders (recursive) and glob patterns -> jobs; also counts skipped earlier outputs.

    Raises
    ------
    UsageError
        For a path that does not exist, a folder without images or a pattern matching nothing.
    """
    jobs: list[Job] = []
    ignored = 0
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            found, skipped = _folder_jobs(path)
            jobs += found
            ignored += skipped
        elif path.is_file():
            jobs.append(Job(path, Path(path.name)))
        elif glob.has_magic(spec):
            jobs += _glob_jobs(spec)
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


def format_scale(scale: tuple[float, float]) -> str:
    """``(2, 2)`` -> ``'2'``; ``(2, 1.5)`` -> ``'2x1.5'``."""
    def one(v: float) -> str:
        return f"{v:g}"
    return one(scale[0]) if scale[0] == scale[1] else f"{one(scale[0])}x{one(scale[1])}"


def output_paths(job: Job, out_dir: Path | None, scale: tuple[float, float],
                 suffix: str) -> tuple[Path, Path]:
    """The output image (with ``suffix``) and its JSON sidecar for ``job``."""
    folder = (out_dir / job.relative.parent) if out_dir is not None else job.path.parent
    stem = f"{job.path.stem}_zssr_x{format_scale(scale)}"
    return folder / f"{stem}{suffix}", folder / f"{stem}.json"


def existing_output(job: Job, out_dir: Path | None, scale: tuple[float, float]) -> Path | None:
    """The output image of ``job`` if one exists already (``.png`` or ``.tif``)."""
    for suffix in (".png", ".tif"):
        image_path, _ = output_paths(job, out_dir, scale, suffix)
        if image_path.exists():
            return image_path
    return None


def output_clashes(jobs: Sequence[Job], out_dir: Path | None,
                   scale: tuple[float, float]) -> dict[Job, Job]:
    """Inputs whose output would land on an earlier input's output, mapped to that input.

    ``photo.png`` and ``photo.jpg`` in one folder, or ``a/x.png`` and ``b/x.png`` mirrored into
    one output folder, would write the same ``x_zssr_x2`` files; the later one must not run (it
    would fail on, or with ``overwrite=True`` replace, the earlier one's result).
    """
    first: dict[Path, Job] = {}
    clashes: dict[Job, Job] = {}
    for job in jobs:
        key = output_paths(job, out_dir, scale, "")[0].resolve()
        if key in first:
            clashes[job] = first[key]
        else:
            first[key] = job
    return clashes


def check_writable(folder: Path) -> None:
    """Create ``folder`` and check that a file can be written there (else :class:`UsageError`)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".zssr-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to output folder {folder} ({exc.strerror or exc}); "
                         "choose another output_dir") from None


def preflight(jobs: Sequence[Job], *, out_dir: Path | None, gt: str | None = None) -> None:
    """The checks that need no image decoded, made before any training starts.

    * ``gt``, if given, is an existing file;
    * the outputs can be written: ``out_dir`` is created and probed (:func:`check_writable`);
      without it every input's folder, where its output goes, must be writable
      (``os.access``, which also knows read-only file systems).

    Raises
    ------
    UsageError
        One line naming the parameter (``gt``, ``output_dir``) and the fix.
    """
    if gt is not None and not Path(gt).is_file():
        raise UsageError(f"gt={gt}: no such file; check the path")
    if out_dir is not None:
        check_writable(Path(out_dir))
        return
    for folder in sorted({job.path.parent for job in jobs}):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError(f"cannot write the outputs next to the inputs in {folder} (no "
                             "permission); choose an output_dir")


def check_init_weights(init_weights: str) -> None:
    """Check that ``init_weights`` names shipped weights that are present, or an existing file."""
    from .warm import NAMES, resolve

    if init_weights in NAMES:
        try:
            resolve(init_weights)
        except (FileNotFoundError, ValueError) as e:
            raise UsageError(f"init_weights={init_weights}: {e}") from None
    elif not Path(init_weights).is_file():
        raise UsageError(f"init_weights: no such file: {init_weights} (give a weights file "
                         f"or one of: {', '.join(NAMES)})")


def check_weights_fit(config: ZSSRConfig, *, load: bool = True) -> None:
    """Check that ``config.init_weights`` holds a network of ``config``'s depth and width, for
    RGB or gray images (else :class:`UsageError`).

    With ``load`` (or for a file of the user's) the weights are read, which imports Keras, and
    kept, so the runs that follow do not read the file again. ``load=False`` checks a shipped
    name against its manifest (sha256, depth and width) without Keras: for a process that only
    hands images to workers.
    """
    if not config.init_weights:
        return
    from .warm import NAMES, manifest

    if not load and config.init_weights in NAMES:
        check_init_weights(config.init_weights)  # present, and its sha256 matches
        entry = manifest()[NAMES[config.init_weights]]
        shape = (entry.get("depth"), entry.get("width"))
        if shape != (config.depth, config.width):
            raise UsageError(
                f"init_weights={config.init_weights}: the shipped weights are a depth-{shape[0]}, "
                f"width-{shape[1]} network, not depth {config.depth}, width {config.width}; set "
                "depth and width to those the weights were trained with")
        return
    from .api import initial_weights

    errors = []
    for channels in (3, 1):
        try:
            initial_weights(config.init_weights, channels, depth=config.depth,
                            width=config.width)
            return
        except (FileNotFoundError, ValueError) as e:
            errors.append(e)
    raise UsageError(f"init_weights={config.init_weights}: {errors[0]}")


KERNEL_WORDS = ("bicubic", "estimated")


def load_kernel_spec(spec: str) -> tuple[Any, dict[str, Any]]:
    """``'bicubic'``, ``'estimated'`` or a kernel file -> (kernel for :func:`process`, its
    provenance for the sidecar).

    Raises
    ------
    UsageError
        For a kernel file that cannot be used, or a word that is no file but close to one of
        :data:`KERNEL_WORDS` (``'estimate'``), naming the word meant.
    """
    import difflib

    from .io import sha256_file
    from .kernels import KernelError, load_kernel

    if spec == "bicubic":
        return None, {"kernel": "bicubic"}
    if spec == "estimated":
        return "estimated", {"kernel": "estimated (KernelGAN)"}
    close = difflib.get_close_matches(spec.lower(), KERNEL_WORDS, n=1, cutoff=0.6)
    if close and not Path(spec).exists():
        raise UsageError(f"kernel={spec}: no such kernel file; did you mean '{close[0]}'? (a "
                         f"kernel is {' or '.join(KERNEL_WORDS)} or a .mat/.npy file)")
    try:
        loaded = load_kernel(spec)
    except KernelError as exc:
        raise UsageError(str(exc)) from None
    return loaded.kernel, {"kernel": "file", "kernel_path": str(Path(spec).resolve()),
                           "kernel_sha256": sha256_file(Path(spec)),
                           "kernel_shape": list(loaded.kernel.shape),
                           "kernel_normalised": loaded.was_normalised,
                           "kernel_original_sum": loaded.original_sum}


def estimate_options(*, seed: int | None, estimate_iters: int | None = None,
                     estimate_ensemble: int | None = None,
                     estimate_sharpen: float | None = None) -> Any:
    """The :class:`zssr.KernelGANConfig` of ``kernel='estimated'`` (``None``: its default)."""
    from .estimate import KernelGANConfig

    overrides: dict[str, Any] = {"seed": seed if seed is not None else 0}
    if estimate_iters is not None:
        if estimate_iters < 1:
            raise UsageError("estimate_iters must be >= 1")
        overrides["max_iters"] = estimate_iters
    if estimate_ensemble is not None:
        if estimate_ensemble < 1:
            raise UsageError("estimate_ensemble must be >= 1")
        overrides["ensemble"] = estimate_ensemble
    if estimate_sharpen is not None:
        if not estimate_sharpen > 0:
            raise UsageError("estimate_sharpen must be > 0 (1 keeps KernelGAN's kernel)")
        overrides["sharpen"] = estimate_sharpen
    return KernelGANConfig(**overrides)


def _estimate(job: Job, pixels: np.ndarray, scale: tuple[float, float], options: Any,
              out_path: Path, progress: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """KernelGAN estimate for one image; saves the kernel (.mat) and its picture (.png)."""
    from .estimate import estimate_kernel
    from .io import write_image
    from .kernels import kernel_picture, save_kernel

    if scale[0] != scale[1] or scale[0] not in (2.0, 4.0):
        raise UsageError(f"kernel='estimated' works for scale=2 or 4 (KernelGAN estimates x2 "
                         f"kernels, x4 by composition), got {format_scale(scale)}")
    factor = int(scale[0])
    t0 = time.perf_counter()
    try:
        kernel, kernel_x2 = estimate_kernel(pixels, factor, config=options, progress=progress,
                                            return_x2=True)
    except ValueError as exc:
        raise ProcessingError(str(exc)) from None
    finally:
        progress.close()
    seconds = time.perf_counter() - t0
    stem = f"{job.path.stem}_kernel"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    files = {}
    for s, k in {2: kernel_x2, factor: kernel}.items():
        mat = out_path.with_name(f"{stem}_x{s}.mat")
        save_kernel(mat, k)
        png = mat.with_suffix(".png")
        write_image(png, kernel_picture(k).astype(np.float32) / 255.0, overwrite=True)
        files[f"x{s}"] = {"mat": str(mat.resolve()), "png": str(png.resolve()),
                          "shape": list(k.shape)}
    return kernel, {"kernel": "estimated (KernelGAN)", "kernel_files": files,
                    "kernel_estimation_seconds": seconds,
                    "kernel_estimation_config": dataclasses.asdict(options)}


def resolve_degradation(path: Path, pixels: np.ndarray, config: ZSSRConfig,
                        asked: dict[str, Any] | None, *, orientation: int = 1
                        ) -> tuple[ZSSRConfig, dict[str, Any] | None]:
    """``config`` for this input's compression and noise, and what the sidecar records.

    ``asked`` holds the ``jpeg_quality`` and ``noise_std`` asked for and ``keep``, the fields
    the user set. ``"auto"`` quality reads a JPEG file's tables (:func:`zssr.io.jpeg_info`),
    whose chroma subsampling the sons copy unless ``jpeg_subsampling`` was set (a file turned a
    quarter by its EXIF ``orientation`` has its halved chroma axis turned too: 4:2:2 then runs
    as 4:2:0); ``"auto"`` noise is what :func:`zssr.noise_level.noise_to_model` finds. The run
    is then what :func:`zssr.config.degradation_aware` makes of them. ``asked`` ``None`` runs
    ``config`` as given (and records nothing).
    """
    from .config import degradation_aware
    from .io import jpeg_info
    from .noise_level import noise_to_model

    if asked is None:
        return config, None
    keep = asked.get("keep", ())
    info = jpeg_info(path)
    record: dict[str, Any] = {"jpeg": info.to_dict() if info is not None else None}
    quality = asked.get("jpeg_quality", "auto")
    if quality == "auto":
        quality = info.quality if info is not None else 0
    subsampling = config.jpeg_subsampling
    if info is not None and "jpeg_subsampling" not in keep:
        subsampling = info.subsampling
        if subsampling == "4:2:2" and orientation in (5, 6, 7, 8):
            subsampling = "4:2:0"
    noise = asked.get("noise_std", "auto")
    if noise == "auto":
        modelled, record["noise_std_measured"] = noise_to_model(pixels)
        noise = modelled or None  # nothing found: the preset's own noise stays
    aware, changed = degradation_aware(config, jpeg_quality=int(quality),
                                       jpeg_subsampling=subsampling, noise_std=noise, keep=keep)
    record.update(asked={k: v for k, v in asked.items() if k != "keep"},
                  jpeg_quality=aware.jpeg_quality, jpeg_subsampling=aware.jpeg_subsampling,
                  noise_std=aware.noise_std, changed=list(changed))
    return aware, record


def describe_degradation(config: ZSSRConfig) -> str:
    """``"JPEG quality 75 (4:2:0) and noise std 5.0/255"`` for a config's degraded sons."""
    parts = []
    if config.jpeg_quality:
        parts.append(f"JPEG quality {config.jpeg_quality} ({config.jpeg_subsampling})")
    if config.noise_std:
        parts.append(f"noise std {config.noise_std * 255:.1f}/255")
    return " and ".join(parts) or "nothing"


def _read_gt(gt: str | Path, out_shape: tuple[int, int], scale: tuple[float, float]) -> Any:
    from .io import read_image

    pixels = read_image(gt).pixels
    h, w = out_shape
    if pixels.shape[0] < h or pixels.shape[1] < w or pixels.shape[0] - h > math.ceil(scale[0]) \
            or pixels.shape[1] - w > math.ceil(scale[1]):
        raise UsageError(f"gt={gt}: size {pixels.shape[0]}x{pixels.shape[1]} does not match "
                         f"the output {h}x{w} (up to a mod-crop)")
    return pixels[:h, :w]


def check_size(job: Job, in_shape: tuple[int, int], scale: tuple[float, float],
               max_pixels: int) -> tuple[int, int]:
    """The output shape of an input of ``in_shape`` (height, width), or :class:`ProcessingError`
    when it would hold more than ``max_pixels`` pixels.

    :func:`process` calls it with the size from the file's header (:func:`zssr.io.image_size`)
    before decoding, so an oversized image is refused without being loaded.
    """
    from .resize import output_shape_for

    out_shape = output_shape_for(in_shape, scale)
    n = out_shape[0] * out_shape[1]
    if n > max_pixels:
        raise ProcessingError(
            f"{job.path}: input {in_shape[1]}x{in_shape[0]} (width x height) gives a "
            f"{out_shape[1]}x{out_shape[0]} output = {n:,} pixels, above max_pixels="
            f"{max_pixels:,}; raise max_pixels if this machine has the memory and time, or use "
            "a smaller scale")
    return out_shape


def _check_output(job: Job, out_path: Path, overwrite: bool) -> None:
    if out_path.resolve() == job.path.resolve():
        raise ProcessingError(f"{out_path}: output would overwrite the input; choose another "
                              "output_dir")
    if out_path.exists() and not overwrite:
        raise ProcessingError(f"{out_path} exists; pass overwrite=True to replace it or "
                              "skip_existing=True to keep it")


def process(job: Job, *, config: ZSSRConfig, preset: str, scale: tuple[float, float],
            kernel: Any, kernel_info: dict[str, Any], out_dir: Path | None,
            overwrite: bool = False, max_pixels: int, gt: str | None = None,
            estimate: Any = None, degradation: dict[str, Any] | None = None, progress: Any,
            note: Callable[[str], None] = lambda text: None) -> dict[str, Any]:
    """Upscale one input file and write the output image and its JSON sidecar.

    ``kernel`` is ``None`` (bicubic), an array, or ``"estimated"`` (KernelGAN with the
    ``estimate`` options of :func:`estimate_options`). ``degradation`` is what
    :func:`resolve_degradation` makes the run of this input's compression and noise (``None``:
    ``config`` as given). Returns the sidecar record
    (:func:`zssr.provenance.sidecar`); ``note`` receives remarks (a retried step).

    Raises
    ------
    ProcessingError
        This input cannot be processed (too large, output exists, bad image).
    UsageError
        The request cannot work for any input (a ground truth of the wrong size).
    """
    from . import ZSSR, io
    from .metrics import psnr, ssim
    from .provenance import sidecar
    from .resize import imresize

    header = io.image_size(job.path)
    if header is not None:
        check_size(job, header, scale, max_pixels)  # before decoding
    loaded = io.read_image(job.path)
    out_shape = check_size(job, loaded.shape, scale, max_pixels)
    out_path, sidecar_path = output_paths(job, out_dir, scale, io.output_suffix(loaded.info))
    _check_output(job, out_path, overwrite)
    gt_pixels = _read_gt(gt, out_shape, scale) if gt else None
    config, degradation_record = resolve_degradation(
        job.path, loaded.pixels, config, degradation, orientation=loaded.info.orientation)
    if degradation_record and degradation_record["changed"]:
        flags = ", ".join("--" + n.replace("_", "-") for n in degradation_record["changed"])
        note(f"note: {job.path}: {describe_degradation(config)} modelled in the training pairs "
             f"(set {flags}; give a flag to keep your value)")
    if isinstance(kernel, str) and kernel == "estimated":
        kernel, kernel_info = _estimate(job, loaded.pixels, scale, estimate, out_path, progress)
    try:
        result = ZSSR(config).run(loaded.pixels, scale, kernel, progress=progress)
    except ValueError as exc:
        raise ProcessingError(str(exc)) from None
    finally:
        progress.close()
    for s in result.steps:
        if s.retried:
            note(f"note: {job.path}: {s.retried}")
    alpha = None
    if loaded.alpha is not None:
        alpha = np.clip(imresize(loaded.alpha, scale, output_shape=out_shape), 0.0, 1.0)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    metrics = None
    if gt_pixels is not None:
        metrics = {"psnr_y": psnr(result.image, gt_pixels, scale=scale),
                   "ssim_y": ssim(result.image, gt_pixels, scale=scale),
                   "gt": str(Path(gt).resolve()),
                   "protocol": "MATLAB Y, shave ceil(scale), rounded to uint8"}
    record = sidecar(input_path=job.path, input_shape=loaded.shape, info=loaded.info,
                     output_path=out_path, output_shape=out_shape, alpha=alpha is not None,
                     scale=scale, preset=preset, config=config, kernel_info=kernel_info,
                     result=result, metrics=metrics)
    if degradation_record is not None:
        record["degradation"] = degradation_record
    io.write_image(out_path, result.image, loaded.info, alpha=alpha, overwrite=overwrite)
    io.write_json(sidecar_path, record, overwrite=True)
    return record
