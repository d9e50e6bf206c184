"""How closely ``zssr.resize.imresize`` reproduces MATLAB's bicubic downscaling.

    python benchmarks/matlab_resize.py [--data ../shared/data]

Downscales every Set5/Set14 HR image (mod-cropped, float, then rounded to uint8) by 2, 3 and 4 and
compares with the MATLAB-made LR files (PSNR over all channels, no shave). Those files were made by
an older MATLAB that rounds to uint8 between the two 1-D passes and replicates borders, so a float
implementation differs by +-1 on some pixels; >= 50 dB means the kernel, the antialiasing and the
coordinate mapping agree. The default (mirror) border is compared, and the ``replicate`` border too,
which shows how much of the residual is only the border convention.
Writes ``benchmarks/results/matlab_resize.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.benchmark import load_edsr_layout  # noqa: E402
from zssr.metrics import psnr, to_uint8  # noqa: E402
from zssr.resize import imresize  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--results-dir", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    rows = []
    for dataset in ("set5", "set14"):
        root = Path(args.data) / dataset
        if not root.exists():
            print(f"skipped {dataset}: {root} not found")
            continue
        for scale in (2, 3, 4):
            for s in load_edsr_layout(root, scale):
                row = {"dataset": dataset, "scale": scale, "image": s.name}
                for border, key in (("symmetric", "psnr"), ("replicate", "psnr_replicate")):
                    ours = to_uint8(imresize(s.hr.astype(np.float64), 1.0 / scale,
                                             output_shape=s.lr.shape[:2], border=border))
                    row[key] = psnr(ours, to_uint8(s.lr), y_channel=False)
                row["psnr_shave2"] = psnr(to_uint8(imresize(
                    s.hr.astype(np.float64), 1.0 / scale, output_shape=s.lr.shape[:2])),
                    to_uint8(s.lr), y_channel=False, shave=2)
                rows.append(row)
    if not rows:
        return 0
    lines = ["# zssr.resize vs MATLAB bicubic LR files", "",
             "PSNR (all channels, no shave) of our float downscale, rounded to uint8, against the "
             "shared MATLAB LR files. Target: >= 50 dB for every image.", "",
             "| set | scale | images | min PSNR (mirror, default) | mean | min without the outer "
             "2 px | min with `border='replicate'` |", "|---|---:|---:|---:|---:|---:|---:|"]
    summary = []
    for dataset in ("set5", "set14"):
        for scale in (2, 3, 4):
            sel = [r for r in rows if r["dataset"] == dataset and r["scale"] == scale]
            vals = [r["psnr"] for r in sel]
            if vals:
                inner = min(r["psnr_shave2"] for r in sel)
                repl = min(r["psnr_replicate"] for r in sel)
                summary.append({"dataset": dataset, "scale": scale, "min": min(vals),
                                "mean": statistics.fmean(vals), "n": len(vals),
                                "min_shave2": inner, "min_replicate": repl})
                lines.append(f"| {dataset} | x{scale} | {len(vals)} | {min(vals):.2f} | "
                             f"{statistics.fmean(vals):.2f} | {inner:.2f} | {repl:.2f} |")
                print(f"{dataset} x{scale}: min {min(vals):.2f} dB, mean "
                      f"{statistics.fmean(vals):.2f} dB over {len(vals)} images")
    worst = min(rows, key=lambda r: r["psnr"])
    lines += ["", f"Worst image: {worst['dataset']} {worst['image']} x{worst['scale']}, "
              f"{worst['psnr']:.2f} dB."]
    out = Path(args.results_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "matlab_resize.md").write_text("\n".join(lines) + "\n")
    (out / "matlab_resize.json").write_text(json.dumps({"rows": rows, "summary": summary},
                                                       indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
