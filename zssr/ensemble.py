"""Geometric transforms, the self-ensemble with its median, and back-projection.

Used by the engine's prediction and by :func:`zssr.baselines.upscale`. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .resize import as_pair, downscale, imresize, output_shape_for

__all__ = ["transform", "untransform", "members", "mean_of_transforms", "back_projection",
           "median", "self_ensemble"]


def transform(image: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th (0-7) of the 8 flips and quarter turns of ``image`` (a view): ``k % 4``
    quarter turns, then a left-right flip for ``k >= 4``. :func:`untransform` undoes it."""
    out = np.rot90(image, k % 4)
    return out[:, ::-1] if k >= 4 else out


def untransform(image: np.ndarray, k: int) -> np.ndarray:
    """Undo :func:`transform` ``k`` (a view)."""
    out = image[:, ::-1] if k >= 4 else image
    return np.rot90(out, -(k % 4))


def members(scale: Sequence[float], enabled: bool = True) -> list[int]:
    """The transforms of a self-ensemble at ``scale`` (vertical, horizontal): all 8 for an
    isotropic scale; without quarter turns (0, 2, 4, 6) otherwise, since a quarter turn swaps
    the axes; only the identity when ``enabled`` is false."""
    if not enabled:
        return [0]
    return list(range(8)) if scale[0] == scale[1] else [0, 2, 4, 6]


def mean_of_transforms(run: Callable[[np.ndarray], np.ndarray], image: np.ndarray
                       ) -> np.ndarray:
    """The float32 mean of ``run`` over the 8 transforms of ``image``, each turned back (the
    self-ensemble of EDSR's "+" results); ``run`` must keep the image's orientation."""
    total = np.array(run(image), dtype=np.float32)
    for k in range(1, 8):
        total += untransform(run(transform(image, k)), k)
    return total * np.float32(1.0 / 8.0)


def back_projection(sr: np.ndarray, lr: np.ndarray, scale: float | Sequence[float],
                    kernel: np.ndarray | None = None, iterations: int = 1) -> np.ndarray:
    """Iterative back-projection: make ``sr`` consistent with ``lr``.

    Each iteration adds the bicubically upscaled residual ``lr - downscale(sr)``, where the
    downscale uses ``kernel`` (bicubic when ``None``), and clips to [0, 1]. An iteration that
    makes the residual larger is undone and ends the loop: bicubic upscaling is not the adjoint of
    an asymmetric kernel (camera shake, motion), and for such kernels the plain iteration can
    diverge, amplifying the frequencies where the kernel shifts phase. For symmetric kernels each
    iteration shrinks the residual and nothing is undone.

    References
    ----------
    M. Irani, S. Peleg, "Improving resolution by image registration", CVGIP 1991.
    """
    pair = as_pair(scale)
    inv = (1.0 / pair[0], 1.0 / pair[1])

    def residual_of(image: np.ndarray) -> tuple[np.ndarray, float]:
        res = lr - downscale(image, inv, kernel, output_shape=lr.shape[:2])
        return res, float(np.mean(np.square(res, dtype=np.float64)))

    if iterations < 1:
        return sr
    residual, error = residual_of(sr)
    for _ in range(iterations):
        step = np.clip(sr + imresize(residual, pair, output_shape=sr.shape[:2]), 0.0, 1.0)
        step_residual, step_error = residual_of(step)
        if step_error > error:  # diverging: keep the better image
            break
        sr, residual, error = step, step_residual, step_error
    return sr


def median(stack: np.ndarray, band: int = 256) -> np.ndarray:
    """Median over the first axis of ``stack`` (N, H, W, C), in bands of ``band`` rows, which
    bound the temporary copy that ``np.median`` makes."""
    out = np.empty_like(stack[0])
    for r in range(0, out.shape[0], band):
        out[r:r + band] = np.median(stack[:, r:r + band], axis=0)
    return out


def self_ensemble(
    upscale: Callable[[np.ndarray, int], np.ndarray],
    lr: np.ndarray,
    scale: tuple[float, float],
    kernel: np.ndarray | None = None,
    *,
    transforms: Sequence[int] = (0,),
    back_projection_iters: int = 0,
    on_member: Callable[[int], None] | None = None,
) -> np.ndarray:
    """The geometric self-ensemble of the paper: super-resolve each transform of ``lr``, turn
    each result back, back-project it, take the median, and back-project that.

    Parameters
    ----------
    upscale : callable
        ``upscale(x, n)`` super-resolves the transformed image ``x`` (ensemble member ``n``,
        from 0) to ``scale``; it may raise to stop the ensemble.
    lr : ndarray
        The HxWxC float32 input in [0, 1].
    scale : (float, float)
        Vertical and horizontal scale.
    kernel : ndarray, optional
        Downscaling kernel for back-projection (``None``: bicubic).
    transforms : sequence of int
        The members, see :func:`members`.
    back_projection_iters : int
        Iterations of :func:`back_projection`, for each member and for the median.
    on_member : callable, optional
        Called with the count of members done after each one.

    Returns
    -------
    ndarray
        float32 of shape ``output_shape_for(lr.shape, scale)`` plus channels, in [0, 1].
    """
    out_shape = output_shape_for(lr.shape, scale)
    # Members go straight into one array: a list plus np.stack would hold them twice.
    stack = np.empty((len(transforms), *out_shape, lr.shape[2]), dtype=np.float32)
    for n, k in enumerate(transforms):
        sr = upscale(np.ascontiguousarray(transform(lr, k)), n)
        sr = np.clip(sr, 0.0, 1.0)
        sr = np.ascontiguousarray(untransform(sr, k))
        if sr.shape[:2] != out_shape:
            raise AssertionError(f"ensemble member {k} has shape {sr.shape}, want {out_shape}")
        stack[n] = back_projection(sr, lr, scale, kernel, back_projection_iters)
        del sr
        if on_member is not None:
            on_member(n + 1)
    almost = median(stack) if len(transforms) > 1 else stack[0]
    del stack
    return back_projection(almost.astype(np.float32), lr, scale, kernel, back_projection_iters)
