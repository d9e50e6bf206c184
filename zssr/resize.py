"""MATLAB-compatible image resizing on float arrays.

Two operations live here:

* :func:`imresize` reproduces MATLAB's ``imresize(img, scale, 'bicubic')`` on floating-point
  data: the Keys cubic kernel with ``a = -0.5``, a kernel widened by ``1 / scale`` (antialiasing)
  only when shrinking, MATLAB's coordinate mapping ``u = (x + 0.5) / scale - 0.5`` (0-based),
  symmetric (mirror) borders and separable passes, one axis at a time. Scales may differ per axis
  and the output shape can be given explicitly so that odd sizes round-trip exactly.
* :func:`downscale_with_kernel` models ``LR = (HR correlated with k), sampled every 1/scale pixels``
  for an arbitrary 2-D kernel ``k``. The kernel's centre of mass is placed on MATLAB's sampling
  grid, so a kernel-downscaled image and a bicubic-downscaled image are aligned (no half-pixel
  shift).

Both are pure functions of their arguments. Each axis is a band of taps (cached per axis length);
regular bands (integer and simple rational factors) run as filtering, in time linear in the image
size, others as a dense matrix product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import cv2
import numpy as np

__all__ = ["imresize", "downscale_with_kernel", "downscale", "output_shape_for", "as_pair",
           "cubic"]

ScaleLike = float | Sequence[float]


def as_pair(scale: ScaleLike) -> tuple[float, float]:
    """Return ``scale`` as a ``(vertical, horizontal)`` pair of floats.

    Parameters
    ----------
    scale : float or sequence of two floats
        One scale for both axes, or one per axis.
    """
    if np.isscalar(scale):
        value = float(scale)  # type: ignore[arg-type]
        return value, value
    values = tuple(float(s) for s in scale)  # type: ignore[union-attr]
    if len(values) != 2:
        raise ValueError(f"scale must be a number or a (vertical, horizontal) pair, got {scale!r}")
    return values  # type: ignore[return-value]


def output_shape_for(shape: Sequence[int], scale: ScaleLike) -> tuple[int, int]:
    """Output (height, width) MATLAB gives for ``shape`` resized by ``scale``: ``ceil(n * s)``."""
    sv, sh = as_pair(scale)
    # The tiny tolerance keeps e.g. 85 * (1 / 1.5) * 1.5 from rounding up to 128 + 1.
    return (
        int(np.ceil(shape[0] * sv - 1e-9)),
        int(np.ceil(shape[1] * sh - 1e-9)),
    )


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1) + (
        -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    ) * ((ax > 1) & (ax <= 2))


def _linear(x: np.ndarray) -> np.ndarray:
    """Triangle (tent) kernel."""
    ax = np.abs(x)
    return (1.0 - ax) * (ax <= 1)


_KERNELS = {"cubic": (cubic, 4.0), "linear": (_linear, 2.0)}


def _mirror(indices: np.ndarray, length: int) -> np.ndarray:
    """Fold integer indices into ``[0, length)`` by symmetric reflection (MATLAB 'symmetric')."""
    period = 2 * length
    folded = np.mod(indices, period)
    return np.where(folded >= length, period - 1 - folded, folded)


def _clamp(indices: np.ndarray, length: int) -> np.ndarray:
    """Clamp integer indices into ``[0, length)`` (replicate the edge pixel)."""
    return np.clip(indices, 0, length - 1)


_BORDERS = {"symmetric": _mirror, "replicate": _clamp}


@dataclass(frozen=True, eq=False)
class _Taps:
    """One axis of a separable linear resampler, as a band: output ``i`` is
    ``sum_t weights[i, t] * x[fold(left[i] + t)]`` (``fold`` mirrors or clamps at the borders).

    ``period`` and ``stride`` describe the band's regularity: rows ``i`` and ``i + period`` carry
    the same weights, ``stride`` input pixels apart (e.g. x2: period 2, stride 1; /2: period 1,
    stride 2; x1.5: period 3, stride 2). ``period`` is 0 when there is no such regularity.
    """

    in_len: int
    left: np.ndarray
    weights: np.ndarray
    fold: Callable[[np.ndarray, int], np.ndarray]
    period: int
    stride: int

    @cached_property
    def window(self) -> tuple[int, np.ndarray]:
        """First input position the band reads (may be negative) and the folded input index of
        every position from there to the last one read: the padded copy filtering works on."""
        lo = int(self.left.min())
        hi = int(self.left.max()) + self.weights.shape[1]
        return lo, self.fold(np.arange(lo, hi), self.in_len)

    @cached_property
    def dense(self) -> np.ndarray:
        """The band as a dense (out_len, in_len) matrix (border folding included), built once
        (bands are cached per axis length, so small crops in the sampler reuse it)."""
        out_len, n = self.weights.shape
        matrix = np.zeros((out_len, self.in_len), dtype=np.float64)
        indices = self.fold(self.left[:, None] + np.arange(n)[None, :], self.in_len)
        np.add.at(matrix, (np.repeat(np.arange(out_len), n), indices.ravel()),
                  self.weights.ravel())
        return matrix


def _regularity(left: np.ndarray, weights: np.ndarray, max_period: int = 8) -> tuple[int, int]:
    n = len(left)
    for period in range(1, min(max_period, n // 2) + 1):
        steps = left[period:] - left[:-period]
        if (np.all(steps == steps[0])
                and np.allclose(weights[period:], weights[:-period], rtol=0, atol=1e-12)):
            return period, int(steps[0])
    return 0, 0


def _taps(in_len: int, left: np.ndarray, weights: np.ndarray, border: str) -> _Taps:
    period, stride = _regularity(left, weights)
    return _Taps(in_len, left, weights, _BORDERS[border], period, stride)


@lru_cache(maxsize=256)
def _resize_taps(
    in_len: int, out_len: int, scale: float, method: str, antialias: bool,
    border: str = "symmetric",
) -> _Taps:
    """One axis of MATLAB's imresize."""
    fn, width = _KERNELS[method]
    if scale < 1.0 and antialias:
        def kernel(x: np.ndarray) -> np.ndarray:
            return scale * fn(scale * x)
        width = width / scale
    else:
        kernel = fn
    centres = (np.arange(out_len) + 0.5) / scale - 0.5
    left = np.floor(centres - width / 2.0).astype(np.int64)
    taps = int(np.ceil(width)) + 2
    weights = kernel(centres[:, None] - (left[:, None] + np.arange(taps)[None, :]))
    weights /= weights.sum(axis=1, keepdims=True)
    return _taps(in_len, left, weights, border)


# Below this many input pixels along the axis a dense matrix product is as fast as filtering.
_FILTER_MIN_LEN = 64


def _apply_axis(image: np.ndarray, taps: _Taps, axis: int) -> np.ndarray:
    """Apply one axis's resampler: banded filtering where the band is regular (integer and
    simple rational factors; time linear in the image size), else a dense matrix product."""
    moved = np.moveaxis(image, axis, 0)
    out_len = len(taps.left)
    if (taps.period == 0 or taps.in_len < _FILTER_MIN_LEN
            or image.dtype not in (np.float32, np.float64)):
        m = taps.dense.astype(image.dtype, copy=False)
        return np.moveaxis(np.tensordot(m, moved, axes=([1], [0])), 0, axis)
    flat = moved.reshape(taps.in_len, -1)
    lo, index = taps.window
    padded = np.ascontiguousarray(flat[index])
    out = np.empty((out_len, flat.shape[1]), dtype=image.dtype)
    for phase in range(taps.period):
        rows = len(range(phase, out_len, taps.period))
        # Correlation with the phase's weights, anchored at the first tap: filtered[r] is
        # sum_t w[t] * padded[r + t]; rows that would read past the end are never taken.
        kernel = taps.weights[phase][:, None].astype(image.dtype)
        filtered = cv2.filter2D(padded, -1, kernel, anchor=(0, 0),
                                borderType=cv2.BORDER_CONSTANT)
        start = int(taps.left[phase]) - lo
        out[phase::taps.period] = filtered[start:start + taps.stride * (rows - 1) + 1:taps.stride]
    return np.moveaxis(out.reshape(out_len, *moved.shape[1:]), 0, axis)


def _float_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"{name} must be HxW or HxWxC, got shape {image.shape}")
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(
            f"{name} must be a float array (convert with img.astype(np.float32) / 255), "
            f"got dtype {image.dtype}"
        )
    return image


def _target(in_shape: Sequence[int], scale: ScaleLike | None,
            output_shape: Sequence[int] | None) -> tuple[tuple[float, float], tuple[int, ...]]:
    """The per-axis scales and the output shape of a resize, checked."""
    if scale is None and output_shape is None:
        raise ValueError("give scale, output_shape, or both")
    if scale is None:
        assert output_shape is not None
        scales = (output_shape[0] / in_shape[0], output_shape[1] / in_shape[1])
    else:
        scales = as_pair(scale)
    if min(scales) <= 0 or not np.all(np.isfinite(scales)):
        raise ValueError(f"scale must be positive and finite, got {scale!r}")
    out_shape = (
        tuple(int(n) for n in output_shape) if output_shape is not None
        else output_shape_for(in_shape, scales)
    )
    return scales, out_shape


def imresize(
    image: np.ndarray,
    scale: ScaleLike | None = None,
    *,
    output_shape: Sequence[int] | None = None,
    method: str = "cubic",
    antialias: bool = True,
    border: str = "symmetric",
) -> np.ndarray:
    """Resize a float image like MATLAB's ``imresize``.

    Parameters
    ----------
    image : ndarray
        Float array, HxW or HxWxC. Values are not clipped.
    scale : float or (float, float), optional
        Scale factor, one for both axes or ``(vertical, horizontal)``. Defaults to
        ``output_shape / input_shape`` per axis when only ``output_shape`` is given.
    output_shape : (int, int), optional
        Explicit output (height, width). Defaults to ``ceil(input_shape * scale)``. Give it with
        ``scale`` to round-trip odd sizes (e.g. 85 -> 43 -> 85 at scale 0.5 / 2).
    method : {'cubic', 'linear'}
        Interpolation kernel; ``'cubic'`` is Keys' cubic with a = -0.5.
    antialias : bool
        Widen the kernel by ``1 / scale`` when shrinking (MATLAB's default).
    border : {'symmetric', 'replicate'}
        How pixels beyond the edge are read: mirrored (MATLAB's documented ``imresize``) or the
        edge pixel repeated (what the older MATLAB that made the classic Set5/Set14/BSD100 LR
        files did, per their bit-exact regeneration).

    Returns
    -------
    ndarray
        The resized image, same dtype and channel layout as ``image``.

    References
    ----------
    R. Keys, "Cubic convolution interpolation for digital image processing", IEEE TASSP, 1981.
    """
    image = _float_image(image)
    if method not in _KERNELS:
        raise ValueError(f"method must be one of {sorted(_KERNELS)}, got {method!r}")
    if border not in _BORDERS:
        raise ValueError(f"border must be one of {sorted(_BORDERS)}, got {border!r}")
    in_shape = image.shape[:2]
    scales, out_shape = _target(in_shape, scale, output_shape)
    out = image
    # MATLAB resizes along the dimension with the smaller scale first (fewer operations).
    for axis in np.argsort(scales, kind="stable"):
        axis = int(axis)
        if out_shape[axis] == in_shape[axis] and scales[axis] == 1.0:
            continue
        taps = _resize_taps(in_shape[axis], out_shape[axis], scales[axis], method, antialias,
                            border)
        out = _apply_axis(out, taps, axis)
    return out


@lru_cache(maxsize=256)
def _sample_taps(in_len: int, out_len: int, scale: float, offset: float) -> _Taps:
    """Linear-interpolation sampler at ``(i + 0.5) / scale - 0.5 + offset`` (mirrored border)."""
    positions = (np.arange(out_len) + 0.5) / scale - 0.5 + offset
    left = np.floor(positions).astype(np.int64)
    frac = positions - left
    return _taps(in_len, left, np.stack([1.0 - frac, frac], axis=1), "symmetric")


def downscale_with_kernel(
    image: np.ndarray,
    kernel: np.ndarray,
    scale: ScaleLike,
    *,
    output_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """Blur ``image`` with a 2-D ``kernel`` and subsample it by ``scale`` (< 1 shrinks).

    The image is correlated with the kernel (symmetric border), then sampled on MATLAB's grid:
    output pixel ``i`` sits at input coordinate ``(i + 0.5) / scale - 0.5``. The kernel's centre of
    mass, not its array centre, is put on that coordinate; a fractional offset (e.g. the half pixel
    of an odd-sized kernel at x2) is taken by linear interpolation of the filtered image. This is
    the correct form of the official code's ``kernel_shift`` (whose integer division shifted
    outputs by half a pixel in Python 3).

    Parameters
    ----------
    image : ndarray
        Float array, HxW or HxWxC.
    kernel : ndarray
        2-D, finite, non-zero sum; normalised to sum 1 here.
    scale : float or (float, float)
        Downscaling factor(s), e.g. 0.5 for x2.
    output_shape : (int, int), optional
        Defaults to ``ceil(input_shape * scale)``.

    Returns
    -------
    ndarray
        The downscaled image, same dtype as ``image``.
    """
    image = _float_image(image)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or not np.all(np.isfinite(kernel)) or kernel.sum() <= 0:
        raise ValueError("kernel must be a finite 2-D array with a positive sum")
    kernel = kernel / kernel.sum()
    scales = as_pair(scale)
    if max(scales) > 1.0:
        raise ValueError(f"downscale_with_kernel shrinks: scale must be <= 1 on both axes (e.g. "
                         f"0.5 for x2), got {scale!r}")
    out_shape = (
        tuple(int(n) for n in output_shape) if output_shape is not None
        else output_shape_for(image.shape[:2], scales)
    )
    grid = np.indices(kernel.shape, dtype=np.float64)
    centre = [(grid[a] * kernel).sum() for a in (0, 1)]
    work = image.astype(np.float32 if image.dtype == np.float32 else np.float64, copy=False)
    filtered = cv2.filter2D(
        work, -1, kernel.astype(work.dtype), borderType=cv2.BORDER_REFLECT
    )
    if filtered.ndim == 2 and image.ndim == 3:
        filtered = filtered[:, :, None]
    out = filtered
    for axis in (0, 1):
        # filter2D anchors the kernel at index size // 2; move the sample onto the centre of mass.
        offset = (kernel.shape[axis] // 2) - centre[axis]
        taps = _sample_taps(image.shape[axis], out_shape[axis], scales[axis], offset)
        out = _apply_axis(out, taps, axis)
    return out.astype(image.dtype, copy=False)


def downscale(image: np.ndarray, scale: ScaleLike, kernel: np.ndarray | None, *,
              output_shape: Sequence[int] | None = None) -> np.ndarray:
    """Shrink ``image`` by ``scale`` (<= 1 per axis) the way an image of that kernel was made:
    MATLAB's bicubic :func:`imresize` for ``kernel=None``, else :func:`downscale_with_kernel`."""
    if kernel is None:
        return imresize(image, scale, output_shape=output_shape)
    return downscale_with_kernel(image, kernel, scale, output_shape=output_shape)
