"""Seconds per preset on a GPU: one Set5 image, each preset in turn, on the GPU this process sees.

    python benchmarks/gpu_check.py [--image LR.png --gt HR.png] [--scale 2]
                                   [--presets ideal,fast,warm,gradual] [--repeats 1]
                                   [--set FIELD=VALUE ...] [--tag TAG] [--results DIR]

Run it on a machine with an NVIDIA GPU and a GPU build of the Keras backend, for example
``pip install 'tensorflow[and-cuda]'`` (or ``pip install 'jax[cuda12]'`` with
``KERAS_BACKEND=jax``). It refuses, with one line and exit code 2, when the backend sees no GPU,
so a CPU number is never reported as a GPU one (``--allow-cpu`` times the CPU instead, to try the
script; its files then end in ``_cpu``).

Before the timed runs, one short untimed run builds and compiles the network on the device. Then
each preset upscales the image ``--repeats`` times (the median is reported), with PSNR-Y/SSIM-Y
against the ground truth when there is one. The default image is Set5 ``baby`` (x2 LR and HR)
from ``../shared/data``; ``--image`` and ``--gt`` take any other pair. Prints a table and writes
``benchmarks/results/gpu_check_x<scale>[_TAG].{md,json}`` (``--results`` for another folder).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.benchmark.cli import parse_sets  # noqa: E402
from zssr.config import preset_names  # noqa: E402

SET5 = ROOT.parent / "shared" / "data" / "set5"
RESULTS = ROOT / "benchmarks" / "results"
EXIT_NO_GPU = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", type=Path, help="LR image (default: Set5 baby at --scale)")
    parser.add_argument("--gt", type=Path, help="its ground truth, for PSNR (default: Set5 baby)")
    parser.add_argument("--scale", type=int, default=2, choices=(2, 3, 4))
    parser.add_argument("--presets", default="ideal,fast,warm,gradual",
                        help="comma-separated presets, run in this order")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per preset (median)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a config field of every preset (e.g. max_iters=100)")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the files go")
    parser.add_argument("--allow-cpu", action="store_true",
                        help="without a GPU, time the CPU instead of refusing")
    args = parser.parse_args(argv)
    args.overrides = parse_sets(args.set, parser)
    args.presets = [p for p in args.presets.split(",") if p]
    unknown = [p for p in args.presets if p not in preset_names()]
    if unknown:
        parser.error(f"unknown preset(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(preset_names())}")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.image is None:
        args.image = SET5 / "LR_bicubic" / f"X{args.scale}" / f"babyx{args.scale}.png"
        args.gt = args.gt or SET5 / "HR" / "baby.png"
    for path in (args.image, args.gt):
        if path is not None and not path.is_file():
            parser.error(f"no such file: {path} (give --image and --gt, or put the shared data "
                         "beside the repository)")
    return args


def gpu_or_none() -> str | None:
    """The GPU(s) the Keras backend computes on, or ``None`` when it sees none."""
    from zssr.progress import import_backend

    import_backend(quiet=True)
    from zssr.network import compute_device

    device = compute_device()
    return None if device == "CPU" else device


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    device = gpu_or_none()
    if device is None and not args.allow_cpu:
        print(f"gpu_check: the {backend} backend sees no GPU, so there is nothing to time; run "
              "it on a machine with an NVIDIA GPU and a GPU build of the backend (e.g. pip "
              "install 'tensorflow[and-cuda]'), or use benchmarks/speed.py for the CPU",
              file=sys.stderr)
        return EXIT_NO_GPU

    from zssr import ZSSR, preset
    from zssr.io import atomic_write, read_image, write_json
    from zssr.metrics import psnr, ssim
    from zssr.provenance import machine_description, versions

    image = read_image(args.image).pixels
    gt = read_image(args.gt).pixels if args.gt else None
    ZSSR(preset("ideal", max_iters=20, min_iters=0)).run(image[:64, :64], args.scale)  # warm-up

    rows = []
    for name in args.presets:
        seconds, result = [], None
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            result = ZSSR(preset(name, **args.overrides)).run(image, args.scale)
            seconds.append(time.perf_counter() - t0)
        row = {"preset": name, "seconds": statistics.median(seconds), "runs": seconds,
               "iterations": result.iterations}
        if gt is not None:  # the ground truth mod-cropped to the output's size
            h, w = result.image.shape[:2]
            row["psnr_y"] = psnr(result.image, gt[:h, :w], scale=args.scale)
            row["ssim_y"] = ssim(result.image, gt[:h, :w], scale=args.scale)
        rows.append(row)
        print(f"{name}: {row['seconds']:.1f} s, {row['iterations']} iterations", flush=True)

    changed = "".join(f", {k}={v}" for k, v in args.overrides.items())
    header = (f"Machine: {machine_description()}. Backend {backend}. Image {args.image.name} "
              f"x{args.scale}{changed}; median of {args.repeats} run(s) per preset after an "
              "untimed warm-up run.")
    lines = [f"# GPU check: seconds per preset, x{args.scale}", "", header, "",
             "| preset | seconds | iterations | PSNR-Y | SSIM-Y |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        quality = (f"{r['psnr_y']:.3f} | {r['ssim_y']:.4f}" if "psnr_y" in r else "- | -")
        lines.append(f"| {r['preset']} | {r['seconds']:.1f} | {r['iterations']} | {quality} |")
    table = "\n".join(lines) + "\n"
    print(table)
    stem = (f"gpu_check_x{args.scale}" + (f"_{args.tag}" if args.tag else "")
            + ("_cpu" if device is None else ""))
    args.results.mkdir(parents=True, exist_ok=True)
    atomic_write(args.results / f"{stem}.md", lambda tmp: Path(tmp).write_text(table), True)
    write_json(args.results / f"{stem}.json", {"machine": header, "device": device or "CPU",
                                          "backend": backend, "versions": versions(),
                                          "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
