"""Large-image run: 1920x1080 -> 3840x2160 (x2) through the CLI, wall time and peak memory.

    python benchmarks/large_image.py [--image PATH] [--max-iters N] [--repeats 1]

Crops a 1920x1080 region from a DIV2K image of ``../shared/data/div2krk/gt`` (or ``--image``),
runs ``run_zssr.py --scale 2`` on it in a child process and reports the child's wall time and
peak resident memory (``ru_maxrss``, the figure ``/usr/bin/time -v`` prints). It also checks on a
smaller image that tiled prediction equals untiled prediction (max difference in 1/255 units).
Writes ``benchmarks/results/large_image.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.provenance import machine_description  # noqa: E402

DEFAULT_IMAGE = ROOT.parent / "shared" / "data" / "div2krk" / "gt" / "im_2.png"


def child_run(cmd: list[str], with_output: bool = False):
    """Run ``cmd`` in a fresh process; return (seconds, peak RSS in GiB of that process), and
    with ``with_output`` also the command's stdout."""
    code = (
        "import resource, subprocess, sys, time, json;"
        "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True, "
        "text=True);"
        "dt = time.perf_counter() - t;"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "sys.stderr.write(r.stderr[-4000:]);"
        "print(json.dumps({'rc': r.returncode, 's': dt, 'kb': rss, 'out': r.stdout}))"
    )
    # A wrapper process per run keeps RUSAGE_CHILDREN to this one run.
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)
    last = out.stdout.strip().splitlines()[-1]
    data = json.loads(last)
    if data["rc"] != 0:
        raise RuntimeError(f"run failed ({data['rc']}): {out.stderr[-2000:]}")
    if with_output:
        return data["s"], data["kb"] / 1024**2, data["out"]
    return data["s"], data["kb"] / 1024**2


def tiled_vs_untiled(size: int = 192) -> float:
    from skimage import data

    from zssr import ZSSR, preset

    image = data.astronaut()[:size, :size].astype(np.float32) / 255
    cfg = preset("ideal", max_iters=30)
    untiled = ZSSR(cfg.replace(tile_size=0)).upscale(image, 2)
    tiled = ZSSR(cfg.replace(tile_size=100)).upscale(image, 2)
    return float(np.abs(tiled - untiled).max() * 255)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", default=str(DEFAULT_IMAGE))
    parser.add_argument("--max-iters", type=int, default=None,
                        help="cap training iterations (default: the preset's)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--append", action="store_true",
                        help="add these runs to those already in the results file")
    parser.add_argument("--results-dir", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()

    if not Path(args.image).exists():
        print(f"skipped: {args.image} not found (shared benchmark data absent)")
        return 0
    import imageio.v3 as iio

    src = iio.imread(args.image)[:1080, :1920]
    if src.shape[:2] != (1080, 1920):
        raise SystemExit(f"{args.image} is smaller than 1920x1080")
    diff = tiled_vs_untiled()
    print(f"tiled vs untiled prediction (192x192 x2, 100-px tiles): max |diff| = {diff:.4f}/255")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "frame_1080p.png"
        iio.imwrite(inp, src)
        for i in range(args.repeats):
            out = Path(tmp) / f"out{i}"
            cmd = [sys.executable, str(ROOT / "run_zssr.py"), str(inp), "--scale", "2", "-o",
                   str(out), "-q", "--preset", "ideal"]
            if args.max_iters:
                cmd += ["--max-iters", str(args.max_iters)]
            seconds, rss = child_run(cmd)
            meta = json.loads((out / "frame_1080p_zssr_x2.json").read_text())
            runs.append({"seconds": seconds, "peak_rss_gib": rss,
                         "iterations": meta["iterations"],
                         "train_seconds": meta["steps"][0]["train_seconds"],
                         "predict_seconds": meta["steps"][0]["predict_seconds"],
                         "output_size": meta["output_size"]})
            print(f"run {i + 1}: {seconds:.0f} s wall, peak RSS {rss:.2f} GiB, "
                  f"{meta['iterations']} iterations (train {runs[-1]['train_seconds']:.0f} s, "
                  f"predict {runs[-1]['predict_seconds']:.0f} s), output {meta['output_size']}")
    out_dir = Path(args.results_dir)
    previous = out_dir / "large_image.json"
    if args.append and previous.exists():
        runs = json.loads(previous.read_text())["runs"] + runs
    result = {
        "machine": machine_description(), "input": f"{args.image} [:1080, :1920]", "scale": 2,
        "preset": "ideal", "max_iters": args.max_iters, "runs": runs,
        "median_seconds": statistics.median(r["seconds"] for r in runs),
        "max_peak_rss_gib": max(r["peak_rss_gib"] for r in runs),
        "tiled_vs_untiled_max_diff_255": diff, "date": time.strftime("%Y-%m-%d"),
        "cpu_count": os.cpu_count(),
        "ru_maxrss_note": "peak resident set size of the run_zssr.py process (getrusage)",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "large_image.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Large image: 1920x1080 -> 3840x2160 (x2, preset ideal)", "",
             f"Machine: {result['machine']}. Input: {result['input']}.", "",
             "| run | wall s | peak RSS GiB | iterations | train s | predict s |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {i + 1} | {r['seconds']:.0f} | {r['peak_rss_gib']:.2f} | {r['iterations']} | "
              f"{r['train_seconds']:.0f} | {r['predict_seconds']:.0f} |"
              for i, r in enumerate(runs)]
    lines += ["", f"Median wall time {result['median_seconds']:.0f} s over {len(runs)} run(s); "
              f"largest peak RSS {result['max_peak_rss_gib']:.2f} GiB.",
              "", f"Tiled vs untiled prediction (192x192 x2, 100-pixel tiles): max difference "
              f"{diff:.4f}/255."]
    (out_dir / "large_image.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
