"""Benchmark: dataset x method x scale -> per-image PSNR-Y / SSIM-Y / seconds, md + json.

Three layouts are read:

* EDSR (Set5, Set14, BSD100): ``HR/<name>.png`` and ``LR_bicubic/X<s>/<name>x<s>.png``; each HR is
  mod-cropped to a multiple of the scale.
* DIV2KRK: ``gt/im_N.png``, ``lr_x<s>/im_N.png`` and the ground-truth kernels
  ``gt_k_x<s>/kernel_N.mat``.
* Any other folder of HR images (e.g. your own photos): each is mod-cropped and its LR made with
  our MATLAB-compatible bicubic, rounded to 8 bits.

Methods: ``bicubic`` (interpolation), ``zssr`` (ZSSR assuming the bicubic kernel, ``--preset``),
``zssr-gt`` (ZSSR with the ground-truth kernel) and ``zssr-estimated`` (KernelGAN estimate, then
ZSSR; both run preset ``kernel`` unless ``--preset`` names another; the estimate also reports its
kernel error and how well it re-synthesises the LR image from the ground truth), and the
supervised baselines of :mod:`zssr.baselines` by name (``edsr-baseline``, shipped weights or
``--baseline-weights``; ``edsr-baseline-ensemble`` is the same network with the geometric
self-ensemble, EDSR's "+": the mean of its outputs for the 8 flips and quarter turns).
Scores follow the SR papers' protocol (Y of MATLAB's rgb2ycbcr, shave = scale, outputs rounded to
8 bits first; SSIM with an 11x11 Gaussian, sigma 1.5). Examples::

    python -m zssr.benchmark --dataset ../shared/data/set5 --scale 2 --method bicubic,zssr
    python -m zssr.benchmark --dataset ../shared/data/div2krk --scale 2 \\
        --method bicubic,zssr,zssr-gt,zssr-estimated --images 2,3,6

Each method's table is written as ``<set>_x<s>_<method>.md/.json``; with several methods, one
comparison table (``..._compare_<methods>.md/.csv/.json``) and a figure (``.png``: the same zoomed
crop of every image from each method beside the ground truth) are written too.
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
from . import baselines as baselines_registry
from .config import preset, preset_names
from .engine import ZSSR
from .io import read_image, write_json
from .metrics import psnr, ssim
from .network import precision_warning
from .resize import imresize

__all__ = ["Sample", "load_dataset", "load_edsr_layout", "load_div2krk_layout", "evaluate",
           "figure_box", "comparison_table", "write_comparison", "main"]


@dataclass(frozen=True)
class Sample:
    """One benchmark image: LR input, (mod-cropped) HR ground truth, scale, true kernel if known."""

    name: str
    lr: np.ndarray
    hr: np.ndarray
    scale: int
    kernel: np.ndarray | None = None


def load_dataset(root: str | Path, scale: int, names: list[str] | None = None) -> list[Sample]:
    """Load an EDSR-layout or DIV2KRK-layout folder (detected from its sub-folders), or else a
    plain folder of HR images (:func:`load_hr_folder`)."""
    root = Path(root)
    if (root / "gt").is_dir() and (root / f"lr_x{scale}").is_dir():
        return load_div2krk_layout(root, scale, names)
    if (root / "HR").is_dir():
        return load_edsr_layout(root, scale, names)
    return load_hr_folder(root, scale, names)


def load_hr_folder(root: str | Path, scale: int, names: list[str] | None = None) -> list[Sample]:
    """A plain folder of HR images: each is mod-cropped to the scale and its LR made with our
    MATLAB-compatible bicubic, rounded to 8 bits (how the EDSR-layout LR files were made)."""
    from .io import list_images
    from .resize import imresize

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    samples = []
    for path in list_images([root]):
        if names and path.stem not in names:
            continue
        hr = read_image(path).pixels
        if hr.ndim == 3 and hr.shape[2] == 4:
            hr = hr[:, :, :3]
        h, w = hr.shape[:2]
        hr = np.ascontiguousarray(hr[: h - h % scale, : w - w % scale])
        lr = np.round(np.clip(imresize(hr, 1.0 / scale), 0, 1) * 255) / 255
        samples.append(Sample(path.stem, lr.astype(np.float32), hr, scale))
    if not samples:
        which = f" named {names}" if names else ""
        raise FileNotFoundError(
            f"no images{which} in {root}: give a folder in the EDSR layout (HR/, LR_bicubic/), "
            "the DIV2KRK layout (gt/, lr_x<s>/) or a folder of HR images")
    return samples


def load_div2krk_layout(root: str | Path, scale: int,
                        names: list[str] | None = None) -> list[Sample]:
    """Load ``gt/im_N.png``, ``lr_x<s>/im_N.png`` and ``gt_k_x<s>/kernel_N.mat``.

    ``names`` may be image names (``im_2``) or bare indices (``2``).
    """
    from .kernels import load_kernel

    root = Path(root)
    wanted = {n if n.startswith("im_") else f"im_{n}" for n in names} if names else None
    samples = []
    for lr_path in sorted(Path(root, f"lr_x{scale}").glob("im_*.png"),
                          key=lambda p: int(p.stem.split("_")[1])):
        if wanted and lr_path.stem not in wanted:
            continue
        index = lr_path.stem.split("_")[1]
        hr = read_image(root / "gt" / lr_path.name).pixels
        lr = read_image(lr_path).pixels
        hr = hr[: lr.shape[0] * scale, : lr.shape[1] * scale]
        kernel_path = root / f"gt_k_x{scale}" / f"kernel_{index}.mat"
        kernel = load_kernel(kernel_path).kernel if kernel_path.exists() else None
        samples.append(Sample(lr_path.stem, lr, hr, scale, kernel))
    if not samples:
        raise FileNotFoundError(f"no DIV2KRK images found in {root}/lr_x{scale}"
                                + (f" named {sorted(wanted)}" if wanted else ""))
    return samples


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


#: A baseline's name plus this suffix: the same network with the geometric self-ensemble.
ENSEMBLE = "-ensemble"
BASELINES = (*baselines_registry.NAMES, *(n + ENSEMBLE for n in baselines_registry.NAMES))
METHODS = ("bicubic", "zssr", "zssr-gt", "zssr-estimated", *BASELINES)


def baseline_network(method: str) -> str:
    """The network a baseline method runs (its name without :data:`ENSEMBLE`)."""
    return method.removesuffix(ENSEMBLE)


def figure_box(hr: np.ndarray, scale: int, size: int | None = None) -> tuple[slice, slice]:
    """The HR window the comparison figure zooms into: the ``size``-square (default a quarter
    of the shorter side, 48..160 px) with the most gradient energy, away from the shaved border."""
    from .metrics import rgb_to_y

    y = rgb_to_y(hr)  # gray stays as it is; the scale of the values does not move the argmax
    h, w = y.shape
    size = size or int(np.clip(min(h, w) // 4, 48, 160))
    size = min(size, h - 2 * scale, w - 2 * scale)
    gy, gx = np.gradient(y.astype(np.float64))
    energy = np.pad(np.cumsum(np.cumsum(gy * gy + gx * gx, 0), 1), ((1, 0), (1, 0)))
    sums = (energy[size:, size:] - energy[:-size, size:] - energy[size:, :-size]
            + energy[:-size, :-size])
    sums = sums[scale:h - size - scale + 1, scale:w - size - scale + 1]
    r, c = np.unravel_index(int(np.argmax(sums)), sums.shape)
    r, c = int(r) + scale, int(c) + scale
    return slice(r, r + size), slice(c, c + size)


def resynthesis_psnr(hr: np.ndarray, lr: np.ndarray, kernel: np.ndarray, scale: int) -> float:
    """PSNR-Y of the LR image against the ground truth downscaled with ``kernel``: how well a
    kernel explains the observed LR image (higher is better)."""
    from .resize import downscale_with_kernel

    synth = np.clip(downscale_with_kernel(hr, kernel, 1.0 / scale, output_shape=lr.shape[:2]),
                    0, 1)
    return psnr(synth, lr, shave=scale)


KERNEL_METHODS = ("zssr-gt", "zssr-estimated")


def preset_for(method: str, preset_name: str | None) -> str:
    """The preset a ZSSR method runs: ``preset_name`` if given, else ``kernel`` for the methods
    that hand ZSSR a kernel and ``ideal`` for plain ``zssr``."""
    if preset_name:
        return preset_name
    return "kernel" if method in KERNEL_METHODS else "ideal"


def _run_method(sample: Sample, method: str, model, preset_name: str | None,
                overrides: dict | None) -> tuple[np.ndarray, int | None, dict]:
    """One method on one sample: (output, ZSSR iterations or None, extra columns)."""
    extra: dict = {}
    if method == "bicubic":
        return np.clip(imresize(sample.lr, sample.scale), 0, 1), None, extra
    if model is not None:
        from . import baselines

        return (baselines.upscale(model, sample.lr, self_ensemble=method.endswith(ENSEMBLE)),
                None, extra)
    kernel = None
    name = preset_for(method, preset_name)
    if method == "zssr-gt":
        if sample.kernel is None:
            raise ValueError(f"{sample.name}: no ground-truth kernel in this dataset")
        kernel = sample.kernel
    elif method == "zssr-estimated":
        from .estimate import KernelGANConfig, estimate_kernel
        from .kernels import bicubic_kernel, kernel_error

        t_est = time.perf_counter()
        seed = (overrides or {}).get("seed", 0)
        kernel = estimate_kernel(sample.lr, sample.scale, config=KernelGANConfig(seed=seed))
        extra["estimate_seconds"] = time.perf_counter() - t_est
        name = "kernel"
        if sample.kernel is not None:
            extra["kernel_error"] = kernel_error(kernel, sample.kernel)
            extra["kernel_error_bicubic"] = kernel_error(bicubic_kernel(sample.scale),
                                                         sample.kernel)
            extra["resynthesis_psnr"] = resynthesis_psnr(sample.hr, sample.lr, kernel,
                                                         sample.scale)
            extra["resynthesis_psnr_gt_kernel"] = resynthesis_psnr(
                sample.hr, sample.lr, sample.kernel, sample.scale)
    result = ZSSR(preset(name, **(overrides or {}))).run(sample.lr, sample.scale, kernel)
    extra["preset"] = name
    retried = [s.retried for s in result.steps if s.retried]
    if retried:  # recorded in the results, so a table shows which runs needed it
        extra["retried"] = retried
    return result.image, result.iterations, extra


def method_key(method: str, scale: int, preset_name: str | None, overrides: dict | None,
               baseline_weights: str | None = None) -> str:
    """Folder name for a method's saved outputs: the method plus a hash of what determines its
    result (the full ZSSR config, or the baseline weights' sha256)."""
    import hashlib
    import json

    what: dict = {"method": method}
    if method.startswith("zssr"):
        what["config"] = preset(preset_for(method, preset_name), **(overrides or {})).to_dict()
    elif method in BASELINES:
        from . import baselines

        path = baseline_weights or baselines.weights_path(baseline_network(method), scale)
        what["weights"] = baselines.sha256(path) if Path(path).exists() else str(path)
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:10]
    return f"{method}-{digest}"


def evaluate(samples: list[Sample], method: str, *, preset_name: str | None = None,
             overrides: dict | None = None, baseline_weights: str | None = None,
             keep_crops: bool = False, outputs: str | Path | None = None, reuse: bool = False,
             log: Callable[[str], None] = print) -> dict:
    """Run one method on every sample; returns the result table as a dict.

    With ``keep_crops`` the table also holds ``"crops"``: each output's :func:`figure_box`
    window, for the comparison figure (not JSON; :func:`write_comparison` drops it).
    With ``outputs`` every output is saved there as an 8-bit PNG (the metrics round to 8 bits
    first, so nothing they see is lost) with a JSON record, under a folder named by
    :func:`method_key`; ``reuse`` then takes a saved output instead of running the method again
    (its row keeps the seconds of the run that made it).
    """
    import json

    from .io import write_image

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    rows = []
    crops: dict[str, np.ndarray] = {}
    folder = None
    if outputs is not None:
        folder = Path(outputs) / f"x{samples[0].scale}" / method_key(
            method, samples[0].scale, preset_name, overrides, baseline_weights)
        folder.mkdir(parents=True, exist_ok=True)
    model = None
    for sample in samples:
        saved = folder / f"{sample.name}.png" if folder else None
        record = saved.with_suffix(".json") if saved else None
        if reuse and saved is not None and saved.exists() and record.exists():
            sr = read_image(saved).pixels
            kept = json.loads(record.read_text())
            seconds, iterations, extra = kept["seconds"], kept["iterations"], kept["extra"]
            extra = {**extra, "reused": True}
        else:
            if model is None and method in BASELINES:
                from . import baselines

                model = baselines.load(baseline_network(method), sample.scale,
                                       weights=baseline_weights)
            t0 = time.perf_counter()
            sr, iterations, extra = _run_method(sample, method, model, preset_name, overrides)
            seconds = time.perf_counter() - t0
            if saved is not None:
                write_image(saved, sr, overwrite=True)  # rounded to 8 bits like the metrics
                write_json(record, {"seconds": seconds, "iterations": iterations,
                                    "extra": extra})
        row = {
            "image": sample.name,
            "psnr_y": psnr(sr, sample.hr, scale=sample.scale),
            "ssim_y": ssim(sr, sample.hr, scale=sample.scale),
            "seconds": seconds,
            "iterations": iterations,
            **extra,
        }
        rows.append(row)
        if keep_crops:
            crops[sample.name] = np.asarray(sr)[figure_box(sample.hr, sample.scale)]
        log(f"  {method:8s} {sample.name:12s} PSNR-Y {row['psnr_y']:.3f}  SSIM-Y "
            f"{row['ssim_y']:.4f}  {seconds:7.1f} s" + (f"  {iterations} it" if iterations else "")
            + ("  (saved output)" if extra.get("reused") else ""))
    mean = {
        "psnr_y": statistics.fmean(r["psnr_y"] for r in rows),
        "ssim_y": statistics.fmean(r["ssim_y"] for r in rows),
        "seconds": statistics.fmean(r["seconds"] for r in rows),
        "median_seconds": statistics.median(r["seconds"] for r in rows),
    }
    if rows[0]["iterations"] is not None:
        mean["iterations"] = statistics.fmean(r["iterations"] for r in rows)
        mean["median_iterations"] = statistics.median(r["iterations"] for r in rows)
    for key in ("estimate_seconds", "kernel_error", "kernel_error_bicubic", "resynthesis_psnr",
                "resynthesis_psnr_gt_kernel"):
        if key in rows[0]:
            mean[key] = statistics.fmean(r[key] for r in rows)
            if key == "estimate_seconds":
                mean["median_estimate_seconds"] = statistics.median(r[key] for r in rows)
    table = {"method": method, "rows": rows, "mean": mean}
    if keep_crops:
        table["crops"] = crops
    return table


def comparison_table(tables: list[dict]) -> dict:
    """One table from several methods' tables: per image and mean PSNR-Y / SSIM-Y / seconds."""
    methods = [t["method"] for t in tables]
    images = [r["image"] for r in tables[0]["rows"]]
    rows = []
    for image in images + ["mean"]:
        row: dict = {"image": image}
        for t in tables:
            r = t["mean"] if image == "mean" else next(x for x in t["rows"]
                                                         if x["image"] == image)
            for key in ("psnr_y", "ssim_y", "seconds"):
                row[f"{t['method']}:{key}"] = r[key]
        rows.append(row)
    return {"methods": methods, "rows": rows}


def _compare_markdown(meta: dict, table: dict) -> str:
    methods = table["methods"]
    presets = ", ".join(f"`{m}` {preset_for(m, meta['preset'])}" for m in methods
                        if m.startswith("zssr"))
    zssr_note = ""  # nothing to say for a table without ZSSR
    if presets:
        overrides = f", overrides {meta['overrides']}" if meta["overrides"] else ""
        zssr_note = f" ZSSR presets: {presets}{overrides}."
    lines = [f"# {meta['dataset']} x{meta['scale']} — comparison", "",
             f"Machine: {meta['machine']}. zssr {meta['version']}, {meta['date']}. "
             "PSNR-Y / SSIM-Y (MATLAB Y, shave = scale, uint8 rounding) and seconds per image."
             + zssr_note, "",
             "| image | " + " | ".join(methods) + " |",
             "|---|" + "---:|" * len(methods)]
    for row in table["rows"]:
        best = max(row[f"{m}:psnr_y"] for m in methods)
        cells = []
        for m in methods:
            v = row[f"{m}:psnr_y"]
            text = f"{v:.2f} / {row[f'{m}:ssim_y']:.4f} / {row[f'{m}:seconds']:.0f} s"
            cells.append(f"**{text}**" if v == best else text)
        name = "**mean**" if row["image"] == "mean" else row["image"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _write_figure(path: Path, samples: list[Sample], tables: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 1 + len(tables)
    fig, axes = plt.subplots(len(samples), cols, figsize=(2.2 * cols, 2.35 * len(samples)),
                             squeeze=False)
    for i, sample in enumerate(samples):
        panels = [("ground truth", sample.hr[figure_box(sample.hr, sample.scale)], None)]
        for t in tables:
            row = next(r for r in t["rows"] if r["image"] == sample.name)
            panels.append((t["method"], t["crops"][sample.name], row["psnr_y"]))
        for j, (title, crop, score) in enumerate(panels):
            ax = axes[i, j]
            crop = np.clip(np.asarray(crop, dtype=np.float32), 0, 1)
            ax.imshow(crop.squeeze(), cmap="gray" if crop.ndim == 2 or crop.shape[2] == 1
                      else None, vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            label = title if score is None else f"{title}\n{score:.2f} dB"
            ax.set_title(label, fontsize=7)
            if j == 0:
                ax.set_ylabel(sample.name, fontsize=7)
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def write_comparison(out_dir: Path, stem: str, meta: dict, tables: list[dict],
                     samples: list[Sample]) -> list[Path]:
    """Write the comparison of several methods as md, csv, json and a crop figure (png)."""
    import csv
    import io as _io

    table = comparison_table(tables)
    paths = [out_dir / f"{stem}.{ext}" for ext in ("md", "csv", "json", "png")]
    paths[0].write_text(_compare_markdown(meta, table))
    buf = _io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(table["rows"][0]))
    writer.writeheader()
    writer.writerows(table["rows"])
    paths[1].write_text(buf.getvalue())
    write_json(paths[2], {"meta": meta, **table,
                          "tables": [{k: v for k, v in t.items() if k != "crops"}
                                     for t in tables]})
    _write_figure(paths[3], samples, tables)
    return paths


def _markdown(meta: dict, table: dict) -> str:
    lines = [
        f"# {meta['dataset']} x{meta['scale']} — {table['method']}"
        + (f" (preset `{preset_for(table['method'], meta['preset'])}`)"
           if table["method"].startswith("zssr") else ""),
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
    if "kernel_error" in m:
        lines += ["", "Kernel estimate (KernelGAN):", "",
                  "| image | estimate s | kernel error (bicubic's) | re-synthesis PSNR "
                  "(GT kernel's) |", "|---|---:|---:|---:|"]
        for r in table["rows"]:
            lines.append(f"| {r['image']} | {r['estimate_seconds']:.0f} | "
                         f"{r['kernel_error']:.4f} ({r['kernel_error_bicubic']:.4f}) | "
                         f"{r['resynthesis_psnr']:.2f} ({r['resynthesis_psnr_gt_kernel']:.2f}) |")
        lines.append(f"| **mean** | {m['estimate_seconds']:.0f} (median "
                     f"{m['median_estimate_seconds']:.0f}) | {m['kernel_error']:.4f} "
                     f"({m['kernel_error_bicubic']:.4f}) | {m['resynthesis_psnr']:.2f} "
                     f"({m['resynthesis_psnr_gt_kernel']:.2f}) |")
    return "\n".join(lines) + "\n"


def machine_description() -> str:
    """The CPU, its core count and where Keras computes, for the header of every result."""
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
    from .network import compute_device

    device = compute_device()
    where = "no GPU used" if device == "CPU" else f"computing on {device}"
    return f"{cpu}, {os.cpu_count()} cores, {where}"


def _parse_sets(items: list[str], parser: argparse.ArgumentParser) -> dict:
    """``["scale_steps=2", "max_iters=500"]`` -> typed ZSSRConfig overrides."""
    import dataclasses

    from .config import ZSSRConfig

    defaults = ZSSRConfig()
    fields = {f.name for f in dataclasses.fields(ZSSRConfig)}
    out: dict = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in fields or not value:
            parser.error(f"--set {item!r}: expected FIELD=VALUE with FIELD a ZSSRConfig field")
        default = getattr(defaults, name)
        if isinstance(default, bool):
            out[name] = value.lower() in ("1", "true", "yes")
        elif isinstance(default, tuple):
            kind = int if name == "back_projection_iters" else float
            out[name] = tuple(kind(v) for v in value.split(","))
        else:
            out[name] = type(default)(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zssr.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True,
                        help="folder in the EDSR or the DIV2KRK layout, or of HR images")
    parser.add_argument("--scale", type=int, required=True, choices=[2, 3, 4],
                        help="upscaling factor (the LR files of that factor are read)")
    parser.add_argument("--method", default="bicubic",
                        help=f"comma-separated, from {', '.join(METHODS)} (default: bicubic)")
    parser.add_argument("--preset", default=None, choices=preset_names(),
                        help="ZSSR preset (default: ideal for zssr, kernel for zssr-gt and "
                             "zssr-estimated)")
    parser.add_argument("--max-iters", type=int, default=None,
                        help="ZSSR: cap on training iterations per scale step (default: the "
                             "preset's)")
    parser.add_argument("--seed", type=int, default=None,
                        help="ZSSR / KernelGAN seed (default: the preset's, 0)")
    parser.add_argument("--images", default=None,
                        help="comma-separated image names or DIV2KRK indices (subset)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a ZSSRConfig field, e.g. --set scale_steps=2 "
                             "(lists comma-separated); repeatable")
    parser.add_argument("--baseline-weights", default=None,
                        help="weights file for a baseline method instead of the shipped ones")
    parser.add_argument("--outputs", default=None, metavar="DIR",
                        help="save every output image (8-bit PNG + JSON record) under DIR")
    parser.add_argument("--reuse", action="store_true",
                        help="with --outputs: take saved outputs of the same method and settings "
                             "instead of running again (e.g. to add a method to a comparison)")
    parser.add_argument("--results-dir", default="benchmarks/results",
                        help="where the md/json/csv/png results go (default: %(default)s)")
    parser.add_argument("--tag", default="", help="suffix for the result file names")
    args = parser.parse_args(argv)

    dataset = Path(args.dataset)
    names = args.images.split(",") if args.images else None
    methods = args.method.split(",")
    for method in methods:
        if method not in METHODS:
            parser.error(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    try:
        samples = load_dataset(dataset, args.scale, names)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: --dataset: {e}", file=sys.stderr)
        return 2
    overrides = {k: v for k, v in (("max_iters", args.max_iters), ("seed", args.seed))
                 if v is not None}
    overrides.update(_parse_sets(args.set, parser))
    if args.reuse and not args.outputs:
        parser.error("--reuse needs --outputs DIR")
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "dataset": dataset.name, "scale": args.scale, "preset": args.preset,
        "overrides": overrides, "machine": machine_description(), "version": __version__,
        "date": time.strftime("%Y-%m-%d"), "python": sys.version.split()[0],
    }
    subset = "_" + "-".join(n.replace("im_", "") for n in names) if names else ""
    tag = f"_{args.tag}" if args.tag else ""
    tables = []
    for method in methods:
        zssr_preset = preset_for(method, args.preset) if method.startswith("zssr") else None
        print(f"{dataset.name} x{args.scale} {method}" +
              (f" preset={zssr_preset} {overrides}" if zssr_preset else ""))
        try:
            config = preset(zssr_preset, **overrides) if zssr_preset else None
            # timings taken in emulated bfloat16 would mislead
            warning = (precision_warning(config.precision, "--set precision={}")
                       if config is not None else None)
            if warning:
                print(f"warning: {warning}", file=sys.stderr)
            table = evaluate(samples, method, preset_name=args.preset, overrides=overrides,
                             baseline_weights=args.baseline_weights,
                             keep_crops=len(methods) > 1, outputs=args.outputs,
                             reuse=args.reuse)
        except (FileNotFoundError, ValueError) as e:
            print(f"error: {method}: {e}", file=sys.stderr)
            return 2
        tables.append(table)
        if config is not None:
            table["config"] = config.to_dict()
        m = table["mean"]
        print(f"  mean PSNR-Y {m['psnr_y']:.3f} dB  SSIM-Y {m['ssim_y']:.4f}  "
              f"median {m['median_seconds']:.1f} s/image")
        stem = f"{dataset.name}_x{args.scale}_{method}"
        if method == "zssr" or (zssr_preset and zssr_preset != preset_for(method, None)):
            stem += f"_{zssr_preset}"
        stem += subset + tag
        write_json(out_dir / f"{stem}.json",
                   {"meta": meta, **{k: v for k, v in table.items() if k != "crops"}})
        (out_dir / f"{stem}.md").write_text(_markdown(meta, table))
        print(f"  wrote {out_dir / stem}.md/.json")
    if len(tables) > 1:
        stem = f"{dataset.name}_x{args.scale}_compare_{'+'.join(methods)}{subset}{tag}"
        paths = write_comparison(out_dir, stem, meta, tables, samples)
        print(f"  wrote {', '.join(str(p) for p in paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
