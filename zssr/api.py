"""The public front of ZSSR: :class:`ZSSR` and :func:`upscale`.

They run the pure :class:`~zssr.engine.Engine` and do what it does not: resolve
``config.init_weights`` (a shipped name such as ``"warm"``, checked against its manifest, or a
file) and load it into arrays, once per file in a process.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .config import (
    RECOMMENDED,
    ZSSRConfig,
    check_noise_std,
    default_preset,
    degradation_aware,
    kernel_safe,
)
from .config import preset as named_preset
from .engine import Engine
from .plan import KernelArg, is_bicubic
from .results import ProgressEvent, ZSSRResult

__all__ = ["ZSSR", "upscale", "measure_degradation", "initial_weights", "clear_weights_cache"]

Progress = Callable[[ProgressEvent], None]

_CACHE: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
_CACHE_SIZE = 8
_LOCK = threading.Lock()


def initial_weights(init_weights: str, channels: int, *, depth: int, width: int
                    ) -> list[np.ndarray]:
    """The starting weights that ``init_weights`` names, for a ``channels``-channel network of
    this depth and width, as arrays.

    A shipped name (``"warm"``) is resolved by :func:`zssr.warm.resolve`, which checks the file
    against its manifest every time; the arrays of a file are read once and kept (a changed
    file is read again).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file does not hold a network of this depth and width, or a shipped file does not
        match its manifest.
    """
    from .network import read_initial_weights
    from .warm import resolve

    path = resolve(init_weights)
    try:
        stat = os.stat(path)
        key: tuple = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size, channels, depth,
                      width)
    except OSError:  # read_initial_weights says what is missing
        return read_initial_weights(path, channels, depth=depth, width=width)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    weights = read_initial_weights(path, channels, depth=depth, width=width)
    with _LOCK:
        _CACHE[key] = weights
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return weights


def clear_weights_cache() -> None:
    """Forget the starting weights read by :func:`initial_weights`."""
    with _LOCK:
        _CACHE.clear()


class ZSSR:
    """Zero-shot super-resolution of single images.

    Parameters
    ----------
    config : ZSSRConfig, optional
        The recipe, used as given; defaults to the recommended preset
        (:data:`zssr.config.RECOMMENDED`, ``warm``). For a non-bicubic kernel pass its
        kernel-safe form (:func:`zssr.config.kernel_safe`) or use :func:`upscale`, which does.

    Raises
    ------
    TypeError
        If ``config`` is not a :class:`ZSSRConfig` (a preset's name is one call away:
        ``ZSSR(zssr.preset("warm"))``).

    Examples
    --------
    >>> from zssr import ZSSR, preset
    >>> sr = ZSSR().upscale(image, scale=2)  # doctest: +SKIP
    >>> sr = ZSSR(preset("ideal", max_iters=200)).upscale(image, scale=2)  # doctest: +SKIP

    References
    ----------
    A. Shocher, N. Cohen, M. Irani, "Zero-Shot Super-Resolution using Deep Internal Learning",
    CVPR 2018.
    """

    def __init__(self, config: ZSSRConfig | None = None) -> None:
        if config is None:
            config = named_preset(RECOMMENDED)
        if not isinstance(config, ZSSRConfig):
            hint = repr(config) if isinstance(config, str) else "'warm'"
            raise TypeError(f"ZSSR takes a ZSSRConfig, got {type(config).__name__}; for a "
                            f"preset write ZSSR(zssr.preset({hint}))")
        self.config = config

    def upscale(self, image: np.ndarray, scale: float | Sequence[float] = 2.0,
                kernel: KernelArg = None, *, progress: Progress | None = None) -> np.ndarray:
        """Super-resolve ``image`` by ``scale``; returns a float32 array in [0, 1].

        See :meth:`run` for the arguments.
        """
        return self.run(image, scale, kernel, progress=progress).image

    def run(self, image: np.ndarray, scale: float | Sequence[float] = 2.0,
            kernel: KernelArg = None, *, progress: Progress | None = None) -> ZSSRResult:
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
            Called with a :class:`~zssr.results.ProgressEvent` every training iteration and
            ensemble pass.

        Returns
        -------
        ZSSRResult
            ``image`` has shape ``ceil(H * scale_v) x ceil(W * scale_h)`` and the input's layout.
        """
        cfg = self.config
        weights = None
        if cfg.init_weights:  # read once the engine has checked the image and the scale
            def weights(channels: int) -> list[np.ndarray]:
                return initial_weights(cfg.init_weights, channels, depth=cfg.depth,
                                       width=cfg.width)
        return Engine(cfg, weights).run(image, scale, kernel, progress=progress)


def upscale(
    image: np.ndarray,
    scale: float | Sequence[float] = 2.0,
    kernel: KernelArg = None,
    *,
    config: ZSSRConfig | None = None,
    preset: str | None = None,
    jpeg_quality: int | None = None,
    jpeg_subsampling: str = "4:2:0",
    noise_std: float | str = "auto",
    progress: Progress | None = None,
) -> np.ndarray:
    """One-call ZSSR with the command line's recipe.

    Parameters
    ----------
    image, scale, kernel, progress
        As for :meth:`ZSSR.run`.
    config : ZSSRConfig, optional
        The recipe, used exactly as given (no kernel or degradation adjustments, no noise
        estimate).
    preset : str, optional
        Without ``config``: the preset to run, by default the recommended ``"warm"``
        (:func:`zssr.config.default_preset`; ``"ideal"`` is the paper's slower recipe). With a
        non-bicubic kernel it is made kernel-safe (:func:`zssr.config.kernel_safe`: one jump,
        no rotations, no self-ensemble), as ``zssr --kernel`` does.
    jpeg_quality : int, optional
        The JPEG quality (1-100) ``image`` was saved at, e.g. ``zssr.io.jpeg_info(path).quality``;
        the sons are then compressed the same way. ``None`` or 0: not a JPEG.
    jpeg_subsampling : {'4:2:0', '4:2:2', '4:4:4'}
        The JPEG's chroma subsampling (``zssr.io.jpeg_info(path).subsampling``).
    noise_std : float or 'auto'
        The std of the noise in ``image`` (of the range 0..1), matched in the sons; ``"auto"``
        models the noise :func:`zssr.noise_level.noise_to_model` measures (a clean image: none).
        A JPEG or noisy input runs as :func:`zssr.config.degradation_aware` says.

    Returns
    -------
    ndarray
        float32 in [0, 1], see :meth:`ZSSR.run`.

    Raises
    ------
    ValueError
        If both ``config`` and ``preset`` are given, or ``config`` with a degradation, or a
        degradation out of range.
    """
    if config is not None and preset is not None:
        raise ValueError("give config or preset, not both")
    if config is not None:
        if jpeg_quality or noise_std != "auto" or jpeg_subsampling != "4:2:0":
            raise ValueError("config is used as given: set its jpeg_quality, jpeg_subsampling "
                             "and noise_std fields instead of passing them")
        return ZSSR(config).upscale(image, scale, kernel, progress=progress)
    given = not is_bicubic(kernel)
    config = named_preset(preset or default_preset(given))
    if given:
        config, _ = kernel_safe(config)
    config, _ = degradation_aware(config, **measure_degradation(
        image, jpeg_quality=jpeg_quality, jpeg_subsampling=jpeg_subsampling,
        noise_std=noise_std))
    return ZSSR(config).upscale(image, scale, kernel, progress=progress)


def measure_degradation(image: np.ndarray, *, jpeg_quality: int | None = None,
                        jpeg_subsampling: str = "4:2:0", noise_std: float | str = "auto"
                        ) -> dict[str, Any]:
    """The keyword arguments of :func:`zssr.config.degradation_aware` for ``image``: the JPEG
    quality as given (``None``: 0), and the noise std as given (0 included: it replaces a
    preset's) or, for ``"auto"``, what :func:`zssr.noise_level.noise_to_model` finds (``None``
    when it finds nothing to model, so a preset's own noise stays).

    Raises
    ------
    ValueError
        For a quality outside 1..100, an unknown subsampling, or a noise std that is not a
        number in [0, 0.5] or ``"auto"``.
    """
    from .checks import float_image
    from .degrade import SUBSAMPLINGS
    from .noise_level import noise_to_model

    quality = int(jpeg_quality or 0)
    if not 0 <= quality <= 100:
        raise ValueError(f"jpeg_quality must be 1..100 (or None), got {jpeg_quality}")
    if jpeg_subsampling not in SUBSAMPLINGS:
        raise ValueError(f"jpeg_subsampling must be one of {SUBSAMPLINGS}, got "
                         f"{jpeg_subsampling!r}")
    noise: float | None
    if isinstance(noise_std, str):
        if noise_std != "auto":
            raise ValueError(f"noise_std must be a number in [0, 0.5] or 'auto', got "
                             f"{noise_std!r}")
        pixels, _ = float_image(image)
        noise = noise_to_model(pixels)[0] or None
    else:
        noise = check_noise_std(noise_std)
    return {"jpeg_quality": quality, "jpeg_subsampling": jpeg_subsampling, "noise_std": noise}

