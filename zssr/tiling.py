"""Tiled application of a local operator (a fully convolutional network) to large images.

A network of ``depth`` 3x3 convolutions sees ``depth`` pixels around each output pixel. Cutting the
image into tiles, each extended by a margin of at least that radius, and keeping only each tile's
centre therefore gives the same result as one pass over the whole image (up to float rounding),
with memory bounded by the tile size: no seams by construction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["tiled_apply"]


def tiled_apply(
    fn: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    *,
    tile: int,
    margin: int,
    scale: int = 1,
) -> np.ndarray:
    """Apply a local ``fn`` to ``image`` tile by tile.

    Parameters
    ----------
    fn : callable
        Maps an hxwxC array to an (scale*h)x(scale*w)xC' array; each output pixel may depend
        only on input pixels within ``margin`` (input pixels) of it.
    image : ndarray
        HxWxC input.
    tile : int
        Side of the kept centre of each tile; ``<= 0`` or an image no larger than one tile runs
        ``fn`` once on the whole image.
    margin : int
        Context added around each tile (the operator's receptive radius or more).
    scale : int
        Integer output/input size ratio (1 for the ZSSR network, which runs on an interpolated
        image; the factor for sub-pixel upsampling networks such as EDSR).

    Returns
    -------
    ndarray
        ``fn`` applied to the whole image, ``scale`` times its size.
    """
    h, w = image.shape[:2]
    s = int(scale)
    if s < 1 or s != scale:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    if tile <= 0 or (h <= tile and w <= tile):
        return fn(image)
    out: np.ndarray | None = None
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            ya, xa = max(y0 - margin, 0), max(x0 - margin, 0)
            yb, xb = min(y1 + margin, h), min(x1 + margin, w)
            piece = fn(image[ya:yb, xa:xb])
            if out is None:
                out = np.empty((h * s, w * s) + piece.shape[2:], dtype=piece.dtype)
            out[y0 * s:y1 * s, x0 * s:x1 * s] = piece[(y0 - ya) * s:(y1 - ya) * s,
                                                      (x0 - xa) * s:(x1 - xa) * s]
    assert out is not None
    return out
