"""Learning-rate schedules: the half cosine, and the ZSSR paper's slope test.

Both are pure functions of plain numbers, shared by the per-image engine and the trainers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["cosine", "lr_should_drop"]


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
    (NumPy >= 1.16's ``polyfit(cov=True)``); NumPy of 2018 divided by n - 4 instead.

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
