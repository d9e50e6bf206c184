"""zssr: zero-shot, per-image super-resolution (Shocher, Cohen & Irani, CVPR 2018).

>>> import zssr
>>> sr = zssr.upscale(image, scale=2)                         # doctest: +SKIP
>>> sr = zssr.ZSSR(zssr.preset("gradual")).upscale(image, 2)  # doctest: +SKIP
>>> k = zssr.estimate_kernel(image, scale=2)                  # doctest: +SKIP

The names that need Keras (``ZSSR``, ``upscale``, ``estimate_kernel`` ...) are imported on first
use, so ``import zssr`` and the CLI's argument parsing stay fast and quiet. That first import
(and the backend's first device query) runs inside :func:`zssr.quiet.quiet_native_stderr`, so
TensorFlow's C++ start-up lines do not reach the terminal; set ``ZSSR_DEBUG=1`` to see them.
"""

import importlib as _importlib
import os as _os
import sys as _sys

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


def _import_quietly(module: str):
    """Import ``module`` of this package; if that loads Keras for the first time, do it (and
    the backend's first device query, where CUDA reports) with descriptor 2 silenced."""
    from .quiet import quiet_native_stderr

    if "keras" in _sys.modules:
        return _importlib.import_module(module, __name__)
    with quiet_native_stderr():
        loaded = _importlib.import_module(module, __name__)
        if "keras" in _sys.modules:
            from .network import compute_device

            compute_device()
    return loaded


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_import_quietly(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zssr' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
