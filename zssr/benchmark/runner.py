"""Running one benchmark method over a dataset: per-image PSNR-Y / SSIM-Y / seconds, saved
outputs and their reuse."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import baselines as baselines_registry
from ..io import read_image, write_json
from ..metrics import psnr, ssim
from .datasets import Sample
from .methods import Method, get, method_key
from .tables import figure_box

__all__ = ["evaluate"]


def _mean(rows: list[dict]) -> dict:
    mean = {
        "psnr_y": statistics.fmean(r["psnr_y"] for r in rows),
        "ssim_y": statistics.fmean(r["ssim_y"] for r in rows),
        "seconds": statistics.fmean(r["seconds"] for r in rows),
        "median_seconds": statistics.median(r["seconds"] for r in rows),
    }
    if rows[0]["iterations"] is not None:
        mean["iterations"] = statistics.fmean(r["iterations"] for r in rows)
        mean["median_iterations"] = statistics.median(r["iterations"] for r in rows)
    for key in ("estimate_seconds", "kernel_error", "kernel_error_bicubic", "resynthesis_psnr",
                "resynthesis_psnr_gt_kernel"):
        if key in rows[0]:
            mean[key] = statistics.fmean(r[key] for r in rows)
            if key == "estimate_seconds":
                mean["median_estimate_seconds"] = statistics.median(r[key] for r in rows)
    return mean


def _one(sample: Sample, method: Method, run: dict, folder: Path | None) -> tuple:
    """(output, seconds, iterations, extra) of one sample, from a saved output with ``reuse``."""
    import json

    from ..io import write_image

    saved = folder / f"{sample.name}.png" if folder else None
    record = saved.with_suffix(".json") if saved else None
    if run["reuse"] and saved is not None and saved.exists() and record.exists():
        kept = json.loads(record.read_text())
        return (read_image(saved).pixels, kept["seconds"], kept["iterations"],
                {**kept["extra"], "reused": True})
    if run["model"] is None and method.network is not None:
        run["model"] = baselines_registry.load(method.network, sample.scale,
                                               weights=run["baseline_weights"])
    t0 = time.perf_counter()
    sr, iterations, extra = method.run(sample, preset=run["preset"], overrides=run["overrides"],
                                       model=run["model"])
    seconds = time.perf_counter() - t0
    if saved is not None:
        write_image(saved, sr, overwrite=True)  # rounded to 8 bits like the metrics
        write_json(record, {"seconds": seconds, "iterations": iterations, "extra": extra})
    return sr, seconds, iterations, extra


def evaluate(samples: list[Sample], method: str, *, preset_name: str | None = None,
             overrides: dict | None = None, baseline_weights: str | None = None,
             keep_crops: bool = False, outputs: str | Path | None = None, reuse: bool = False,
             log: Callable[[str], None] = print) -> dict:
    """Run one method on every sample; returns the result table as a dict.

    A ZSSR method runs, and its rows report, :meth:`Method.preset` of ``preset_name``.
    With ``keep_crops`` the table also holds ``"crops"``: each output's
    :func:`~zssr.benchmark.tables.figure_box` window, for the comparison figure (not JSON).
    With ``outputs`` every output is saved there as an 8-bit PNG (the metrics round to 8 bits
    first, so nothing they see is lost) with a JSON record, under a folder named by
    :func:`method_key`; ``reuse`` then takes a saved output instead of running the method again
    (its row keeps the seconds of the run that made it).
    """
    m = get(method)
    folder = None
    if outputs is not None:
        folder = Path(outputs) / f"x{samples[0].scale}" / method_key(
            method, samples[0].scale, preset_name, overrides, baseline_weights)
        folder.mkdir(parents=True, exist_ok=True)
    run = {"preset": m.preset(preset_name), "overrides": overrides, "model": None,
           "baseline_weights": baseline_weights, "reuse": reuse}
    rows, crops = [], {}
    for sample in samples:
        sr, seconds, iterations, extra = _one(sample, m, run, folder)
        row = {"image": sample.name, "psnr_y": psnr(sr, sample.hr, scale=sample.scale),
               "ssim_y": ssim(sr, sample.hr, scale=sample.scale), "seconds": seconds,
               "iterations": iterations, **extra}
        rows.append(row)
        if keep_crops:
            crops[sample.name] = np.asarray(sr)[figure_box(sample.hr, sample.scale)]
        log(f"  {method:8s} {sample.name:12s} PSNR-Y {row['psnr_y']:.3f}  SSIM-Y "
            f"{row['ssim_y']:.4f}  {seconds:7.1f} s" + (f"  {iterations} it" if iterations else "")
            + ("  (saved output)" if extra.get("reused") else ""))
    table = {"method": method, "rows": rows, "mean": _mean(rows)}
    if keep_crops:
        table["crops"] = crops
    return table
