"""How much white Gaussian noise an image carries, measured from the image alone.

ZSSR trains on sons made the way the input was made: :func:`zssr.degrade.degrade` gives every LR
son Gaussian noise of ``noise_std`` so that the image-specific network learns to remove the
input's noise along with its blur. That only works when ``noise_std`` matches the input, and a
photo comes without a label saying how noisy it is. :func:`estimate_noise_std` measures it, once
per input image before training, in the image's own units (the range 0..1).

The method is the patch-PCA estimator of Chen, Zhu and Heng (ICCV 2015): the covariance of small
patches of a natural image has a few large eigenvalues (the image's structure) and many small
ones, and white noise adds its variance equally to all of them, so the least energetic principal
directions measure the noise. Used as published it reads texture as noise in textured images
at low noise levels, so three changes follow the weak-texture idea of Liu, Tanaka and Okutomi
(2013) while keeping every choice independent of the noise it measures:

* the pixels are split like a chessboard. The noise is read on the white squares only; which
  patches are flat, and which principal directions are quiet, is decided on the black squares.
  White noise on the white squares is independent of both decisions, so picking the flattest
  patches or the quietest directions cannot pick the patches or directions whose noise happened
  to come out small (both do, badly, when one sample serves for choosing and measuring);
* only weak-texture patches are measured: those whose texture statistic (squared differences
  between diagonal neighbours on the black squares) is below the median that statistic would
  have on pure noise of the current estimate, iterated to a fixed point;
* patches touching the ends of the range are skipped, because clipping squeezes the noise there.

A colour image is measured as one: a patch holds all three channels, the noise being independent
per channel with one standard deviation. In natural colour images the differences between the
channels carry much less fine detail than the channels themselves, so the quietest directions
are mostly chromatic ones and texture biases the estimate much less than in a grey image. The
other side of it: noise that is the same in all three channels, or whose chromatic part has
been smoothed away (by a JPEG's 4:2:0 chroma subsampling, say), is mostly not seen. A grey
image has no such escape: where fine texture fills it (grass, foliage) with no flat patches
left, part of the texture is read as noise.

An 8-bit image carries rounding noise of variance ``1 / 12`` of a grey level squared, which is
subtracted. What is left on a clean natural image is mostly residual texture, not noise: results
below :data:`NOISE_FLOOR` are reported as exactly 0.0, meaning "no noise to model".

References
----------
G. Chen, F. Zhu, P. A. Heng, "An Efficient Statistical Method for Image Noise Level Estimation",
ICCV 2015.

X. Liu, M. Tanaka, M. Okutomi, "Single-Image Noise Level Estimation for Blind Denoising",
IEEE Transactions on Image Processing 22(12), 2013.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

__all__ = ["NOISE_FLOOR", "MODEL_FROM", "MODEL_MIN_PIXELS", "estimate_noise_std",
           "noise_to_model"]

#: Estimates below this (one grey level of an 8-bit image) are reported as 0.0: above the 8-bit
#: rounding noise (0.29 grey levels, which is subtracted anyway) and the residual texture of clean
#: natural images, and well below the weakest noise worth modelling (2 grey levels).
NOISE_FLOOR = 1.0 / 255.0

#: ``noise_std="auto"`` models noise measured at this level or above. Small or strongly textured
#: clean images (downscaled ones especially) can read up to about 3 grey levels, and weaker
#: noise than this costs a plain run little.
MODEL_FROM = 3.5 / 255.0

#: ``noise_std="auto"`` measures images of at least this many pixels (about 181x181): in
#: smaller ones too few flat patches are left to tell noise from texture.
MODEL_MIN_PIXELS = 32768

#: Smallest height and width accepted: a few dozen patches at least.
MIN_SIZE = 16

_PATCH = 8  # patch side: 32 white pixels per channel
_MAX_PATCHES = 20000  # patches sampled per chessboard colour; bounds the time on large images
_QUIET_FRACTION = 0.25  # share of the principal directions (the least energetic) read as noise
_FIRST_FRACTION = 0.1  # flattest share of the patches measured before a noise level is known
_CLIP_MARGIN = 3.0  # patches whose mean is within this many sigmas of 0 or 1 are skipped
_ITERATIONS = 6
_QUANT_VAR_8BIT = 1.0 / 12.0 / 255.0**2


def _check_image(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype.kind != "f":
        hint = " (divide 8-bit data by 255)" if array.dtype.kind in "ui" else ""
        raise ValueError(f"image must be a float array in [0, 1], got dtype {array.dtype}{hint}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ValueError(
            f"image must be HxW, HxWx1 or HxWx3, got an array of shape {np.shape(image)}")
    if min(array.shape[:2]) < MIN_SIZE:
        raise ValueError(f"image is too small to estimate noise: {array.shape[0]}x"
                         f"{array.shape[1]}, need at least {MIN_SIZE}x{MIN_SIZE}")
    lo, hi = array.min(), array.max()
    if not (lo >= 0.0 and hi <= 1.0):  # also catches NaN
        raise ValueError(f"image values must be finite and in [0, 1], got min {lo}, max {hi}")
    return array


@functools.cache
def _pair_masks(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the diagonal neighbours ``(i, j), (i + 1, j + 1)`` (first mask, indexed by
    ``(i, j)``) and ``(i + 1, j), (i, j + 1)`` (second mask) of a ``size`` x ``size`` patch are
    both black squares (row + column even)."""
    parity = np.add.outer(np.arange(size - 1), np.arange(size - 1)) % 2
    return (parity == 0).astype(np.float32), (parity == 1).astype(np.float32)


def _texture(patches: np.ndarray) -> np.ndarray:
    """Texture statistic of each of ``patches`` (N, C, size, size): the sum of squared
    differences between diagonal neighbours on the black squares."""
    down_right, down_left = _pair_masks(patches.shape[-1])
    a = patches[..., 1:, 1:] - patches[..., :-1, :-1]
    b = patches[..., 1:, :-1] - patches[..., :-1, 1:]
    np.square(a, out=a)
    np.square(b, out=b)
    return np.einsum("ncij,ij->n", a, down_right) + np.einsum("ncij,ij->n", b, down_left)


@functools.cache
def _chessboard(size: int) -> np.ndarray:
    """Flat indices of a ``size`` x ``size`` patch, its black squares (row + column even)
    first, then its white squares."""
    parity = (np.add.outer(np.arange(size), np.arange(size)) % 2).ravel()
    return np.concatenate([np.flatnonzero(parity == 0), np.flatnonzero(parity == 1)])


def _squares(patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The black and the white squares of ``patches`` (N, C, size, size), each
    (N, C, size**2 / 2)."""
    n, c, size, _ = patches.shape
    ordered = np.take(patches.reshape(n, c, size * size), _chessboard(size), axis=2)
    half = size * size // 2
    return ordered[:, :, :half], ordered[:, :, half:]


@functools.cache
def _flat_threshold(size: int, channels: int) -> float:
    """Median of :func:`_texture` on a patch of unit-variance white noise.

    The statistic is a quadratic form ``x^T A x`` of the patch; it is approximated by the gamma
    distribution of the same mean and variance, whose median is taken with the Wilson-Hilferty
    approximation (scipy.stats is not imported for one number: its import alone would take
    longer than the estimate).
    """
    index = np.arange(size * size).reshape(size, size)
    down_right, down_left = (m.astype(bool) for m in _pair_masks(size))
    first = np.concatenate([index[1:, 1:][down_right], index[1:, :-1][down_left]])
    second = np.concatenate([index[:-1, :-1][down_right], index[:-1, 1:][down_left]])
    diff = np.zeros((first.size, size * size))
    diff[np.arange(first.size), first] = 1.0
    diff[np.arange(first.size), second] = -1.0
    form = diff.T @ diff
    mean = channels * np.trace(form)
    var = 2.0 * channels * np.trace(form @ form)
    shape, scale = mean**2 / var, var / mean
    return float(shape * (1.0 - 1.0 / (9.0 * shape)) ** 3 * scale)


def _corners(n_rows: int, n_cols: int, parity: int, max_count: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners ``(y, x)`` with ``(y + x) % 2 == parity``, evenly spread over the image
    and at most about ``max_count`` of them: a deterministic subsample of all such patches."""
    half = (n_cols - 2) // 2 + 1  # columns 2k + 1 must stay below n_cols
    scale = max(1.0, np.sqrt(n_rows * half / max_count))
    rows = np.unique(np.linspace(0, n_rows - 1, max(1, int(n_rows / scale))).round()).astype(int)
    cols = 2 * np.unique(np.linspace(0, half - 1, max(1, int(half / scale))).round()).astype(int)
    x = cols[None, :] + (rows[:, None] + parity) % 2
    return np.broadcast_to(rows[:, None], x.shape), x


def _least_clipped(squares: np.ndarray, count: int) -> np.ndarray:
    """Mask of the patches whose ``squares`` (N, C, n) touch neither 0 nor 1 or, when fewer than
    ``count`` are such (a mostly saturated image), of the ``count`` or so least clipped ones."""
    n_clipped = ((squares <= 0.0) | (squares >= 1.0)).sum(axis=(1, 2))
    count = min(count, len(n_clipped))
    return n_clipped <= np.partition(n_clipped, count - 1)[count - 1]


def _flattest(candidates: np.ndarray, texture: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` of ``candidates`` with the least ``texture`` (ties in index order)."""
    return candidates[np.argsort(texture[candidates], kind="stable")[:count]]


def estimate_noise_std(image: np.ndarray, *, floor: float = NOISE_FLOOR) -> float:
    """Standard deviation of the additive white Gaussian noise in ``image``.

    Parameters
    ----------
    image : ndarray
        HxW, HxWx1 or HxWx3 float array with values in [0, 1], at least 16x16. Colour noise is
        taken to be independent per channel with one standard deviation.
    floor : float, keyword-only
        Estimates below it are returned as 0.0 ("no noise to model"). The default,
        :data:`NOISE_FLOOR` (one grey level of an 8-bit image), sits above what clean natural
        images give (8-bit rounding is subtracted; residual texture is not) and below the
        weakest noise worth modelling. ``floor=0`` returns the raw estimate.

    Returns
    -------
    float
        The standard deviation in the image's units (``5 / 255`` for noise of 5 grey levels), or
        0.0 below ``floor``. Deterministic: large images are subsampled on a fixed grid.

    Raises
    ------
    ValueError
        If ``image`` is not a float array of one of those shapes, is smaller than 16x16, or has
        values outside [0, 1] (or not finite).

    Notes
    -----
    Patch PCA (Chen et al.) restricted to weak-texture patches (Liu et al.), with the pixels
    split like a chessboard so that the patches and principal directions are chosen on one half
    of the pixels and the noise is measured on the other, independent half; see the module
    docstring. What is not white noise independent per channel is mostly not found: JPEG
    artefacts, and in a colour image noise common to all channels or noise whose chroma a
    JPEG has subsampled away.

    References
    ----------
    G. Chen, F. Zhu, P. A. Heng, "An Efficient Statistical Method for Image Noise Level
    Estimation", ICCV 2015.

    X. Liu, M. Tanaka, M. Okutomi, "Single-Image Noise Level Estimation for Blind Denoising",
    IEEE Transactions on Image Processing 22(12), 2013.
    """
    array = _check_image(image)
    # The matrix products here are small: extra BLAS threads only wait for one another, which on
    # busy cores (the network's backend, another job) costs far more than the products.
    with threadpool_limits(limits=1, user_api="blas"):
        sigma = _estimate(array)
    return sigma if sigma >= floor else 0.0


def _estimate(array: np.ndarray) -> float:
    """The raw estimate for a checked HxWxC ``array``: see :func:`estimate_noise_std`."""
    size, channels = _PATCH, array.shape[2]
    n_rows, n_cols = array.shape[0] - size + 1, array.shape[1] - size + 1
    windows = sliding_window_view(array, (size, size), axis=(0, 1))  # rows, cols, C, size, size
    sample = array[::3, ::3]
    eight_bit = bool(np.all(np.abs(sample * 255.0 - np.rint(sample * 255.0)) < 1e-3))

    # Patches with a black top-left corner: their black squares are the image's black squares.
    rows, cols = _corners(n_rows, n_cols, 0, _MAX_PATCHES)
    patches = windows[rows, cols].reshape(-1, channels, size, size).astype(np.float32,
                                                                           copy=False)
    texture = _texture(patches)
    on_black, on_white = _squares(patches)
    level = on_black.mean(axis=2)
    measured = on_white.reshape(len(patches), -1).astype(np.float64)
    n_dims = measured.shape[1]

    # Patches with a white top-left corner: their "white" squares are the image's black ones,
    # in the same arrangement, so their principal directions apply to ``measured``.
    rows, cols = _corners(n_rows, n_cols, 1, _MAX_PATCHES)
    shifted = windows[rows, cols].reshape(-1, channels, size, size)
    _, learn = _squares(shifted)
    learn = learn[_least_clipped(learn, 4 * n_dims)]
    learn = learn.reshape(len(learn), -1).astype(np.float64)
    learn -= learn.mean(axis=0)
    _, vectors = np.linalg.eigh(learn.T @ learn / len(learn))  # ascending eigenvalues
    quiet = vectors[:, : max(1, int(_QUIET_FRACTION * n_dims))]

    min_count = min(4 * n_dims, len(measured))
    unclipped = _least_clipped(on_black, min_count)
    threshold = _flat_threshold(size, channels)
    variance = None
    for _ in range(_ITERATIONS):
        usable = unclipped
        if variance is not None:
            margin = _CLIP_MARGIN * np.sqrt(variance)
            away = usable & ((level > margin) & (level < 1.0 - margin)).all(axis=1)
            if away.sum() >= min_count:
                usable = away
        candidates = np.flatnonzero(usable)
        if variance is None:
            chosen = _flattest(candidates, texture, int(_FIRST_FRACTION * len(candidates)))
        else:
            chosen = candidates[texture[candidates] < threshold * variance]
        if len(chosen) < min_count:
            chosen = _flattest(candidates, texture, min_count)
        flat = measured[chosen]
        projected = (flat - flat.mean(axis=0)) @ quiet
        update = float(np.mean(np.square(projected)))
        converged = variance is not None and abs(update - variance) <= 1e-3 * variance
        variance = update
        if converged:
            break

    if eight_bit:
        variance -= _QUANT_VAR_8BIT
    return float(np.sqrt(max(variance, 0.0)))


def noise_to_model(image: np.ndarray) -> tuple[float, float | None]:
    """The noise std that ``noise_std="auto"`` gives an input's sons, and the measurement.

    Returns
    -------
    modelled : float
        :func:`estimate_noise_std` when the image has at least :data:`MODEL_MIN_PIXELS` pixels
        and the estimate is at least :data:`MODEL_FROM`; else 0.0 (a clean input's plain run).
    measured : float or None
        The estimate, or None for an image too small to measure.
    """
    array = np.asarray(image)
    if array.shape[0] * array.shape[1] < MODEL_MIN_PIXELS or min(array.shape[:2]) < MIN_SIZE:
        return 0.0, None
    measured = estimate_noise_std(array)
    return (measured if measured >= MODEL_FROM else 0.0), measured
