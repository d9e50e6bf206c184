"""EDSR-baseline on a large input: 2000x2000 -> 8000x8000 (x4), wall time and peak memory.

    python benchmarks/baseline_large.py [--size 2000] [--scale 4] [--tile 256] [--repeats 1]
                                        [--self-ensemble]

Each run is a fresh process (so peak RSS, ``ru_maxrss``, is that run's alone) that loads the
shipped EDSR-baseline weights for the scale (random initialisation if none are shipped: the cost
does not depend on the weights), upscales a natural image (scikit-image's astronaut, resized to
``--size``) with tiled inference, and writes nothing but its timing. Also reports the largest
difference between tiled and untiled inference on a 256x256 input, in 1/255 units.
Writes ``benchmarks/results/baseline_large.{md,json}`` (``baseline_large_ensemble.*`` with
``--self-ensemble``: the 8-way geometric self-ensemble, averaged tile by tile).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from large_image import child_run  # noqa: E402

from zssr.io import write_json  # noqa: E402
from zssr.provenance import machine_description  # noqa: E402

CHILD = """
import sys, time, json
import numpy as np
from skimage import data
from zssr import baselines
from zssr.resize import imresize
size, scale, tile, ensemble = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                               sys.argv[4] == "1")
try:
    model, weights = baselines.load("edsr-baseline", scale), "shipped"
except FileNotFoundError:
    model, weights = baselines.build("edsr-baseline", scale), "random init"
image = np.clip(imresize(data.astronaut().astype(np.float32) / 255, output_shape=(size, size)),
                0, 1)
t = time.perf_counter()
out = baselines.upscale(model, image, tile_size=tile, self_ensemble=ensemble)
print(json.dumps({"seconds": time.perf_counter() - t, "shape": list(out.shape),
                  "weights": weights}))
"""


def tiled_vs_untiled(scale: int, ensemble: bool = False) -> float:
    from zssr import baselines

    model = baselines.build("edsr-baseline", scale)
    rng = np.random.default_rng(0)
    lr = rng.random((256, 256, 3)).astype(np.float32)
    return float(np.abs(baselines.upscale(model, lr, tile_size=0, self_ensemble=ensemble)
                        - baselines.upscale(model, lr, tile_size=100, self_ensemble=ensemble)
                        ).max() * 255)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=2000)
    p.add_argument("--scale", type=int, default=4, choices=[2, 3, 4])
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--self-ensemble", action="store_true",
                   help="the 8-way geometric self-ensemble (8 times the work)")
    args = p.parse_args()

    runs = []
    for _ in range(args.repeats):
        script = Path("/tmp") / f"zssr_baseline_large_{time.time_ns()}.py"
        script.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n" + CHILD)
        try:
            seconds, gib, out = child_run([sys.executable, str(script), str(args.size),
                                            str(args.scale), str(args.tile),
                                            str(int(args.self_ensemble))], with_output=True)
        finally:
            script.unlink()
        info = json.loads(out.strip().splitlines()[-1])
        runs.append({"wall_seconds": seconds, "peak_rss_gib": gib, **info})
        print(f"  {info['seconds']:.1f} s inference, {seconds:.1f} s process, "
              f"peak RSS {gib:.2f} GiB, output {info['shape']} ({info['weights']})")
    diff = tiled_vs_untiled(args.scale, args.self_ensemble)
    result = {
        "machine": machine_description(), "date": time.strftime("%Y-%m-%d"), "size": args.size,
        "scale": args.scale, "tile": args.tile, "self_ensemble": args.self_ensemble,
        "runs": runs,
        "median_inference_seconds": statistics.median(r["seconds"] for r in runs),
        "median_peak_rss_gib": statistics.median(r["peak_rss_gib"] for r in runs),
        "tiled_vs_untiled_max_diff_255": diff,
    }
    out_dir = ROOT / "benchmarks" / "results"
    stem = "baseline_large_ensemble" if args.self_ensemble else "baseline_large"
    what = " with the 8-way self-ensemble" if args.self_ensemble else ""
    write_json(out_dir / f"{stem}.json", result)
    (out_dir / f"{stem}.md").write_text(
        f"# EDSR-baseline{what}, {args.size}x{args.size} -> x{args.scale}, tiles of "
        f"{args.tile}\n\n"
        f"Machine: {result['machine']}, {result['date']}. Weights: {runs[0]['weights']}.\n\n"
        "| run | inference s | process s | peak RSS GiB |\n|---|---:|---:|---:|\n"
        + "".join(f"| {i + 1} | {r['seconds']:.1f} | {r['wall_seconds']:.1f} | "
                  f"{r['peak_rss_gib']:.2f} |\n" for i, r in enumerate(runs))
        + f"\nMedian inference {result['median_inference_seconds']:.1f} s, median peak RSS "
        f"{result['median_peak_rss_gib']:.2f} GiB. Tiled (100-px tiles) vs untiled on "
        f"256x256: max difference {diff:.4f} / 255.\n")
    print(f"tiled vs untiled (256x256, x{args.scale}): max diff {diff:.4f}/255")
    return 0


if __name__ == "__main__":
    sys.exit(main())
