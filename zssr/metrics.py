"""PSNR and SSIM with the protocol of the super-resolution literature.

Both images are first rounded to uint8 (as if saved as 8-bit PNGs), converted to the Y channel of
MATLAB's ``rgb2ycbcr`` (ITU-R BT.601, Y in [16, 235]), shaved by ``shave`` pixels on every side
(``ceil(scale)`` by default) and compared in the 0..255 range. SSIM is Wang et al.'s: an 11x11
Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, statistics over the valid region only.
These are the numbers published tables (SRCNN, VDSR, EDSR, ZSSR) are comparable with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["psnr", "ssim", "to_uint8", "rgb_to_y", "prepare_pair"]

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def to_uint8(image: np.ndarray, *, data_range: float = 1.0) -> np.ndarray:
    """Round (not truncate) an image to uint8; floats are read as ``[0, data_range]``."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    if np.issubdtype(image.dtype, np.integer):
        raise TypeError(
            f"integer images other than uint8 are ambiguous here (got {image.dtype}); pass floats "
            "scaled to [0, data_range]"
        )
    scaled = np.clip(image.astype(np.float64) / data_range, 0.0, 1.0) * 255.0
    return np.round(scaled).astype(np.uint8)


def rgb_to_y(image_u8: np.ndarray) -> np.ndarray:
    """Y of MATLAB ``rgb2ycbcr`` as float64 in [16, 235]; gray input is returned as it is.

    Gray images are compared on their own values, as the published evaluation scripts do
    (``if size(im, 3) == 1, im_y = im``); mapping them to 16..235 first would compress their range
    and raise their PSNR (see ``docs/metrics.md``).

    Parameters
    ----------
    image_u8 : ndarray
        uint8 (or integer-valued) HxW, HxWx1 or HxWx3 image; a fourth channel is ignored.

    Returns
    -------
    ndarray
        float64 HxW: ``16 + (65.481 R + 128.553 G + 24.966 B) / 255`` for RGB, the values
        themselves for gray.
    """
    x = np.asarray(image_u8, dtype=np.float64)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if x.ndim == 2:
        return x
    if x.ndim != 3 or x.shape[2] < 3:
        raise ValueError(f"expected HxW, HxWx1 or HxWx3 image, got shape {image_u8.shape}")
    return 16.0 + x[:, :, :3] @ _Y_WEIGHTS


def prepare_pair(
    image: np.ndarray,
    reference: np.ndarray,
    *,
    scale: float | Sequence[float] | None = None,
    shave: int | None = None,
    y_channel: bool = True,
    data_range: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Round, convert to Y (or keep RGB) and shave both images; returns float64 arrays in 0..255."""
    a, b = np.asarray(image), np.asarray(reference)
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(
            f"image {a.shape} and reference {b.shape} differ in size; crop the reference to the "
            "output size (e.g. mod-crop the ground truth to a multiple of the scale)"
        )
    ca = 1 if a.ndim == 2 else a.shape[2]
    cb = 1 if b.ndim == 2 else b.shape[2]
    if ca != cb:
        raise ValueError(f"image has {ca} channel(s) but reference has {cb}")
    a8, b8 = to_uint8(a, data_range=data_range), to_uint8(b, data_range=data_range)
    if y_channel:
        fa, fb = rgb_to_y(a8), rgb_to_y(b8)
    else:
        fa, fb = a8.astype(np.float64), b8.astype(np.float64)
    if shave is None:
        shave = 0 if scale is None else int(math.ceil(max(np.atleast_1d(scale))))
    if shave < 0:
        raise ValueError(f"shave must be >= 0, got {shave}")
    if shave:
        if 2 * shave >= min(fa.shape[:2]):
            raise ValueError(f"shave={shave} leaves nothing of a {fa.shape[:2]} image")
        fa, fb = fa[shave:-shave, shave:-shave], fb[shave:-shave, shave:-shave]
    return fa, fb


def psnr(
    image: np.ndarray,
    reference: np.ndarray,
    *,
    scale: float | Sequence[float] | None = None,
    shave: int | None = None,
    y_channel: bool = True,
    data_range: float = 1.0,
) -> float:
    """Peak signal-to-noise ratio in dB, SR-paper protocol.

    Parameters
    ----------
    image, reference : ndarray
        Same height and width; float in ``[0, data_range]`` or uint8. Gray (HxW, HxWx1) or RGB.
    scale : float or (float, float), optional
        Super-resolution factor; sets the default ``shave`` to ``ceil(max(scale))``.
    shave : int, optional
        Border pixels removed on each side before comparing. Overrides ``scale``.
    y_channel : bool
        Compare MATLAB's Y channel (default) instead of all channels.
    data_range : float
        Value of white in float inputs.

    Returns
    -------
    float
        PSNR in dB; ``inf`` for identical images.
    """
    fa, fb = prepare_pair(
        image, reference, scale=scale, shave=shave, y_channel=y_channel, data_range=data_range
    )
    mse = float(np.mean((fa - fb) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    g = cv2.getGaussianKernel(size, sigma, cv2.CV_64F)
    return g @ g.T


def _ssim_single(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    w = _gaussian_window()

    def filt(x: np.ndarray) -> np.ndarray:
        # 'valid' region only, like MATLAB's filter2(w, x, 'valid') in Wang's ssim_index.m.
        return cv2.filter2D(x, cv2.CV_64F, w, borderType=cv2.BORDER_REFLECT)[5:-5, 5:-5]

    mu_a, mu_b = filt(a), filt(b)
    var_a = filt(a * a) - mu_a**2
    var_b = filt(b * b) - mu_b**2
    cov = filt(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


def ssim(
    image: np.ndarray,
    reference: np.ndarray,
    *,
    scale: float | Sequence[float] | None = None,
    shave: int | None = None,
    y_channel: bool = True,
    data_range: float = 1.0,
) -> float:
    """Structural similarity (Wang et al. 2004), SR-paper protocol.

    Same arguments as :func:`psnr`. With ``y_channel=False`` the per-channel SSIMs are averaged.

    References
    ----------
    Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error
    visibility to structural similarity", IEEE TIP, 2004.
    """
    fa, fb = prepare_pair(
        image, reference, scale=scale, shave=shave, y_channel=y_channel, data_range=data_range
    )
    if min(fa.shape[:2]) < 11:
        raise ValueError(f"SSIM needs at least 11x11 pixels after shaving, got {fa.shape[:2]}")
    if fa.ndim == 2:
        return _ssim_single(fa, fb)
    return float(np.mean([_ssim_single(fa[..., c], fb[..., c]) for c in range(fa.shape[2])]))
