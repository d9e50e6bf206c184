"""The options every training run shares (:class:`TrainConfig`) and the task interface.

A task (:class:`~zssr.train.warm_start.WarmStart`, :class:`~zssr.train.edsr.EDSR`) says what is
trained: how to build the model, how to read the data and draw batches, how to validate. The
runner (:func:`zssr.train.run`) does the rest the same way for every task.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

__all__ = ["TrainConfig", "TrainConfigError", "Task"]

PRECISIONS = ("float32", "mixed_bfloat16", "auto")


class TrainConfigError(ValueError):
    """A training option is invalid or does not fit the run.

    Attributes
    ----------
    field : str
        The :class:`TrainConfig` or task field at fault (a command line names its own flag).
    problem : str
        What is wrong, worded to follow the field's name.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"{field} {problem}")


def _paths(value: Any) -> tuple[str, ...]:
    if isinstance(value, (str, Path)):
        return (str(value),)
    return tuple(str(v) for v in value)


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How long and on what a model is trained, and where the run lives.

    The recipe fields (``iters`` to ``val_count``) have no defaults here: a task's
    :meth:`Task.config` fills in its own recipe.

    Parameters
    ----------
    hr_dirs : sequence of paths
        Folders of HR training images, searched recursively.
    checkpoint_dir : path
        The run folder: ``last.keras``, ``state.json``, ``log.jsonl``, ``best.weights.h5`` (and
        ``ema.npz`` with ``ema``).
    iters : int
        Training steps (with ``time_budget``, an upper bound).
    batch_size : int
        Crops per step.
    lr, min_lr : float
        The first and the last rate of the cosine schedule.
    val_every : int
        Steps between validations (and checks for the best weights).
    val_count : int
        Without ``val_dirs``, the last ``val_count`` training images are held out.
    val_dirs : sequence of paths, optional
        Folders of validation images.
    seed : int
        Seeds the crops and the model's initial weights.
    resume : bool
        Continue the run in ``checkpoint_dir``.
    init_from : str, optional
        Start from these weights instead of random ones (their sha256 is recorded).
    ema : float
        0 (off) or the decay in (0, 1) of an exponential moving average of the weights, which is
        then what is validated and kept, e.g. 0.999 (about the last 1000 steps).
    time_budget : float, optional
        Seconds to train (validation included): the cosine then runs over the time, not the
        steps, and the run ends when the time is spent.
    precision : str
        ``"float32"``, ``"mixed_bfloat16"`` or ``"auto"`` (bfloat16 where it is native).
    output : path, optional
        Write the best weights here (``.weights.h5``).
    quiet : bool
        No progress bar.
    """

    hr_dirs: tuple[str, ...]
    checkpoint_dir: str
    iters: int
    batch_size: int
    lr: float
    min_lr: float
    val_every: int
    val_count: int
    val_dirs: tuple[str, ...] | None = None
    seed: int = 0
    resume: bool = False
    init_from: str | None = None
    ema: float = 0.0
    time_budget: float | None = None
    precision: str = "float32"
    output: str | None = None
    quiet: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "hr_dirs", _paths(self.hr_dirs))
        set_(self, "checkpoint_dir", str(self.checkpoint_dir))
        if self.val_dirs is not None:
            set_(self, "val_dirs", _paths(self.val_dirs) or None)
        if self.output is not None:
            set_(self, "output", str(self.output))
        self._check()

    def _check(self) -> None:
        if not self.hr_dirs:
            raise TrainConfigError("hr_dirs", "must name at least one folder")
        for name in ("iters", "batch_size", "val_every"):
            if getattr(self, name) < 1:
                raise TrainConfigError(name, f"must be >= 1, got {getattr(self, name)}")
        if self.val_count < 0:
            raise TrainConfigError("val_count", f"must be >= 0, got {self.val_count}")
        for name in ("lr", "min_lr"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise TrainConfigError(name, f"must be a positive number, got {value}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise TrainConfigError("time_budget", f"must be > 0 seconds, got {self.time_budget}")
        if not (self.ema == 0 or 0 < self.ema < 1):
            raise TrainConfigError("ema", f"must be 0 (off) or in (0, 1), got {self.ema}")
        if self.precision not in PRECISIONS:
            raise TrainConfigError("precision", f"must be one of {', '.join(PRECISIONS)}, "
                                   f"got {self.precision!r}")
        if self.output and not self.output.endswith(".weights.h5"):
            raise TrainConfigError("output", f"must end in .weights.h5, got {self.output}")

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)


class Task:
    """What a training task defines; subclasses are frozen dataclasses of the task's options.

    The runner calls, in this order: :meth:`check` with the run's config, :meth:`setup`,
    :meth:`load` with the training and validation files, then either :meth:`build` (and
    :meth:`init_from` with ``config.init_from``) or, on resume, :meth:`check_resume` with the
    saved state; then :meth:`batches` and, every ``val_every`` steps, :meth:`validate`.
    """

    #: Short name, recorded in the run's state.
    name: ClassVar[str] = ""
    #: The task's recipe: the :class:`TrainConfig` fields that :meth:`config` fills in.
    defaults: ClassVar[dict[str, Any]] = {}
    #: The Keras loss the model is compiled with.
    loss_name: ClassVar[str] = "mean_absolute_error"

    def config(self, **fields: Any) -> TrainConfig:
        """A :class:`TrainConfig` with this task's recipe, overridden by ``fields``."""
        return TrainConfig(**{**self.defaults, **fields})

    def check(self, config: TrainConfig) -> None:
        """Refuse a config that does not fit this task (:class:`TrainConfigError`)."""

    def setup(self, config: TrainConfig) -> None:
        """Anything global the task needs before a model is built or loaded."""

    def load(self, files: list[Path], val_files: list[Path]) -> tuple[Any, list]:
        """(training data, validation pairs) from image files."""
        raise NotImplementedError

    def build(self, config: TrainConfig) -> Any:
        """A fresh model (uncompiled)."""
        raise NotImplementedError

    def export_model(self) -> Any:
        """A fresh float32 model of the architecture trained, to export the best weights with."""
        raise NotImplementedError

    def init_from(self, model: Any, init_from: str) -> str:
        """Load the starting weights ``init_from`` into ``model``; returns the file used."""
        raise NotImplementedError

    def check_resume(self, state: dict) -> None:
        """Refuse to resume a run whose saved settings contradict this task's."""

    def batches(self, data: Any, rng: np.random.Generator) -> Callable[[int], tuple]:
        """A function of the batch size that returns the next (input, target) batch."""
        raise NotImplementedError

    def validate(self, model: Any, pairs: list) -> float:
        """The model's score on the validation pairs (higher is better)."""
        raise NotImplementedError

    def learning_rate(self, config: TrainConfig, step: int, seconds: float) -> float:
        """The rate for the step after ``step`` steps and ``seconds`` spent: a half cosine from
        ``lr`` to ``min_lr`` over ``iters`` steps, or over ``time_budget`` seconds."""
        from ..schedule import cosine

        if config.time_budget:
            return cosine(seconds, config.time_budget, config.lr, config.min_lr)
        return cosine(step, config.iters, config.lr, config.min_lr)

    def record(self) -> dict[str, Any]:
        """The task's options as JSON-able values (kept in the run's state)."""
        return {"task": self.name, **dataclasses.asdict(self)}
