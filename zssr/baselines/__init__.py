"""Supervised baselines to compare ZSSR against: bicubic and EDSR-baseline with shipped weights.

>>> from zssr import baselines
>>> model = baselines.load("edsr-baseline", scale=2)          # doctest: +SKIP
>>> sr = baselines.upscale(model, image)                      # doctest: +SKIP

Weights live in ``zssr/baselines/weights/`` as ``<name>_x<scale>.weights.h5`` and are described in
``manifest.json`` there (sha256, training data, iterations, hardware, validation PSNR). Loading is
offline; a file whose hash does not match its manifest entry is an error. They are trained by
``python -m zssr.baselines.train`` (see that module).

References
----------
B. Lim, S. Son, H. Kim, S. Nah, K. M. Lee, "Enhanced Deep Residual Networks for Single Image
Super-Resolution", CVPRW 2017.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..checks import float_image
from ..weights import BASELINES_DIR, read_manifest, sha256_file, shipped

__all__ = ["NAMES", "build", "load", "manifest", "upscale", "bicubic", "weights_path"]

NAMES = ("edsr-baseline",)
WEIGHTS_DIR = BASELINES_DIR


def _integer_scale(scale: Any) -> int:
    """``scale`` as an int: 2, 2.0 and np.int64(2) alike (the baselines are integer-scale
    networks; ZSSR's own API takes floats, so 2.0 is what scripts often pass)."""
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale must be a number, got {scale!r}") from None
    if isinstance(scale, bool) or not value.is_integer():
        raise ValueError(f"the baselines upscale by an integer factor (2, 3 or 4), got {scale!r}; "
                         "for other factors use ZSSR or bicubic")
    return int(value)


def build(name: str, scale: int, *, seed: int = 0, n_blocks: int = 16, width: int = 64) -> Any:
    """A freshly initialised baseline network (``keras.Model``) by name; ``n_blocks`` and
    ``width`` other than 16 and 64 give smaller variants (tests, experiments)."""
    from .models import edsr_baseline

    if name == "edsr-baseline":
        return edsr_baseline(_integer_scale(scale), seed=seed, n_blocks=n_blocks, width=width)
    raise ValueError(f"unknown baseline {name!r}; choose one of: {', '.join(NAMES)}")


def manifest() -> dict[str, dict]:
    """Entries of ``weights/manifest.json`` keyed by file name (empty if there is none)."""
    return read_manifest(WEIGHTS_DIR / "manifest.json")


def weights_path(name: str, scale: int) -> Path:
    """Where the shipped weights of ``name`` at ``scale`` live."""
    return WEIGHTS_DIR / f"{name}_x{_integer_scale(scale)}.weights.h5"


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file (:func:`zssr.weights.sha256_file`)."""
    return sha256_file(path)


def load(name: str, scale: int, *, weights: str | Path | None = None) -> Any:
    """A baseline network with trained weights.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    scale : int
        Upscaling factor the weights were trained for.
    weights : path, optional
        A ``.weights.h5`` file of your own (e.g. from ``zssr.baselines.train``); by default the
        shipped file, whose sha256 must match the manifest.

    Raises
    ------
    FileNotFoundError
        If no weights exist for this name and scale.
    ValueError
        If the shipped file does not match its manifest (corrupt or replaced).
    """
    scale = _integer_scale(scale)
    model = build(name, scale)
    if weights is None:
        path = weights_path(name, scale)
        if not path.exists():
            names = ", ".join(sorted(manifest())) or "none"
            raise FileNotFoundError(
                f"no shipped weights for {name} x{scale} (shipped: {names}); train some "
                "(`python -m zssr.train edsr`) and pass weights=PATH"
            )
        if path.name not in manifest():
            raise ValueError(f"{path.name} is not listed in {WEIGHTS_DIR / 'manifest.json'}")
        path = shipped(WEIGHTS_DIR, path.name)  # checks the sha256
    else:
        path = Path(weights)
        if not path.exists():
            raise FileNotFoundError(f"weights file not found: {path}")
    model.load_weights(str(path))
    return model


def _for_network(x: np.ndarray, channels: int) -> np.ndarray:
    """``x`` (HxWxC) with the network's channel count: gray repeated to RGB, else unchanged."""
    if x.shape[2] == channels:
        return x
    if x.shape[2] == 1 and channels == 3:
        return np.repeat(x[:, :, :1], 3, axis=2)
    raise ValueError(f"image has {x.shape[2]} channels, the network takes {channels}")


def upscale(model: Any, image: np.ndarray, *, tile_size: int = 256,
            margin: int | None = None, self_ensemble: bool = False) -> np.ndarray:
    """Super-resolve one image with a baseline network, tile by tile.

    Parameters
    ----------
    model : keras.Model
        From :func:`load` or :func:`build`; its scale is read from its output shape.
    image : ndarray
        HxW or HxWxC float image in [0, 1]; gray images go through the RGB network as three
        equal channels.
    tile_size : int
        LR tile side; each tile gets a margin of the network's receptive radius, so the result
        equals an untiled pass (up to float rounding) with memory bounded by the tile.
        0 runs the whole image at once.
    margin : int, optional
        LR context around each tile; default the network's receptive radius plus 2.
    self_ensemble : bool
        Average the outputs for the 8 flips and quarter turns of the input, each turned back
        (the geometric self-ensemble that EDSR's "+" results use; ZSSR's final output uses the
        same idea): 8 times the work, usually a little higher PSNR. It is done tile by tile, so
        memory stays that of a single pass.

    Returns
    -------
    ndarray
        float32, ``scale`` times the size, clipped to [0, 1], same channel count as ``image``.
    """
    import keras

    from ..ensemble import mean_of_transforms
    from ..tiling import tiled_apply
    from .models import receptive_radius

    x, squeezed = float_image(image)
    gray = x.shape[2] == 1
    channels = model.input_shape[-1]
    x = _for_network(x, channels)
    probe = model.compute_output_shape((1, 8, 8, channels))
    scale = int(probe[1]) // 8

    def run(tile: np.ndarray) -> np.ndarray:
        out = model(np.ascontiguousarray(tile)[None], training=False)
        return keras.ops.convert_to_numpy(out)[0]

    def run_ensemble(tile: np.ndarray) -> np.ndarray:
        # Per tile (with its margin), so memory stays that of one output: each orientation's
        # centre is what the whole image in that orientation would give there.
        return mean_of_transforms(run, tile)

    margin = margin if margin is not None else receptive_radius() + 2
    sr = tiled_apply(run_ensemble if self_ensemble else run, x, tile=tile_size, margin=margin,
                     scale=scale)
    # In place: a large output, a clipped copy and a dtype copy would be three at once.
    # (A backend's array may be read-only, e.g. JAX's untiled output: then clip into a copy.)
    if sr.dtype == np.float32 and sr.flags.writeable:
        np.clip(sr, 0.0, 1.0, out=sr)
    else:
        sr = np.clip(sr, 0.0, 1.0)
    if gray:
        sr = sr.mean(axis=2) if squeezed else sr.mean(axis=2, keepdims=True)
    return sr.astype(np.float32, copy=False)


def bicubic(image: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB-compatible bicubic upscaling, clipped to [0, 1]: the baseline of every table."""
    from ..resize import imresize

    x, squeezed = float_image(image, channels=(1, 2, 3, 4))
    return np.clip(imresize(x[:, :, 0] if squeezed else x, scale), 0.0, 1.0)
