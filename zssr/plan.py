"""A run's scale steps as data: what each step trains and predicts, and where the base changes.

:func:`make_plan` turns a total scale, a kernel argument and a :class:`~zssr.config.ZSSRConfig`
into a :class:`Plan`: a tuple of frozen :class:`Step` records the engine loops over. Everything
here is a pure function of plain numbers and arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .resize import as_pair, output_shape_for

__all__ = ["Pair", "KernelArg", "MIN_SON_SIDE", "Step", "Plan", "total_scale", "scale_steps",
           "spread", "is_bicubic", "step_kernels", "check_size", "make_plan"]

Pair = tuple[float, float]
KernelArg = None | str | np.ndarray | Sequence[np.ndarray]

#: The smallest side, in pixels, of the image's own downscaled copy that training learns from.
MIN_SON_SIDE = 4


@dataclass(frozen=True)
class Step:
    """One scale step of a run.

    Attributes
    ----------
    index : int
        Position in the plan, from 0.
    scale : (float, float)
        Scale of the step's output against the original input (vertical, horizontal).
    relative : (float, float)
        Scale against the step's base, i.e. what the network learns and applies.
    kernel : ndarray or None
        Normalised downscaling kernel of the step (``None``: bicubic).
    back_projection_iters : int
        Back-projection iterations of the step's prediction.
    base_change : bool
        Whether the step's output becomes the input (the base) of the following steps.
    """

    index: int
    scale: Pair
    relative: Pair
    kernel: np.ndarray | None = field(compare=False)
    back_projection_iters: int
    base_change: bool


@dataclass(frozen=True)
class Plan:
    """The steps of a run and the final back-projection onto the original input.

    ``final_back_projection`` is the number of iterations (0: none) that make the last output
    consistent with the original input after a base change.
    """

    scale: Pair
    steps: tuple[Step, ...]
    final_back_projection: int


def total_scale(scale: float | Sequence[float]) -> Pair:
    """``scale`` as a (vertical, horizontal) pair, checked: finite, >= 1 on both axes and > 1
    on one.

    Raises
    ------
    ValueError
        If ``scale`` is not such a scale.
    """
    sv, sh = as_pair(scale)
    if not (math.isfinite(sv) and math.isfinite(sh)) or min(sv, sh) < 1 or max(sv, sh) <= 1:
        raise ValueError(f"scale must be finite, >= 1 on both axes and > 1 on one, got {scale}")
    return sv, sh


def _levels(final: float, step: float) -> list[float]:
    n = max(1, math.ceil((final - 1.0) / step - 1e-9))
    return [min(1.0 + i * step, final) for i in range(n)] + [final]


def scale_steps(scale: float | Sequence[float], gradual_step: float = 0.0,
                explicit: Sequence[float] = ()) -> list[Pair]:
    """Scale steps from 1 to ``scale``: one jump, explicit steps, or the official gradual pattern.

    ``explicit`` isotropic scales (those below the target) come first, then the target. Otherwise,
    with ``gradual_step`` g, each axis passes through 1, 1+g, ..., scale, and every level is
    reached first on one axis, then the other, then both: for x2 with g = 0.5 that is
    (1, 1.5), (1.5, 1), (1.5, 1.5), (1.5, 2), (2, 1.5), (2, 2).
    """
    sv, sh = as_pair(scale)
    if explicit:
        steps = [(min(s, sv), min(s, sh)) for s in sorted(explicit) if s < max(sv, sh)]
        return [p for i, p in enumerate(steps) if p not in steps[:i]] + [(sv, sh)]
    if gradual_step <= 0:
        return [(sv, sh)]
    lv, lh = _levels(sv, gradual_step), _levels(sh, gradual_step)
    n = max(len(lv), len(lh))
    lv += [lv[-1]] * (n - len(lv))
    lh += [lh[-1]] * (n - len(lh))
    steps: list[Pair] = []
    for k in range(1, n):
        for pair in ((lv[k - 1], lh[k]), (lv[k], lh[k - 1]), (lv[k], lh[k])):
            if pair != (1.0, 1.0) and (not steps or steps[-1] != pair):
                steps.append(pair)
    return steps


def spread(values: Sequence[int], n: int) -> list[int]:
    """One value per step: a single value everywhere, else spread evenly (last on the last)."""
    if n == 1:
        return [int(values[-1])]
    return [int(values[round(i * (len(values) - 1) / (n - 1))]) for i in range(n)]


def check_size(shape: Sequence[int], scale: Pair) -> None:
    """Refuse an image too small for ``scale``: its downscaled copy needs :data:`MIN_SON_SIDE`
    pixels per side.

    Raises
    ------
    ValueError
        Naming the smallest input size that works.
    """
    son = output_shape_for(shape, (1.0 / scale[0], 1.0 / scale[1]))
    if min(son) < MIN_SON_SIDE:
        need = (math.ceil(MIN_SON_SIDE * scale[0]), math.ceil(MIN_SON_SIDE * scale[1]))
        raise ValueError(
            f"image of {shape[0]}x{shape[1]} pixels is too small for x{scale[0]:g},{scale[1]:g}: "
            f"ZSSR learns from the image's own downscaled copy, which needs >= {MIN_SON_SIDE} "
            f"pixels per side, so the input needs at least {need[0]}x{need[1]}"
        )


def is_bicubic(kernel: KernelArg) -> bool:
    """Whether a kernel argument means MATLAB's bicubic kernel (``None`` or ``'bicubic'``)."""
    return kernel is None or (isinstance(kernel, str) and kernel == "bicubic")


def step_kernels(kernel: KernelArg, n_steps: int) -> list[np.ndarray | None]:
    """One normalised kernel (float64, sum 1) per step, or ``None`` for bicubic.

    Raises
    ------
    ValueError
        For a string other than ``'bicubic'``, a count that does not match ``n_steps``, or a
        kernel that is not a finite 2-D array with a positive sum.
    """
    if is_bicubic(kernel):
        return [None] * n_steps
    if isinstance(kernel, str):
        raise ValueError(
            f"kernel must be None, 'bicubic', a 2-D array or a list of arrays, got {kernel!r}; "
            "load kernel files with zssr.kernels"
        )
    if isinstance(kernel, np.ndarray):
        if n_steps != 1:
            raise ValueError(
                f"a kernel array fits one scale step, but this run has {n_steps} steps "
                "(gradual SR): pass one kernel per step, or use a one-jump preset"
            )
        kernels = [kernel]
    else:
        kernels = [np.asarray(k) for k in kernel]
        if len(kernels) != n_steps:
            raise ValueError(f"got {len(kernels)} kernels for {n_steps} scale steps")
    for k in kernels:
        if k.ndim != 2 or not np.all(np.isfinite(k)) or k.sum() <= 0:
            raise ValueError("each kernel must be a finite 2-D array with a positive sum")
    return [np.asarray(k, dtype=np.float64) / k.sum() for k in kernels]


def _check_kernels_fit(kernels: Sequence[np.ndarray | None], shape: Sequence[int]) -> None:
    for k in kernels:
        if k is not None and (k.shape[0] > shape[0] or k.shape[1] > shape[1]):
            raise ValueError(
                f"kernel of {k.shape[0]}x{k.shape[1]} is larger than the "
                f"{shape[0]}x{shape[1]} image; use a kernel that fits the "
                "image (kernels are typically 11x11 to 31x31)"
            )


def make_plan(shape: Sequence[int], scale: Pair, kernel: KernelArg, config) -> Plan:
    """The plan of a run on an image of ``shape`` (H, W, C) to the total ``scale``.

    ``config`` is a :class:`~zssr.config.ZSSRConfig`; its ``gradual_step``, ``scale_steps``,
    ``base_change_scales``, ``back_projection_iters`` and ``back_project_to_input`` are read.
    A base change after the final step is left out: it would change nothing.

    Raises
    ------
    ValueError
        If the image is too small for the first step, or the kernel argument does not fit
        the steps or the image (see :func:`step_kernels`).
    """
    scales = scale_steps(scale, config.gradual_step, config.scale_steps)
    check_size(shape, scales[0])
    kernels = step_kernels(kernel, len(scales))
    _check_kernels_fit(kernels, shape)
    bp_iters = spread(config.back_projection_iters, len(scales))
    base: Pair = (1.0, 1.0)
    steps = []
    for index, (step_scale, step_kernel, bp) in enumerate(zip(scales, kernels, bp_iters)):
        relative = (step_scale[0] / base[0], step_scale[1] / base[1])
        last = index == len(scales) - 1
        change = not last and any(abs(step_scale[0] - b) < 1e-3 and abs(step_scale[1] - b) < 1e-3
                                  for b in config.base_change_scales)
        steps.append(Step(index, step_scale, relative, step_kernel, bp, change))
        if change:
            base = step_scale
    final = (bp_iters[-1] if base != (1.0, 1.0) and config.back_project_to_input
             and bp_iters[-1] > 0 and all(k is None for k in kernels) else 0)
    return Plan(scale, tuple(steps), final)
