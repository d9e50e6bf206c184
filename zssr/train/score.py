"""Score baseline weights files on the images a training run holds out, here, in float32.

The held-out images are chosen as :func:`zssr.train.run` chooses them (``val_dirs``, or the
last ``val_count`` images of ``hr_dirs``) and scored the way the EDSR task validates (PSNR-Y,
shave = scale), so that weights trained elsewhere (another machine, another precision) can be
compared with the shipped ones on the same machine and precision before one of them is shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["score"]


def score(weights: Sequence[str | Path], *, hr_dirs: Sequence[str | Path], scale: int,
          val_dirs: Sequence[str | Path] | None = None, val_count: int = 10,
          model: str = "edsr-baseline") -> list[tuple[str, float]]:
    """(path, validation PSNR-Y) of each weights file of ``model`` at ``scale``.

    Raises
    ------
    FileNotFoundError
        If a weights file or a data folder is missing.
    """
    import keras

    from ..baselines import build
    from ..io import list_images
    from .data import split_validation
    from .edsr import load_folder, validate

    missing = [str(w) for w in weights if not Path(w).is_file()]
    if missing:
        raise FileNotFoundError(f"no weights file {', '.join(missing)}")
    keras.mixed_precision.set_global_policy("float32")
    _, val_files = split_validation(
        list_images(hr_dirs), list_images(val_dirs) if val_dirs else None, val_count)
    pairs = load_folder(val_files, scale)
    net = build(model, scale)
    scores = []
    for path in weights:
        net.load_weights(str(path))
        scores.append((str(path), validate(net, pairs, scale)))
    return scores
