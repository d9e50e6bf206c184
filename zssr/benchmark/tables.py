"""Benchmark results as tables and figures: one method's markdown table, the comparison of
several methods (md, csv, json) and the figure of the same zoomed crop from each method."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import atomic_write, write_json
from .datasets import Sample
from .methods import get

__all__ = ["figure_box", "comparison_table", "compare_markdown", "method_markdown",
           "write_figure", "write_comparison", "write_text"]


def figure_box(hr: np.ndarray, scale: int, size: int | None = None) -> tuple[slice, slice]:
    """The HR window the comparison figure zooms into: the ``size``-square (default a quarter
    of the shorter side, 48..160 px) with the most gradient energy, away from the shaved border."""
    from ..metrics import rgb_to_y

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


def compare_markdown(meta: dict, table: dict) -> str:
    """The comparison of several methods as a markdown table (best PSNR-Y in bold)."""
    methods = table["methods"]
    presets = ", ".join(f"`{m}` {get(m).preset(meta['preset'])}" for m in methods
                        if get(m).is_zssr)
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


def write_figure(path: Path, samples: list[Sample], tables: list[dict]) -> None:
    """The crop of every image from each method beside the ground truth, as a png.

    Raises
    ------
    ImportError
        Without matplotlib (the ``bench`` extra), naming the install command.
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError("comparison figures need matplotlib: pip install 'zssr[bench]'"
                          ) from None

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
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110), True)
    plt.close(fig)


def write_comparison(out_dir: Path, stem: str, meta: dict, tables: list[dict],
                     samples: list[Sample]) -> list[Path]:
    """Write the comparison of several methods as md, csv, json and a crop figure (png)."""
    import csv
    import io as _io

    table = comparison_table(tables)
    paths = [out_dir / f"{stem}.{ext}" for ext in ("md", "csv", "json", "png")]
    write_text(paths[0], compare_markdown(meta, table))
    buf = _io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(table["rows"][0]))
    writer.writeheader()
    writer.writerows(table["rows"])
    write_text(paths[1], buf.getvalue())
    write_json(paths[2], {"meta": meta, **table,
                          "tables": [{k: v for k, v in t.items() if k != "crops"}
                                     for t in tables]})
    write_figure(paths[3], samples, tables)
    return paths


def method_markdown(meta: dict, table: dict) -> str:
    """One method's table as markdown (per image, mean, and the kernel estimates if any)."""
    lines = [
        f"# {meta['dataset']} x{meta['scale']} — {table['method']}"
        + (f" (preset `{name}`)" if (name := get(table["method"]).preset(meta["preset"]))
           else ""),
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


def write_text(path: Path, text: str) -> Path:
    """Write a text table atomically (:func:`zssr.io.atomic_write`)."""
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text), True)
    return Path(path)
