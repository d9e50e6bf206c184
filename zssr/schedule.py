"""Learning-rate schedules: the half cosine, the ZSSR paper's slope test, and the policy of one
per-image training run built on them.

Pure functions and plain numbers, shared by the per-image engine and the trainers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["cosine", "lr_should_drop", "RatePolicy"]


def cosine(t: float, total: float, lr: float, min_lr: float) -> float:
    """The rate at ``t`` of a half cosine from ``lr`` (at 0) to ``min_lr`` (at ``total``).

    ``t`` may count iterations or seconds; it is clipped to ``[0, total]``.

    Parameters
    ----------
    t : float
        Where the run is: an iteration index or seconds spent.
    total : float
        Where the cosine reaches ``min_lr`` (> 0).
    lr, min_lr : float
        The first and the last rate.
    """
    t = min(max(t, 0), total)
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * t / total))


def lr_should_drop(iterations: Sequence[int], errors: Sequence[float], ratio: float) -> bool:
    """The paper's learning-rate test: fit a line to recent reconstruction errors and report
    whether the fall is no longer significant, i.e. ``-ratio * slope < std(slope)``.

    The slope's standard error is the ordinary least-squares one with n - 2 degrees of freedom
    (NumPy >= 1.16's ``polyfit(cov=True)``); NumPy before 1.16 divided by n - 4 instead.

    References
    ----------
    Shocher et al., CVPR 2018, section 4, and the official code's ``learning_rate_policy``.
    """
    x = np.asarray(iterations, dtype=np.float64)
    y = np.asarray(errors, dtype=np.float64)
    if x.size < 3:
        return False
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float(xc @ (y - y.mean())) / sxx
    residual = y - y.mean() - slope * xc
    std = math.sqrt(float(residual @ residual) / (x.size - 2) / sxx)
    return -ratio * slope < std


class RatePolicy:
    """The learning rate of one per-image training run, iteration by iteration.

    With ``lr_schedule="cosine"``, a half :func:`cosine` over ``max_iters`` iterations and no
    reconstruction tests. Otherwise the paper's policy: a reconstruction test every
    ``test_every`` iterations; every ``lr_check_every`` iterations, at least ``min_iters`` after
    the last drop, the rate drops by 10 when :func:`lr_should_drop` says the errors of the last
    ``lr_slope_range`` iterations stopped falling; training ends below ``min_learning_rate``.

    Parameters
    ----------
    config : ZSSRConfig
        Its ``lr_schedule``, ``learning_rate``, ``min_learning_rate``, ``max_iters``,
        ``test_every``, ``lr_slope_range``, ``lr_check_every``, ``min_iters`` and
        ``lr_change_ratio`` are read.

    Attributes
    ----------
    value : float
        The current rate.
    drops : list of int
        Iterations at which the rate dropped.
    tests : list of (int, float)
        Reconstruction tests: iteration, mean squared error.
    """

    def __init__(self, config) -> None:
        self.config = config
        self.value = config.learning_rate
        self.cosine = config.lr_schedule == "cosine"
        self.drops: list[int] = []
        self.tests: list[tuple[int, float]] = []

    def start(self, iteration: int) -> bool:
        """Before ``iteration``'s update; whether :attr:`value` changed (the cosine)."""
        if not self.cosine:
            return False
        cfg = self.config
        self.value = cosine(iteration, max(cfg.max_iters - 1, 1), cfg.learning_rate,
                            cfg.min_learning_rate)
        return True

    def wants_test(self, iteration: int) -> bool:
        """Whether a reconstruction test follows ``iteration``'s update."""
        return not self.cosine and iteration % self.config.test_every == 0

    def record_test(self, iteration: int, mse: float) -> None:
        """Note the reconstruction error measured after ``iteration``."""
        self.tests.append((iteration, mse))

    def update(self, iteration: int) -> bool:
        """After ``iteration`` (and its test); whether :attr:`value` dropped."""
        cfg = self.config
        if self.cosine or (iteration + 1) % cfg.lr_check_every != 0:
            return False  # the common case, decided first: this runs every iteration
        if iteration - (self.drops[-1] if self.drops else 0) <= cfg.min_iters:
            return False
        recent = self.tests[-(cfg.lr_slope_range // cfg.test_every):]
        if not lr_should_drop([i for i, _ in recent], [e for _, e in recent],
                              cfg.lr_change_ratio):
            return False
        self.value /= 10.0
        self.drops.append(iteration)
        return True

    def finished(self) -> bool:
        """Whether training should stop (the rate fell below the minimum)."""
        return not self.cosine and self.value < self.config.min_learning_rate
