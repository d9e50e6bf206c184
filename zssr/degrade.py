"""What an LR son goes through besides the kernel: sensor noise and JPEG compression.

ZSSR's premise is that the son should be made the way the input was made. For a photo that
means more than a blur and a downscale: its pixels carry noise, and a JPEG file carries the
blocks and ringing of its quantisation. :func:`degrade` applies both to a son, in the order a
camera applies them (noise on the pixels, then compression), so the image-specific network
learns to undo them along with the blur. Pure numpy (and Pillow's in-memory JPEG codec): no
files are read or written.

References
----------
A. Shocher, N. Cohen, M. Irani, "Zero-Shot Super-Resolution using Deep Internal Learning",
CVPR 2018 (sons degraded like the input).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

__all__ = ["SUBSAMPLINGS", "encode_jpeg", "jpeg_roundtrip", "add_noise", "degrade", "mcu_size"]

#: Chroma subsamplings a JPEG son can be encoded with (the JPEG ``J:a:b`` notation).
SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")


def mcu_size(subsampling: str) -> tuple[int, int]:
    """Height and width of a JPEG minimum coded unit for a colour image with ``subsampling``:
    the period of its block grid, luma and chroma together."""
    return {"4:4:4": (8, 8), "4:2:2": (8, 16), "4:2:0": (16, 16)}[subsampling]


def _check_quality(quality: int) -> int:
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    return int(quality)


def encode_jpeg(pixels: np.ndarray, quality: int, *, subsampling: str = "4:2:0") -> bytes:
    """The baseline JPEG file (in memory) of 8-bit ``pixels`` (HxW, HxWx1 gray or HxWx3 RGB)
    at IJG ``quality`` (1-100) with ``subsampling`` of the chroma (ignored for gray)."""
    quality = _check_quality(quality)
    if subsampling not in SUBSAMPLINGS:
        raise ValueError(f"subsampling must be one of {SUBSAMPLINGS}, got {subsampling!r}")
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8:
        raise ValueError(f"encode_jpeg takes uint8 pixels, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"a JPEG holds 1 or 3 channels, got an array of shape {arr.shape}")
    buffer = io.BytesIO()
    options = {} if arr.ndim == 2 else {"subsampling": subsampling}
    Image.fromarray(arr, "L" if arr.ndim == 2 else "RGB").save(buffer, "JPEG", quality=quality,
                                                              **options)
    return buffer.getvalue()


def jpeg_roundtrip(image: np.ndarray, quality: int, *, subsampling: str = "4:2:0",
                   offset: Sequence[int] = (0, 0)) -> np.ndarray:
    """``image`` encoded as a baseline JPEG at ``quality`` and decoded again.

    Parameters
    ----------
    image : ndarray
        HxWx1 or HxWx3 float in [0, 1] (HxW is taken as gray). Rounded to 8 bits first, as a
        JPEG encoder sees it.
    quality : int
        1..100 on the IJG scale (libjpeg's and Pillow's): the standard quantisation tables
        scaled by it.
    subsampling : {'4:4:4', '4:2:2', '4:2:0'}
        Chroma subsampling of a colour image (ignored for gray).
    offset : (int, int)
        Where the block grid starts, as (rows, columns) of edge-replicated padding put above and
        to the left of the image before encoding and cut away after decoding, so that the 8x8
        blocks (16x16 coded units with 4:2:0) need not start at the image's corner: the first
        whole block starts at row ``(8 - rows) % 8``, column ``(8 - columns) % 8``.

    Returns
    -------
    ndarray
        float32, the shape of ``image``, values ``k / 255``.
    """
    arr = np.asarray(image)
    squeeze = arr.ndim == 2
    if squeeze:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3):
        raise ValueError(f"a JPEG holds 1 or 3 channels, got an array of shape {arr.shape}")
    dy, dx = (int(v) for v in offset)
    if dy < 0 or dx < 0:
        raise ValueError(f"offset must be >= 0, got {tuple(offset)}")
    pixels = np.clip(np.rint(arr.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    if dy or dx:
        pixels = np.pad(pixels, ((dy, 0), (dx, 0), (0, 0)), mode="edge")
    data = encode_jpeg(pixels, quality, subsampling=subsampling)
    with Image.open(io.BytesIO(data)) as decoded:
        out = np.asarray(decoded.convert("L" if arr.shape[2] == 1 else "RGB"))
    out = out.reshape(out.shape[0], out.shape[1], -1)[dy:, dx:]
    out = out.astype(np.float32) / np.float32(255.0)
    return out[:, :, 0] if squeeze else out


def add_noise(image: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """``image`` plus white Gaussian noise of standard deviation ``std``, clipped to [0, 1]."""
    if std <= 0:
        return image
    noisy = image + rng.standard_normal(image.shape).astype(image.dtype) * std
    return np.clip(noisy, 0.0, 1.0)


def degrade(lr_son: np.ndarray, rng: np.random.Generator, *, noise_std: float = 0.0,
            jpeg_quality: int = 0, jpeg_subsampling: str = "4:2:0") -> np.ndarray:
    """A son with the input's noise and compression: Gaussian noise of ``noise_std``, then a
    JPEG round trip at ``jpeg_quality`` (0: none) with ``jpeg_subsampling`` and a random grid
    offset within one coded unit. Values stay in [0, 1]."""
    out = add_noise(lr_son, noise_std, rng) if noise_std > 0 else np.clip(lr_son, 0.0, 1.0)
    if jpeg_quality:
        mh, mw = mcu_size(jpeg_subsampling) if out.shape[-1] == 3 else (8, 8)
        offset = (int(rng.integers(mh)), int(rng.integers(mw)))
        out = jpeg_roundtrip(out, jpeg_quality, subsampling=jpeg_subsampling, offset=offset)
    return out
