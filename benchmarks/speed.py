"""Speed against quality, preset by preset: seconds per image, iterations and PSNR-Y.

    python benchmarks/speed.py --presets ideal,fast --datasets set5,set14 --repeats 3
    python benchmarks/speed.py --presets kernel,warm --datasets div2krk --images 2,3,6 --gt-kernel

Each preset runs ``--repeats`` times over each data set (the shared data, EDSR or DIV2KRK layout;
``--gt-kernel`` gives ZSSR the ground-truth kernels of DIV2KRK); the table reports the median
over repeats of the per-image median seconds, the mean iterations and mean PSNR-Y / SSIM-Y (of the
first repeat: runs are seeded), and ratios against the first preset listed (time ratio = its
seconds / this preset's seconds; PSNR difference = this - it). ``--set FIELD=VALUE`` overrides a
config field for every preset. Writes ``benchmarks/results/speed[_TAG].{md,json}``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.benchmark import evaluate, load_dataset  # noqa: E402
from zssr.benchmark.cli import parse_sets  # noqa: E402
from zssr.io import write_json  # noqa: E402
from zssr.provenance import machine_description  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def run(args: argparse.Namespace, overrides: dict) -> dict:
    results: dict = {}
    for name in args.datasets.split(","):
        samples = load_dataset(DATA / name, args.scale,
                               args.images.split(",") if args.images else None)
        method = "zssr-gt" if args.gt_kernel else "zssr"
        for preset_name in args.presets.split(","):
            repeats = []
            for r in range(args.repeats):
                print(f"{name} x{args.scale} {preset_name} repeat {r + 1}/{args.repeats}")
                table = evaluate(samples, method, preset_name=preset_name,
                                 overrides=overrides or None)
                repeats.append(table)
            first = repeats[0]["mean"]
            results.setdefault(name, {})[preset_name] = {
                "seconds": statistics.median(t["mean"]["median_seconds"] for t in repeats),
                "seconds_per_repeat": [t["mean"]["median_seconds"] for t in repeats],
                "iterations": first.get("iterations"),
                "psnr_y": first["psnr_y"], "ssim_y": first["ssim_y"],
                "psnr_y_per_repeat": [t["mean"]["psnr_y"] for t in repeats],
                "rows": repeats[0]["rows"],
            }
    return results


def markdown(meta: dict, results: dict, presets: list[str]) -> str:
    ref = presets[0]
    lines = [f"# Speed x{meta['scale']}: presets against `{ref}`", "",
             f"Machine: {meta['machine']}, {meta['date']}. Median of {meta['repeats']} repeats of "
             "the per-image median seconds; PSNR-Y / SSIM-Y mean over the images"
             + (f"; overrides {meta['overrides']}" if meta["overrides"] else "") + ".", "",
             "| data | preset | s / image | x faster | iterations | PSNR-Y | dPSNR | SSIM-Y |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, by_preset in results.items():
        base = by_preset.get(ref)
        for p in presets:
            r = by_preset[p]
            speed = f"{base['seconds'] / r['seconds']:.2f}" if base else "-"
            delta = f"{r['psnr_y'] - base['psnr_y']:+.3f}" if base else "-"
            its = f"{r['iterations']:.0f}" if r["iterations"] is not None else "-"
            lines.append(f"| {name} | {p} | {r['seconds']:.1f} | {speed} | {its} | "
                         f"{r['psnr_y']:.3f} | {delta} | {r['ssim_y']:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", default="ideal,fast")
    p.add_argument("--datasets", default="set5,set14")
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--images", default=None)
    p.add_argument("--gt-kernel", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    p.add_argument("--tag", default="")
    args = p.parse_args()
    overrides = parse_sets(args.set, p)
    meta = {"machine": machine_description(), "date": time.strftime("%Y-%m-%d"),
            "scale": args.scale,
            "repeats": args.repeats, "overrides": overrides, "gt_kernel": args.gt_kernel}
    results = run(args, overrides)
    presets = args.presets.split(",")
    text = markdown(meta, results, presets)
    out = ROOT / "benchmarks" / "results" / ("speed" + (f"_{args.tag}" if args.tag else ""))
    write_json(out.with_suffix(".json"), {"meta": meta, "results": results})
    out.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
