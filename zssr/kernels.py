"""Downscaling kernels: reading, validating and normalising kernel files.

A kernel file is a MATLAB ``.mat`` holding a 2-D variable ``Kernel`` (as KernelGAN and DIV2KRK
write them) or a NumPy ``.npy`` holding a 2-D array. A kernel that cannot be loaded or is invalid
is an error, never a silent fall-back to bicubic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["KernelError", "LoadedKernel", "load_kernel", "validate_kernel"]


class KernelError(ValueError):
    """A kernel file or array is unusable; the message says why and what to do."""


@dataclass(frozen=True)
class LoadedKernel:
    """A validated kernel (sum 1) and where it came from."""

    kernel: np.ndarray
    source: str
    original_sum: float

    @property
    def was_normalised(self) -> bool:
        """True when the file's kernel did not sum to 1 and was rescaled."""
        return abs(self.original_sum - 1.0) > 1e-6


def validate_kernel(kernel: np.ndarray, *, name: str = "kernel") -> tuple[np.ndarray, float]:
    """Check a kernel (2-D, finite, positive sum) and return it normalised to sum 1 with its
    original sum."""
    array = np.asarray(kernel)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise KernelError(f"{name}: kernel must be numeric, got dtype {array.dtype}")
    array = np.squeeze(array.astype(np.float64))
    if array.ndim != 2:
        raise KernelError(f"{name}: kernel must be a 2-D array, got shape {np.shape(kernel)}")
    if not np.all(np.isfinite(array)):
        raise KernelError(f"{name}: kernel contains NaN or infinite values")
    total = float(array.sum())
    if total <= 0:
        raise KernelError(f"{name}: kernel must have a positive sum (got {total:g}); "
                          "an all-zero kernel blurs nothing into nothing")
    return array / total, total


def load_kernel(path: str | os.PathLike) -> LoadedKernel:
    """Read a ``.mat`` (variable ``Kernel``) or ``.npy`` kernel file and validate it.

    Raises
    ------
    KernelError
        Missing or unreadable file, missing ``Kernel`` variable, wrong shape, NaN, zero sum.
    """
    path = Path(path)
    if not path.is_file():
        raise KernelError(f"{path}: kernel file not found; give a .mat or .npy file, or "
                          "--kernel bicubic")
    suffix = path.suffix.lower()
    try:
        if suffix == ".mat":
            from scipy.io import loadmat

            content = loadmat(path)
            if "Kernel" not in content:
                keys = [k for k in content if not k.startswith("__")]
                raise KernelError(f"{path}: no variable 'Kernel' in the .mat file (found: "
                                  f"{', '.join(keys) or 'none'}); save the kernel as 'Kernel'")
            raw = content["Kernel"]
        elif suffix == ".npy":
            raw = np.load(path, allow_pickle=False)
        else:
            raise KernelError(f"{path}: unknown kernel format '{suffix}'; use .mat or .npy")
    except KernelError:
        raise
    except Exception as exc:
        raise KernelError(
            f"{path}: cannot read kernel file ({type(exc).__name__}: {exc})"
        ) from None
    kernel, total = validate_kernel(raw, name=str(path))
    return LoadedKernel(kernel, str(path), total)
