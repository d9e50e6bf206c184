"""Kernel estimation beyond Gaussian blur: KernelGAN, then ZSSR, on synthetic Gaussian and
camera-shake kernels over BSD200 *training* images (issue #44).

    python benchmarks/kernels_beyond_gaussian.py [--scale 2|4] [--kinds gaussian,shake]
        [--count 6] [--seed 0] [--crop 320] [--estimate-iters N] [--reuse]
        [--set FIELD=VALUE ...] [--tag TAG]

Cases: for each kind, ``--count`` images of ``../shared/data/train/BSD200`` drawn from
``--seed`` (each kind its own draw, so a kind's cases do not depend on which other kinds run),
the central ``--crop`` square of each (cut to a multiple of the scale) as the HR, and one random
kernel per image:

* ``gaussian``: the DIV2KRK recipe, :func:`zssr.kernels.random_gaussian_kernel` (x2: 11x11,
  variances U(0.6, 5)); x4: 31x31 with variances U(2.4, 20), the x2 range scaled by 4, i.e.
  standard deviations twice as large, as a x4 camera's blur is twice as wide in HR pixels.
* ``shake``: a camera-shake trajectory, :func:`zssr.kernels.random_shake_kernel` (x2: 11x11,
  its defaults; x4: 31x31, so the same relative span is a trajectory about three times as long
  in HR pixels, and a lens blur twice as wide, ``lens_sigma`` 0.8).

The LR is ``zssr.resize.downscale_with_kernel(hr, kernel, 1 / scale)`` rounded to 8 bits (as a
saved LR file would be). KernelGAN (``zssr.estimate.kernelgan.train_kernelgan``, default
``KernelGANConfig`` but ``--seed`` and ``--estimate-iters``) estimates the kernel from the LR
alone; the members' raw kernels become the estimate exactly as
``zssr.estimate.kernelgan.estimate_kernel`` combines them (``kernel_from_members``). Each
LR is then super-resolved three times with the recipe ``zssr --kernel estimated`` runs by
default (the default preset made kernel-safe, ``--set`` overrides on top): with the bicubic
kernel, with the estimate and with the ground-truth kernel. Scores: PSNR-Y / SSIM-Y against the
HR crop (shave = scale), and the kernel error (``zssr.kernels.kernel_error``) of the estimate and
of the bicubic kernel against the truth.

Writes ``benchmarks/results/kernels_beyond_gaussian_x<S>[_TAG]``:

* ``.npz``: per case the LR, the image name, the true kernel, the members' raw kernels, the
  estimate and the estimation seconds, and the KernelGAN config (JSON); ``--reuse`` reads the
  estimates (and their seconds and config) back instead of running KernelGAN again (the same
  ``--seed``/``--count``/``--crop``/``--kinds`` regenerate the same cases, which is checked);
* ``.md``: a table per kind, with the mean and the number of images where the estimate loses
  more than 0.1 dB to the bicubic kernel;
* ``.json``: the machine, the arguments, both configs and every number per image;
* ``_kernels.png``: each true kernel beside its estimate, at the same pixel scale, centred on
  their centres of mass, with the PSNR gain of the estimate over bicubic.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.benchmark.cli import parse_sets  # noqa: E402
from zssr.config import default_preset, kernel_safe, preset  # noqa: E402
from zssr.estimate.config import KernelGANConfig  # noqa: E402
from zssr.io import atomic_write, read_image, write_json  # noqa: E402
from zssr.kernels import (  # noqa: E402
    bicubic_kernel,
    centre_of_mass,
    kernel_error,
    random_gaussian_kernel,
    random_shake_kernel,
)
from zssr.metrics import psnr, ssim, to_uint8  # noqa: E402
from zssr.provenance import machine_description  # noqa: E402
from zssr.resize import downscale_with_kernel  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "train" / "BSD200"
RESULTS = ROOT / "benchmarks" / "results"
KINDS = ("gaussian", "shake")
#: The estimate loses to bicubic when it scores this many dB below it.
LOSS_DB = 0.1
#: Per scale: the size and variance range of the ``gaussian`` kind (DIV2KRK at x2; x4 scaled).
GAUSSIAN = {2: (11, (0.6, 5.0)), 4: (31, (0.6 * 4, 5.0 * 4))}
#: Per scale: the size and lens blur (pixels) of the ``shake`` kind.
SHAKE = {2: (11, 0.4), 4: (31, 0.8)}


def recipe(kind: str, scale: int) -> str:
    """How a kind's kernels are drawn, in words (for the tables)."""
    if kind == "gaussian":
        size, (low, high) = GAUSSIAN[scale]
        return (f"`random_gaussian_kernel({size}, scale={scale}, lambda_range=({low:g}, "
                f"{high:g}))` (DIV2KRK recipe{'' if scale == 2 else ', variances x4'})")
    size, lens = SHAKE[scale]
    return f"`random_shake_kernel({size}, scale={scale}, lens_sigma={lens:g})`"


def draw_kernel(kind: str, scale: int, rng: np.random.Generator) -> np.ndarray:
    """One random kernel of ``kind`` for ``scale``."""
    if kind == "gaussian":
        size, lambdas = GAUSSIAN[scale]
        return random_gaussian_kernel(size, rng, lambda_range=lambdas, scale=scale)
    size, lens = SHAKE[scale]
    return random_shake_kernel(size, rng, scale=scale, lens_sigma=lens)


def central_square(path: Path, side: int, scale: int) -> np.ndarray:
    """The image's central square of ``side`` pixels (less where the image is smaller), cut to
    a multiple of ``scale``; alpha dropped."""
    pixels = read_image(path).pixels
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    h, w = pixels.shape[:2]
    side = min(side, h, w) // scale * scale
    top, left = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(pixels[top:top + side, left:left + side])


def make_cases(args: argparse.Namespace, files: list[Path]) -> list[dict]:
    """Every kind's cases: image, HR crop, true kernel and 8-bit LR, from ``--seed``."""
    cases = []
    for kind in args.kinds:
        rng = np.random.default_rng([args.seed, KINDS.index(kind)])
        picks = rng.choice(len(files), size=args.count, replace=False)
        for i, idx in enumerate(picks):
            hr = central_square(files[idx], args.crop, args.scale)
            truth = draw_kernel(kind, args.scale, rng)
            lr = to_uint8(downscale_with_kernel(hr.astype(np.float64), truth, 1.0 / args.scale))
            cases.append({"kind": kind, "index": i, "image": files[idx].stem, "hr": hr,
                          "truth": truth, "lr": lr.astype(np.float32) / np.float32(255.0)})
    return cases


def estimate_all(cases: list[dict], kg_cfg: KernelGANConfig, scale: int, npz: Path) -> None:
    """KernelGAN on every case's LR; the results join the cases and go to ``npz``."""
    from zssr.estimate.kernelgan import kernel_from_members, train_kernelgan

    for n, case in enumerate(cases, 1):
        start = time.perf_counter()
        members = train_kernelgan(case["lr"], config=kg_cfg)
        case["estimate"] = kernel_from_members(members, kg_cfg, scale)[0]
        case["seconds"] = time.perf_counter() - start
        case["members"] = np.stack(members)
        print(f"[{n}/{len(cases)}] {case['kind']:8s} {case['image']:8s} estimated in "
              f"{case['seconds']:.0f} s", flush=True)
    raw = {"kernelgan": np.array(json.dumps(dataclasses.asdict(kg_cfg)))}
    for case in cases:
        key = f"{case['kind']}_{case['index']}"
        raw.update({f"{key}_image": np.array(case["image"]), f"{key}_lr": case["lr"],
                    f"{key}_truth": case["truth"], f"{key}_members": case["members"],
                    f"{key}_estimate": case["estimate"],
                    f"{key}_seconds": np.array(case["seconds"])})

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **raw)
    atomic_write(npz, write, True)


def load_estimates(cases: list[dict], npz: Path) -> dict:
    """The estimates of an earlier run (``--reuse``), after checking its cases are these; returns
    the KernelGAN config that made them."""
    if not npz.is_file():
        raise SystemExit(f"kernels_beyond_gaussian: --reuse needs {npz}; run without --reuse "
                         "first")
    with np.load(npz, allow_pickle=False) as saved:
        for case in cases:
            key = f"{case['kind']}_{case['index']}"
            if (f"{key}_image" not in saved.files or str(saved[f"{key}_image"]) != case["image"]
                    or not np.allclose(saved[f"{key}_truth"], case["truth"])):
                raise SystemExit(f"kernels_beyond_gaussian: {npz} holds other cases than these "
                                 f"({key}: {case['image']}); use the --seed/--count/--crop/"
                                 "--kinds of the run that wrote it, or run without --reuse")
            case["members"] = saved[f"{key}_members"]
            case["estimate"] = saved[f"{key}_estimate"]
            case["seconds"] = float(saved[f"{key}_seconds"])
        return json.loads(str(saved["kernelgan"]))


def score(cases: list[dict], config, scale: int) -> list[dict]:
    """ZSSR with the bicubic, estimated and true kernels on every case; one row per case."""
    from zssr import ZSSR

    rows = []
    bicubic = bicubic_kernel(scale)
    for n, case in enumerate(cases, 1):
        row = {"kind": case["kind"], "image": case["image"],
               "kernel_error": kernel_error(case["estimate"], case["truth"]),
               "kernel_error_bicubic": kernel_error(bicubic, case["truth"]),
               "estimation_seconds": case["seconds"]}
        for name, kernel in (("bicubic", None), ("estimate", case["estimate"]),
                             ("gt", case["truth"])):
            start = time.perf_counter()
            sr = ZSSR(config).upscale(case["lr"], scale, kernel)
            row[f"zssr_seconds_{name}"] = time.perf_counter() - start
            row[f"psnr_{name}"] = psnr(sr, case["hr"], scale=scale)
            row[f"ssim_{name}"] = ssim(sr, case["hr"], scale=scale)
        row["gain"] = row["psnr_estimate"] - row["psnr_bicubic"]
        rows.append(row)
        print(f"[{n}/{len(cases)}] {row['kind']:8s} {row['image']:8s} kernel error "
              f"{row['kernel_error']:.4f} (bicubic {row['kernel_error_bicubic']:.4f}); PSNR-Y "
              f"bicubic {row['psnr_bicubic']:.2f}, estimate {row['psnr_estimate']:.2f}, GT "
              f"{row['psnr_gt']:.2f} ({row['gain']:+.2f} dB); estimation "
              f"{row['estimation_seconds']:.0f} s", flush=True)
    return rows


MEANED = ("kernel_error", "kernel_error_bicubic", "psnr_bicubic", "psnr_estimate", "psnr_gt",
          "ssim_bicubic", "ssim_estimate", "ssim_gt", "gain", "estimation_seconds")


def summarise(rows: list[dict]) -> dict:
    """Per kind: the means of :data:`MEANED` and how often the estimate loses to bicubic."""
    out = {}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        mine = [r for r in rows if r["kind"] == kind]
        out[kind] = {**{k: float(np.mean([r[k] for r in mine])) for k in MEANED},
                     "images": len(mine),
                     "losses": sum(r["gain"] < -LOSS_DB for r in mine)}
    return out


def markdown(meta: dict, rows: list[dict], means: dict) -> str:
    """The tables, one per kind."""
    args, scale, kg = meta["args"], meta["args"]["scale"], meta["kernelgan"]
    lines = [f"# Kernel estimation beyond Gaussian blur (x{scale}, BSD200 training images)"
             + (" — capped iterations, not a result" if meta["capped"] else ""), "",
             f"Machine: {meta['machine']}, {meta['date']}. {args['count']} image(s) per kind "
             f"(seed {args['seed']}), central {args['crop']} px crops; LR = the crop downscaled "
             "with the true kernel (`downscale_with_kernel`), rounded to 8 bits. Estimate: "
             f"KernelGAN ({kg['max_iters']} iterations, {kg['ensemble']} members, sharpen "
             f"{kg['sharpen']:g}"
             + (", x4 composed from x2" if scale == 4 else "") + ")"
             + (", reused from the npz" if args["reuse"] else "") + ". ZSSR: preset "
             f"`{meta['preset']}` made kernel-safe"
             + (f" with {' '.join(args['set'])}" if args["set"] else "")
             + ", the same recipe for all three kernels. PSNR-Y (dB) against the HR crop, "
             f"shave {scale}; kernel error = L2 distance after aligning centres of mass; gain = "
             "estimate minus bicubic; seconds = KernelGAN's, per image."]
    for kind, m in means.items():
        lines += ["", f"## {kind}: {meta['recipes'][kind]}", "",
                  "| image | kernel error est (bicubic's) | PSNR bicubic | PSNR estimate | "
                  "PSNR GT | gain | est. s |", "|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            if r["kind"] == kind:
                lines.append(f"| {r['image']} | {r['kernel_error']:.4f} "
                             f"({r['kernel_error_bicubic']:.4f}) | {r['psnr_bicubic']:.2f} | "
                             f"{r['psnr_estimate']:.2f} | {r['psnr_gt']:.2f} | {r['gain']:+.2f} "
                             f"| {r['estimation_seconds']:.0f} |")
        lines += [f"| **mean** | **{m['kernel_error']:.4f}** ({m['kernel_error_bicubic']:.4f}) "
                  f"| **{m['psnr_bicubic']:.2f}** | **{m['psnr_estimate']:.2f}** | "
                  f"**{m['psnr_gt']:.2f}** | **{m['gain']:+.2f}** | "
                  f"{m['estimation_seconds']:.0f} |", "",
                  f"The estimate loses more than {LOSS_DB} dB to bicubic on {m['losses']} of "
                  f"{m['images']} image(s). Mean SSIM-Y: bicubic {m['ssim_bicubic']:.4f}, "
                  f"estimate {m['ssim_estimate']:.4f}, GT {m['ssim_gt']:.4f}."]
    command = "python benchmarks/kernels_beyond_gaussian.py " + " ".join(meta["argv"])
    lines += ["", f"Made by `{command.strip()}`; every number per image is in the JSON."]
    return "\n".join(lines) + "\n"


def write_figure(path: Path, cases: list[dict], rows: list[dict], scale: int) -> None:
    """Per image, the true kernel beside the estimate: same pixel scale, each centred on its
    centre of mass, the PSNR gain of the estimate over bicubic in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(dict.fromkeys(c["kind"] for c in cases))
    per_kind = max(sum(c["kind"] == k for c in cases) for k in kinds)
    fig, axes = plt.subplots(len(kinds), 2 * per_kind, squeeze=False,
                             figsize=(max(1.1 * 2 * per_kind, 3.6), 1.6 * len(kinds) + 0.5))
    for ax in axes.ravel():
        ax.set_axis_off()
    gains = {(r["kind"], r["image"]): r["gain"] for r in rows}
    for row, kind in enumerate(kinds):
        for i, case in enumerate(c for c in cases if c["kind"] == kind):
            half = max(*case["truth"].shape, *case["estimate"].shape) / 2.0
            for j, (label, kernel) in enumerate((("true", case["truth"]),
                                                 ("estimate", case["estimate"]))):
                ax = axes[row, 2 * i + j]
                ax.set_axis_on()
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_facecolor(plt.get_cmap("viridis")(0.0))  # the window beyond the array
                com = centre_of_mass(kernel)
                h, w = kernel.shape
                ax.imshow(kernel, cmap="viridis", interpolation="nearest",
                          extent=(-com[1] - 0.5, w - com[1] - 0.5, h - com[0] - 0.5,
                                  -com[0] - 0.5))
                ax.set_xlim(-half, half)
                ax.set_ylim(half, -half)
                ax.set_title(f"{case['image']} {kind}\n{label}" if j == 0 else
                             f"{gains[(kind, case['image'])]:+.2f} dB\n{label}", fontsize=6)
    fig.suptitle(f"True kernels and KernelGAN estimates (x{scale})\ndB: ZSSR PSNR-Y with the "
                 "estimate minus with the bicubic kernel", fontsize=7)
    fig.tight_layout(pad=0.3, h_pad=0.4, w_pad=0.2, rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100), True)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=int, choices=(2, 4), default=2)
    p.add_argument("--kinds", default=",".join(KINDS),
                   help=f"comma-separated, of {', '.join(KINDS)} (default all)")
    p.add_argument("--count", type=int, default=6, help="images per kind (default 6)")
    p.add_argument("--seed", type=int, default=0,
                   help="draws the images and kernels; KernelGAN's seed (default 0)")
    p.add_argument("--crop", type=int, default=320, help="side of the central HR square")
    p.add_argument("--estimate-iters", type=int, default=KernelGANConfig.max_iters,
                   help="KernelGAN iterations (default %(default)s; fewer only for smoke tests)")
    p.add_argument("--reuse", action="store_true",
                   help="take the estimates from the npz of an earlier run of the same cases")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="ZSSRConfig override on top of the kernel-safe default (repeatable)")
    p.add_argument("--tag", default="", help="suffix of the result file names")
    args = p.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        p.error(f"--kinds: unknown {', '.join(bad) or '(none given)'}; choose from "
                f"{', '.join(KINDS)}")
    args.kinds = [k for k in KINDS if k in kinds]
    if args.count < 1 or args.estimate_iters < 1:
        p.error("--count and --estimate-iters must be >= 1")
    if args.crop // args.scale < KernelGANConfig.g_crop:
        p.error(f"--crop must be at least {KernelGANConfig.g_crop * args.scale} at x"
                f"{args.scale} (KernelGAN needs a {KernelGANConfig.g_crop} px LR)")
    args.overrides = parse_sets(args.set, p)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not DATA.is_dir():
        print(f"kernels_beyond_gaussian: {DATA} not found (needs ../shared/data/train/BSD200)",
              file=sys.stderr)
        return 2
    files = sorted(DATA.glob("*.png"))
    if len(files) < args.count:
        print(f"kernels_beyond_gaussian: {DATA} holds {len(files)} images, fewer than --count "
              f"{args.count}", file=sys.stderr)
        return 2
    name = f"kernels_beyond_gaussian_x{args.scale}" + (f"_{args.tag}" if args.tag else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    npz = RESULTS / f"{name}.npz"
    preset_name = default_preset(True)
    config, changed = kernel_safe(preset(preset_name, **args.overrides), keep=args.overrides)
    kg_cfg = KernelGANConfig(max_iters=args.estimate_iters, seed=args.seed)
    meta = {"machine": machine_description(), "date": time.strftime("%Y-%m-%d"),
            "argv": sys.argv[1:] if argv is None else list(argv),
            "args": {k: v for k, v in vars(args).items() if k != "overrides"},
            "overrides": args.overrides, "preset": preset_name, "kernel_safe_changed": changed,
            "recipes": {k: recipe(k, args.scale) for k in args.kinds},
            "kernelgan": dataclasses.asdict(kg_cfg), "config": config.to_dict(),
            "data": str(DATA),
            "capped": (args.estimate_iters < KernelGANConfig.max_iters
                       or config.max_iters < preset(preset_name).max_iters)}
    print(f"kernels beyond Gaussian: x{args.scale}, {args.count} image(s) per kind "
          f"({', '.join(args.kinds)}), crop {args.crop}\nmachine: {meta['machine']}", flush=True)

    cases = make_cases(args, files)
    if args.reuse:
        meta["kernelgan"] = load_estimates(cases, npz)
        meta["capped"] |= meta["kernelgan"]["max_iters"] < KernelGANConfig.max_iters
        print(f"estimates reused from {npz}", flush=True)
    else:
        estimate_all(cases, kg_cfg, args.scale, npz)
    rows = score(cases, config, args.scale)
    means = summarise(rows)
    write_json(RESULTS / f"{name}.json", {**meta, "rows": rows, "mean": means})
    text = markdown(meta, rows, means)
    atomic_write(RESULTS / f"{name}.md", lambda tmp: Path(tmp).write_text(text), True)
    print(text)
    try:
        write_figure(RESULTS / f"{name}_kernels.png", cases, rows, args.scale)
    except ImportError:
        print("no figure: it needs matplotlib (pip install 'zssr[bench]')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
