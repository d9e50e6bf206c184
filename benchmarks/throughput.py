"""Training-step throughput of the ZSSR network against the machine's float32 matmul peak.

    python benchmarks/throughput.py [--repeats 30] [--crop 128]

Prints and writes ``benchmarks/results/throughput.{md,json}``: the median seconds of one
``train_on_batch`` step on a crop, its FLOPs (forward, weight gradients and input gradients of
every convolution but the first, which needs none), the achieved GFLOP/s, and the float32
matrix-multiply GFLOP/s of numpy and of the Keras backend measured on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402

from zssr.network import build_network, compile_network  # noqa: E402
from zssr.provenance import machine_description  # noqa: E402


def _median_seconds(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_gflops(n: int = 2048, repeats: int = 10) -> dict[str, float]:
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    flops = 2.0 * n**3
    out = {"numpy": flops / _median_seconds(lambda: a @ b, repeats) / 1e9}
    ka, kb = keras.ops.convert_to_tensor(a), keras.ops.convert_to_tensor(b)
    out[f"keras_{keras.backend.backend()}"] = flops / _median_seconds(
        lambda: keras.ops.convert_to_numpy(keras.ops.matmul(ka, kb)), repeats) / 1e9
    return out


def step_flops(crop: int, depth: int = 8, width: int = 64, channels: int = 3) -> float:
    chans = [channels] + [width] * (depth - 1) + [channels]
    per_layer = [2.0 * crop * crop * 9 * cin * cout for cin, cout in zip(chans[:-1], chans[1:])]
    forward = sum(per_layer)
    weight_grads = sum(per_layer)
    input_grads = sum(per_layer[1:])
    return forward + weight_grads + input_grads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--results-dir", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()

    peak = matmul_gflops()
    model = compile_network(build_network(3), 1e-3)
    rng = np.random.default_rng(0)
    x = rng.random((1, args.crop, args.crop, 3), dtype=np.float32)
    y = rng.random((1, args.crop, args.crop, 3), dtype=np.float32)
    seconds = _median_seconds(lambda: model.train_on_batch(x, y), args.repeats, warmup=5)
    flops = step_flops(args.crop)
    achieved = flops / seconds / 1e9
    best_peak = max(peak.values())
    result = {
        "machine": machine_description(), "keras_backend": keras.backend.backend(),
        "threads": os.cpu_count(), "crop": args.crop, "repeats": args.repeats,
        "step_median_seconds": seconds, "step_gflop": flops / 1e9,
        "achieved_gflops": achieved, "matmul_gflops": peak,
        "fraction_of_matmul_peak": achieved / best_peak,
    }
    print(f"machine: {result['machine']}")
    for name, value in peak.items():
        print(f"float32 matmul {name}: {value:.1f} GFLOP/s")
    print(f"train step {args.crop}x{args.crop}: median {seconds * 1e3:.1f} ms, "
          f"{flops / 1e9:.2f} GFLOP -> {achieved:.1f} GFLOP/s = "
          f"{100 * achieved / best_peak:.0f}% of the best matmul figure")
    out = Path(args.results_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "throughput.md").write_text(
        "# Training-step throughput\n\n"
        f"Machine: {result['machine']}; Keras backend {result['keras_backend']}.\n\n"
        "| measure | value |\n|---|---:|\n"
        + "".join(f"| float32 matmul ({k}) | {v:.1f} GFLOP/s |\n" for k, v in peak.items())
        + f"| train step {args.crop}x{args.crop}, median of {args.repeats} | "
          f"{seconds * 1e3:.1f} ms |\n"
        + f"| FLOPs per step | {flops / 1e9:.2f} GFLOP |\n"
        + f"| achieved | {achieved:.1f} GFLOP/s ({100 * achieved / best_peak:.0f}% of peak) |\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
