"""Benchmark: dataset x method x scale -> per-image PSNR-Y / SSIM-Y / seconds, md + json.

Reads the EDSR layout (``HR/<name>.png``, ``LR_bicubic/X<s>/<name>x<s>.png``), mod-crops each HR
to a multiple of the scale, super-resolves the LR file and scores with the papers' protocol::

    python -m zssr.benchmark --dataset ../shared/data/set5 --scale 2 --method bicubic,zssr
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .config import preset, preset_names
from .engine import ZSSR
from .io import read_image, write_json
from .metrics import psnr, ssim
from .resize import imresize

__all__ = ["Sample", "load_edsr_layout", "evaluate", "main"]


@dataclass(frozen=True)
class Sample:
    """One benchmark image: LR input, mod-cropped HR ground truth, scale."""

    name: str
    lr: np.ndarray
    hr: np.ndarray
    scale: int


def load_edsr_layout(root: str | Path, scale: int, names: list[str] | None = None) -> list[Sample]:
    """Load ``root/HR`` and ``root/LR_bicubic/X<scale>``; HR is mod-cropped to the scale."""
    root = Path(root)
    hr_dir, lr_dir = root / "HR", root / "LR_bicubic" / f"X{scale}"
    if not hr_dir.is_dir() or not lr_dir.is_dir():
        raise FileNotFoundError(
            f"{root} is not in the EDSR layout: need {hr_dir} and {lr_dir}"
        )
    samples = []
    for hr_path in sorted(hr_dir.glob("*.png")):
        if names and hr_path.stem not in names:
            continue
        hr = read_image(hr_path).pixels
        lr = read_image(lr_dir / f"{hr_path.stem}x{scale}.png").pixels
        h, w = hr.shape[:2]
        hr = hr[: h - h % scale, : w - w % scale]
        if hr.shape[:2] != (lr.shape[0] * scale, lr.shape[1] * scale):
            raise ValueError(
                f"{hr_path.stem}: LR {lr.shape} does not match HR {hr.shape} at x{scale}"
            )
        samples.append(Sample(hr_path.stem, lr, hr, scale))
    if not samples:
        which = f" named {names}" if names else ""
        raise FileNotFoundError(f"no images found in {hr_dir}{which}")
    return samples


def evaluate(samples: list[Sample], method: str, *, preset_name: str = "ideal",
             overrides: dict | None = None,
             log: Callable[[str], None] = print) -> dict:
    """Run one method on every sample; returns the result table as a dict."""
    rows = []
    for sample in samples:
        t0 = time.perf_counter()
        iterations = None
        if method == "bicubic":
            sr = np.clip(imresize(sample.lr, sample.scale), 0, 1)
        elif method == "zssr":
            cfg = preset(preset_name, **(overrides or {}))
            result = ZSSR(cfg).run(sample.lr, sample.scale)
            sr, iterations = result.image, result.iterations
        else:
            raise ValueError(f"unknown method {method!r}; choose bicubic or zssr")
        seconds = time.perf_counter() - t0
        row = {
            "image": sample.name,
            "psnr_y": psnr(sr, sample.hr, scale=sample.scale),
            "ssim_y": ssim(sr, sample.hr, scale=sample.scale),
            "seconds": seconds,
            "iterations": iterations,
        }
        rows.append(row)
        log(f"  {method:8s} {sample.name:12s} PSNR-Y {row['psnr_y']:.3f}  SSIM-Y "
            f"{row['ssim_y']:.4f}  {seconds:7.1f} s" + (f"  {iterations} it" if iterations else ""))
    mean = {
        "psnr_y": statistics.fmean(r["psnr_y"] for r in rows),
        "ssim_y": statistics.fmean(r["ssim_y"] for r in rows),
        "seconds": statistics.fmean(r["seconds"] for r in rows),
        "median_seconds": statistics.median(r["seconds"] for r in rows),
    }
    if rows[0]["iterations"] is not None:
        mean["iterations"] = statistics.fmean(r["iterations"] for r in rows)
        mean["median_iterations"] = statistics.median(r["iterations"] for r in rows)
    return {"method": method, "rows": rows, "mean": mean}


def _markdown(meta: dict, table: dict) -> str:
    lines = [
        f"# {meta['dataset']} x{meta['scale']} — {table['method']}"
        + (f" (preset `{meta['preset']}`)" if table["method"] == "zssr" else ""),
        "",
        f"Machine: {meta['machine']}. zssr {meta['version']}, {meta['date']}. "
        "PSNR/SSIM on MATLAB Y, shave = scale, rounded to uint8 first.",
        "",
        "| image | PSNR-Y (dB) | SSIM-Y | seconds | iterations |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in table["rows"]:
        lines.append(f"| {r['image']} | {r['psnr_y']:.3f} | {r['ssim_y']:.4f} | "
                     f"{r['seconds']:.1f} | {r['iterations'] if r['iterations'] else '-'} |")
    m = table["mean"]
    lines.append(f"| **mean** | **{m['psnr_y']:.3f}** | **{m['ssim_y']:.4f}** | "
                 f"{m['seconds']:.1f} (median {m['median_seconds']:.1f}) | "
                 f"{m.get('median_iterations', '-')} (median) |")
    return "\n".join(lines) + "\n"


def _machine() -> str:
    import os
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, no GPU used"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zssr.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="folder in the EDSR layout")
    parser.add_argument("--scale", type=int, required=True, choices=[2, 3, 4])
    parser.add_argument("--method", default="bicubic",
                        help="comma-separated: bicubic, zssr (default: bicubic)")
    parser.add_argument("--preset", default="ideal", choices=preset_names())
    parser.add_argument("--max-iters", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--images", default=None, help="comma-separated image names (subset)")
    parser.add_argument("--results-dir", default="benchmarks/results")
    parser.add_argument("--tag", default="", help="suffix for the result file names")
    args = parser.parse_args(argv)

    dataset = Path(args.dataset)
    names = args.images.split(",") if args.images else None
    samples = load_edsr_layout(dataset, args.scale, names)
    overrides = {k: v for k, v in (("max_iters", args.max_iters), ("seed", args.seed))
                 if v is not None}
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for method in args.method.split(","):
        meta = {
            "dataset": dataset.name, "scale": args.scale, "preset": args.preset,
            "overrides": overrides, "machine": _machine(), "version": __version__,
            "date": time.strftime("%Y-%m-%d"), "python": sys.version.split()[0],
        }
        print(f"{dataset.name} x{args.scale} {method}" +
              (f" preset={args.preset} {overrides}" if method == "zssr" else ""))
        table = evaluate(samples, method, preset_name=args.preset, overrides=overrides)
        if method == "zssr":
            table["config"] = preset(args.preset, **overrides).to_dict()
        m = table["mean"]
        print(f"  mean PSNR-Y {m['psnr_y']:.3f} dB  SSIM-Y {m['ssim_y']:.4f}  "
              f"median {m['median_seconds']:.1f} s/image")
        stem = f"{dataset.name}_x{args.scale}_{method}"
        if method == "zssr":
            stem += f"_{args.preset}"
        stem += f"_{args.tag}" if args.tag else ""
        write_json(out_dir / f"{stem}.json", {"meta": meta, **table})
        (out_dir / f"{stem}.md").write_text(_markdown(meta, table))
        print(f"  wrote {out_dir / stem}.md/.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
