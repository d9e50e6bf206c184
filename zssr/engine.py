"""ZSSR: train an image-specific network on the image itself, then super-resolve it.

The engine is pure: numpy arrays in, numpy arrays out, progress through an optional callback.
It never prints, plots, reads or writes files.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .checks import float_image
from .config import ZSSRConfig
from .network import (
    build_network,
    compile_network,
    forward,
    load_initial_weights,
    resolve_precision,
)
from .resize import as_pair, downscale_with_kernel, imresize, output_shape_for
from .sampler import (
    FatherSource,
    father_to_son,
    gradient_weight_map,
    interpolate_son,
    sample_hr_father,
)
from .tiling import tiled_apply
from .warm import resolve as resolve_weights

__all__ = [
    "ZSSR",
    "ZSSRResult",
    "StepReport",
    "ProgressEvent",
    "upscale",
    "scale_steps",
    "back_projection",
    "lr_should_drop",
    "TrainingDiverged",
    "clear_network_pool",
]

Pair = tuple[float, float]
KernelArg = None | str | np.ndarray | Sequence[np.ndarray]


class TrainingDiverged(FloatingPointError):
    """The network produced non-finite values (a NaN or infinite loss or output).

    Raised instead of returning an image with holes in it. It is rare and not tied to an input:
    running again (another seed) or with ``precision="float32"`` is the remedy. ``what`` is the
    short reason (what was non-finite, where).
    """

    def __init__(self, message: str, what: str = "") -> None:
        super().__init__(message)
        self.what = what or message


def _precision_of(model) -> str:
    """Compute type of a network from :func:`build_network`: float32 or mixed_bfloat16."""
    return model.get_layer("conv0").dtype_policy.name


def _diverged(what: str, step: int, n_steps: int, model) -> TrainingDiverged:
    where = f" (scale step {step + 1} of {n_steps})" if n_steps > 1 else ""
    precision = _precision_of(model)
    return TrainingDiverged(
        f"{what}{where}: no output was made; run it again (another --seed) or with "
        f"--precision float32 (this run: {precision})", what=f"{what}{where} in {precision}")


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
    trained twice: with ``precision="auto"`` on a bfloat16 machine, a step whose training
    diverged (non-finite loss) is trained again from the same weights and the same samples in
    float32 (seen on an AMX Xeon, about one x4 ``warm`` run in 14 in a long-lived process).
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


def _spread(values: Sequence[int], n: int) -> list[int]:
    """One value per step: a single value everywhere, else spread evenly (last on the last)."""
    if n == 1:
        return [int(values[-1])]
    return [int(values[round(i * (len(values) - 1) / (n - 1))]) for i in range(n)]


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


def lr_should_drop(iterations: Sequence[int], errors: Sequence[float], ratio: float) -> bool:
    """The paper's learning-rate test: fit a line to recent reconstruction errors and report
    whether the fall is no longer significant, i.e. ``-ratio * slope < std(slope)``.

    The slope's standard error is the ordinary least-squares one with n - 2 degrees of freedom
    (NumPy >= 1.16's ``polyfit(cov=True)``); NumPy of 2018 divided by n - 4 instead.
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


def _downscale(image: np.ndarray, scale: Pair, kernel: np.ndarray | None,
               output_shape: Sequence[int]) -> np.ndarray:
    inv = (1.0 / scale[0], 1.0 / scale[1])
    if kernel is None:
        return imresize(image, inv, output_shape=output_shape)
    return downscale_with_kernel(image, kernel, inv, output_shape=output_shape)


def back_projection(sr: np.ndarray, lr: np.ndarray, scale: Sequence[float],
                    kernel: np.ndarray | None = None, iterations: int = 1) -> np.ndarray:
    """Iterative back-projection (Irani & Peleg 1991): make ``sr`` consistent with ``lr``.

    Each iteration adds the bicubically upscaled residual ``lr - downscale(sr)``, where the
    downscale uses ``kernel`` (bicubic when ``None``), and clips to [0, 1].
    """
    pair = as_pair(scale)  # type: ignore[arg-type]
    for _ in range(iterations):
        residual = lr - _downscale(sr, pair, kernel, lr.shape[:2])
        sr = np.clip(sr + imresize(residual, pair, output_shape=sr.shape[:2]), 0.0, 1.0)
    return sr


def transform(image: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th (0-7) of the 8 flips and quarter turns of ``image`` (a view): ``k % 4``
    quarter turns, then a left-right flip for ``k >= 4``. :func:`untransform` undoes it."""
    out = np.rot90(image, k % 4)
    return out[:, ::-1] if k >= 4 else out


def untransform(image: np.ndarray, k: int) -> np.ndarray:
    """Undo :func:`transform` ``k`` (a view)."""
    out = image[:, ::-1] if k >= 4 else image
    return np.rot90(out, -(k % 4))


MIN_SON_SIDE = 4


def _check_size(shape: Sequence[int], scale: Pair) -> None:
    son = output_shape_for(shape, (1.0 / scale[0], 1.0 / scale[1]))
    if min(son) < MIN_SON_SIDE:
        need = (math.ceil(MIN_SON_SIDE * scale[0]), math.ceil(MIN_SON_SIDE * scale[1]))
        raise ValueError(
            f"image of {shape[0]}x{shape[1]} pixels is too small for x{scale[0]:g},{scale[1]:g}: "
            f"ZSSR learns from the image's own downscaled copy, which needs >= {MIN_SON_SIDE} "
            f"pixels per side, so the input needs at least {need[0]}x{need[1]}"
        )


def _kernels_for(kernel: KernelArg, n_steps: int) -> list[np.ndarray | None]:
    if kernel is None or (isinstance(kernel, str) and kernel == "bicubic"):
        return [None] * n_steps
    if isinstance(kernel, str):
        raise ValueError(
            f"kernel must be None, 'bicubic', a 2-D array or a list of arrays, got {kernel!r}; "
            "load kernel files with zssr.kernels or the CLI's --kernel PATH"
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


class _NetworkPool:
    """Compiled networks kept between runs in this process.

    Building a network, tracing its training step and a new network's first forward passes cost
    ~1.3-1.6 s per image (measured with ``warm``, a quarter or more of its run); kept here, the
    next image of a folder or a benchmark starts with all of that done. A run takes a network
    and gives it back when it ends, so concurrent runs never share one. Every take resets the
    network completely (weights set, every optimiser variable zeroed, the step count included),
    so a reused network trains exactly as a new one (``tests/test_engine.py`` checks the outputs
    are identical).
    """

    def __init__(self, per_key: int = 2, init_cache: int = 8) -> None:
        self._free: dict[tuple, list] = {}
        self._initial: OrderedDict[tuple, list] = OrderedDict()
        self._per_key, self._init_cache = per_key, init_cache
        self._lock = threading.Lock()

    def take(self, key: tuple):
        with self._lock:
            free = self._free.get(key)
            return free.pop() if free else None

    def give(self, key: tuple, model) -> None:
        with self._lock:
            free = self._free.setdefault(key, [])
            if len(free) < self._per_key and all(m is not model for m in free):
                free.append(model)

    def initial_weights(self, key: tuple) -> list | None:
        with self._lock:
            return self._initial.get(key)

    def remember_initial(self, key: tuple, weights: list) -> None:
        with self._lock:
            self._initial[key] = weights
            while len(self._initial) > self._init_cache:
                self._initial.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._free.clear()
            self._initial.clear()


_POOL = _NetworkPool()


def clear_network_pool() -> None:
    """Drop the compiled networks kept for reuse between runs (frees their memory)."""
    _POOL.clear()


class ZSSR:
    """Zero-shot super-resolution of single images.

    Parameters
    ----------
    config : ZSSRConfig, optional
        The recipe; defaults to the ``ideal`` preset.

    Examples
    --------
    >>> from zssr import ZSSR, preset
    >>> sr = ZSSR(preset("ideal", max_iters=200)).upscale(image, scale=2)  # doctest: +SKIP

    References
    ----------
    A. Shocher, N. Cohen, M. Irani, "Zero-Shot Super-Resolution using Deep Internal Learning",
    CVPR 2018.
    """

    def __init__(self, config: ZSSRConfig | None = None) -> None:
        self.config = config if config is not None else ZSSRConfig()

    def upscale(
        self,
        image: np.ndarray,
        scale: float | Sequence[float] = 2.0,
        kernel: KernelArg = None,
        *,
        progress: Callable[[ProgressEvent], None] | None = None,
    ) -> np.ndarray:
        """Super-resolve ``image`` by ``scale``; returns a float32 array in [0, 1].

        See :meth:`run` for the arguments.
        """
        return self.run(image, scale, kernel, progress=progress).image

    def run(
        self,
        image: np.ndarray,
        scale: float | Sequence[float] = 2.0,
        kernel: KernelArg = None,
        *,
        progress: Callable[[ProgressEvent], None] | None = None,
    ) -> ZSSRResult:
        """Train on ``image`` and super-resolve it, returning the image and the training record.

        Parameters
        ----------
        image : ndarray
            Float HxW, HxWx1 or HxWx3 in [0, 1].
        scale : float or (float, float)
            Total scale factor, > 1, the same for both axes or ``(vertical, horizontal)``;
            non-integer values are fine.
        kernel : None, 'bicubic', 2-D array, or list of arrays
            Downscaling kernel of the image (``None``: MATLAB bicubic). One array per scale step.
        progress : callable, optional
            Called with a :class:`ProgressEvent` every training iteration and ensemble pass.

        Returns
        -------
        ZSSRResult
            ``image`` has shape ``ceil(H * scale_v) x ceil(W * scale_h)`` and the input's layout.

        Notes
        -----
        NumPy's BLAS runs single-threaded during the run: its matrix products here are small
        (resizing 128-px crops, back-projection), and extra BLAS threads only fight the
        backend's own thread pool for the cores (see ``benchmarks/profile_zssr.py``).
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._run(image, scale, kernel, progress)

    def _run(self, image, scale, kernel, progress) -> ZSSRResult:
        cfg = self.config
        sv, sh = as_pair(scale)
        if not (math.isfinite(sv) and math.isfinite(sh)) or min(sv, sh) < 1 or max(sv, sh) <= 1:
            raise ValueError(f"scale must be finite, >= 1 on both axes and > 1 on one, got {scale}")
        start = time.perf_counter()
        current, squeeze = float_image(image)
        steps = scale_steps((sv, sh), cfg.gradual_step, cfg.scale_steps)
        _check_size(current.shape, steps[0])
        kernels = _kernels_for(kernel, len(steps))
        for k in kernels:
            if k is not None and (k.shape[0] > current.shape[0] or k.shape[1] > current.shape[1]):
                raise ValueError(
                    f"kernel of {k.shape[0]}x{k.shape[1]} is larger than the "
                    f"{current.shape[0]}x{current.shape[1]} image; use a kernel that fits the "
                    "image (kernels are typically 11x11 to 31x31)"
                )
        bp_iters = _spread(cfg.back_projection_iters, len(steps))
        rng = np.random.default_rng(cfg.seed)

        original = current
        base: Pair = (1.0, 1.0)
        sources = [FatherSource(current, 1.0)]
        model = None
        try:
            reports: list[StepReport] = []
            for index, (step_scale, step_kernel, bp) in enumerate(zip(steps, kernels, bp_iters)):
                rel = (step_scale[0] / base[0], step_scale[1] / base[1])
                if model is None or cfg.init_net_for_each_step:
                    if model is not None:
                        self._release(model)
                    model = None  # so that a failed take leaves nothing to release
                    model = self._new_model(current.shape[2], cfg.precision)
                t0 = time.perf_counter()
                can_retry = cfg.precision == "auto" and _precision_of(model) != "float32"
                if can_retry:
                    start_weights, start_rng = model.get_weights(), rng.bit_generator.state
                retried = None
                try:
                    report = self._train(model, sources, current, rel, step_kernel, rng, index,
                                         len(steps), progress)
                except TrainingDiverged as exc:
                    if not can_retry:
                        raise
                    # A divergence seen only in bfloat16 (oneDNN on AMX): the same step again, from
                    # the same weights and samples, in float32; the report says so.
                    self._release(model)
                    model = None
                    model = self._new_model(current.shape[2], "float32", start_weights)
                    rng.bit_generator.state = start_rng
                    retried = f"{exc.what}; trained again in float32"
                    report = self._train(model, sources, current, rel, step_kernel, rng, index,
                                         len(steps), progress)
                report.precision, report.retried = _precision_of(model), retried
                t1 = time.perf_counter()
                output = self._predict(model, current, rel, step_kernel, bp, index, len(steps),
                                       progress)
                report.train_seconds = t1 - t0
                report.predict_seconds = time.perf_counter() - t1
                report.scale = step_scale
                report.back_projection_iters = bp
                reports.append(report)
                last = index == len(steps) - 1
                if not last and any(abs(step_scale[0] - b) < 1e-3 and abs(step_scale[1] - b) < 1e-3
                                    for b in cfg.base_change_scales):
                    # After the final step a base change would change nothing but trigger the
                    # back-projection onto the input below, already done by _predict at this scale.
                    current, base = output, step_scale
                    sources = [FatherSource(current, 1.0)]
                else:
                    sources.append(FatherSource(output, min(rel)))
            if (base != (1.0, 1.0) and cfg.back_project_to_input and bp_iters[-1] > 0
                    and all(k is None for k in kernels)):
                output = back_projection(output, original, (sv, sh), None, bp_iters[-1])
        finally:
            if model is not None:
                self._release(model)
        result_image = output[:, :, 0] if squeeze else output
        return ZSSRResult(result_image, (sv, sh), reports, time.perf_counter() - start)

    def _pool_key(self, channels: int, precision: str) -> tuple:
        return (channels, self.config.depth, self.config.width, resolve_precision(precision))

    def _new_model(self, channels: int, precision: str, weights: list | None = None):
        """A compiled network at its starting weights: ``weights`` if given, else the
        configured initial weights (random, seeded, or a file). Taken from the pool of compiled
        networks when one fits, and then reset so that it trains exactly as a new one."""
        cfg = self.config
        init_key = (channels, cfg.depth, cfg.width, cfg.init_variance, cfg.seed)
        net = _POOL.take(self._pool_key(channels, precision))
        if net is None:
            net = build_network(channels, depth=cfg.depth, width=cfg.width,
                                init_variance=cfg.init_variance, seed=cfg.seed,
                                precision=precision)
            if _POOL.initial_weights(init_key) is None:
                _POOL.remember_initial(init_key, net.get_weights())
            net = compile_network(net, cfg.learning_rate)
            random_start_in_place = True
        else:
            for variable in net.optimizer.variables:  # moments, step count (and the rate)
                variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
            random_start_in_place = False
        if weights is not None:
            net.set_weights(weights)
        elif cfg.init_weights:
            load_initial_weights(net, resolve_weights(cfg.init_weights), depth=cfg.depth,
                                 width=cfg.width)
        elif not random_start_in_place:
            initial = _POOL.initial_weights(init_key)
            if initial is None:
                initial = build_network(channels, depth=cfg.depth, width=cfg.width,
                                        init_variance=cfg.init_variance,
                                        seed=cfg.seed).get_weights()
                _POOL.remember_initial(init_key, initial)
            net.set_weights(initial)
        net.optimizer.learning_rate.assign(cfg.learning_rate)
        return net

    def _release(self, model) -> None:
        _POOL.give(self._pool_key(model.inputs[0].shape[-1], _precision_of(model)), model)

    def _train(self, model, sources, lr_input, scale: Pair, kernel, rng, step, n_steps,
               progress) -> StepReport:
        cfg = self.config
        learning_rate = cfg.learning_rate
        model.optimizer.learning_rate.assign(learning_rate)
        test_iters: list[int] = []
        test_mse: list[float] = []
        drops = [0]
        window = cfg.lr_slope_range // cfg.test_every
        regions = test_regions(lr_input.shape, cfg.test_max_pixels)
        cosine = cfg.lr_schedule == "cosine"
        loss = math.nan
        iteration = 0
        channels = lr_input.shape[2]
        weighted, unit = cfg.loss_weights == "gradient", 1.0
        if weighted:
            # The weight map rides along as an extra channel, so that every crop, flip and warp
            # of a father applies to its weights too; it is stored divided by its maximum
            # (the sampler keeps values in [0, 1]) and scaled back after sampling.
            maps = [gradient_weight_map(s.image) for s in sources]
            unit = max(float(m.max()) for m in maps)
            sources = [FatherSource(np.concatenate([s.image, (m / unit)[:, :, None]], axis=2),
                                    s.base_scale) for s, m in zip(sources, maps)]
        for iteration in range(cfg.max_iters):
            hr_father = sample_hr_father(
                sources, rng, crop_size=cfg.crop_size,
                leave_as_is_probability=cfg.leave_as_is_probability,
                no_interpolate_probability=cfg.no_interpolate_probability,
                min_scale=cfg.min_scale, scale_diff_sigma=cfg.scale_diff_sigma,
                shear_sigma=cfg.shear_sigma, allow_rotation=cfg.allow_rotation,
                geometry=cfg.crop_geometry,
            )
            weights = None
            if weighted:
                weights = hr_father[None, :, :, channels] * unit
                hr_father = np.ascontiguousarray(hr_father[:, :, :channels])
            lr_son = father_to_son(hr_father, scale, kernel, rng, noise_std=cfg.noise_std)
            interpolated = interpolate_son(lr_son, scale, hr_father.shape[:2])
            if cosine:
                learning_rate = cfg.min_learning_rate + 0.5 * (
                    cfg.learning_rate - cfg.min_learning_rate) * (
                    1.0 + math.cos(math.pi * iteration / max(cfg.max_iters - 1, 1)))
                model.optimizer.learning_rate.assign(learning_rate)
            loss = float(model.train_on_batch(interpolated[None], hr_father[None],
                                              sample_weight=weights))
            if not math.isfinite(loss):
                raise _diverged(f"training diverged: the loss is {loss} at iteration "
                                f"{iteration + 1}", step, n_steps, model)
            if not cosine and iteration % cfg.test_every == 0:
                errors = []
                for region in regions:
                    target = lr_input[region]
                    son = father_to_son(target, scale, kernel, rng, noise_std=cfg.noise_std)
                    rec = np.clip(self._forward(model, interpolate_son(son, scale,
                                                                       target.shape[:2])),
                                  0.0, 1.0)
                    errors.append(float(np.mean((target - rec) ** 2)))
                test_iters.append(iteration)
                test_mse.append(float(np.mean(errors)))
            if (not cosine and (iteration + 1) % cfg.lr_check_every == 0
                    and iteration - drops[-1] > cfg.min_iters
                    and lr_should_drop(test_iters[-window:], test_mse[-window:],
                                       cfg.lr_change_ratio)):
                learning_rate /= 10.0
                drops.append(iteration)
                model.optimizer.learning_rate.assign(learning_rate)
            if progress is not None:
                progress(ProgressEvent("train", step, n_steps, iteration + 1, cfg.max_iters,
                                       loss, learning_rate))
            if not cosine and learning_rate < cfg.min_learning_rate:
                break
        return StepReport(
            scale=scale, iterations=iteration + 1, final_learning_rate=learning_rate,
            lr_drop_iterations=drops[1:], final_loss=loss, train_seconds=0.0,
            predict_seconds=0.0, back_projection_iters=0,
            reconstruction_mse=list(zip(test_iters, test_mse)),
        )

    def _forward(self, model, interpolated: np.ndarray) -> np.ndarray:
        return tiled_apply(lambda x: forward(model, x), interpolated,
                           tile=self.config.tile_size, margin=self.config.depth + 1)

    def _predict(self, model, lr_input, scale: Pair, kernel, bp_iters, step, n_steps,
                 progress) -> np.ndarray:
        cfg = self.config
        if cfg.self_ensemble:
            # Quarter turns swap the axes, so they only fit when both axes share one scale.
            ks = list(range(8)) if scale[0] == scale[1] else [0, 2, 4, 6]
        else:
            ks = [0]
        out_shape = output_shape_for(lr_input.shape, scale)
        # Members go straight into one array: a list plus np.stack would hold them twice.
        stack = np.empty((len(ks), *out_shape, lr_input.shape[2]), dtype=np.float32)
        for n, k in enumerate(ks):
            x = np.ascontiguousarray(transform(lr_input, k))
            sr = self._forward(model, interpolate_son(x, scale))
            if not np.isfinite(sr).all():
                raise _diverged(f"the network's output has non-finite values (ensemble member "
                                f"{n + 1} of {len(ks)})", step, n_steps, model)
            sr = np.clip(sr, 0.0, 1.0)
            sr = np.ascontiguousarray(untransform(sr, k))
            if sr.shape[:2] != out_shape:
                # Odd sizes under a quarter turn: ceil() of swapped axes gives the same shape, so
                # this only guards against a future change of interpolate_son.
                raise AssertionError(f"ensemble member {k} has shape {sr.shape}, want {out_shape}")
            stack[n] = back_projection(sr, lr_input, scale, kernel, bp_iters)
            del sr
            if progress is not None:
                progress(ProgressEvent("predict", step, n_steps, n + 1, len(ks)))
        if len(ks) > 1:
            almost = np.empty_like(stack[0])
            for r in range(0, almost.shape[0], 256):  # bands bound median's temporary copy
                almost[r:r + 256] = np.median(stack[:, r:r + 256], axis=0)
        else:
            almost = stack[0]
        del stack
        return back_projection(almost.astype(np.float32), lr_input, scale, kernel, bp_iters)


def upscale(
    image: np.ndarray,
    scale: float | Sequence[float] = 2.0,
    kernel: KernelArg = None,
    *,
    config: ZSSRConfig | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> np.ndarray:
    """One-call ZSSR: ``ZSSR(config).upscale(image, scale, kernel)``."""
    return ZSSR(config).upscale(image, scale, kernel, progress=progress)
