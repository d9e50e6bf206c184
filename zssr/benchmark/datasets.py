"""Benchmark datasets: the EDSR layout (Set5, Set14, BSD100), the DIV2KRK layout (with its
ground-truth kernels), or any folder of HR images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import read_image

__all__ = ["Sample", "load_dataset", "load_hr_folder", "load_div2krk_layout",
           "load_edsr_layout"]


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
    from ..io import list_images
    from ..resize import imresize

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
    from ..kernels import load_kernel

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


