"""The ZSSR engine: train an image-specific network on the image itself, then super-resolve it.

The engine is pure: numpy arrays in, numpy arrays out, progress through an optional callback.
It never prints, plots, reads or writes files; starting weights come in as arrays. The public
front, which also loads weights files, is :class:`zssr.ZSSR` (:mod:`zssr.api`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from . import pool
from .checks import float_image
from .config import ZSSRConfig
from .ensemble import back_projection, members, self_ensemble
from .network import forward, precision_of
from .plan import KernelArg, Step, make_plan, total_scale
from .results import ProgressEvent, StepReport, TrainingDiverged, ZSSRResult
from .sampler import (
    FatherSource,
    father_to_son,
    interpolate_son,
    sample_hr_father,
    test_regions,
    with_weight_maps,
)
from .schedule import RatePolicy
from .tiling import tiled_apply

__all__ = ["Engine", "StepContext", "ZSSRResult", "StepReport", "ProgressEvent",
           "TrainingDiverged"]

Progress = Callable[[ProgressEvent], None]


@dataclass
class StepContext:
    """What training one scale step needs besides the network.

    ``sources`` are the images fathers are drawn from, ``lr_input`` the step's input (the base),
    ``rng`` the run's random generator, ``n_steps`` the run's step count. ``degrade``: whether
    the sons get the config's noise and JPEG compression, which describe the original input and
    so apply until a base change makes an output the input.
    """

    step: Step
    n_steps: int
    sources: list[FatherSource]
    lr_input: np.ndarray
    rng: np.random.Generator
    progress: Progress | None = None
    degrade: bool = True


class _Held:
    """The network a run holds: whatever fails, exactly this one goes back to the pool."""

    model = None


def _diverged(what: str, step: int, n_steps: int, model) -> TrainingDiverged:
    return TrainingDiverged.during(what, step=step, n_steps=n_steps,
                                   precision=precision_of(model))


class Engine:
    """ZSSR on arrays: :meth:`run` plans the scale steps and, for each, :meth:`fit` trains a
    network on the image and :meth:`predict` super-resolves it.

    Parameters
    ----------
    config : ZSSRConfig, optional
        The recipe; defaults to the ``ideal`` preset.
    initial_weights : list of ndarray, or callable, optional
        Starting weights for a network of the image's channel count (as ``get_weights()``
        returns them), or a function of the channel count that returns them (called once per
        run, after the image and scale are checked); required when ``config.init_weights`` is
        set, which the engine does not read itself (:class:`zssr.ZSSR` loads the file).
    """

    def __init__(self, config: ZSSRConfig | None = None,
                 initial_weights: Sequence[np.ndarray] | Callable[[int], Sequence[np.ndarray]]
                 | None = None) -> None:
        self.config = config if config is not None else ZSSRConfig()
        self.initial_weights = (initial_weights if initial_weights is None
                                or callable(initial_weights) else list(initial_weights))
        if self.config.init_weights and self.initial_weights is None:
            raise ValueError(
                f"init_weights={self.config.init_weights!r} is set but no initial_weights "
                "arrays were given; use zssr.ZSSR, which loads the file")

    def run(self, image: np.ndarray, scale: float | Sequence[float] = 2.0,
            kernel: KernelArg = None, *, progress: Progress | None = None) -> ZSSRResult:
        """Train on ``image`` and super-resolve it; see :meth:`zssr.ZSSR.run`.

        NumPy's BLAS runs single-threaded during the run: its matrix products here are small,
        and extra BLAS threads only compete with the backend's own thread pool for the cores.
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._run(image, scale, kernel, progress)

    def _run(self, image, scale, kernel, progress) -> ZSSRResult:
        cfg = self.config
        total = total_scale(scale)
        start = time.perf_counter()
        current, squeeze = float_image(image)
        plan = make_plan(current.shape, total, kernel, cfg)
        weights = self.initial_weights
        if callable(weights):
            weights = list(weights(current.shape[2]))
        rng = np.random.default_rng(cfg.seed)
        original = current
        sources = [FatherSource(current, 1.0)]
        original_input = True
        held = _Held()
        try:
            reports: list[StepReport] = []
            for step in plan.steps:
                if held.model is None or cfg.init_net_for_each_step:
                    self._take(held, current.shape[2], cfg.precision, weights)
                ctx = StepContext(step, len(plan.steps), sources, current, rng, progress,
                                  degrade=original_input)
                t0 = time.perf_counter()
                report = self._fit_or_retry(held, ctx)
                t1 = time.perf_counter()
                output = self.predict(held.model, current, step, len(plan.steps), progress)
                report.train_seconds = t1 - t0
                report.predict_seconds = time.perf_counter() - t1
                reports.append(report)
                if step.base_change:
                    current = output
                    sources = [FatherSource(current, 1.0)]
                    original_input = False
                else:
                    sources.append(FatherSource(output, min(step.relative)))
            if plan.final_back_projection:
                output = back_projection(output, original, plan.scale, None,
                                         plan.final_back_projection)
        finally:
            if held.model is not None:
                self._release(held.model)
        result_image = output[:, :, 0] if squeeze else output
        return ZSSRResult(result_image, plan.scale, reports, time.perf_counter() - start)

    def _fit_or_retry(self, held: _Held, ctx: StepContext) -> StepReport:
        """:meth:`fit`, and with ``precision="auto"`` in bfloat16, once more in float32 from
        the same weights and samples if it diverged (``held`` then holds the new network)."""
        model = held.model
        can_retry = self.config.precision == "auto" and precision_of(model) != "float32"
        if can_retry:
            start_weights, start_rng = model.get_weights(), ctx.rng.bit_generator.state
        retried = None
        try:
            report = self.fit(model, ctx)
        except TrainingDiverged as exc:
            if not can_retry:
                raise
            model = self._take(held, ctx.lr_input.shape[2], "float32", start_weights)
            ctx.rng.bit_generator.state = start_rng
            retried = f"{exc.what}; trained again in float32"
            report = self.fit(model, ctx)
        report.precision, report.retried = precision_of(model), retried
        return report

    def _take(self, held: _Held, channels: int, precision: str, weights):
        """Give back the network ``held`` holds, if any, and hold a fresh one at ``weights``."""
        cfg = self.config
        if held.model is not None:
            self._release(held.model)
        held.model = None  # so that a failed take leaves nothing to release
        held.model = pool.acquire(channels, depth=cfg.depth, width=cfg.width,
                            init_variance=cfg.init_variance, seed=cfg.seed, precision=precision,
                            learning_rate=cfg.learning_rate, weights=weights)
        return held.model

    def _release(self, model) -> None:
        pool.release(model, depth=self.config.depth, width=self.config.width)

    def fit(self, model, ctx: StepContext) -> StepReport:
        """Train ``model`` (compiled, from :mod:`zssr.pool`) on HR-father / LR-son pairs of
        ``ctx``'s sources for one scale step; returns the step's report (timings left 0).

        Raises
        ------
        TrainingDiverged
            If the loss is not finite.
        """
        cfg = self.config
        rate = RatePolicy(cfg)
        model.optimizer.learning_rate.assign(rate.value)
        regions = test_regions(ctx.lr_input.shape, cfg.test_max_pixels)
        channels = ctx.lr_input.shape[2]
        sources, unit = ctx.sources, None
        if cfg.loss_weights == "gradient":
            sources, unit = with_weight_maps(sources)
        loss, iteration = math.nan, 0
        for iteration in range(cfg.max_iters):
            interpolated, hr_father, weights = self._pair(sources, ctx, channels, unit)
            if rate.start(iteration):
                model.optimizer.learning_rate.assign(rate.value)
            loss = float(model.train_on_batch(interpolated[None], hr_father[None],
                                              sample_weight=weights))
            if not math.isfinite(loss):
                raise _diverged(f"training diverged: the loss is {loss} at iteration "
                                f"{iteration + 1}", ctx.step.index, ctx.n_steps, model)
            if rate.wants_test(iteration):
                rate.record_test(iteration, self._reconstruction_error(model, ctx, regions))
            if rate.update(iteration):
                model.optimizer.learning_rate.assign(rate.value)
            if ctx.progress is not None:
                ctx.progress(ProgressEvent("train", ctx.step.index, ctx.n_steps, iteration + 1,
                                           cfg.max_iters, loss, rate.value))
            if rate.finished():
                break
        return StepReport(
            scale=ctx.step.scale, iterations=iteration + 1, final_learning_rate=rate.value,
            lr_drop_iterations=list(rate.drops), final_loss=loss, train_seconds=0.0,
            predict_seconds=0.0, back_projection_iters=ctx.step.back_projection_iters,
            reconstruction_mse=list(rate.tests),
        )

    def _pair(self, sources, ctx: StepContext, channels: int, unit: float | None):
        """One training pair: (interpolated LR son, HR father, loss weights or ``None``); with a
        ``unit``, the sources carry weight maps (see :func:`~zssr.sampler.with_weight_maps`)."""
        cfg = self.config
        hr_father = sample_hr_father(
            sources, ctx.rng, crop_size=cfg.crop_size,
            leave_as_is_probability=cfg.leave_as_is_probability,
            no_interpolate_probability=cfg.no_interpolate_probability,
            min_scale=cfg.min_scale, scale_diff_sigma=cfg.scale_diff_sigma,
            shear_sigma=cfg.shear_sigma, allow_rotation=cfg.allow_rotation,
            geometry=cfg.crop_geometry,
        )
        weights = None
        if unit is not None:  # the weight map rides as the last channel
            weights = hr_father[None, :, :, channels] * unit
            hr_father = np.ascontiguousarray(hr_father[:, :, :channels])
        scale = ctx.step.relative
        lr_son = father_to_son(hr_father, scale, ctx.step.kernel, ctx.rng,
                               **self._degradation(ctx))
        return interpolate_son(lr_son, scale, hr_father.shape[:2]), hr_father, weights

    def _degradation(self, ctx: StepContext) -> dict:
        """What a step's sons go through besides the kernel (:func:`zssr.degrade.degrade`):
        the config's noise and JPEG compression while the step's input is the original one."""
        cfg = self.config
        if not ctx.degrade:
            return {}
        return {"noise_std": cfg.noise_std, "jpeg_quality": cfg.jpeg_quality,
                "jpeg_subsampling": cfg.jpeg_subsampling}

    def _reconstruction_error(self, model, ctx: StepContext, regions) -> float:
        """The paper's reconstruction test: mean squared error of the network's super-resolved
        downscaled input regions against the regions themselves."""
        scale, kernel = ctx.step.relative, ctx.step.kernel
        errors = []
        for region in regions:
            target = ctx.lr_input[region]
            son = father_to_son(target, scale, kernel, ctx.rng, **self._degradation(ctx))
            rec = np.clip(self._forward(model, interpolate_son(son, scale, target.shape[:2])),
                          0.0, 1.0)
            errors.append(float(np.mean((target - rec) ** 2)))
        return float(np.mean(errors))

    def _forward(self, model, interpolated: np.ndarray) -> np.ndarray:
        return tiled_apply(lambda x: forward(model, x), interpolated,
                           tile=self.config.tile_size, margin=self.config.depth + 1)

    def predict(self, model, lr_input: np.ndarray, step: Step, n_steps: int = 1,
                progress: Progress | None = None) -> np.ndarray:
        """Super-resolve ``lr_input`` by ``step.relative`` with the trained ``model``: the
        geometric self-ensemble (if configured) with back-projection.

        Raises
        ------
        TrainingDiverged
            If the network's output is not finite.
        """
        scale = step.relative
        transforms = members(scale, self.config.self_ensemble)

        def upscale(x: np.ndarray, n: int) -> np.ndarray:
            sr = self._forward(model, interpolate_son(x, scale))
            if not np.isfinite(sr).all():
                raise _diverged(f"the network's output has non-finite values (ensemble "
                                f"member {n + 1} of {len(transforms)})", step.index, n_steps,
                                model)
            return sr

        def on_member(done: int) -> None:
            if progress is not None:
                progress(ProgressEvent("predict", step.index, n_steps, done, len(transforms)))

        return self_ensemble(upscale, lr_input, scale, step.kernel, transforms=transforms,
                             back_projection_iters=step.back_projection_iters,
                             on_member=on_member)
