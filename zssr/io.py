"""Reading and writing images at the edge of the engine (never called by the engine itself).

Policy: images are read to float32 in [0, 1] with the white level taken from the dtype (uint8:
255, uint16: 65535), never from the pixel values. Gray stays gray (HxW), RGB stays RGB. Writes go
to a temporary file in the target folder, then are renamed into place, so an interrupted run
never leaves a half-written image, and an existing file is not replaced unless asked.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

__all__ = ["ImageInfo", "read_image", "write_image", "write_json", "to_dtype"]


@dataclass(frozen=True)
class ImageInfo:
    """What is needed to write an output in the input's mode and bit depth."""

    dtype: str
    gray: bool


class ImageReadError(ValueError):
    """An input file could not be read as an image."""


def read_image(path: str | os.PathLike) -> tuple[np.ndarray, ImageInfo]:
    """Read an image file to float32 in [0, 1] (HxW gray or HxWx3 RGB) and its format info.

    Raises
    ------
    ImageReadError
        If the file is missing, empty, not an image, or of an unsupported layout.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file; check the path")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: file is empty (0 bytes); re-export or remove it")
    try:
        data = iio.imread(path)
    except Exception as exc:  # imageio raises many types for undecodable files
        raise ImageReadError(
            f"{path}: cannot be decoded as an image ({type(exc).__name__}: {exc}); "
            "is it truncated or not really an image?"
        ) from None
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim == 3 and data.shape[2] == 4:
        data = data[:, :, :3]  # alpha handling belongs to the full input policy; RGB kept here
    if data.ndim not in (2, 3) or (data.ndim == 3 and data.shape[2] != 3):
        raise ImageReadError(f"{path}: unsupported image layout {data.shape}")
    if data.dtype == np.uint8:
        image = data.astype(np.float32) / 255.0
    elif data.dtype == np.uint16:
        image = data.astype(np.float32) / 65535.0
    elif np.issubdtype(data.dtype, np.floating):
        image = np.clip(data.astype(np.float32), 0.0, 1.0)
    else:
        raise ImageReadError(f"{path}: unsupported pixel type {data.dtype}")
    return image, ImageInfo(dtype=str(data.dtype), gray=image.ndim == 2)


def to_dtype(image: np.ndarray, dtype: str) -> np.ndarray:
    """Round a float [0, 1] image to ``uint8`` or ``uint16`` (or keep float32)."""
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if dtype == "uint8":
        return np.round(image * 255.0).astype(np.uint8)
    if dtype == "uint16":
        return np.round(image * 65535.0).astype(np.uint16)
    return image.astype(np.float32)


def _atomic_write(path: Path, write: Any, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".part",
                               dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_image(path: str | os.PathLike, image: np.ndarray, info: ImageInfo | None = None, *,
                overwrite: bool = False) -> Path:
    """Write a float [0, 1] image atomically, in the bit depth of ``info`` (uint8 by default)."""
    path = Path(path)
    dtype = info.dtype if info is not None and info.dtype in ("uint8", "uint16") else "uint8"
    data = to_dtype(image, dtype)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    _atomic_write(path, lambda tmp: iio.imwrite(tmp, data, extension=path.suffix), overwrite)
    return path


def write_json(path: str | os.PathLike, payload: dict[str, Any], *, overwrite: bool = True) -> Path:
    """Write a JSON document atomically."""
    path = Path(path)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, sort_keys=False, default=_jsonable)
            fh.write("\n")

    _atomic_write(path, write, overwrite)
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
