"""Where KernelGAN looks: crops drawn with probability following the density of strong edges.

Flat regions say nothing about the blur kernel, so crop centres are drawn in proportion to how
many of the image's strongest gradients (top 3 %) lie around them.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..resize import imresize

__all__ = ["edge_probability", "CropSampler"]


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else image[..., :3] @ np.array([0.299, 0.587, 0.114])


def _strong_edges(image: np.ndarray, percent: float = 0.97) -> np.ndarray:
    gy, gx = np.gradient(_gray(image).astype(np.float64))
    magnitude = np.hypot(gx, gy)
    threshold = np.quantile(magnitude, percent)
    return (magnitude > threshold).astype(np.float64)


def edge_probability(edges: np.ndarray, crop: int) -> np.ndarray:
    """Probability of each pixel being a crop centre: edge density in a (crop/2)-box around it,
    zero where the crop would leave the image."""
    half = max(crop // 2, 1)
    h, w = edges.shape
    density = cv2.blur(edges, (half, half), borderType=cv2.BORDER_CONSTANT)
    # Centres from which a whole crop fits (at least the middle pixel for a crop-sized image).
    rows = slice(min(half, h // 2), max(h - half, h // 2 + 1))
    cols = slice(min(half, w // 2), max(w - half, w // 2 + 1))
    prob = np.zeros_like(density)
    prob[rows, cols] = density[rows, cols]
    if prob.sum() <= 0:  # no edges at all: uniform over the valid centres
        prob[rows, cols] = 1.0
    return prob / prob.sum()


class CropSampler:
    """Draws the generator's input crops and the discriminator's real crops from one image.

    Parameters
    ----------
    image : ndarray
        HxWxC float image in [0, 1].
    g_crop, d_crop : int
        Sides of the generator's input crop and of the discriminator's real crop.
    scale : int
        Downscaling factor the generator applies.
    rng : numpy.random.Generator
        Draws the crops unless a call passes its own (one sampler can serve several streams).
    """

    def __init__(self, image: np.ndarray, g_crop: int, d_crop: int, scale: int,
                 rng: np.random.Generator) -> None:
        self.image, self.g_crop, self.d_crop, self.rng = image, g_crop, d_crop, rng
        h, w = image.shape[:2]
        if min(h, w) < g_crop:
            raise ValueError(f"image of {h}x{w} is smaller than the {g_crop}-pixel crops kernel "
                             "estimation needs; use a larger image or --kernel bicubic/PATH")
        self.p_big = edge_probability(_strong_edges(image), d_crop).ravel()
        # The generator's crops are chosen where the *downscaled* image has edges, so that its
        # output (which the discriminator compares with real crops) is informative.
        small = imresize(image.astype(np.float64), 1.0 / scale)
        edges_small = np.kron(_strong_edges(small), np.ones((scale, scale)))[:h, :w]
        pad = ((0, h - edges_small.shape[0]), (0, w - edges_small.shape[1]))
        self.p_small = edge_probability(np.pad(edges_small, pad), g_crop).ravel()
        self.width = w
        # Cumulative distributions once, not per draw: ``rng.choice(n, p=prob)`` recomputes the
        # cumulative sum of the whole map on every call, a large part of an estimation iteration.
        # Searching a uniform draw in the same normalised cumulative sum is how ``choice`` itself
        # samples, so the crops are the same to the bit.
        self._cdf_big, self._cdf_small = self._cdf(self.p_big), self._cdf(self.p_small)

    @staticmethod
    def _cdf(prob: np.ndarray) -> np.ndarray:
        cdf = prob.cumsum()
        return cdf / cdf[-1]

    def _crop(self, cdf: np.ndarray, size: int, rng: np.random.Generator | None) -> np.ndarray:
        h, w = self.image.shape[:2]
        rng = self.rng if rng is None else rng
        centre = int(cdf.searchsorted(rng.random(), side="right"))
        row, col = divmod(centre, self.width)
        top = min(max(0, row - size // 2), h - size)
        left = min(max(0, col - size // 2), w - size)
        top -= top % 2  # even offsets keep the generator's subsampling phase fixed
        left -= left % 2
        return self.image[top:top + size, left:left + size]

    def generator_crop(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """A generator input crop, drawn with ``rng`` (default: the sampler's own)."""
        return self._crop(self._cdf_small, self.g_crop, rng)

    def discriminator_crop(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """A real crop for the discriminator, drawn with ``rng`` (default: the sampler's own)."""
        return self._crop(self._cdf_big, self.d_crop, rng)
