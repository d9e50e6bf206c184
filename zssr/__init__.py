"""zssr: zero-shot, per-image super-resolution (Shocher, Cohen & Irani, CVPR 2018).

>>> import zssr
>>> sr = zssr.upscale(image, scale=2)                         # doctest: +SKIP
>>> sr = zssr.ZSSR(zssr.preset("gradual")).upscale(image, 2)  # doctest: +SKIP
>>> k = zssr.estimate_kernel(image, scale=2)                  # doctest: +SKIP

The names that need Keras (``ZSSR``, ``upscale``, ``estimate_kernel`` ...) are imported on first
use, so ``import zssr`` and the CLI's argument parsing stay fast and quiet.
"""

import importlib as _importlib
import os as _os

# Keras reads its backend once, at first import; TensorFlow is the default we install.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .config import PRESETS, ZSSRConfig, preset, preset_names  # noqa: E402

__version__ = "0.1.0"

_LAZY = {
    "ZSSR": ".api",
    "upscale": ".api",
    "ZSSRResult": ".results",
    "StepReport": ".results",
    "ProgressEvent": ".results",
    "TrainingDiverged": ".results",
    "estimate_kernel": ".estimate",
    "KernelGANConfig": ".estimate",
}

__all__ = ["PRESETS", "ZSSRConfig", "preset", "preset_names", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zssr' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
