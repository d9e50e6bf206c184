"""Blind estimation of an image's downscaling kernel (KernelGAN).

``KernelGANConfig`` imports without Keras; ``estimate_kernel`` and ``EstimateEvent`` import the
estimator (and Keras) on first use.
"""

from importlib import import_module

from .config import KernelGANConfig

__all__ = ["estimate_kernel", "KernelGANConfig", "EstimateEvent"]


def __getattr__(name: str):
    if name in ("estimate_kernel", "EstimateEvent"):
        return getattr(import_module(".kernelgan", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
