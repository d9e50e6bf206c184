"""Zero-shot SR on JPEG and noisy photos: conditions x methods, PSNR-Y / SSIM-Y against the clean
HR, one table and one crop figure (issue #39).

    python benchmarks/real_photos.py [--set tune|bsd100] [--scale 2] [--limit N] [--crop N]
        [--conditions clean,jpeg90,...] [--methods bicubic,edsr-baseline,...] [--resume]

Data (``--data``, default ``../shared/data``): ``--set tune`` (default) is 10 BSD200 *training*
images (every 20th of the sorted ``train/BSD200``), for choosing recipes; ``--set bsd100`` the
held-out BSD100 HR images (``bsd100/HR``), for reporting only. Each HR is centre-cropped to
``--crop`` (optional), mod-cropped to the scale and downscaled with MATLAB's bicubic
(:func:`zssr.resize.imresize`), rounded to 8 bits: the clean LR.

Conditions: ``clean`` (the LR as a PNG), ``jpeg90`` / ``jpeg75`` / ``jpeg50`` (the LR saved by
Pillow as a JPEG at that quality, default 4:2:0 subsampling), ``noise2`` / ``noise5`` /
``noise10`` (the LR plus Gaussian noise of that std in 8-bit levels, one seed per image, clipped,
rounded, saved as a PNG). Each degraded LR is written to a file and read back with
:func:`zssr.io.read_image`, so every method sees what a user's file gives.

Methods: ``bicubic``; ``edsr-baseline`` (the shipped supervised weights); ``zssr-before`` (the
previous default: plain ``warm``); ``zssr`` (the default of the ``zssr`` command on a file: the
JPEG quality and subsampling from the file's header, :func:`zssr.io.jpeg_info`, and the noise
measured, ``noise_std="auto"``); ``real`` (the official real-photo recipe, preset ``real``).
Bicubic always runs: it is the reference of the gain columns (mean over images of the per-image
difference). Seconds are per image and method (median), the noise estimate and the header's
quality are recorded per image and condition.

Writes ``<out-dir>/real_photos_<set>_x<scale>.{md,json,png}`` (default ``benchmarks/results``);
the JSON is rewritten after every image and condition, and ``--resume`` skips what it already
holds (the figure image's crops are kept meanwhile in ``<stem>.figure-crops.npz``, removed at
the end). ``--max-iters`` caps the ZSSR methods' iterations for smoke tests; the files then say
so in their title.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import zssr  # noqa: E402
from zssr.benchmark import figure_box as choose_box  # noqa: E402
from zssr.io import atomic_write, jpeg_info, read_image, write_json  # noqa: E402
from zssr.metrics import psnr, ssim, to_uint8  # noqa: E402
from zssr.provenance import machine_description, versions  # noqa: E402
from zssr.resize import imresize  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"

#: Condition name -> (kind, level): JPEG quality, or noise std in 8-bit levels.
CONDITIONS: dict[str, tuple[str, int]] = {
    "clean": ("clean", 0), "jpeg90": ("jpeg", 90), "jpeg75": ("jpeg", 75),
    "jpeg50": ("jpeg", 50), "noise2": ("noise", 2), "noise5": ("noise", 5),
    "noise10": ("noise", 10)}
METHODS = ("bicubic", "edsr-baseline", "zssr-before", "zssr", "real")


def how_made(condition: str) -> str:
    kind, level = CONDITIONS[condition]
    if kind == "jpeg":
        return f"the LR saved by Pillow as JPEG, quality {level}, default (4:2:0) subsampling"
    if kind == "noise":
        return (f"the LR + N(0, {level}/255), seed per image, clipped, rounded to 8 bits, "
                "saved as PNG")
    return "the LR saved as PNG"


# --- data ---------------------------------------------------------------------------------------

def image_paths(data: Path, which: str, limit: int | None) -> list[Path]:
    if which == "tune":
        folder = data / "train" / "BSD200"
        paths = sorted(folder.glob("*.png"))[::20][:10]
    else:
        folder = data / "bsd100" / "HR"
        paths = sorted(folder.glob("*.png"))
    if not paths:
        raise SystemExit(f"real_photos: no images in {folder}; pass --data (the shared data "
                         "folder, with train/BSD200 and bsd100/HR)")
    return paths[:limit] if limit else paths


def load_hr(path: Path, scale: int, crop: int | None) -> np.ndarray:
    """The HR: centre ``crop`` square (if asked), mod-cropped to the scale, alpha dropped."""
    hr = read_image(path).pixels
    if hr.ndim == 3 and hr.shape[2] == 4:
        hr = hr[:, :, :3]
    h, w = hr.shape[:2]
    if crop:
        ch, cw = min(crop, h), min(crop, w)
        top, left = (h - ch) // 2, (w - cw) // 2
        hr = hr[top:top + ch, left:left + cw]
        h, w = ch, cw
    return np.ascontiguousarray(hr[:h - h % scale, :w - w % scale])


def write_condition(lr_u8: np.ndarray, condition: str, folder: Path, name: str) -> Path:
    """The LR as ``condition`` makes it, written to a file in ``folder``."""
    from PIL import Image

    kind, level = CONDITIONS[condition]
    pixels = lr_u8
    if kind == "noise":
        rng = np.random.default_rng(noise_seed(name))
        noisy = pixels.astype(np.float64) + rng.standard_normal(pixels.shape) * level
        pixels = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    picture = Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB")
    path = folder / f"{name}_{condition}.{'jpg' if kind == 'jpeg' else 'png'}"
    if kind == "jpeg":
        picture.save(path, "JPEG", quality=level)
    else:
        picture.save(path, "PNG")
    return path


def noise_seed(name: str) -> int:
    """The noise seed of an image: the same draws, scaled, for every noise level."""
    return zlib.crc32(name.encode())


# --- methods ------------------------------------------------------------------------------------

class Runner:
    """The methods, with what they share: the scale, the loaded baseline, ``--max-iters``."""

    def __init__(self, scale: int, max_iters: int | None) -> None:
        self.scale = scale
        self.max_iters = max_iters
        self._edsr = None

    def overrides(self) -> dict:
        return {} if self.max_iters is None else {"max_iters": self.max_iters}

    def bicubic(self, lr: np.ndarray, path: Path) -> tuple[np.ndarray, dict]:
        return np.clip(imresize(lr, self.scale), 0.0, 1.0), {}

    def edsr_baseline(self, lr: np.ndarray, path: Path) -> tuple[np.ndarray, dict]:
        from zssr import baselines

        if self._edsr is None:  # once per run; its loading is not timed with an image
            raise RuntimeError("load the baseline first (Runner.prepare)")
        return baselines.upscale(self._edsr, lr), {}

    def zssr_before(self, lr: np.ndarray, path: Path) -> tuple[np.ndarray, dict]:
        config = zssr.preset("warm", **self.overrides())
        return zssr.upscale(lr, self.scale, config=config), {}

    def zssr_default(self, lr: np.ndarray, path: Path) -> tuple[np.ndarray, dict]:
        info = jpeg_info(path)
        quality = info.quality if info else None
        subsampling = info.subsampling if info else "4:2:0"
        if self.max_iters is None:  # exactly what the zssr command does with a file
            return zssr.upscale(lr, self.scale, jpeg_quality=quality,
                                jpeg_subsampling=subsampling, noise_std="auto"), {}
        # Smoke runs: the same steps as zssr.upscale (default preset, the degradation measured
        # and applied), with the iterations capped last so the cap holds whatever they change.
        from zssr.api import measure_degradation
        from zssr.config import default_preset, degradation_aware

        config, _ = degradation_aware(zssr.preset(default_preset(False)), **measure_degradation(
            lr, jpeg_quality=quality, jpeg_subsampling=subsampling, noise_std="auto"))
        return zssr.ZSSR(config.replace(**self.overrides())).upscale(lr, self.scale), {}

    def real(self, lr: np.ndarray, path: Path) -> tuple[np.ndarray, dict]:
        config = zssr.preset("real", **self.overrides())
        return zssr.upscale(lr, self.scale, config=config), {}

    def get(self, method: str) -> Callable[[np.ndarray, Path], tuple[np.ndarray, dict]]:
        return {"bicubic": self.bicubic, "edsr-baseline": self.edsr_baseline,
                "zssr-before": self.zssr_before, "zssr": self.zssr_default,
                "real": self.real}[method]

    def prepare(self, methods: list[str]) -> None:
        if "edsr-baseline" in methods and self._edsr is None:
            from zssr import baselines

            self._edsr = baselines.load("edsr-baseline", self.scale)


def zssr_config_changes(lr: np.ndarray, path: Path, noise: float) -> dict:
    """What the default recipe changes for this input (:func:`zssr.config.degradation_aware`),
    as ``zssr.upscale`` decides it: for the record, not timed."""
    from zssr.config import default_preset, degradation_aware

    info = jpeg_info(path)
    base = zssr.preset(default_preset(False))
    config, changed = degradation_aware(
        base, jpeg_quality=info.quality if info else 0,
        jpeg_subsampling=info.subsampling if info else "4:2:0", noise_std=noise)
    return {name: getattr(config, name) for name in changed}


def estimates(path: Path, lr: np.ndarray, clean_lr: np.ndarray) -> dict:
    """What the file and its pixels say: the header's JPEG quality, the measured noise std, and
    how far the degraded LR is from the clean one."""
    from zssr.noise_level import estimate_noise_std

    info = jpeg_info(path)
    noise = float(estimate_noise_std(lr))
    return {"file": path.suffix.lstrip("."),
            "jpeg_quality": info.quality if info else None,
            "jpeg_subsampling": info.subsampling if info else None,
            "jpeg_standard_tables": info.standard if info else None,
            "noise_std_estimate": noise, "noise_std_estimate_255": noise * 255.0,
            "input_psnr_y": finite_or_none(psnr(lr, clean_lr, shave=0))}


def finite_or_none(value: float) -> float | None:
    """``value``, or None for an infinite one (identical images), which JSON cannot hold."""
    return value if math.isfinite(value) else None


# --- results ------------------------------------------------------------------------------------

def git_commit() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        return {"commit": git("rev-parse", "HEAD"),
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def summarise(records: list[dict], conditions: list[str], methods: list[str]) -> list[dict]:
    """Per condition x method: mean PSNR-Y / SSIM-Y, mean per-image gain over bicubic, median
    seconds."""
    by_key = {(r["image"], r["condition"], r["method"]): r for r in records}
    rows = []
    for condition in conditions:
        for method in methods:
            mine = [r for r in records if r["condition"] == condition and r["method"] == method]
            if not mine:
                continue
            refs = [by_key.get((r["image"], condition, "bicubic")) for r in mine]
            gains = [(r["psnr_y"] - b["psnr_y"], r["ssim_y"] - b["ssim_y"])
                     for r, b in zip(mine, refs) if b is not None]
            rows.append({
                "condition": condition, "method": method, "images": len(mine),
                "psnr_y": statistics.fmean(r["psnr_y"] for r in mine),
                "ssim_y": statistics.fmean(r["ssim_y"] for r in mine),
                "gain_psnr_y": statistics.fmean(g[0] for g in gains) if gains else None,
                "gain_ssim_y": statistics.fmean(g[1] for g in gains) if gains else None,
                "median_seconds": statistics.median(r["seconds"] for r in mine)})
    return rows


def markdown(meta: dict, summary: list[dict], inputs: list[dict]) -> str:
    smoke = meta["max_iters"] is not None
    title = (f"# Real photos, {meta['set']} x{meta['scale']}: JPEG and noisy inputs"
             + (f" — SMOKE RUN (max_iters={meta['max_iters']}), not a result" if smoke else ""))
    set_text = ("BSD200 training images (every 20th, sorted; the tuning set)"
                if meta["set"] == "tune" else "BSD100 HR images (held out; report only)")
    crop = f", centre {meta['crop']}x{meta['crop']} crops" if meta["crop"] else ""
    lines = [title, "",
             f"Machine: {meta['machine']}, {meta['date']}, commit "
             f"{(meta['commit'] or 'unknown')[:10]}"
             + (" (with uncommitted changes)" if meta["dirty"] else "") + ". "
             f"{len(meta['images'])} image(s): {set_text}{crop}, mod-cropped to the scale; "
             "LR = MATLAB bicubic downscale (`zssr.resize.imresize`), rounded to 8 bits. Each "
             "condition is written to a file and read back with `zssr.io.read_image`:", ""]
    lines += [f"- `{c}`: {how_made(c)}" for c in meta["conditions"]]
    lines += ["", "Methods: `bicubic`; `edsr-baseline` (shipped weights, one pass); `zssr-before` "
              "(preset `warm`, the previous default); `zssr` (the `zssr` command's default on a "
              "file: JPEG quality and subsampling from the header, noise measured); `real` "
              "(preset `real`, the official real-photo recipe)"
              + (f"; ZSSR methods capped at {meta['max_iters']} iterations" if smoke else "")
              + ". PSNR-Y / SSIM-Y against the clean HR (MATLAB Y, shave = scale, uint8 "
              "rounding), mean over the images; gain = mean of the per-image differences to "
              "bicubic; seconds per image, median (the first image includes one-off set-up).",
              "",
              "| condition | method | PSNR-Y | SSIM-Y | gain PSNR-Y | gain SSIM-Y | s / image |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for condition in meta["conditions"]:
        rows = [r for r in summary if r["condition"] == condition]
        best = max((r["psnr_y"] for r in rows), default=None)
        for r in rows:
            psnr_text = f"{r['psnr_y']:.3f}"
            if r["psnr_y"] == best and len(rows) > 1:
                psnr_text = f"**{psnr_text}**"
            gain = ("-" if r["gain_psnr_y"] is None or r["method"] == "bicubic"
                    else f"{r['gain_psnr_y']:+.3f}")
            gain_s = ("-" if r["gain_ssim_y"] is None or r["method"] == "bicubic"
                      else f"{r['gain_ssim_y']:+.4f}")
            lines.append(f"| {condition} | {r['method']} | {psnr_text} | {r['ssim_y']:.4f} | "
                         f"{gain} | {gain_s} | {r['median_seconds']:.1f} |")
    lines += ["", "What the inputs say (per condition, over the images): the JPEG quality read "
              "from the header (`zssr.io.jpeg_info`), the noise std measured "
              "(`zssr.noise_level.estimate_noise_std`, in 8-bit levels: mean, min-max) and the "
              "degraded LR's PSNR-Y against the clean LR (mean; shave 0).", "",
              "| condition | JPEG quality read | noise estimate x255 | input PSNR-Y |",
              "|---|---|---:|---:|"]
    for condition in meta["conditions"]:
        mine = [e for e in inputs if e["condition"] == condition]
        if not mine:
            continue
        qualities = sorted({e["jpeg_quality"] for e in mine if e["jpeg_quality"] is not None})
        noise = [e["noise_std_estimate_255"] for e in mine]
        finite = [e["input_psnr_y"] for e in mine if e["input_psnr_y"] is not None]
        input_psnr = f"{statistics.fmean(finite):.2f}" if finite else "identical"
        lines.append(f"| {condition} | {', '.join(map(str, qualities)) or '-'} | "
                     f"{statistics.fmean(noise):.2f} ({min(noise):.2f}-{max(noise):.2f}) | "
                     f"{input_psnr} |")
    command = "python benchmarks/real_photos.py " + " ".join(meta["argv"])
    lines += ["", f"Made by `{command.strip()}`; every number per image is in the JSON."]
    return "\n".join(lines) + "\n"


def write_figure(path: Path, meta: dict, crops: dict, records: list[dict]) -> None:
    """One row per condition: the degraded input, the HR and each method's output, all the same
    window (nearest-neighbour zoom), PSNR-Y of the whole image under each."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conditions = [c for c in meta["conditions"] if f"{c}/input" in crops]
    methods = meta["methods"]
    columns = ["input", "HR", *methods]
    score = {(r["condition"], r["method"]): r["psnr_y"] for r in records
             if r["image"] == meta["figure_image"]}
    fig, axes = plt.subplots(len(conditions), len(columns), squeeze=False,
                             figsize=(1.25 * len(columns), 1.42 * len(conditions) + 0.3))
    for i, condition in enumerate(conditions):
        for j, column in enumerate(columns):
            ax = axes[i, j]
            crop = crops["HR" if column == "HR" else f"{condition}/{column}"]
            crop = np.clip(np.asarray(crop, dtype=np.float32), 0, 1)
            ax.imshow(crop.squeeze(), cmap="gray" if crop.ndim == 2 or crop.shape[2] == 1
                      else None, vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("input (LR)" if column == "input" else column, fontsize=7)
            if column in methods and (condition, column) in score:
                ax.set_xlabel(f"{score[(condition, column)]:.2f} dB", fontsize=6, labelpad=1)
            if j == 0:
                ax.set_ylabel(condition, fontsize=7)
    smoke = f", SMOKE max_iters={meta['max_iters']}" if meta["max_iters"] is not None else ""
    fig.suptitle(f"{meta['figure_image']} x{meta['scale']} ({meta['set']}{smoke}): PSNR-Y of "
                 "the whole image", fontsize=7)
    height = fig.get_figheight()
    fig.tight_layout(pad=0.3, h_pad=0.3, w_pad=0.2, rect=(0, 0, 1, 1 - 0.22 / height))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    data = buffer.getvalue()
    if len(data) > 900_000:  # keep the committed figure small: a 256-colour palette
        from PIL import Image

        buffer.seek(0)
        with Image.open(buffer) as im:
            small = io.BytesIO()
            im.convert("RGB").quantize(256).save(small, "PNG", optimize=True)
            data = small.getvalue()
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), True)


# --- the run ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", dest="set_name", choices=("tune", "bsd100"), default="tune",
                   help="tune: 10 BSD200 training images (default); bsd100: held-out BSD100 HR")
    p.add_argument("--data", type=Path, default=DATA,
                   help="the shared data folder (default ../shared/data)")
    p.add_argument("--limit", type=int, default=None, help="only the first N images")
    p.add_argument("--crop", type=int, default=None,
                   help="centre NxN crop of each HR (default: whole images)")
    p.add_argument("--scale", type=int, default=2, help="integer factor (default 2; 4 too)")
    p.add_argument("--conditions", default=",".join(CONDITIONS),
                   help=f"comma-separated, of {', '.join(CONDITIONS)} (default all)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated, of {', '.join(METHODS)} (default all; bicubic always "
                   "runs, the gains' reference)")
    p.add_argument("--max-iters", type=int, default=None,
                   help="cap the ZSSR methods' iterations (smoke tests only; recorded)")
    p.add_argument("--figure-image", default=None,
                   help="the image (file stem) of the figure (default the first)")
    p.add_argument("--figure-size", type=int, default=64, help="side of the figure's window")
    p.add_argument("--out-dir", type=Path, default=RESULTS,
                   help="where the md/json/png go (default benchmarks/results)")
    p.add_argument("--resume", action="store_true",
                   help="keep the results already in the JSON and run only the rest")
    args = p.parse_args(argv)

    def listed(text: str, allowed, what: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            p.error(f"--{what}: unknown {', '.join(bad) or '(none given)'}; choose from "
                    f"{', '.join(allowed)}")
        return list(dict.fromkeys(items))

    args.conditions = listed(args.conditions, CONDITIONS, "conditions")
    methods = listed(args.methods, METHODS, "methods")
    args.methods = [m for m in METHODS if m in methods or m == "bicubic"]
    if args.scale < 2:
        p.error("--scale must be an integer >= 2")
    for name in ("limit", "crop", "max_iters"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"real_photos: no data folder at {args.data}; pass --data (the shared "
                         "data folder, with train/BSD200 and bsd100/HR)")
    paths = image_paths(args.data, args.set_name, args.limit)
    names = [p.stem for p in paths]
    figure_image = args.figure_image or names[0]
    if figure_image not in names:
        raise SystemExit(f"real_photos: --figure-image {figure_image!r} is not among the images "
                         f"run ({', '.join(names)})")
    stem = f"real_photos_{args.set_name}_x{args.scale}"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    json_path, crops_path = args.out_dir / f"{stem}.json", args.out_dir / f"{stem}.figure-crops.npz"

    settings = {"set": args.set_name, "scale": args.scale, "crop": args.crop,
                "limit": args.limit, "max_iters": args.max_iters, "images": names,
                "figure_image": figure_image, "figure_size": args.figure_size}
    records: list[dict] = []
    inputs: list[dict] = []
    crops: dict[str, np.ndarray] = {}
    if args.resume and json_path.exists():
        import json

        old = json.loads(json_path.read_text())
        differ = [k for k, v in settings.items() if old["meta"].get(k) != v]
        if differ:
            raise SystemExit(f"real_photos: {json_path} was made with other settings "
                             f"({', '.join(differ)}); remove it or run without --resume")
        records, inputs = old["records"], old["inputs"]
        if crops_path.exists():
            with np.load(crops_path) as kept:
                crops = {k: kept[k] for k in kept.files}
        print(f"resuming: {len(records)} results kept from {json_path}")
    zssr.ZSSR  # noqa: B018  (loads Keras quietly: its C++ start-up lines stay off the log)
    done = {(r["image"], r["condition"], r["method"]) for r in records}
    have_input = {(e["image"], e["condition"]) for e in inputs}

    meta = {**settings, "conditions": args.conditions, "methods": args.methods,
            "date": time.strftime("%Y-%m-%d"), "machine": machine_description(),
            **git_commit(), "versions": versions(), "data": str(args.data),
            "noise_seed": "zlib.crc32(image name): the same draws for every level",
            "argv": sys.argv[1:] if argv is None else argv, "complete": False}
    print(f"real photos: {len(names)} images ({args.set_name}), x{args.scale}, "
          f"conditions {','.join(args.conditions)}, methods {','.join(args.methods)}"
          + (f", SMOKE max_iters={args.max_iters}" if args.max_iters else "")
          + f"\nmachine: {meta['machine']}", flush=True)

    runner = Runner(args.scale, args.max_iters)
    runner.prepare(args.methods)
    figure_box = None

    def save() -> None:
        write_json(json_path, {"meta": meta, "summary": summarise(records, args.conditions,
                                                                  args.methods),
                               "images_info": images_info, "inputs": inputs,
                               "records": records})

    images_info: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="real_photos_") as tmp:
        for n, path in enumerate(paths, 1):
            name = path.stem
            hr = load_hr(path, args.scale, args.crop)
            lr_u8 = to_uint8(np.clip(imresize(hr, 1.0 / args.scale), 0.0, 1.0))
            clean_lr = lr_u8.astype(np.float32) / np.float32(255.0)
            images_info.append({"image": name, "hr_height_width": list(hr.shape[:2]),
                                "lr_height_width": list(lr_u8.shape[:2])})
            is_figure = name == figure_image
            if is_figure:
                figure_box = choose_box(hr, args.scale, args.figure_size)
                meta["figure_box"] = {"top": figure_box[0].start, "left": figure_box[1].start,
                                      "size": figure_box[0].stop - figure_box[0].start}
                crops["HR"] = hr[figure_box]
            for condition in args.conditions:
                todo = [m for m in args.methods if (name, condition, m) not in done
                        or (is_figure and f"{condition}/{m}" not in crops)]
                if not todo and (name, condition) in have_input:
                    continue
                file = write_condition(lr_u8, condition, Path(tmp), name)
                lr = read_image(file).pixels
                if (name, condition) not in have_input:
                    inputs.append({"image": name, "condition": condition,
                                   **estimates(file, lr, clean_lr)})
                    have_input.add((name, condition))
                if is_figure:  # LR pixel i covers HR pixels i*s .. i*s+s-1
                    crops[f"{condition}/input"] = imresize_nearest(lr, args.scale)[figure_box]
                for method in todo:
                    t0 = time.perf_counter()
                    sr, extra = runner.get(method)(lr, file)
                    seconds = time.perf_counter() - t0
                    if method == "zssr":
                        noise = next(e["noise_std_estimate"] for e in inputs
                                     if e["image"] == name and e["condition"] == condition)
                        extra["config_changes"] = zssr_config_changes(lr, file, noise)
                    record = {"image": name, "condition": condition, "method": method,
                              "psnr_y": psnr(sr, hr, scale=args.scale),
                              "ssim_y": ssim(sr, hr, scale=args.scale), "seconds": seconds,
                              **extra}
                    records = [r for r in records if (r["image"], r["condition"], r["method"])
                               != (name, condition, method)] + [record]
                    done.add((name, condition, method))
                    if is_figure:
                        crops[f"{condition}/{method}"] = np.asarray(sr)[figure_box]
                    print(f"[{n}/{len(paths)}] {name:10s} {condition:8s} {method:13s} "
                          f"PSNR-Y {record['psnr_y']:7.3f}  SSIM-Y {record['ssim_y']:.4f}  "
                          f"{seconds:7.1f} s", flush=True)
                save()
                if is_figure:
                    np.savez_compressed(crops_path, **crops)

    meta["complete"] = True
    summary = summarise(records, args.conditions, args.methods)
    save()
    text = markdown(meta, summary, inputs)
    atomic_write(args.out_dir / f"{stem}.md", lambda tmp: Path(tmp).write_text(text), True)
    print(text)
    try:
        write_figure(args.out_dir / f"{stem}.png", meta, crops, records)
    except ImportError:
        print("no figure: it needs matplotlib (pip install 'zssr[bench]')")
    else:
        crops_path.unlink(missing_ok=True)
    return 0


def imresize_nearest(image: np.ndarray, factor: int) -> np.ndarray:
    """``image`` enlarged ``factor`` times by repeating pixels (the input as the viewer sees
    it)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


if __name__ == "__main__":
    sys.exit(main())
