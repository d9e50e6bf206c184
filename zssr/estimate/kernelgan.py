"""KernelGAN (Bell-Kligler, Shocher & Irani, NeurIPS 2019) in Keras 3.

A deep *linear* generator downscales crops of the image; a patch discriminator tries to tell its
output from real crops of the same image. When the discriminator can no longer tell them apart,
the generator downscales the way the camera did, and its composed filter is the image's
downscaling kernel. Priors keep the kernel plausible: it sums to 1, is small near its borders, is
centred, is sparse, and starts close to bicubic.

The generator is parametrised as KernelGAN's six-layer linear network (7, 5, 3, 1, 1, 1; 64
channels) but applied as the single strided correlation with its composed 13x13 filter: the same
function and the same gradients for the layer weights, at a fraction of the cost, and the
extracted kernel is exactly the operation that was trained.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from ..checks import float_image
from ..kernels import analytic_x4, bicubic_kernel
from .config import KernelGANConfig
from .crops import CropSampler

__all__ = ["KernelGANConfig", "estimate_kernel", "DeepLinearGenerator", "BatchStatNorm",
           "build_discriminator", "post_process_kernel", "sharpen_kernel", "EstimateEvent",
           "train_kernelgan", "combine_kernels", "kernel_from_members"]


@dataclass(frozen=True)
class EstimateEvent:
    """Progress of the estimation (for a progress bar). The losses are the iteration's totals,
    summed over the ensemble's members."""

    iteration: int
    total: int
    g_loss: float
    d_loss: float


def _penalty_mask(size: int, strength: float = 30.0) -> np.ndarray:
    """Weights growing towards the borders of a ``size`` kernel, zero in its central part."""
    centre = (size - 1) / 2.0
    z = np.arange(size) - centre
    g = np.exp(-(z[:, None] ** 2 + z[None, :] ** 2) / (2.0 * size**2))
    mask = 1.0 - g / g.max()
    core = size // 2 + size % 2
    margin = (size - core) // 2 - 1
    if margin > 0:
        mask[margin:-margin, margin:-margin] = 0.0
    return strength * mask


@keras.saving.register_keras_serializable(package="zssr")
class DeepLinearGenerator(keras.layers.Layer):
    """Downscales each channel with the filter composed of a stack of linear convolutions.

    Input (N, H, W, C) in [-1, 1]; output (N, (H - K) // s + 1, ..., C) for the composed kernel
    size K and stride s. The kernel priors and the bicubic-similarity loss are added with
    ``add_loss``; their weights are non-trainable variables the training schedule updates.
    """

    def __init__(self, structure=(7, 5, 3, 1, 1, 1), channels=64, stride=2, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.structure = tuple(int(k) for k in structure)
        self.channels, self.stride, self.seed = int(channels), int(stride), int(seed)
        self.size = sum(k - 1 for k in self.structure) + 1

    def build(self, input_shape):
        chans = [1] + [self.channels] * (len(self.structure) - 1) + [1]
        self.filters = []
        for i, k in enumerate(self.structure):
            fan_in, fan_out = k * k * chans[i], k * k * chans[i + 1]
            std = 0.1 * math.sqrt(2.0 / (fan_in + fan_out))  # Xavier-normal with gain 0.1
            self.filters.append(self.add_weight(
                name=f"w{i}", shape=(k, k, chans[i], chans[i + 1]),
                initializer=keras.initializers.RandomNormal(stddev=std, seed=self.seed + i)))
        self.lambdas = {name: self.add_weight(name=f"lambda_{name}", shape=(),
                                              initializer="zeros", trainable=False)
                        for name in ("sum2one", "bicubic", "boundaries", "centralized", "sparse")}
        self.mask = ops.convert_to_tensor(_penalty_mask(self.size), dtype="float32")
        bic = bicubic_kernel(self.stride).astype("float32")
        self.bicubic = ops.convert_to_tensor(bic[:, :, None, None])
        idx = np.arange(self.size, dtype="float32")
        self.indices = ops.convert_to_tensor(idx)
        want = self.size // 2 + 0.5 * (self.stride - self.size % 2)
        self.centre = ops.convert_to_tensor(np.array([want, want], dtype="float32"))

    def kernel(self):
        """The composed filter (K x K) the generator correlates with."""
        span = 2 * self.size - 1
        delta = np.zeros((1, span, span, 1), dtype="float32")
        delta[0, self.size - 1, self.size - 1, 0] = 1.0
        x = ops.convert_to_tensor(delta)
        for w in self.filters:
            x = ops.conv(x, w, padding="valid")
        # A delta through a correlation gives the filter mirrored; mirror it back.
        return ops.flip(ops.flip(x[0, :, :, 0], axis=0), axis=1)

    def _to_gray_batch(self, x):
        n, h, w, c = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2], ops.shape(x)[3]
        return ops.reshape(ops.transpose(x, (0, 3, 1, 2)), (n * c, h, w, 1)), n, c

    def _from_gray_batch(self, y, n, c):
        h, w = ops.shape(y)[1], ops.shape(y)[2]
        return ops.transpose(ops.reshape(y, (n, c, h, w)), (0, 2, 3, 1))

    def downscale_pair(self, x):
        """The generator's downscaling of ``x`` and MATLAB bicubic's, aligned; plus the kernel."""
        k = self.kernel()
        gray, n, c = self._to_gray_batch(x)
        y = ops.conv(gray, ops.reshape(k, (self.size, self.size, 1, 1)), strides=self.stride,
                     padding="valid")
        pad = (self.bicubic.shape[0] - 1) // 2
        bic = ops.conv(ops.pad(gray, ((0, 0), (pad, pad), (pad, pad), (0, 0))), self.bicubic,
                       strides=self.stride, padding="valid")
        sh = (ops.shape(bic)[1] - ops.shape(y)[1]) // 2
        sw = (ops.shape(bic)[2] - ops.shape(y)[2]) // 2
        bic = bic[:, sh:sh + ops.shape(y)[1], sw:sw + ops.shape(y)[2], :]
        return self._from_gray_batch(y, n, c), self._from_gray_batch(bic, n, c), k

    def call(self, x):
        y, bic, k = self.downscale_pair(x)
        lam = self.lambdas
        total = ops.sum(k)
        rows, cols = ops.sum(k, axis=1), ops.sum(k, axis=0)
        com = ops.stack([ops.sum(rows * self.indices), ops.sum(cols * self.indices)]) / total
        self.add_loss(
            lam["bicubic"] * ops.mean(ops.square(y - bic))
            + lam["sum2one"] * ops.abs(1.0 - total)
            + lam["boundaries"] * ops.mean(ops.abs(k * self.mask))
            + lam["centralized"] * ops.mean(ops.square(com - self.centre))
            + lam["sparse"] * ops.mean(ops.power(ops.abs(k) + 1e-12, 0.2))
        )
        return y

    def get_config(self):
        return {**super().get_config(), "structure": self.structure, "channels": self.channels,
                "stride": self.stride, "seed": self.seed}


class _DownscalePair(keras.layers.Layer):
    """The generator's and bicubic's downscaling of a crop, as a layer, so that a model built on
    it runs as one compiled call instead of the dozen eager ops of
    :meth:`DeepLinearGenerator.downscale_pair` (faster, and the same kernel to the bit)."""

    def __init__(self, generator: DeepLinearGenerator, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator

    def call(self, x):
        y, bic, _ = self.generator.downscale_pair(x)
        return y, bic


@keras.saving.register_keras_serializable(package="zssr")
class BatchStatNorm(keras.layers.Layer):
    """Batch normalisation that always uses the statistics of the batch at hand.

    KernelGAN's discriminator normalises with batch statistics in both of its roles (when it is
    trained and when it judges the generator); Keras's BatchNormalization switches to moving
    averages once frozen, which would change the generator's gradients.
    """

    def __init__(self, epsilon=1e-5, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.seed = float(epsilon), int(seed)

    def build(self, input_shape):
        c = input_shape[-1]
        self.gamma = self.add_weight(name="gamma", shape=(c,), initializer=keras.initializers
                                     .RandomNormal(1.0, 0.02, seed=self.seed))
        self.beta = self.add_weight(name="beta", shape=(c,), initializer="zeros")

    def call(self, x):
        mean = ops.mean(x, axis=(0, 1, 2), keepdims=True)
        var = ops.mean(ops.square(x - mean), axis=(0, 1, 2), keepdims=True)
        return (x - mean) / ops.sqrt(var + self.epsilon) * self.gamma + self.beta

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "seed": self.seed}


def build_discriminator(channels: int = 3, *, width: int = 64, layers: int = 7,
                        kernel: int = 7, seed: int = 0,
                        name: str = "kernelgan_discriminator") -> keras.Model:
    """Fully convolutional patch discriminator: one ``kernel`` x ``kernel`` convolution (its
    receptive field), then 1x1 convolutions with batch-statistics normalisation and ReLU, and a
    sigmoid map; spectral normalisation on every convolution."""
    def conv(filters, size, i, activation=None):
        std = 0.1 * math.sqrt(2.0 / (size * size * (channels if i == 0 else width) + filters))
        return keras.layers.SpectralNormalization(keras.layers.Conv2D(
            filters, size, activation=activation,
            kernel_initializer=keras.initializers.RandomNormal(stddev=std, seed=seed + i)))

    inputs = keras.Input((None, None, channels))
    x = conv(width, kernel, 0)(inputs)
    for i in range(1, layers - 1):
        x = conv(width, 1, i)(x)
        x = BatchStatNorm(seed=seed + 100 + i)(x)
        x = keras.layers.ReLU()(x)
    outputs = conv(1, 1, layers - 1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs, name=name)
    # Keras draws the power-iteration vectors from Python's unseeded global random state; draw
    # them from the seed instead, so that an estimate is reproducible.
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.SpectralNormalization):
            u = layer.vector_u
            layer.vector_u.assign(np.clip(rng.standard_normal(u.shape), -2, 2).astype("float32")
                                  * 0.02)
    return model


def post_process_kernel(kernel: np.ndarray, n: int = 40) -> np.ndarray:
    """Drop negligible taps: subtract 0.75 x the (n+1)-th largest value, clip at 0, sum to 1."""
    k = np.asarray(kernel, dtype=np.float64)
    threshold = 0.75 * np.sort(k.ravel())[-n - 1] if k.size > n else 0.0
    k = np.clip(k - threshold, 0.0, None)
    if k.sum() <= 0:
        raise ValueError("estimated kernel vanished after filtering; the estimation failed")
    return k / k.sum()


def sharpen_kernel(kernel: np.ndarray, gamma: float) -> np.ndarray:
    """``kernel ** gamma``, renormalised: a Gaussian keeps its centre and axes and its standard
    deviations shrink by ``sqrt(gamma)`` (``gamma`` > 0; 1 leaves it unchanged)."""
    if not gamma > 0:
        raise ValueError(f"sharpen must be > 0, got {gamma}")
    k = np.clip(np.asarray(kernel, dtype=np.float64), 0.0, None) ** gamma
    return k / k.sum()


def train_kernelgan(
    image: np.ndarray,
    *,
    config: KernelGANConfig | None = None,
    progress: Callable[[EstimateEvent], None] | None = None,
) -> list[np.ndarray]:
    """Train ``config.ensemble`` independent KernelGANs on ``image`` and return their raw kernels.

    The members differ only in their seeds (weights, crops, noise); they are trained in lockstep,
    each iteration of all of them in the same three compiled calls. The cost still grows about
    linearly with the number of members: the many small operations of an iteration, not call
    overhead, dominate. Member 0 is exactly the single GAN of ``ensemble=1`` with the same seed.

    Returns
    -------
    list of ndarray
        One raw 13x13 generator kernel (before post-processing) per member.
    """
    cfg = config or KernelGANConfig()
    if cfg.ensemble < 1:
        raise ValueError(f"ensemble must be >= 1, got {cfg.ensemble}")
    image, _ = float_image(image)
    seeds = [cfg.seed + 10007 * j for j in range(cfg.ensemble)]
    rngs = [np.random.default_rng(s) for s in seeds]
    nets = _Lockstep(cfg, image.shape[2], seeds)
    sampler = CropSampler(image, cfg.g_crop, nets.d_size, 2, rngs[0])
    nets.compile(cfg)
    schedules = [_PriorSchedule(cfg, g) for g in nets.gens]
    lr = cfg.learning_rate
    for it in range(cfg.max_iters):
        g_loss, d_loss, bic_mse = nets.train_step(*_draw_crops(sampler, rngs), rngs)
        n = it + 1
        if n % cfg.lr_decay_every == 0:
            lr /= 10.0
            nets.g_trainer.optimizer.learning_rate.assign(lr)
            nets.d_trainer.optimizer.learning_rate.assign(lr)
        for schedule, mse in zip(schedules, bic_mse):
            schedule.step(n, mse)
        if progress is not None:
            progress(EstimateEvent(n, cfg.max_iters, g_loss, d_loss))
    return [keras.ops.convert_to_numpy(g.kernel()).astype(np.float64) for g in nets.gens]


def _draw_crops(sampler: CropSampler, rngs: list[np.random.Generator]
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One generator crop and one (noisy) discriminator crop per member, in [-1, 1]."""
    g_crops, d_crops = [], []
    for rng in rngs:
        g_crops.append((sampler.generator_crop(rng)[None] * 2.0 - 1.0).astype(np.float32))
        d_crop = sampler.discriminator_crop(rng)[None]
        d_crops.append(((d_crop + rng.standard_normal(d_crop.shape) / 255.0) * 2.0 - 1.0)
                       .astype(np.float32))
    return g_crops, d_crops


class _Lockstep:
    """The members' generators and discriminators, and the three compiled calls that train
    them all at once."""

    def __init__(self, cfg: KernelGANConfig, chans: int, seeds: list[int]) -> None:
        self.chans, self.n = chans, len(seeds)
        self.gens = [DeepLinearGenerator(cfg.g_structure, cfg.g_channels, 2, seed=s,
                                         name=f"generator_{j}") for j, s in enumerate(seeds)]
        self.d_nets = [build_discriminator(chans, width=cfg.d_channels, layers=cfg.d_layers,
                                           kernel=cfg.d_kernel, seed=s + 1000,
                                           name=f"kernelgan_discriminator_{j}")
                       for j, s in enumerate(seeds)]
        # the generator's output side
        self.d_size = (cfg.g_crop - self.gens[0].size) // self.gens[0].stride + 1

    def _inputs(self, size: int) -> list:
        return [keras.Input((size, size, self.chans)) for _ in range(self.n)]

    def compile(self, cfg: KernelGANConfig) -> None:
        """Build the trainers. The generators are trained through the frozen discriminators;
        the discriminators on their own. Each member's loss only reaches its own weights, and
        Adam is element-wise, so one optimiser over all members trains each as if alone."""
        real_ins, fake_ins = self._inputs(self.d_size), self._inputs(self.d_size)
        self.d_trainer = keras.Model(real_ins + fake_ins, [
            ops.concatenate([d(r), d(f)], axis=0)
            for d, r, f in zip(self.d_nets, real_ins, fake_ins)])
        self.d_trainer.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate,
                                                               beta_1=cfg.beta1),
                               loss=["mean_absolute_error"] * self.n)
        for d in self.d_nets:
            d.trainable = False
        g_ins = self._inputs(cfg.g_crop)
        self.g_trainer = keras.Model(g_ins, [d(g(x)) for d, g, x in
                                             zip(self.d_nets, self.gens, g_ins)])
        self.g_trainer.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate,
                                                               beta_1=cfg.beta1),
                               loss=["mean_absolute_error"] * self.n)
        p_ins = self._inputs(cfg.g_crop)
        self.pair = keras.Model(p_ins, [t for g, x in zip(self.gens, p_ins)
                                        for t in _DownscalePair(g)(x)])
        for g in self.gens:
            g.lambdas["sum2one"].assign(cfg.lambda_sum2one)
            g.lambdas["bicubic"].assign(cfg.lambda_bicubic)
            g.lambdas["boundaries"].assign(cfg.lambda_boundaries)
        d_out = self.d_size - (cfg.d_kernel - 1)
        ones = np.ones((1, d_out, d_out, 1), np.float32)
        self.labels_d = [np.concatenate([ones, np.zeros_like(ones)], axis=0)] * self.n
        self.labels_g = [ones] * self.n

    def train_step(self, g_crops: list[np.ndarray], d_crops: list[np.ndarray],
                   rngs: list[np.random.Generator]) -> tuple[float, float, list[float]]:
        """One iteration of every member: the generators, then the discriminators on the real
        crops and the (noisy) generated ones. Returns the losses and each member's distance
        to bicubic downscaling."""
        for d in self.d_nets:
            d.trainable = False
        g_loss = float(np.atleast_1d(np.asarray(
            self.g_trainer.train_on_batch(g_crops, self.labels_g)))[0])
        out = [np.asarray(a) for a in self.pair.predict_on_batch(g_crops)]
        fakes, bic_mse = [], []
        for j, rng in enumerate(rngs):
            fake, bic = out[2 * j], out[2 * j + 1]
            bic_mse.append(float(np.mean((fake - bic) ** 2)))
            fakes.append(fake + rng.standard_normal(fake.shape).astype(np.float32) / 255.0)
        for d in self.d_nets:
            d.trainable = True
        d_loss = float(np.atleast_1d(np.asarray(self.d_trainer.train_on_batch(
            d_crops + fakes, self.labels_d)))[0])
        return g_loss, d_loss, bic_mse


class _PriorSchedule:
    """KernelGAN's schedule of the priors for one generator: once it mimics bicubic (three
    iterations in a row below ``bicubic_similar_below``), fade the bicubic prior out and bring in
    the centring and sparsity priors."""

    def __init__(self, cfg: KernelGANConfig, gen: DeepLinearGenerator) -> None:
        self.cfg, self.gen = cfg, gen
        self.count, self.similar, self.constraints_in = 0, False, False
        self.lam_bic = cfg.lambda_bicubic

    def step(self, n: int, bic_mse: float) -> None:
        """Update after iteration ``n``, whose generator output was ``bic_mse`` from bicubic's."""
        cfg = self.cfg
        if not self.similar:
            self.count = self.count + 1 if bic_mse < cfg.bicubic_similar_below else 0
            self.similar = self.count >= 3
        elif n % cfg.lambda_update_every == 0 and self.lam_bic > cfg.lambda_bicubic_min:
            self.lam_bic = max(self.lam_bic / cfg.lambda_bicubic_decay, cfg.lambda_bicubic_min)
            self.gen.lambdas["bicubic"].assign(self.lam_bic)
            if not self.constraints_in and self.lam_bic < 5e-3:
                self.gen.lambdas["centralized"].assign(cfg.lambda_centralized_end)
                self.gen.lambdas["sparse"].assign(cfg.lambda_sparse_end)
                self.constraints_in = True


def combine_kernels(kernels: list[np.ndarray],
                    n: int = KernelGANConfig.n_filtering) -> np.ndarray:
    """Post-process each member's raw kernel (:func:`post_process_kernel` with ``n``) and average
    them (sums to 1)."""
    return np.mean([post_process_kernel(k, n) for k in kernels], axis=0)


def estimate_kernel(
    image: np.ndarray,
    scale: int = 2,
    *,
    config: KernelGANConfig | None = None,
    progress: Callable[[EstimateEvent], None] | None = None,
    return_x2: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Estimate the downscaling kernel of ``image`` with KernelGAN.

    Trains ``config.ensemble`` GANs (:func:`train_kernelgan`), averages their post-processed
    kernels (:func:`combine_kernels`) and raises the average to ``config.sharpen``
    (:func:`sharpen_kernel`).

    Parameters
    ----------
    image : ndarray
        Float HxW or HxWxC image in [0, 1], at least ``config.g_crop`` pixels on each side.
    scale : {2, 4}
        The SR scale the kernel is for; x4 is composed analytically from the x2 estimate.
    config : KernelGANConfig, optional
    progress : callable, optional
        Called with an :class:`EstimateEvent` every iteration.
    return_x2 : bool
        Also return the x2 kernel (useful with ``scale=4``).

    Returns
    -------
    ndarray or (ndarray, ndarray)
        The kernel (sums to 1); with ``return_x2``, ``(kernel, kernel_x2)``.

    References
    ----------
    S. Bell-Kligler, A. Shocher, M. Irani, "Blind Super-Resolution Kernel Estimation using an
    Internal-GAN", NeurIPS 2019.
    """
    if scale not in (2, 4):
        raise ValueError(f"kernel estimation supports scale 2 or 4, got {scale}")
    cfg = config or KernelGANConfig()
    kernel, k2 = kernel_from_members(train_kernelgan(image, config=cfg, progress=progress),
                                     cfg, scale)
    return (kernel, k2) if return_x2 else kernel


def kernel_from_members(members: list[np.ndarray], config: KernelGANConfig, scale: int = 2
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The estimate :func:`estimate_kernel` makes of the members' raw kernels: post-processed
    and averaged (:func:`combine_kernels`), raised to ``config.sharpen``, composed to x4 for
    ``scale`` 4. Returns ``(kernel, kernel_x2)``."""
    k2 = combine_kernels(members, config.n_filtering)
    if config.sharpen != 1.0:
        k2 = sharpen_kernel(k2, config.sharpen)
    return (k2 if scale == 2 else analytic_x4(k2)), k2
