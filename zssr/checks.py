"""Checks on the arrays that the public functions take, shared so they all refuse alike.

Every entry point that takes an image array (``ZSSR.run``, ``baselines.upscale``,
``baselines.bicubic``, ``estimate_kernel``) works on float images in [0, 1]. An integer array
would otherwise be taken at face value (0..255 read as far above white) and give a plausible-
looking but wrong result, so it is refused with the conversion that fixes it. A float array
whose values leave [0, 1] by more than a rounding error (0..255 floats, say) is refused alike
rather than clipped to a nearly white image.
"""

from __future__ import annotations

import numpy as np

#: How far outside [0, 1] a float value may be (rounding in a caller's arithmetic) and still
#: be clipped rather than refused.
TOLERANCE = 1e-3


def float_image(image: np.ndarray, *, channels: tuple[int, ...] = (1, 3)
                ) -> tuple[np.ndarray, bool]:
    """Validate an image array and return it as float32 HxWxC, clipped to [0, 1].

    Parameters
    ----------
    image : ndarray
        HxW or HxWxC float image with values in [0, 1]; values within :data:`TOLERANCE` outside
        are clipped, values further out are refused.
    channels : tuple of int
        Allowed channel counts C.

    Returns
    -------
    image : ndarray
        float32 HxWxC (a copy; the input is never modified).
    squeezed : bool
        True when the input was HxW, so that callers can return the same layout.

    Raises
    ------
    TypeError
        For a non-float dtype, naming the conversion (``/ 255`` for uint8, ``/ 65535`` for
        uint16).
    ValueError
        For a wrong shape, an empty image, NaN/infinite values, or values outside [0, 1]
        beyond :data:`TOLERANCE` (naming the range found and the division that fixes it).
    """
    image = np.asarray(image)
    if not np.issubdtype(image.dtype, np.floating):
        if np.issubdtype(image.dtype, np.integer):
            top = np.iinfo(image.dtype).max
            fix = f"img.astype(np.float32) / {top}"
        else:
            fix = "a float array in [0, 1]"
        raise TypeError(
            f"image must be float in [0, 1], got dtype {image.dtype}; convert with {fix} "
            "or read files with zssr.io.read_image"
        )
    squeezed = image.ndim == 2
    if squeezed:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in channels:
        allowed = " or ".join(f"HxWx{c}" for c in channels)
        raise ValueError(f"image must be HxW or {allowed}, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty (shape {image.shape})")
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or infinite values")
    _check_range(image)
    out = image.astype(np.float32)  # always a copy
    return np.clip(out, 0.0, 1.0, out=out), squeezed


def _check_range(image: np.ndarray) -> None:
    low, high = float(image.min()), float(image.max())
    if low >= -TOLERANCE and high <= 1 + TOLERANCE:
        return
    if low >= 0 and high <= 255:
        fix = "divide by 255 (img / 255) for 8-bit data"
    elif low >= 0 and high <= 65535:
        fix = "divide by 65535 (img / 65535) for 16-bit data"
    else:
        fix = "rescale it to [0, 1]"
    raise ValueError(f"image values must be in [0, 1], found {low:.4g}..{high:.4g} (outside "
                     f"[0, 1]); {fix} before passing it")
