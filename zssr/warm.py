"""Warm-start weights for the ZSSR network: the shipped file and its lookup by name.

``ZSSRConfig(init_weights="warm")`` (the ``warm`` preset, ``zssr --init-weights warm``)
starts per-image training from generic weights instead of a random network; a path to a
``.weights.h5`` file of your own works the same way. The shipped weights are trained by
``python -m zssr.train warm-start`` (:mod:`zssr.train.warm_start`) and put into the package by
``python -m zssr.train ship-warm`` (:func:`zssr.train.ship_warm`). Loading checks the sha256
against ``zssr/weights/manifest.json`` and is offline.

References
----------
J. W. Soh, S. Cho, N. I. Cho, "Meta-Transfer Learning for Zero-Shot Super-Resolution",
CVPR 2020 (MZSR: ZSSR from a learned starting point needs far fewer updates).
"""

from __future__ import annotations

import os
from pathlib import Path

from .weights import WARM_DIR, read_manifest, shipped

__all__ = ["NAMES", "WEIGHTS_DIR", "manifest", "resolve"]

WEIGHTS_DIR = WARM_DIR
#: Shipped name -> file in :data:`WEIGHTS_DIR`.
NAMES = {"warm": "warm_x2.weights.h5", "warm-real": "warm_real_x2.weights.h5"}


def manifest(folder: str | os.PathLike = WARM_DIR) -> dict[str, dict]:
    """Entries of ``folder/manifest.json`` keyed by file name (empty if there is none)."""
    return read_manifest(Path(folder) / "manifest.json")


def resolve(init_weights: str, *, folder: str | os.PathLike = WARM_DIR) -> str:
    """The file that ``init_weights`` names: a shipped name (``"warm"``), checked against the
    manifest's sha256, or else the path itself.

    Parameters
    ----------
    init_weights : str
        A name in :data:`NAMES` or a path.
    folder : path
        Where the shipped weights and their ``manifest.json`` live (the package's by default).

    Raises
    ------
    FileNotFoundError
        If a shipped name's file or manifest entry is missing.
    zssr.weights.WeightsError
        (a ``ValueError``) If a shipped file's sha256 differs from its manifest entry.
    """
    if init_weights not in NAMES:
        return init_weights
    try:
        return str(shipped(folder, NAMES[init_weights]))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the shipped warm-start weights {Path(folder) / NAMES[init_weights]} (or their "
            "manifest entry) are missing; reinstall zssr, or pass init_weights=PATH, a weights "
            "file of your own from `python -m zssr.train warm-start`") from None


if __name__ == "__main__":  # the shipping command that lived here moved
    raise SystemExit("python -m zssr.warm no longer ships weights; use "
                     "python -m zssr.train ship-warm --checkpoint-dir RUN --hardware TEXT")
