"""Configuration: one frozen dataclass, named presets, fields equal to the CLI flags.

Every field of :class:`ZSSRConfig` is also a ``zssr`` command flag (``max_iters`` is
``--max-iters``) and is written into each output's JSON sidecar, so a result can be reproduced.
:func:`parse_overrides` reads ``field=value`` texts, for the CLI and the benchmark alike.
The presets are the recipes of the official ZSSR configurations (Shocher et al., CVPR 2018).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["ZSSRConfig", "PRESETS", "preset", "preset_names", "KERNEL_SAFE", "kernel_safe",
           "DEGRADED", "degradation_aware", "check_noise_std",
           "RECOMMENDED", "default_preset", "parse_value", "parse_overrides", "MIN_TILE_SIZE"]

#: The smallest tile side worth tiling with: each tile carries an overlap margin of
#: ``depth + 1`` pixels on every side, so smaller tiles spend most of their work on margins
#: (a 3-pixel tile computes about 50 times the pixels it keeps at the default depth).
MIN_TILE_SIZE = 16


def _field(default: Any, help: str, choices: tuple[str, ...] = ()) -> Any:
    """A dataclass field with a one-line ``help`` (the CLI flag's help) and, for string options,
    the accepted ``choices``."""
    metadata: dict[str, Any] = {"help": help}
    if choices:
        metadata["choices"] = choices
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class ZSSRConfig:
    """All knobs of one ZSSR run; the defaults are the ``ideal`` preset (the recommended one,
    run when none is named, is :data:`RECOMMENDED`).

    Each field's one-line description is in its metadata (``dataclasses.fields(ZSSRConfig)``,
    ``metadata["help"]``; string options also list their ``metadata["choices"]``), shown by
    ``zssr --help``. The method behind them is described in ``docs/method.md``.

    Parameters
    ----------
    max_iters, min_iters, learning_rate, min_learning_rate, lr_schedule
        Training length and the learning-rate schedule.
    lr_change_ratio, lr_check_every, lr_slope_range, test_every, test_max_pixels
        The paper's learning-rate policy and its reconstruction tests.
    depth, width, init_variance, init_weights, precision, tile_size
        The network, its starting weights and how it computes.
    crop_size, crop_geometry, noise_std, jpeg_quality, jpeg_subsampling, loss_weights
        HR fathers, LR sons (degraded like the input: noise, then JPEG) and the loss.
    leave_as_is_probability, no_interpolate_probability, min_scale, scale_diff_sigma
        How fathers are augmented.
    shear_sigma, allow_rotation
        Shear, rotations and mirror flips of the fathers.
    self_ensemble, back_projection_iters, back_project_to_input
        Prediction.
    gradual_step, scale_steps, base_change_scales, init_net_for_each_step
        The steps towards the target scale.
    seed
        Seeds the sampler, the noise and the weight initialisation.

    Raises
    ------
    ValueError
        From ``__post_init__``, naming the field, when a value is out of range.
    """

    max_iters: int = _field(3000, "upper bound on training iterations per scale step")
    min_iters: int = _field(256, "iterations after a learning-rate change before the next one")
    learning_rate: float = _field(1e-3, "initial Adam learning rate")
    min_learning_rate: float = _field(
        9e-6, "policy: stop once the rate falls below this; cosine: the final rate")
    lr_schedule: str = _field(
        "policy", "policy: the paper's rule, driven by reconstruction tests; cosine: a half "
        "cosine over max_iters", ("policy", "cosine"))
    lr_change_ratio: float = _field(
        1.5, "divide the rate by 10 when -ratio * slope < std(slope) of the recent errors")
    lr_check_every: int = _field(60, "iterations between learning-rate policy checks")
    lr_slope_range: int = _field(256, "iterations covered by the linear fit to recent errors")
    test_every: int = _field(50, "iterations between reconstruction tests")
    test_max_pixels: int = _field(
        262144, "larger inputs are tested on fixed crops of about this many pixels; 0: whole")
    depth: int = _field(8, "convolution layers of the residual network (3x3 each)")
    width: int = _field(64, "channels of every convolution but the last")
    init_variance: float = _field(0.1, "weights start as N(0, init_variance / fan_in)")
    crop_size: int = _field(128, "HR-father crop side")
    crop_geometry: str = _field(
        "official", "official: the official code's centred windows, black outside the image; "
        "inside: in-image crops", ("official", "inside"))
    noise_std: float = _field(
        0.0, "std (of the range 0..1) of the Gaussian noise added to LR sons until a base change")
    jpeg_quality: int = _field(
        0, "LR sons go through JPEG at this quality (1-100) until a base change; 0: none")
    jpeg_subsampling: str = _field(
        "4:2:0", "chroma subsampling of the JPEG sons", ("4:4:4", "4:2:2", "4:2:0"))
    loss_weights: str = _field(
        "uniform", "uniform: plain L1; gradient: L1 weighted by the local gradient magnitude",
        ("uniform", "gradient"))
    leave_as_is_probability: float = _field(0.05, "chance that a father is a plain crop")
    no_interpolate_probability: float = _field(
        0.45, "chance that a father is a crop turned by quarter turns, maybe mirrored")
    min_scale: float = _field(0.5, "smallest random downscale of an affine father")
    scale_diff_sigma: float = _field(
        0.25, "std of the difference between an affine father's two axis scales")
    shear_sigma: float = _field(0.1, "std of the shear of an affine father")
    allow_rotation: bool = _field(True, "rotations and mirror flips in augmentation")
    self_ensemble: bool = _field(True, "geometric self-ensemble at prediction")
    back_projection_iters: tuple[int, ...] = _field(
        (10,), "back-projection iterations per scale step (one value, or one per step)")
    gradual_step: float = _field(
        0.0, "0: one jump; else grow the scale in steps of this size, one axis at a time")
    scale_steps: tuple[float, ...] = _field(
        (), "explicit intermediate scales, e.g. 2 runs x4 as x2 then x4 (overrides gradual_step)")
    base_change_scales: tuple[float, ...] = _field(
        (), "after a step reaching one of these scales, its output becomes the input")
    init_weights: str = _field(
        "", "starting weights: empty for random, a .weights.h5 path to fine-tune, or "
        "warm/warm-real (shipped)")
    init_net_for_each_step: bool = _field(
        False, "re-initialise the network at every scale step")
    back_project_to_input: bool = _field(
        True, "after base changes, also back-project the output onto the original input")
    precision: str = _field(
        "auto", "compute precision; auto picks mixed_bfloat16 where bfloat16 is native",
        ("auto", "float32", "mixed_bfloat16"))
    tile_size: int = _field(512, "tile side for large images at prediction; 0: no tiling")
    seed: int = _field(0, "seeds the sampler, the noise and the weight initialisation")

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
        need(self.tile_size == 0 or self.tile_size >= MIN_TILE_SIZE,
             f"tile_size must be 0 (no tiling) or >= {MIN_TILE_SIZE} (each tile carries a "
             f"margin of depth + 1 pixels on every side), got {self.tile_size}")
        need(self.seed >= 0, f"seed must be >= 0, got {self.seed}")
        need(0 <= self.jpeg_quality <= 100,
             f"jpeg_quality must be 1..100, or 0 for none, got {self.jpeg_quality}")
        need(self.jpeg_subsampling in ("4:4:4", "4:2:2", "4:2:0"),
             f"jpeg_subsampling must be '4:4:4', '4:2:2' or '4:2:0', got "
             f"{self.jpeg_subsampling!r}")
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

    @classmethod
    def from_strings(cls, items: Iterable[str], *, base: ZSSRConfig | None = None) -> ZSSRConfig:
        """``base`` (default: ``ZSSRConfig()``) with ``"field=value"`` overrides applied.

        Examples
        --------
        >>> ZSSRConfig.from_strings(["max_iters=500", "scale_steps=2,4"]).scale_steps
        (2.0, 4.0)
        """
        return (base or cls()).replace(**parse_overrides(items))


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_value(name: str, text: str) -> Any:
    """The value of config field ``name`` written as text, typed by the field.

    Bools take ``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``); tuples
    take comma-separated numbers (ints for ``back_projection_iters``, as its type says, floats
    otherwise), ``none`` or an empty text for an empty tuple; the other fields take their own
    type (``int``, ``float``, ``str``).

    Raises
    ------
    ValueError
        For an unknown field or a text that is not a value of the field's type; the message
        starts with the field's name.
    """
    fields = {f.name: f for f in dataclasses.fields(ZSSRConfig)}
    if name not in fields:
        raise ValueError(f"{name}: not a ZSSRConfig field")
    field = fields[name]
    default = field.default
    if isinstance(default, bool):
        if text.strip().lower() in _TRUE + _FALSE:
            return text.strip().lower() in _TRUE
        raise ValueError(f"{name}: {text!r} is not true or false")
    if isinstance(default, tuple):
        if text.strip().lower() in ("", "none"):
            return ()
        kind = int if "int" in str(field.type) else float
        try:
            return tuple(kind(p) for p in text.split(",") if p.strip() != "")
        except ValueError:
            raise ValueError(f"{name}: {text!r} is not a comma-separated list of "
                             f"{kind.__name__}s") from None
    try:
        return type(default)(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a {type(default).__name__}") from None


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["max_iters=500", "scale_steps=2,4"]`` -> ``{"max_iters": 500, "scale_steps": (2.0,
    4.0)}``, each value typed by :func:`parse_value`.

    Raises
    ------
    ValueError
        For an item that is not ``field=value`` with a ZSSRConfig field, or a bad value.
    """
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{item!r}: expected field=value with a ZSSRConfig field")
        out[name.strip()] = parse_value(name.strip(), value)
    return out


def _ideal() -> ZSSRConfig:
    """One jump to the target scale, bicubic kernel: the official ``X2_ONE_JUMP_IDEAL_CONF``,
    fathers included (the official crop windows, ``crop_geometry="official"``)."""
    return ZSSRConfig()


def _gradual() -> ZSSRConfig:
    """Gradual SR in 0.5 steps with growing back-projection: the official
    ``X2_GRADUAL_IDEAL_CONF`` (the paper's Set5/Set14 recipe); several times the cost of
    ``ideal``."""
    return ZSSRConfig(gradual_step=0.5, back_projection_iters=(6, 6, 8, 10, 10, 12),
                      crop_geometry="inside")


def _stepwise() -> ZSSRConfig:
    """Large factors (x3, x4, x8): grow by x2 steps (2, 4, then the target), each later step
    learning from the previous output (base change), then back-project onto the input."""
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
    schedule of 1000 iterations, no reconstruction tests, in-image crops of 128 px."""
    return ZSSRConfig(max_iters=1000, lr_schedule="cosine", crop_geometry="inside")


def _warm() -> ZSSRConfig:
    """Start from the shipped warm-start weights (:mod:`zssr.warm`, trained across many images
    with the ZSSR sampler) and fine-tune them to the image: 200 iterations on 64-pixel fathers
    per step, cosine from 1e-3. The weights are for x2, so larger factors go by x2 steps with
    base changes as in ``stepwise`` (x4 = x2 twice). For a given kernel run it like ``kernel``
    (see :func:`kernel_safe`)."""
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


#: The recommended preset, run when none is named: the fastest recipe that is at least as good
#: as ``ideal`` on the standard test sets (see ``benchmarks/README.md``).
RECOMMENDED = "warm"


def default_preset(kernel_given: bool) -> str:
    """The preset used when none is named: :data:`RECOMMENDED` (``warm``), with or without a
    given or estimated kernel.

    With a kernel, callers run its kernel-safe form (:func:`kernel_safe`: one jump, no
    rotations, no self-ensemble), as the command line and :func:`zssr.upscale` do. ``ideal``
    stays one name away (``preset("ideal")``, ``--preset ideal``).
    """
    del kernel_given  # the same recipe either way; kernel_safe adapts it to a kernel
    return RECOMMENDED


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


#: With a compressed or noisy input (sons then degraded like it) these apply unless asked
#: otherwise: back-projection would copy the input's blocks and noise back into the output
#: (the official real-photo config turns it off), and the shipped ``warm`` start is swapped for
#: ``warm-real``, pretrained on clean, JPEG and noisy sons alike.
DEGRADED: dict[str, Any] = {"back_projection_iters": (0,), "back_project_to_input": False}
#: Starting weights replaced for a degraded input: shipped name -> its degraded-input twin.
DEGRADED_WEIGHTS: dict[str, str] = {"warm": "warm-real"}


def degradation_aware(config: ZSSRConfig, *, jpeg_quality: int = 0,
                      jpeg_subsampling: str = "4:2:0", noise_std: float | None = None,
                      keep: Any = ()) -> tuple[ZSSRConfig, tuple[str, ...]]:
    """``config`` for an input saved as JPEG at ``jpeg_quality`` (0: not a JPEG) and carrying
    Gaussian noise of std ``noise_std``.

    Sons are then degraded the same way: ``jpeg_quality`` and ``jpeg_subsampling`` are set, and
    ``noise_std`` replaces the config's own (``None``: none was found, the config's stays, e.g.
    the ``real`` preset's guess). For a degraded input (a JPEG, or noise above 0) the
    :data:`DEGRADED` values and :data:`DEGRADED_WEIGHTS` apply to every field not named in
    ``keep`` (the fields the user set explicitly). A clean input gets ``config`` unchanged.

    Returns
    -------
    config : ZSSRConfig
        The config to run.
    changed : tuple of str
        The names of the fields that changed, sorted.
    """
    changes: dict[str, Any] = {}
    if jpeg_quality:
        changes.update(jpeg_quality=int(jpeg_quality), jpeg_subsampling=jpeg_subsampling)
    if noise_std is not None:
        changes["noise_std"] = float(noise_std)
    if changes.get("jpeg_quality", 0) or changes.get("noise_std", 0):
        changes.update({k: v for k, v in DEGRADED.items() if k not in keep})
        if "init_weights" not in keep and config.init_weights in DEGRADED_WEIGHTS:
            changes["init_weights"] = DEGRADED_WEIGHTS[config.init_weights]
    changes = {k: v for k, v in changes.items() if getattr(config, k) != v}
    if not changes:
        return config, ()
    return config.replace(**changes), tuple(sorted(changes))


def check_noise_std(value: float) -> float:
    """``value`` as a noise std of the range 0..1, or ValueError (5 grey levels is 5/255)."""
    noise = float(value)
    if not (math.isfinite(noise) and 0 <= noise <= 0.5):
        raise ValueError(f"noise_std must be a number in [0, 0.5] (of the range 0..1: 5 grey "
                         f"levels is {5 / 255:.4f}), got {value!r}")
    return noise
