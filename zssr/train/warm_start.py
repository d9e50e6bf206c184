"""Warm-start pretraining: generic starting weights for the ZSSR network, trained across images.

The idea of MZSR (Soh, Cho, Cho, CVPR 2020): ZSSR started from weights that already know how
images downscale needs far fewer per-image updates. Here the starting point is plain multi-image
training of the ZSSR network itself with the ZSSR sampler: each step draws HR fathers from
random training images (the same crops, flips, rotations and affine warps as per-image
training), makes their LR sons with the bicubic kernel or, with probability ``kernel_mix``, a
random anisotropic Gaussian kernel of the DIV2KRK kind (so the start also suits non-bicubic
kernels), and learns son -> father with L1 and Adam. Validation: PSNR-Y of the network on
held-out images, downscaled with bicubic and with a fixed random kernel each.

Use the result with ``ZSSRConfig(init_weights=FILE)`` (``zssr --init-weights FILE``).

References
----------
J. W. Soh, S. Cho, N. I. Cho, "Meta-Transfer Learning for Zero-Shot Super-Resolution",
CVPR 2020.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .config import Task, TrainConfig, TrainConfigError
from .data import read_rgb

__all__ = ["WarmStart", "FatherBatches", "Degradations", "validation_set", "validate"]


class FatherBatches:
    """Batches of (interpolated LR son, HR father) from many images via the ZSSR sampler.

    Parameters
    ----------
    images : list of HxWx3 float arrays in [0, 1]
    scale : float
    crop : int
        Father side; fathers that come out smaller (small images, strong downscale) are drawn
        again so a batch has one shape.
    kernel_mix : float
        Probability that a father's son is made with a random Gaussian kernel instead of bicubic.
    rng : numpy Generator
    noise_std : float
        Gaussian noise on the sons.
    degradations : Degradations, optional
        Random noise and JPEG compression of a share of the sons, on top of ``noise_std``.
    """

    def __init__(self, images: list[np.ndarray], scale: float, crop: int, kernel_mix: float,
                 rng: np.random.Generator, noise_std: float = 0.0,
                 degradations: Degradations | None = None) -> None:
        self.images = [im for im in images if min(im.shape[:2]) >= crop]
        if not self.images:
            raise ValueError(f"no training image is at least crop={crop} px on its shorter side")
        self.scale, self.crop, self.kernel_mix = float(scale), crop, kernel_mix
        self.rng, self.noise_std = rng, noise_std
        self.degradations = degradations or Degradations()
        areas = np.array([im.shape[0] * im.shape[1] for im in self.images], dtype=np.float64)
        self.weights = areas / areas.sum()

    def kernel(self) -> np.ndarray | None:
        """The next son's kernel: ``None`` (bicubic) or a random Gaussian one."""
        from ..kernels import random_gaussian_kernel

        if self.rng.random() >= self.kernel_mix:
            return None
        return random_gaussian_kernel(11, self.rng, scale=round(self.scale))

    def one(self) -> tuple[np.ndarray, np.ndarray]:
        """One (interpolated son, father) pair."""
        from ..sampler import FatherSource, father_to_son, interpolate_son, sample_hr_father

        pair = (self.scale, self.scale)
        for _ in range(100):
            image = self.images[self.rng.choice(len(self.images), p=self.weights)]
            father = sample_hr_father([FatherSource(image)], self.rng, crop_size=self.crop)
            if father.shape[:2] == (self.crop, self.crop):
                break
        else:
            raise RuntimeError("could not draw a full-size father in 100 tries; lower crop")
        degradation = {"noise_std": self.noise_std, **self.degradations.draw(self.rng)}
        son = father_to_son(father, pair, self.kernel(), self.rng, **degradation)
        return interpolate_son(son, pair, father.shape[:2]), father

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """``size`` pairs stacked as float32 (input, target) arrays."""
        xs, ys = zip(*(self.one() for _ in range(size)))
        return np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32)


@dataclass(frozen=True)
class Degradations:
    """Random degradations of pretraining sons: with probability ``noise_mix`` Gaussian noise
    of a std drawn uniformly from ``[0, noise_max_std]``; with probability ``jpeg_mix`` a JPEG
    round trip (4:2:0) at a quality drawn uniformly from ``[jpeg_min_quality,
    jpeg_max_quality]``; each independently, as :func:`zssr.degrade.degrade` applies them."""

    noise_mix: float = 0.0
    noise_max_std: float = 15 / 255
    jpeg_mix: float = 0.0
    jpeg_min_quality: int = 30
    jpeg_max_quality: int = 95

    def draw(self, rng: np.random.Generator) -> dict[str, Any]:
        """Keyword arguments of :func:`zssr.sampler.father_to_son` for one son (nothing when
        both mixes are 0, so the random stream of an undegraded run is unchanged); a drawn
        ``noise_std`` replaces the task's fixed one."""
        out: dict[str, Any] = {}
        if self.noise_mix > 0 and rng.random() < self.noise_mix:
            out["noise_std"] = float(rng.uniform(0.0, self.noise_max_std))
        if self.jpeg_mix > 0 and rng.random() < self.jpeg_mix:
            out["jpeg_quality"] = int(rng.integers(self.jpeg_min_quality,
                                                   self.jpeg_max_quality + 1))
        return out

    @property
    def active(self) -> bool:
        return self.noise_mix > 0 or self.jpeg_mix > 0


#: The validation pairs of a degraded pretraining (its weights start degraded inputs only):
#: bicubic sons sent through JPEG at quality 75, and bicubic sons with noise of std 5/255.
VALIDATION_DEGRADATIONS = ({"jpeg_quality": 75}, {"noise_std": 5 / 255})


def validation_set(images: list[np.ndarray], scale: float, seed: int = 1, *,
                   degraded: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each held-out image: (interpolated son, image) with the bicubic kernel and with a
    fixed random Gaussian kernel; with ``degraded``, instead, bicubic sons with each of
    :data:`VALIDATION_DEGRADATIONS`."""
    from ..kernels import random_gaussian_kernel
    from ..sampler import father_to_son, interpolate_son

    rng = np.random.default_rng(seed)
    pair = (float(scale), float(scale))
    out = []
    for image in images:
        if degraded:
            cases = [(None, d) for d in VALIDATION_DEGRADATIONS]
        else:
            cases = [(None, {}), (random_gaussian_kernel(11, rng, scale=round(scale)), {})]
        for kernel, degradation in cases:
            son = father_to_son(image, pair, kernel, rng, **degradation)
            son = np.round(son * 255) / 255
            out.append((interpolate_son(son, pair, image.shape[:2]), image))
    return out


def validate(model: Any, pairs: list[tuple[np.ndarray, np.ndarray]], scale: float) -> float:
    """Mean PSNR-Y of the network's output against the HR images."""
    from ..metrics import psnr
    from ..network import forward

    return float(np.mean([psnr(np.clip(forward(model, x), 0, 1), y, scale=scale)
                          for x, y in pairs]))


@dataclass(frozen=True)
class WarmStart(Task):
    """Pretraining of the ZSSR network across many images (the task of :func:`zssr.train.run`).

    Parameters
    ----------
    scale : float
        Scale of the sons.
    crop : int
        Father side.
    kernel_mix : float
        Share of sons made with a random Gaussian kernel instead of bicubic, in [0, 1].
    noise_std : float
        Gaussian noise added to the sons.
    noise_mix, noise_max_std, jpeg_mix, jpeg_min_quality, jpeg_max_quality
        Random noise and JPEG compression of a share of the sons (:class:`Degradations`);
        validation then scores JPEG and noisy sons only (such weights start degraded inputs).
    depth, width : int
        Layers and channels of the ZSSR network (ZSSR must use the same to start from it).
    """

    name: ClassVar[str] = "warm-start"
    defaults: ClassVar[dict[str, Any]] = {"iters": 20000, "batch_size": 8, "lr": 1e-3,
                                          "min_lr": 1e-5, "val_every": 500, "val_count": 8}

    scale: float = 2.0
    crop: int = 96
    kernel_mix: float = 0.5
    noise_std: float = 0.0
    noise_mix: float = 0.0
    noise_max_std: float = 15 / 255
    jpeg_mix: float = 0.0
    jpeg_min_quality: int = 30
    jpeg_max_quality: int = 95
    depth: int = 8
    width: int = 64

    def __post_init__(self) -> None:
        for field in ("crop", "depth", "width"):
            if getattr(self, field) < 1:
                raise TrainConfigError(field, f"must be >= 1, got {getattr(self, field)}")
        if not 0 <= self.kernel_mix <= 1:
            raise TrainConfigError("kernel_mix", f"must be in [0, 1], got {self.kernel_mix}")
        if not self.scale > 1:
            raise TrainConfigError("scale", f"must be > 1, got {self.scale}")
        if self.noise_std < 0:
            raise TrainConfigError("noise_std", f"must be >= 0, got {self.noise_std}")
        for field in ("noise_mix", "jpeg_mix"):
            if not 0 <= getattr(self, field) <= 1:
                raise TrainConfigError(field, f"must be in [0, 1], got {getattr(self, field)}")
        if self.noise_max_std < 0:
            raise TrainConfigError("noise_max_std", f"must be >= 0, got {self.noise_max_std}")
        if not 1 <= self.jpeg_min_quality <= self.jpeg_max_quality <= 100:
            raise TrainConfigError("jpeg_min_quality", "jpeg_min_quality and jpeg_max_quality "
                                   "must satisfy 1 <= min <= max <= 100")

    def degradations(self) -> Degradations:
        return Degradations(self.noise_mix, self.noise_max_std, self.jpeg_mix,
                            self.jpeg_min_quality, self.jpeg_max_quality)

    def load(self, files: list[Path], val_files: list[Path]) -> tuple[Any, list]:
        images = [read_rgb(p) for p in files]
        return images, validation_set([read_rgb(p) for p in val_files], self.scale,
                                      degraded=self.degradations().active)

    def build(self, config: TrainConfig) -> Any:
        from ..network import build_network

        return build_network(3, depth=self.depth, width=self.width, seed=config.seed,
                             precision=config.precision)

    def export_model(self) -> Any:
        from ..network import build_network

        return build_network(3, depth=self.depth, width=self.width)

    def init_from(self, model: Any, init_from: str) -> str:
        """Load ``init_from`` (a file, or ``"warm"`` for the shipped weights) into ``model``."""
        from ..network import load_initial_weights
        from ..warm import resolve

        path = resolve(init_from)
        load_initial_weights(model, path, depth=self.depth, width=self.width)
        return path

    def batches(self, data: Any, rng: np.random.Generator) -> Callable[[int], tuple]:
        return FatherBatches(data, self.scale, self.crop, self.kernel_mix, rng,
                             self.noise_std, self.degradations()).batch

    def validate(self, model: Any, pairs: list) -> float:
        return validate(model, pairs, self.scale)
