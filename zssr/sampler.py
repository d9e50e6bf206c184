"""HR-father / LR-son training pairs drawn from the test image itself (ZSSR's internal data).

An HR father is a crop of the input (or, in gradual SR, of an earlier output), possibly rotated,
mirrored or affinely warped; its LR son is the father downscaled by the current scale with the
current kernel, plus optional noise. The network learns son -> father and is then applied to the
input itself, which plays the part of a son.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .degrade import degrade
from .resize import downscale, imresize, output_shape_for

__all__ = ["FatherSource", "sample_hr_father", "father_to_son", "interpolate_son",
           "gradient_weight_map", "with_weight_maps", "test_regions"]


@dataclass(frozen=True)
class FatherSource:
    """An image fathers may be cropped from, and its scale relative to the current input."""

    image: np.ndarray
    base_scale: float = 1.0


def _random_crop(image: np.ndarray, crop: int, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    ch, cw = min(crop, h), min(crop, w)
    top = int(rng.integers(0, h - ch + 1))
    left = int(rng.integers(0, w - cw + 1))
    return image[top:top + ch, left:left + cw]


def _affine_crop(
    image: np.ndarray,
    crop: int,
    scale: float,
    rng: np.random.Generator,
    *,
    scale_diff_sigma: float,
    shear_sigma: float,
    allow_rotation: bool,
) -> np.ndarray:
    """Cubic-interpolated crop of ``image`` scaled, jittered, sheared and rotated at random."""
    h, w = image.shape[:2]
    diff = float(rng.standard_normal()) * scale_diff_sigma
    # Keep both axis scales positive whatever the jitter draws.
    sx = max(scale + diff / 2.0, 0.05)
    sy = max(scale - diff / 2.0, 0.05)
    reflect = float(np.sign(rng.standard_normal()) or 1.0) if allow_rotation else 1.0
    theta = float(rng.uniform(0.0, 2.0 * math.pi)) if allow_rotation else 0.0
    shear_x = float(rng.standard_normal()) * shear_sigma
    shear_y = float(rng.standard_normal()) * shear_sigma
    ch = max(1, min(crop, int(math.floor(sy * h))))
    cw = max(1, min(crop, int(math.floor(sx * w))))
    linear = _linear_map(theta, shear_x, shear_y, reflect * sx, sy)
    # Crop centre, uniformly placed so the crop stays inside the scaled image where possible.
    free_x, free_y = max(sx * w - cw, 0.0), max(sy * h - ch, 0.0)
    cx = float(rng.uniform(-free_x / 2, free_x / 2)) if free_x else 0.0
    cy = float(rng.uniform(-free_y / 2, free_y / 2)) if free_y else 0.0
    src_centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    dst_centre = np.array([(cw - 1) / 2.0 - cx, (ch - 1) / 2.0 - cy])
    return _warp(image, linear, dst_centre - linear @ src_centre, (cw, ch),
                 cv2.BORDER_REFLECT_101)


def _linear_map(theta: float, shear_x: float, shear_y: float, scale_x: float,
                scale_y: float) -> np.ndarray:
    """Shear after rotation after (signed) axis scaling, as one 2x2 matrix on (x, y)."""
    c, s = math.cos(theta), math.sin(theta)
    return (np.array([[1.0, shear_x], [shear_y, 1.0]]) @ np.array([[c, s], [-s, c]])
            @ np.diag([scale_x, scale_y]))


def _warp(image: np.ndarray, linear: np.ndarray, offset: np.ndarray, size: tuple[int, int],
          border: int) -> np.ndarray:
    """``image`` resampled (cubic) at ``linear @ p + offset``, ``size`` = (width, height),
    clipped to [0, 1], channel axis kept."""
    matrix = np.hstack([linear, np.asarray(offset, dtype=np.float64)[:, None]])
    warped = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_CUBIC, borderMode=border,
                            borderValue=0)
    if warped.ndim == 2 and image.ndim == 3:
        warped = warped[:, :, None]
    return np.clip(warped, 0.0, 1.0)


def _window_father(
    image: np.ndarray,
    crop: int,
    mode: str,
    scale: float,
    rng: np.random.Generator,
    *,
    scale_diff_sigma: float,
    shear_sigma: float,
    allow_rotation: bool,
) -> np.ndarray:
    """The official code's father: a ``crop`` x ``crop`` window of the transformed image, black
    wherever the window falls outside it.

    The image is scaled (affine mode only), rotated, mirrored and sheared about the point
    ``(W/2, H/2)`` (rounded to whole pixels outside the affine mode), then shifted by a random
    offset in ``[0, max(scale * side - crop, 0)]`` per axis (also whole pixels outside the affine
    mode). So the window always has the full crop size: an image smaller than it, or shrunk
    below it, sits in a black frame; a quarter turn of an even-sided image moves it by one pixel
    and leaves a black line at one edge; a turned non-square image may leave black corners; and
    since the offset's range ignores that the scaling shrank the image about its centre, a
    shrunk father of a large image can be partly or wholly black.
    """
    h, w = image.shape[:2]
    centre = np.array([w / 2.0, h / 2.0])
    affine = mode == "affine"
    if affine:
        diff = float(rng.standard_normal()) * scale_diff_sigma
    else:
        centre, scale, diff = np.round(centre), 1.0, 0.0
    flip = mode != "leave_as_is" and allow_rotation and rng.standard_normal() < 0
    shift = rng.random(2) * np.maximum(scale * np.array([w, h]) - crop, 0.0)
    if not affine:
        shift = np.round(shift)
    if not allow_rotation or mode == "leave_as_is":
        theta = 0.0
    elif affine:
        theta = float(rng.uniform(0.0, 2.0 * math.pi))
    else:
        theta = int(rng.integers(4)) * math.pi / 2
    shear = rng.standard_normal(2) * shear_sigma if affine else np.zeros(2)
    linear = _linear_map(theta, float(shear[0]), float(shear[1]),
                         (-1.0 if flip else 1.0) * (scale + diff / 2.0), scale - diff / 2.0)
    return _warp(image, linear, centre - shift - linear @ centre, (crop, crop),
                 cv2.BORDER_CONSTANT)


GEOMETRIES = ("inside", "official")


def _choose(sources: Sequence[FatherSource], rng: np.random.Generator, leave_as_is: float,
            no_interpolate: float, min_scale: float) -> tuple[str, FatherSource, float]:
    """A father's mode, source and scale (see :func:`sample_hr_father`)."""
    chooser = float(rng.random())
    if chooser < leave_as_is:
        return "leave_as_is", sources[0], 1.0
    # Both other modes draw a scale; it picks the smallest source at least that large (so in
    # gradual SR earlier outputs serve as fathers too), and only the affine mode resamples.
    max_scale = max(s.base_scale for s in sources)
    scale = float(rng.uniform(min_scale, max_scale)) if max_scale > min_scale else max_scale
    source = next(s for s in sources if s.base_scale > scale - 1e-6)
    return ("no_interp" if chooser < leave_as_is + no_interpolate else "affine"), source, scale


def sample_hr_father(
    sources: Sequence[FatherSource],
    rng: np.random.Generator,
    *,
    crop_size: int = 128,
    leave_as_is_probability: float = 0.05,
    no_interpolate_probability: float = 0.45,
    min_scale: float = 0.5,
    scale_diff_sigma: float = 0.25,
    shear_sigma: float = 0.1,
    allow_rotation: bool = True,
    geometry: str = "inside",
) -> np.ndarray:
    """Draw one HR father.

    With probability ``leave_as_is_probability`` it is a plain random crop of the input. Otherwise
    a scale is drawn from ``[min_scale, largest source scale]`` and the smallest source at least
    that large is used: with ``no_interpolate_probability`` as a crop rotated by a multiple of 90
    degrees and maybe mirrored (no interpolation), else as an affine crop downscaled to the drawn
    scale, with anisotropic jitter, shear and a random rotation, resampled with cubic
    interpolation.

    Parameters
    ----------
    sources : sequence of FatherSource
        The input (base scale 1) first, then earlier gradual outputs in increasing scale.
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller for reproducibility).
    geometry : {'inside', 'official'}
        ``'inside'``: crops stay inside the (transformed) image; an image or downscaled image
        smaller than ``crop_size`` gives a smaller father, and rotated corners are filled by
        reflection. ``'official'``: the official ZSSR code's windows (:func:`_window_father`),
        always ``crop_size`` square, black outside the image.

    Returns
    -------
    ndarray
        HxWxC float crop, at most ``crop_size`` on each side (smaller images give smaller crops
        with ``'inside'``; ``'official'`` always gives ``crop_size`` x ``crop_size``).
    """
    if not sources:
        raise ValueError("need at least one father source (the input image)")
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry must be one of {GEOMETRIES}, got {geometry!r}")
    mode, source, scale = _choose(sources, rng, leave_as_is_probability,
                                  no_interpolate_probability, min_scale)
    if geometry == "official":
        return _window_father(source.image, crop_size, mode, scale / source.base_scale, rng,
                              scale_diff_sigma=scale_diff_sigma, shear_sigma=shear_sigma,
                              allow_rotation=allow_rotation)
    if mode == "leave_as_is":
        return _random_crop(source.image, crop_size, rng)
    if mode == "no_interp":
        image = source.image
        if allow_rotation:
            image = np.rot90(image, int(rng.integers(4)))
            if rng.random() < 0.5:
                image = image[:, ::-1]
        return np.ascontiguousarray(_random_crop(image, crop_size, rng))
    return _affine_crop(
        source.image, crop_size, scale / source.base_scale, rng,
        scale_diff_sigma=scale_diff_sigma, shear_sigma=shear_sigma, allow_rotation=allow_rotation,
    )


def father_to_son(
    hr_father: np.ndarray,
    scale: Sequence[float],
    kernel: np.ndarray | None,
    rng: np.random.Generator,
    *,
    noise_std: float = 0.0,
    jpeg_quality: int = 0,
    jpeg_subsampling: str = "4:2:0",
) -> np.ndarray:
    """Downscale a father by ``scale`` (bicubic, or correlate-and-subsample with ``kernel``),
    then degrade it like the input (:func:`zssr.degrade.degrade`): Gaussian noise of std
    ``noise_std``, a JPEG round trip at ``jpeg_quality`` (0: none); values clipped to [0, 1]."""
    inv = (1.0 / scale[0], 1.0 / scale[1])
    shape = output_shape_for(hr_father.shape, inv)
    lr_son = downscale(hr_father, inv, kernel, output_shape=shape)
    return degrade(lr_son, rng, noise_std=noise_std, jpeg_quality=jpeg_quality,
                   jpeg_subsampling=jpeg_subsampling)


def interpolate_son(
    lr_son: np.ndarray, scale: Sequence[float], output_shape: Sequence[int] | None = None
) -> np.ndarray:
    """Bicubic upscaling of a son to its father's grid: the base the network adds a residual to."""
    return imresize(lr_son, tuple(scale), output_shape=output_shape)


def gradient_weight_map(image: np.ndarray, window: int = 5) -> np.ndarray:
    """Per-pixel loss weights that follow the image's edges (KernelGAN's ZSSR loss map).

    The gradient magnitude of the luma (or of the one gray channel), summed over ``window`` x
    ``window`` boxes, zero within ``(window + 1) // 2`` pixels of the border (where the box sees
    past the image), normalised to mean 1. A flat image gets uniform weights.

    Returns
    -------
    ndarray
        HxW float32.
    """
    img = np.asarray(image, dtype=np.float64)
    gray = img[:, :, :3] @ np.array([0.299, 0.587, 0.114]) if img.shape[2] >= 3 else img[:, :, 0]
    gy, gx = np.gradient(gray) if min(gray.shape) >= 2 else (np.zeros_like(gray),) * 2
    summed = cv2.boxFilter(np.hypot(gx, gy), -1, (window, window), normalize=False,
                           borderType=cv2.BORDER_CONSTANT)
    margin = (window + window % 2) // 2
    weights = np.zeros_like(summed)
    weights[margin:-margin, margin:-margin] = np.clip(summed[margin:-margin, margin:-margin],
                                                      0.0, None)
    mean = weights.mean()
    if not mean > 0:
        return np.ones(gray.shape, dtype=np.float32)
    return (weights / mean).astype(np.float32)


def with_weight_maps(sources: Sequence[FatherSource]) -> tuple[list[FatherSource], float]:
    """``sources`` with their :func:`gradient_weight_map` as an extra last channel, so that every
    crop, flip and warp of a father applies to its weights too.

    The maps are stored divided by their common maximum (the sampler keeps values in [0, 1]);
    multiply the sampled channel by the returned ``unit`` to get the weights back.

    Returns
    -------
    sources : list of FatherSource
        The sources, one channel more.
    unit : float
        The maximum of the maps.
    """
    maps = [gradient_weight_map(s.image) for s in sources]
    unit = max(float(m.max()) for m in maps)
    return [FatherSource(np.concatenate([s.image, (m / unit)[:, :, None]], axis=2), s.base_scale)
            for s, m in zip(sources, maps)], unit


def test_regions(shape: Sequence[int], max_pixels: int, side: int = 256
                 ) -> list[tuple[slice, slice]]:
    """Where the reconstruction test looks: the whole image, or for an image of more than
    ``max_pixels`` pixels, ``max_pixels // side**2`` (at least one) ``side``-square crops centred
    on an even grid over the image."""
    h, w = int(shape[0]), int(shape[1])
    if max_pixels <= 0 or h * w <= max_pixels:
        return [(slice(0, h), slice(0, w))]
    sv, sh = min(side, h), min(side, w)
    n = max(1, max_pixels // (sv * sh))
    rows = max(1, min(round(math.sqrt(n * h / w)), n))
    cols = max(1, n // rows)
    regions = []
    for i in range(rows):
        for j in range(cols):
            y = min(max(round((i + 0.5) * h / rows - sv / 2), 0), h - sv)
            x = min(max(round((j + 0.5) * w / cols - sh / 2), 0), w - sh)
            regions.append((slice(y, y + sv), slice(x, x + sh)))
    return regions


test_regions.__test__ = False  # a function of the library, not a pytest test
