"""Kernel estimation on synthetic kernels over *training* images (not the DIV2KRK test images).

    python benchmarks/kernel_synthetic.py --count 14 --seed 7

For each case: a BSD200 training image, a random DIV2KRK-recipe anisotropic Gaussian kernel
(``zssr.kernels.random_gaussian_kernel``), the image downscaled x2 with it (8-bit rounding, as a
saved LR image would be), then KernelGAN on the LR. Records the true and estimated kernels (raw
generator kernel, before post-processing), their second-moment standard deviations along the
principal axes, and the kernel error of the estimate and of the bicubic kernel. The raw kernels
are kept (``.npz``) so post-processing variants can be compared offline without re-estimating.
Writes ``benchmarks/results/kernel_synthetic[_TAG].{md,json,npz}``. ``--ensemble N`` trains N
KernelGANs of different seeds per case (``KernelGANConfig.ensemble``) and keeps all their kernels;
the table describes member 0.

    python benchmarks/kernel_synthetic.py --evaluate 400 --gammas 1,1.5,2 \
        [--preset kernel] [--set FIELD=VALUE ...] [--eval-tag TAG]

reads those estimates back (same ``--count``/``--seed``/``--tag`` regenerate the same cases)
and runs a short ZSSR (preset ``kernel``, ``--evaluate`` iterations) on each LR image with the
bicubic kernel and with the post-processed estimate sharpened as ``k**gamma`` (which divides a
Gaussian's standard deviations by ``sqrt(gamma)``) for each gamma, scoring PSNR-Y against the
training image (``--preset``/``--set`` choose the ZSSR recipe; ``--members N`` averages the
first N members' post-processed kernels first, as ``estimate_kernel`` does); writes
``kernel_synthetic[_TAG]_zssr[_EVAL_TAG].{md,json}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.benchmark.cli import parse_sets  # noqa: E402
from zssr.estimate.kernelgan import (  # noqa: E402
    KernelGANConfig,
    post_process_kernel,
    train_kernelgan,
)
from zssr.io import read_image, write_json  # noqa: E402
from zssr.kernels import bicubic_kernel, kernel_covariance, kernel_error  # noqa: E402
from zssr.provenance import machine_description  # noqa: E402
from zssr.resize import downscale_with_kernel  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "train" / "BSD200"


def axis_stds(kernel: np.ndarray) -> tuple[float, float]:
    """Standard deviations (pixels) of a kernel along its principal axes, long axis first."""
    values = np.sqrt(np.clip(np.linalg.eigvalsh(kernel_covariance(kernel)), 0, None))
    return float(values[1]), float(values[0])


def evaluate(args: argparse.Namespace, cases: list, out: Path) -> int:
    from zssr import ZSSR, preset
    from zssr.estimate.kernelgan import combine_kernels, sharpen_kernel
    from zssr.metrics import psnr

    raw = np.load(str(out) + ".npz")
    gammas = [float(g) for g in args.gammas.split(",")]
    cfg = preset(args.preset, max_iters=args.evaluate, lr_schedule="cosine", **args.overrides)
    rows = []
    for i, (stem, hr, truth, lr) in enumerate(cases):
        # An odd-sized training image gives a ceil()-sized LR; compare on the image's own grid.
        h, w = hr.shape[:2]
        members = [raw[f"estimate_{i}"]] + [raw[f"estimate_{i}_{j}"]
                                            for j in range(1, args.members)]
        est = combine_kernels(members)
        row = {"image": stem, "true_std": axis_stds(truth)}
        variants = {"bicubic": None, "truth": truth}
        variants.update({f"gamma {g:g}": sharpen_kernel(est, g) for g in gammas})
        for name, k in variants.items():
            sr = ZSSR(cfg).upscale(lr.astype(np.float32), 2, k)
            row[name] = psnr(sr[:h, :w], hr, scale=2)
        rows.append(row)
        print(f"{i + 1}/{len(cases)} {stem} (true std {row['true_std'][0]:.2f}x"
              f"{row['true_std'][1]:.2f}): " + ", ".join(
                  f"{n} {row[n]:.2f}" for n in variants), flush=True)
    names = list(variants)
    means = {n: float(np.mean([r[n] for r in rows])) for n in names}
    suffix = "_zssr" + (f"_{args.eval_tag}" if args.eval_tag else "")
    write_json(str(out) + suffix + ".json", {"machine": machine_description(), "args": vars(args),
                                              "config": cfg.to_dict(), "rows": rows,
                                              "mean": means})
    lines = ["# Short ZSSR with estimated kernels sharpened by gamma (synthetic, BSD200)", "",
             f"Machine: {machine_description()}. Preset `{args.preset}`"
             + (f" with {' '.join(args.set)}" if args.set else "")
             + f", {args.evaluate} iterations (cosine). "
             + (f"Estimate: mean of {args.members} members' post-processed kernels. "
                if args.members > 1 else "")
             + "PSNR-Y (dB) against the training image, shave 2.", "",
             "| image | true std | " + " | ".join(names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for r in rows:
        lines.append(f"| {r['image']} | {r['true_std'][0]:.2f} x {r['true_std'][1]:.2f} | "
                     + " | ".join(f"{r[n]:.2f}" for n in names) + " |")
    lines.append("| **mean** | | " + " | ".join(f"**{means[n]:.2f}**" for n in names) + " |")
    Path(str(out) + suffix + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--iters", type=int, default=KernelGANConfig.max_iters)
    parser.add_argument("--ensemble", type=int, default=1,
                        help="KernelGAN members per case (estimation; raw kernels of all kept)")
    parser.add_argument("--members", type=int, default=1,
                        help="--evaluate: combine the first N members' kernels")
    parser.add_argument("--tag", default="")
    parser.add_argument("--evaluate", type=int, default=0, metavar="ITERS")
    parser.add_argument("--gammas", default="1,1.5,2")
    parser.add_argument("--preset", default="kernel", help="ZSSR preset of --evaluate")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="ZSSRConfig override for --evaluate (repeatable)")
    parser.add_argument("--eval-tag", default="",
                        help="suffix of the --evaluate result files (kernel_synthetic_zssr_TAG)")
    args = parser.parse_args(argv)
    args.overrides = parse_sets(args.set, parser)
    if not DATA.is_dir():
        print(f"error: {DATA} not found (needs ../shared/data/train/BSD200)", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    files = sorted(DATA.glob("*.png"))
    picks = rng.choice(len(files), size=args.count, replace=False)
    from zssr.kernels import random_gaussian_kernel

    tag = f"_{args.tag}" if args.tag else ""
    out = ROOT / "benchmarks" / "results" / f"kernel_synthetic{tag}"
    cases = []
    for idx in picks:
        hr = read_image(files[idx]).pixels.astype(np.float64)  # float in [0, 1]
        truth = random_gaussian_kernel(11, rng, scale=2)
        lr = np.round(np.clip(downscale_with_kernel(hr, truth, 0.5), 0, 1) * 255) / 255
        cases.append((files[idx].stem, hr, truth, lr))
    if args.evaluate:
        return evaluate(args, cases, out)
    rows, raw = [], {}
    for i, (stem, _hr, truth, lr) in enumerate(cases):
        start = time.perf_counter()
        # "Raw" = the generator's kernel clipped at 0 and normalised, no filtering or sharpening.
        members = [post_process_kernel(k, 10_000) for k in train_kernelgan(
            lr, config=KernelGANConfig(max_iters=args.iters, ensemble=args.ensemble))]
        est = members[0]
        seconds = time.perf_counter() - start
        row = {"image": stem, "seconds": seconds,
               "true_std": axis_stds(truth), "est_std": axis_stds(est),
               "kernel_error": kernel_error(est, truth),
               "kernel_error_bicubic": kernel_error(bicubic_kernel(2), truth)}
        rows.append(row)
        raw[f"truth_{i}"], raw[f"estimate_{i}"] = truth, est
        raw.update({f"estimate_{i}_{j}": k for j, k in enumerate(members) if j})
        print(f"{i + 1}/{args.count} {row['image']}: true std {row['true_std'][0]:.2f}x"
              f"{row['true_std'][1]:.2f}, estimate {row['est_std'][0]:.2f}x"
              f"{row['est_std'][1]:.2f}, error {row['kernel_error']:.4f} (bicubic "
              f"{row['kernel_error_bicubic']:.4f}), {seconds:.0f} s", flush=True)
    np.savez_compressed(str(out) + ".npz", **raw)
    write_json(str(out) + ".json",
               {"machine": machine_description(), "args": vars(args), "rows": rows})
    lines = ["# KernelGAN on synthetic kernels over BSD200 training images (x2)", "",
             f"Machine: {machine_description()}. Raw generator kernels (no post-processing); std = "
             "second-moment standard deviation along the principal axes (HR pixels).", "",
             "| image | true std | estimate std | kernel error (bicubic's) | seconds |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['image']} | {r['true_std'][0]:.2f} x {r['true_std'][1]:.2f} | "
                     f"{r['est_std'][0]:.2f} x {r['est_std'][1]:.2f} | {r['kernel_error']:.4f} "
                     f"({r['kernel_error_bicubic']:.4f}) | {r['seconds']:.0f} |")
    Path(str(out) + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
