"""What a ZSSR run returns and reports: the result, per-step reports, progress events, and the
error for a run whose network produced non-finite values."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .plan import Pair

__all__ = ["TrainingDiverged", "ProgressEvent", "StepReport", "ZSSRResult"]


class TrainingDiverged(FloatingPointError):
    """The network produced non-finite values (a NaN or infinite loss or output).

    Raised instead of returning an image with holes in it. It is rare and not tied to an input:
    running again (another seed) or with ``precision="float32"`` is the remedy. ``what`` is the
    short reason (what was non-finite, where).
    """

    def __init__(self, message: str, what: str = "") -> None:
        super().__init__(message)
        self.what = what or message

    @classmethod
    def during(cls, what: str, *, step: int, n_steps: int, precision: str) -> TrainingDiverged:
        """The error for ``what`` went wrong in scale step ``step`` (from 0) of ``n_steps``, in a
        network of compute type ``precision``."""
        where = f" (scale step {step + 1} of {n_steps})" if n_steps > 1 else ""
        return cls(f"{what}{where}: no output was made; run it again (another seed) or with "
                   f'precision="float32" (this run: {precision})',
                   what=f"{what}{where} in {precision}")


@dataclass(frozen=True)
class ProgressEvent:
    """What the engine reports to a progress callback.

    ``phase`` is ``'train'`` (once per iteration) or ``'predict'`` (once per ensemble member).
    """

    phase: str
    step: int
    n_steps: int
    iteration: int
    total: int
    loss: float = math.nan
    learning_rate: float = math.nan


@dataclass
class StepReport:
    """Record of one scale step: what was trained and how it stopped.

    ``precision`` is the compute type the step finally trained in. ``retried`` says why it was
    trained twice: with ``precision="auto"`` where bfloat16 is native, a step whose training
    diverged (non-finite loss) is trained again from the same weights and the same samples in
    float32.
    """

    scale: Pair
    iterations: int
    final_learning_rate: float
    lr_drop_iterations: list[int]
    final_loss: float
    train_seconds: float
    predict_seconds: float
    back_projection_iters: int
    reconstruction_mse: list[tuple[int, float]] = field(default_factory=list)
    precision: str = "float32"
    retried: str | None = None


@dataclass
class ZSSRResult:
    """Output image plus per-step reports."""

    image: np.ndarray
    scale: Pair
    steps: list[StepReport]
    seconds: float

    @property
    def iterations(self) -> int:
        """Training iterations summed over steps."""
        return sum(s.iterations for s in self.steps)

    @property
    def final_learning_rate(self) -> float:
        """Learning rate at the end of the last step."""
        return self.steps[-1].final_learning_rate
