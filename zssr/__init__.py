"""zssr: zero-shot, per-image super-resolution (Shocher, Cohen & Irani, CVPR 2018).

>>> import zssr
>>> sr = zssr.upscale(image, scale=2)                       # doctest: +SKIP
>>> sr = zssr.ZSSR(zssr.preset("gradual")).upscale(image, 2)  # doctest: +SKIP
"""

import os as _os

# Keras reads its backend once, at first import; TensorFlow is the default we install.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .config import PRESETS, ZSSRConfig, preset, preset_names  # noqa: E402
from .engine import ZSSR, ProgressEvent, StepReport, ZSSRResult, upscale  # noqa: E402
from .estimate import KernelGANConfig, estimate_kernel  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ZSSR",
    "ZSSRConfig",
    "ZSSRResult",
    "StepReport",
    "ProgressEvent",
    "PRESETS",
    "preset",
    "preset_names",
    "upscale",
    "estimate_kernel",
    "KernelGANConfig",
    "__version__",
]
