"""Image files of a run: the training / validation split, and reading them as RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import TrainConfigError

__all__ = ["split_validation", "read_rgb"]


def split_validation(files: list[Path], val_files: list[Path] | None, val_count: int
                     ) -> tuple[list[Path], list[Path]]:
    """(train, validation) files: ``val_files`` if given, else the last ``val_count`` files.

    Raises
    ------
    TrainConfigError
        If ``val_count`` holds out every file.
    """
    if val_files:
        return files, val_files
    if val_count >= len(files):
        raise TrainConfigError("val_count", f"{val_count} leaves no training images "
                               f"({len(files)} found)")
    if val_count <= 0:
        return files, []
    return files[:len(files) - val_count], files[len(files) - val_count:]


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as an HxWx3 float32 array in [0, 1] (gray repeated, alpha dropped)."""
    from ..io import read_image

    img = read_image(path).pixels
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3], dtype=np.float32)
