"""Blind estimation of an image's downscaling kernel (KernelGAN)."""

from .kernelgan import EstimateEvent, KernelGANConfig, estimate_kernel

__all__ = ["estimate_kernel", "KernelGANConfig", "EstimateEvent"]
