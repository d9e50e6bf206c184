"""Configuration: one frozen dataclass, named presets, fields equal to the CLI flags.

Every field of :class:`ZSSRConfig` is also a ``run_zssr.py`` flag (``max_iters`` is
``--max-iters``) and is written into each output's JSON sidecar, so a result can be reproduced.
The presets are the recipes of the official ZSSR configurations (Shocher et al., CVPR 2018).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ZSSRConfig", "PRESETS", "preset", "preset_names", "KERNEL_SAFE", "kernel_safe",
           "default_preset"]


@dataclass(frozen=True)
class ZSSRConfig:
    """All knobs of one ZSSR run.

    Parameters
    ----------
    max_iters : int
        Upper bound on training iterations per scale step.
    min_iters : int
        Iterations that must pass after a learning-rate change before the next one may happen.
    learning_rate : float
        Initial Adam learning rate.
    min_learning_rate : float
        Training of a step stops once the rate falls below this (``policy``); the final rate of
        the ``cosine`` schedule.
    lr_schedule : str
        ``"policy"``: the paper's rule below, driven by reconstruction tests, which also decides
        when to stop. ``"cosine"``: the rate falls from ``learning_rate`` to
        ``min_learning_rate`` along a half cosine over exactly ``max_iters`` iterations, with no
        reconstruction tests (a fixed, predictable budget).
    lr_change_ratio : float
        The rate is divided by 10 when ``-lr_change_ratio * slope < std(slope)`` of a linear fit to
        the recent reconstruction errors, i.e. when the error no longer falls significantly.
    lr_check_every : int
        Iterations between learning-rate policy checks.
    lr_slope_range : int
        Iterations covered by the linear fit (``lr_slope_range // test_every`` error samples).
    test_every : int
        Iterations between reconstruction tests (the input's own son through the network).
    test_max_pixels : int
        Inputs larger than this many pixels are tested on a fixed set of 256x256 crops spread
        over the image (about this many pixels in all) instead of the whole image: the test only
        has to track the error's trend for the learning-rate policy, and on a 1080p input the
        whole-image test cost more than the training steps. 0 always tests the whole image.
    depth : int
        Convolution layers of the residual network (3x3 each; the paper's 8).
    width : int
        Channels of every convolution but the last (the paper's 64).
    init_variance : float
        Weights start as N(0, init_variance / fan_in): small, so the network starts near identity.
    crop_size : int
        HR-father crop side; smaller images use their whole extent (``inside``) or sit in a
        black frame (``official``).
    crop_geometry : str
        ``"official"`` (``ideal``): the official code's fathers, always ``crop_size`` square
        windows placed about the image centre, black wherever they fall outside the image (a
        small or shrunk image sits in a black frame). ``"inside"`` (every other preset): crops
        that stay inside the (scaled, rotated) image, smaller than ``crop_size`` when the image
        is, with rotated corners filled by reflection. With ``ideal``, Set5 x2 scored 37.039 /
        36.988 / 36.912 dB with the official windows (seeds 0-2, mean 36.980; the official
        code's own run 37.04) against 36.937 / 36.807 / 36.981 inside (mean 36.908); on held-out
        BSD200 training images inside crops scored higher (31.144 against 31.064, seed 1: 31.172
        against 31.101), so only ``ideal``, the reproduction of the official recipe, uses the
        official windows.
    noise_std : float
        Gaussian noise added to LR sons (0 for ideal inputs, ~0.0125 for real photos).
    loss_weights : str
        ``"uniform"``: the L1 loss averages all pixels of a father alike (the paper).
        ``"gradient"``: each pixel's term is weighted by the image's local gradient magnitude
        there (a 5x5 box sum, mean 1 over the image, zero within 3 pixels of its border; the map
        is cropped and warped with the father), so that learning concentrates on edges, where
        the kernel shows: the recipe of KernelGAN's ZSSR (Bell-Kligler et al., 2019), which
        also trains on plain crops only (``leave_as_is_probability=1``). Measured with that, on
        14 synthetic-kernel cases over BSD200 training images (400 iterations): 29.29 dB with
        the sharpened estimates against 29.32 for ``kernel`` (true kernels 30.74 / 30.70), so no
        preset uses it (``benchmarks/results/kernel_synthetic_zssr_kgz.md``).
    leave_as_is_probability : float
        Chance that a father is a plain crop of the input.
    no_interpolate_probability : float
        Chance that a father is a crop rotated by 90-degree steps and maybe mirrored (no
        interpolation); the rest are interpolated affine crops.
    min_scale : float
        Smallest random downscale of an affine father, relative to the input.
    scale_diff_sigma : float
        Standard deviation of the difference between the two axis scales of an affine father.
    shear_sigma : float
        Standard deviation of the shear of an affine father.
    allow_rotation : bool
        Rotations and mirror flips in augmentation (off for kernels without symmetry).
    self_ensemble : bool
        Geometric self-ensemble at prediction (8 transforms, 4 for anisotropic scales).
    back_projection_iters : tuple of int
        Back-projection iterations per scale step; one value applies to every step, several
        are spread over the steps (the official gradual recipe gives one per step).
    gradual_step : float
        0 for one jump. Otherwise the scale grows in steps of this size, one axis at a time, as in
        the official gradual recipe (x2 with 0.5: 1x1.5, 1.5x1, 1.5x1.5, 1.5x2, 2x1.5, 2x2).
    scale_steps : tuple of float
        Explicit intermediate (isotropic) scales before the final one, e.g. (2,) runs x4 as
        x2 then x4; earlier outputs become father sources. Overrides gradual_step when given.
    base_change_scales : tuple of float
        After a step (other than the last) reaching one of these (isotropic) scales, its output
        becomes the input.
    init_weights : str
        Starting weights of the network: ``""`` draws them at random (the paper); a path to a
        ``.weights.h5`` file of a network with the same depth and width (e.g. from
        ``python -m zssr.pretrain``) starts from those, and training then fine-tunes them to the
        image; ``"warm"`` names the shipped warm-start weights (:mod:`zssr.warm`). RGB weights
        also serve gray images (exactly, as for a gray image copied to RGB).
    init_net_for_each_step : bool
        Re-initialise the network at every scale step instead of continuing from the last one.
    back_project_to_input : bool
        After base changes, also back-project the final output onto the original input (with
        the bicubic kernel at the total scale), which the later steps otherwise never see.
    precision : str
        ``"float32"``, or ``"mixed_bfloat16"`` to run the convolutions in bfloat16 (weights and
        the residual sum stay float32): about twice as fast where the CPU has AVX512-BF16 (or on
        recent GPUs). ``"auto"`` (the default) picks ``"mixed_bfloat16"`` where bfloat16 is
        native (a GPU, or a CPU with AVX512-BF16 or AMX) and ``"float32"`` elsewhere (emulated
        bfloat16 is slower). On held-out BSD200 images `ideal` scored 31.163 dB in bfloat16
        against 31.160 in float32.
    tile_size : int
        Large images go through the network in tiles of this side (plus a margin of ``depth``
        pixels, so results equal an untiled pass); bounds memory. 0 disables tiling.
    seed : int
        Seeds the sampler, the noise and the weight initialisation.
    """

    max_iters: int = 3000
    min_iters: int = 256
    learning_rate: float = 1e-3
    min_learning_rate: float = 9e-6
    lr_schedule: str = "policy"
    lr_change_ratio: float = 1.5
    lr_check_every: int = 60
    lr_slope_range: int = 256
    test_every: int = 50
    test_max_pixels: int = 262144
    depth: int = 8
    width: int = 64
    init_variance: float = 0.1
    crop_size: int = 128
    crop_geometry: str = "official"
    noise_std: float = 0.0
    loss_weights: str = "uniform"
    leave_as_is_probability: float = 0.05
    no_interpolate_probability: float = 0.45
    min_scale: float = 0.5
    scale_diff_sigma: float = 0.25
    shear_sigma: float = 0.1
    allow_rotation: bool = True
    self_ensemble: bool = True
    back_projection_iters: tuple[int, ...] = (10,)
    gradual_step: float = 0.0
    scale_steps: tuple[float, ...] = ()
    base_change_scales: tuple[float, ...] = ()
    init_weights: str = ""
    init_net_for_each_step: bool = False
    back_project_to_input: bool = True
    precision: str = "auto"
    tile_size: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ValueError(f"invalid ZSSRConfig: {message}")

        for name in ("max_iters", "lr_check_every", "lr_slope_range", "test_every", "depth",
                     "width", "crop_size"):
            need(int(getattr(self, name)) >= 1, f"{name} must be >= 1, got {getattr(self, name)}")
        need(self.depth >= 2, f"depth must be >= 2, got {self.depth}")
        need(self.precision in ("float32", "mixed_bfloat16", "auto"),
             f"precision must be 'float32', 'mixed_bfloat16' or 'auto', got {self.precision!r}")
        need(self.loss_weights in ("uniform", "gradient"),
             f"loss_weights must be 'uniform' or 'gradient', got {self.loss_weights!r}")
        need(self.crop_geometry in ("inside", "official"),
             f"crop_geometry must be 'inside' or 'official', got {self.crop_geometry!r}")
        need(self.lr_schedule in ("policy", "cosine"),
             f"lr_schedule must be 'policy' or 'cosine', got {self.lr_schedule!r}")
        need(self.test_max_pixels >= 0,
             f"test_max_pixels must be >= 0 (0: whole image), got {self.test_max_pixels}")
        need(self.tile_size >= 0, f"tile_size must be >= 0 (0: no tiling), got {self.tile_size}")
        need(self.min_iters >= 0, f"min_iters must be >= 0, got {self.min_iters}")
        need(self.lr_slope_range >= 2 * self.test_every,
             "lr_slope_range must cover at least two reconstruction tests (>= 2 * test_every)")
        for name in ("learning_rate", "min_learning_rate", "init_variance", "lr_change_ratio"):
            v = getattr(self, name)
            need(math.isfinite(v) and v > 0, f"{name} must be a positive number, got {v}")
        for name in ("noise_std", "scale_diff_sigma", "shear_sigma", "gradual_step"):
            v = getattr(self, name)
            need(math.isfinite(v) and v >= 0, f"{name} must be >= 0, got {v}")
        need(0 < self.min_scale <= 1, f"min_scale must be in (0, 1], got {self.min_scale}")
        p1, p2 = self.leave_as_is_probability, self.no_interpolate_probability
        need(0 <= p1 and 0 <= p2 and p1 + p2 <= 1,
             "leave_as_is_probability and no_interpolate_probability must be >= 0 and sum to <= 1")
        need(len(self.back_projection_iters) >= 1 and min(self.back_projection_iters) >= 0,
             f"back_projection_iters must be one or more integers >= 0, got "
             f"{self.back_projection_iters}")
        need(all(s > 1 for s in self.scale_steps),
             f"scale_steps must all be > 1, got {self.scale_steps}")
        need(all(s > 1 for s in self.base_change_scales),
             f"base_change_scales must all be > 1, got {self.base_change_scales}")
        object.__setattr__(self, "back_projection_iters",
                           tuple(int(b) for b in self.back_projection_iters))
        object.__setattr__(self, "scale_steps", tuple(sorted(float(s) for s in self.scale_steps)))
        object.__setattr__(self, "base_change_scales",
                           tuple(float(b) for b in self.base_change_scales))

    def replace(self, **changes: Any) -> ZSSRConfig:
        """A copy with some fields changed (validated again)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown ZSSRConfig field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (tuples become lists)."""
        items = dataclasses.asdict(self).items()
        return {k: list(v) if isinstance(v, tuple) else v for k, v in items}


def _ideal() -> ZSSRConfig:
    """One jump to the target scale, bicubic kernel: the official ``X2_ONE_JUMP_IDEAL_CONF``,
    fathers included (the official crop windows, ``crop_geometry="official"``)."""
    return ZSSRConfig()


def _gradual() -> ZSSRConfig:
    """Gradual SR in 0.5 steps with growing back-projection: the official
    ``X2_GRADUAL_IDEAL_CONF`` (the paper's Set5/Set14 numbers). About six times the cost of
    ideal."""
    return ZSSRConfig(gradual_step=0.5, back_projection_iters=(6, 6, 8, 10, 10, 12),
                      crop_geometry="inside")


def _stepwise() -> ZSSRConfig:
    """Large factors (x3, x4, x8): grow by x2 steps (2, 4, then the target), each later step
    learning from the previous output (base change), then back-project onto the input. The best
    zero-shot x4 recipe measured here (Set5 x4: 30.38 dB against 29.49 for one jump; ``warm``,
    which starts from pretrained weights, reaches 31.09)."""
    return ZSSRConfig(scale_steps=(2.0, 4.0), base_change_scales=(2.0, 4.0),
                      crop_geometry="inside")


def _kernel() -> ZSSRConfig:
    """A given (non-bicubic) kernel: no rotations or ensemble, since the kernel need not be
    symmetric, and 2 back-projections: the official ``X2_GIVEN_KERNEL_CONF``."""
    return ZSSRConfig(self_ensemble=False, allow_rotation=False, back_projection_iters=(2,),
                      crop_geometry="inside")


def _real() -> ZSSRConfig:
    """Real photos (kernel plus mild unknown noise): noisy sons, gentle augmentation and no
    back-projection, which would re-inject the noise: the official ``X2_REAL_CONF``."""
    return ZSSRConfig(self_ensemble=False, back_projection_iters=(0,), noise_std=0.0125,
                      allow_rotation=False, scale_diff_sigma=0.0, shear_sigma=0.0, min_scale=0.75,
                      crop_geometry="inside")


def _fast() -> ZSSRConfig:
    """``ideal`` on a budget, from a random start (any kernel, any scale): a fixed cosine
    schedule of 1000 iterations, no reconstruction tests, in-image crops. On held-out BSD200
    images: -0.09 dB against ``ideal`` with in-image crops (500 iterations: -0.25). 2000
    iterations on 64-pixel fathers cost a third less for the same held-out score but are fragile
    on images with large flat areas (Set14 ppt3: 29.3-31.5 dB over three seeds against 31.8 for
    this recipe), so fathers stay 128 px.
    Measured in ``benchmarks/results/speed_*.md``."""
    return ZSSRConfig(max_iters=1000, lr_schedule="cosine", crop_geometry="inside")


def _warm() -> ZSSRConfig:
    """Start from the shipped warm-start weights (:mod:`zssr.warm`, trained across many images
    with the ZSSR sampler) and fine-tune them to the image: 200 iterations on 64-pixel fathers
    per step, cosine from 1e-3. The weights are for x2, so larger factors go by x2 steps with
    base changes as in ``stepwise`` (x4 = x2 twice). For a given kernel run it like ``kernel``:
    ``allow_rotation=False, self_ensemble=False, scale_steps=(), base_change_scales=()`` (the CLI
    does so with a non-bicubic ``--kernel``).
    Chosen on held-out training images, not on the benchmark sets (the earlier weights): BSD200
    x2, against ``ideal`` with in-image crops (31.163 dB): 150 x 128 px +0.025 dB, 300 x 64 px
    +0.025 in two thirds of the time (250: +0.014, 150: -0.025); x4: x2 steps +0.06 dB against
    ``stepwise`` in 1/14 of the time, and +0.33 dB against one x4 jump. With today's weights, on
    the four held-out BSD200 images of ``ideal``'s checks (``ideal`` with its official windows
    31.064 dB, inside crops 31.144): 300 iterations 31.241, 250 31.237, 200 31.226, 150 31.195;
    x4 300 25.552, 200 25.533. 200, the fewest within 0.02 dB of 300 at both scales, costs a
    fifth less per image (2026-12-02)."""
    return ZSSRConfig(init_weights="warm", max_iters=200, crop_size=64, lr_schedule="cosine",
                      learning_rate=1e-3, scale_steps=(2.0, 4.0), base_change_scales=(2.0, 4.0),
                      crop_geometry="inside")


PRESETS: dict[str, Callable[[], ZSSRConfig]] = {
    "ideal": _ideal,
    "gradual": _gradual,
    "stepwise": _stepwise,
    "kernel": _kernel,
    "real": _real,
    "fast": _fast,
    "warm": _warm,
}


def preset_names() -> list[str]:
    """Names accepted by :func:`preset` and ``--preset``."""
    return list(PRESETS)


def preset(name: str, **overrides: Any) -> ZSSRConfig:
    """The named preset, optionally with some fields overridden.

    Raises
    ------
    ValueError
        If ``name`` is not a preset; the message lists the valid names.
    """
    try:
        base = PRESETS[name]()
    except KeyError:
        raise ValueError(
            f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}"
        ) from None
    return base.replace(**overrides) if overrides else base


#: With a non-bicubic kernel these apply unless asked otherwise: rotations and the ensemble
#: assume a kernel symmetric under quarter turns and mirroring (the official given-kernel config
#: turns them off), and a kernel describes one downscaling, so the run is one jump.
KERNEL_SAFE: dict[str, Any] = {"allow_rotation": False, "self_ensemble": False,
                               "gradual_step": 0.0, "scale_steps": (), "base_change_scales": ()}


def default_preset(kernel_given: bool) -> str:
    """The preset used when none is named: ``kernel`` for a given or estimated kernel, else
    ``ideal``."""
    return "kernel" if kernel_given else "ideal"


def kernel_safe(config: ZSSRConfig, *, keep: Any = ()) -> tuple[ZSSRConfig, tuple[str, ...]]:
    """``config`` made safe for a non-bicubic kernel: the :data:`KERNEL_SAFE` values for every
    field not named in ``keep`` (the fields the user set explicitly).

    Returns
    -------
    config : ZSSRConfig
        The safe config (``config`` itself when nothing changes).
    changed : tuple of str
        The names of the fields that changed, sorted.
    """
    changes = {k: v for k, v in KERNEL_SAFE.items()
               if k not in keep and getattr(config, k) != v}
    if not changes:
        return config, ()
    return config.replace(**changes), tuple(sorted(changes))
