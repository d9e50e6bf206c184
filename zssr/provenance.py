"""Provenance: what produced a result, for the JSON sidecar next to each output and for the
header of every benchmark table.

:func:`sidecar` builds the record the CLI writes beside each output image (input, its sha256,
config, preset, seed, versions, device, timings, kernel source, metrics); :func:`versions` and
:func:`machine_description` serve the benchmark's tables too.

One order throughout, as in the API: sizes are ``[height, width]`` (the keys say so:
``input_height_width``), scales ``[vertical, horizontal]`` (``scale``, each step's ``scale``).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

__all__ = ["versions", "machine_description", "steps_record", "sidecar"]


def versions() -> dict[str, str]:
    """Versions of zssr, Python and the libraries that shape a result (Keras and its backend)."""
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


def machine_description() -> str:
    """The CPU, its core count and where Keras computes, for the header of every result."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from .network import compute_device

    device = compute_device()
    where = "no GPU used" if device == "CPU" else f"computing on {device}"
    return f"{cpu}{_widest_vector_isa()}, {os.cpu_count()} cores, {where}"


def _widest_vector_isa() -> str:
    """`` (AMX)``, `` (AVX-512)`` or `` (AVX2 only)`` from /proc/cpuinfo (empty if unknown): the
    same model name covers CPUs of different speed."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = next((set(line.split(":", 1)[1].split()) for line in fh
                          if line.startswith("flags")), set())
    except OSError:
        return ""
    if "amx_bf16" in flags:
        return " (AMX)"
    if "avx512f" in flags:
        return " (AVX-512)"
    return " (AVX2 only)" if "avx2" in flags else ""


def steps_record(steps: Sequence[Any]) -> list[dict[str, Any]]:
    """One plain-JSON entry per scale step of a :class:`zssr.ZSSRResult`; ``scale`` is the
    step's ``[vertical, horizontal]`` scale relative to the input."""
    return [{"scale": list(s.scale), "iterations": s.iterations,
             "final_learning_rate": s.final_learning_rate,
             "lr_drop_iterations": s.lr_drop_iterations, "final_loss": s.final_loss,
             "train_seconds": s.train_seconds, "predict_seconds": s.predict_seconds,
             "back_projection_iters": s.back_projection_iters,
             "precision": s.precision, "retried": s.retried,
             "reconstruction_mse": [list(t) for t in s.reconstruction_mse]} for s in steps]


def sidecar(*, input_path: Path, input_shape: Sequence[int], info: Any, output_path: Path,
            output_shape: Sequence[int], alpha: bool, scale: Sequence[float], preset: str,
            config: Any, kernel_info: dict[str, Any], result: Any,
            metrics: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON sidecar of one output image.

    Sizes are ``[height, width]`` (``input_height_width``, ``output_height_width``), scales
    ``[vertical, horizontal]``. ``scale_steps_run`` lists the scale of each step that ran (from
    ``result.steps``), which may be fewer than the config's ``scale_steps`` (an x2 run of a
    config with steps 2 and 4 runs one step); ``config`` records the config as given.

    Parameters
    ----------
    input_path, output_path : Path
        The input file and the output image.
    input_shape, output_shape : sequence of int
        ``(height, width, ...)`` of the input and the output.
    info : zssr.io.ImageInfo
        What the input file said about itself (mode, dtype, orientation, palette, clipping).
    alpha : bool
        Whether an alpha channel was upscaled (bicubic) beside the image.
    scale : (float, float)
        The vertical and horizontal scale.
    preset : str
        The preset the config started from.
    config : ZSSRConfig
        The config that ran.
    kernel_info : dict
        Where the kernel came from (``{"kernel": "bicubic"}``, a file and its sha256, or the
        estimation's files and config).
    result : ZSSRResult
        The run's result (iterations, rates, timings per step).
    metrics : dict or None
        PSNR-Y / SSIM-Y against a ground truth, if one was given.
    """
    from .io import sha256_file
    from .network import compute_device, resolve_precision

    return {
        "input": str(input_path.resolve()), "input_sha256": sha256_file(input_path),
        "input_height_width": [input_shape[0], input_shape[1]], "input_mode": info.mode,
        "input_dtype": info.dtype, "exif_orientation_applied": info.orientation,
        "palette_expanded": info.palette, "float_values_clipped": info.clipped_fraction,
        "output": str(output_path.resolve()),
        "output_height_width": [output_shape[0], output_shape[1]],
        "output_mode": info.mode if info.mode != "LA" or info.dtype == "uint8" else "RGBA",
        "output_dtype": info.dtype, "alpha": "bicubic" if alpha else None,
        "scale": list(scale), "scale_steps_run": [list(s.scale) for s in result.steps],
        "preset": preset, "config": config.to_dict(),
        "seed": config.seed, "precision_used": resolve_precision(config.precision), **kernel_info,
        "iterations": result.iterations, "final_learning_rate": result.final_learning_rate,
        "seconds": result.seconds, "steps": steps_record(result.steps),
        "metrics": metrics, "versions": versions(), "device": compute_device(),
        "machine": platform.platform(), "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
