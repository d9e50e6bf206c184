"""Supervised training of EDSR-baseline (:mod:`zssr.baselines`) on a folder of HR images.

LR inputs are made from the HR images with ``zssr.resize.imresize`` (MATLAB's bicubic with
antialiasing) and rounded to 8 bits, like the LR files of the benchmark sets. Each step draws
``batch_size`` aligned random crops (``patch`` LR pixels) with random flips and quarter turns;
the loss is L1 (``loss="l2"``: mean squared error), the optimiser Adam with a cosine or step
schedule. Validation: PSNR-Y (shave = scale) on the held-out images. x3/x4 models can start
from x2 weights with ``init_from`` (every layer whose name and shape agree is copied: all but
the upsampler at x3, and at x4 also its first x2 stage).

References
----------
B. Lim, S. Son, H. Kim, S. Nah, K. M. Lee, "Enhanced Deep Residual Networks for Single Image
Super-Resolution", CVPRW 2017.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .config import Task, TrainConfig, TrainConfigError
from .data import read_rgb

__all__ = ["EDSR", "TrainData", "make_pairs", "load_folder", "validate",
           "copy_matching_weights", "LOSSES"]

#: ``loss`` -> the Keras loss the model is compiled with.
LOSSES = {"l1": "mean_absolute_error", "l2": "mean_squared_error"}


def make_pairs(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Mod-crop an 8-bit RGB HR image to a multiple of ``scale`` and make its 8-bit LR version
    with MATLAB-compatible bicubic downscaling. Returns (lr, hr) as uint8."""
    from ..resize import imresize

    h, w = hr.shape[0] - hr.shape[0] % scale, hr.shape[1] - hr.shape[1] % scale
    hr = hr[:h, :w]
    lr = imresize(hr.astype(np.float32) / 255.0, 1.0 / scale, output_shape=(h // scale,
                                                                            w // scale))
    lr = np.clip(np.round(lr * 255.0), 0, 255).astype(np.uint8)
    return lr, hr


def load_folder(paths: Sequence[Path], scale: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Read images (gray ones become RGB) and make their (lr, hr) uint8 pairs."""
    return [make_pairs(np.clip(np.round(read_rgb(p) * 255.0), 0, 255).astype(np.uint8), scale)
            for p in paths]


class TrainData:
    """Random aligned LR/HR crops with flips and quarter turns.

    Parameters
    ----------
    pairs : list of (lr, hr) uint8 arrays
    scale, patch : int
        Upscaling factor and LR crop side (the HR crop is ``scale * patch``); images smaller
        than a crop are skipped.
    rng : numpy Generator
    """

    def __init__(self, pairs: list[tuple[np.ndarray, np.ndarray]], scale: int, patch: int,
                 rng: np.random.Generator) -> None:
        self.pairs = [p for p in pairs if min(p[0].shape[:2]) >= patch]
        if not self.pairs:
            raise ValueError(f"no training image has an LR side >= patch ({patch})")
        self.scale, self.patch, self.rng = scale, patch, rng
        # Larger images are drawn more often, so every pixel is about equally likely.
        areas = np.array([p[0].shape[0] * p[0].shape[1] for p in self.pairs], dtype=np.float64)
        self.weights = areas / areas.sum()

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """``size`` (lr, hr) crops as float32 arrays in [0, 1]."""
        s, p = self.scale, self.patch
        lr_b = np.empty((size, p, p, 3), dtype=np.float32)
        hr_b = np.empty((size, p * s, p * s, 3), dtype=np.float32)
        for n in range(size):
            lr, hr = self.pairs[self.rng.choice(len(self.pairs), p=self.weights)]
            y = int(self.rng.integers(0, lr.shape[0] - p + 1))
            x = int(self.rng.integers(0, lr.shape[1] - p + 1))
            a, b = lr[y:y + p, x:x + p], hr[y * s:(y + p) * s, x * s:(x + p) * s]
            k = int(self.rng.integers(0, 8))
            if k & 4:
                a, b = a[:, ::-1], b[:, ::-1]
            a, b = np.rot90(a, k & 3), np.rot90(b, k & 3)
            lr_b[n], hr_b[n] = a, b
        return lr_b / np.float32(255.0), hr_b / np.float32(255.0)


def validate(model: Any, pairs: list[tuple[np.ndarray, np.ndarray]], scale: int) -> float:
    """Mean PSNR-Y (shave = scale) of the model on (lr, hr) uint8 pairs."""
    from ..baselines import upscale
    from ..metrics import psnr

    scores = [psnr(upscale(model, lr.astype(np.float32) / 255.0),
                   hr.astype(np.float32) / 255.0, scale=scale) for lr, hr in pairs]
    return float(np.mean(scores))


def copy_matching_weights(model: Any, source_path: str | Path, scale_from: int,
                          **arch: int) -> list[str]:
    """Copy every layer of an x``scale_from`` model of the same family into ``model`` where the
    names and shapes agree (all but the upsampler, whose first x2 stage also fits an x4 model);
    returns the copied layer names. ``arch``: ``n_blocks`` and ``width`` of both models."""
    from ..baselines import build

    src = build("edsr-baseline", scale_from, **arch)
    src.load_weights(str(source_path))
    by_name = {layer.name: layer for layer in src.layers}
    copied = []
    for layer in model.layers:
        other = by_name.get(layer.name)
        if other is None or not layer.weights:
            continue
        if [w.shape for w in layer.get_weights()] == [w.shape for w in other.get_weights()]:
            layer.set_weights(other.get_weights())
            copied.append(layer.name)
    return copied


@dataclass(frozen=True)
class EDSR(Task):
    """EDSR-baseline training (the task of :func:`zssr.train.run`).

    Parameters
    ----------
    scale : int
        2, 3 or 4.
    model : str
        ``"edsr-baseline"``.
    blocks, width : int
        Residual blocks and channels (16 and 64: EDSR-baseline; fewer for experiments).
    patch : int
        LR crop side.
    schedule : str
        ``"cosine"`` or ``"step"`` (the rate halved every ``step_every`` steps).
    loss : str
        ``"l1"`` (as EDSR) or ``"l2"`` (mean squared error).
    step_every : int
        Steps between halvings of the step schedule.
    init_scale : int
        Scale of the weights ``init_from`` names.
    """

    name: ClassVar[str] = "edsr"
    defaults: ClassVar[dict[str, Any]] = {"iters": 300000, "batch_size": 16, "lr": 2e-4,
                                          "min_lr": 1e-6, "val_every": 1000, "val_count": 10}

    scale: int = 2
    model: str = "edsr-baseline"
    blocks: int = 16
    width: int = 64
    patch: int = 48
    schedule: str = "cosine"
    loss: str = "l1"
    step_every: int = 100000
    init_scale: int = 2

    def __post_init__(self) -> None:
        choices = {"scale": (2, 3, 4), "init_scale": (2, 3, 4), "model": ("edsr-baseline",),
                   "schedule": ("cosine", "step"), "loss": tuple(LOSSES)}
        for field, allowed in choices.items():
            if getattr(self, field) not in allowed:
                raise TrainConfigError(field, f"must be one of {', '.join(map(str, allowed))}, "
                                       f"got {getattr(self, field)!r}")
        for field in ("blocks", "width", "patch", "step_every"):
            if getattr(self, field) < 1:
                raise TrainConfigError(field, f"must be >= 1, got {getattr(self, field)}")

    @property
    def loss_name(self) -> str:  # type: ignore[override]
        return LOSSES[self.loss]

    def check(self, config: TrainConfig) -> None:
        if self.schedule == "step" and config.time_budget:
            raise TrainConfigError("schedule", "'step' cannot follow a time_budget (the rate "
                                   "then runs a cosine over the time); use 'cosine'")

    def setup(self, config: TrainConfig) -> None:
        import keras

        from ..baselines import models  # noqa: F401  (registers the layers for loading)

        keras.mixed_precision.set_global_policy(config.precision)

    def load(self, files: list[Path], val_files: list[Path]) -> tuple[Any, list]:
        return load_folder(files, self.scale), load_folder(val_files, self.scale)

    def build(self, config: TrainConfig) -> Any:
        from ..baselines import build

        return build(self.model, self.scale, seed=config.seed, n_blocks=self.blocks,
                     width=self.width)

    def export_model(self) -> Any:
        import keras

        from ..baselines import build

        keras.mixed_precision.set_global_policy("float32")  # shipped weights: float32 model
        return build(self.model, self.scale, n_blocks=self.blocks, width=self.width)

    def init_from(self, model: Any, init_from: str) -> str:
        """Copy the matching layers of the x``init_scale`` weights ``init_from``."""
        copy_matching_weights(model, init_from, self.init_scale, n_blocks=self.blocks,
                              width=self.width)
        return init_from

    def check_resume(self, state: dict) -> None:
        trained = state["args"].get("loss", "l1")  # runs from before the option used L1
        if self.loss != trained:
            raise TrainConfigError("loss", f"must stay {trained!r} when the run resumes (it was "
                                   f"trained with it, not {self.loss!r}); start a new run with "
                                   "init_from to change the loss")

    def batches(self, data: Any, rng: np.random.Generator) -> Callable[[int], tuple]:
        return TrainData(data, self.scale, self.patch, rng).batch

    def validate(self, model: Any, pairs: list) -> float:
        return validate(model, pairs, self.scale)

    def learning_rate(self, config: TrainConfig, step: int, seconds: float) -> float:
        """The cosine of :meth:`Task.learning_rate`, or with ``schedule="step"`` ``lr``
        halved every ``step_every`` steps."""
        if self.schedule == "step":
            return config.lr * 0.5 ** (step // self.step_every)
        return super().learning_rate(config, step, seconds)
