"""Downscaling kernels: files, validation, composition, random kernels, pictures and errors.

A kernel file is a MATLAB ``.mat`` holding a 2-D variable ``Kernel`` (as KernelGAN and DIV2KRK
write them) or a NumPy ``.npy`` holding a 2-D array. A kernel that cannot be loaded or is invalid
is an error, never a silent fall-back to bicubic.

Convention: a kernel ``k`` for scale ``s`` means ``LR = subsample_s(HR correlated with k)``; where
the kernel sits inside its array does not matter, because :func:`zssr.resize.downscale_with_kernel`
places its centre of mass on MATLAB's sampling grid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "KernelError",
    "LoadedKernel",
    "load_kernel",
    "save_kernel",
    "validate_kernel",
    "compose_kernels",
    "analytic_x4",
    "analytic_x8",
    "random_gaussian_kernel",
    "random_shake_kernel",
    "kernel_covariance",
    "bicubic_kernel",
    "kernel_picture",
    "centre_of_mass",
    "kernel_error",
    "principal_angle",
]


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
    array = array.astype(np.float64)
    if array.ndim > 2:  # MATLAB may store a 2-D kernel with trailing singleton dimensions
        kept = [d for d in array.shape if d != 1]
        if len(kept) <= 2:
            array = array.reshape(([1] * (2 - len(kept))) + kept)
    if array.ndim != 2:
        raise KernelError(f"{name}: kernel must be a 2-D array, got shape {np.shape(kernel)}")
    if not np.all(np.isfinite(array)):
        raise KernelError(f"{name}: kernel contains NaN or infinite values")
    total = float(array.sum())
    if total <= 0:
        what = ("is all zeros" if not array.any() else "sums to zero" if total == 0
                else f"sums to a negative number ({total:g})")
        raise KernelError(f"{name}: kernel must have a positive sum; it {what}")
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
                          "kernel='bicubic'")
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


def save_kernel(path: str | os.PathLike, kernel: np.ndarray) -> Path:
    """Write a kernel as ``.mat`` (variable ``Kernel``) or ``.npy``, atomically."""
    from .io import atomic_write

    path = Path(path)
    kernel, _ = validate_kernel(kernel, name=str(path))
    if path.suffix.lower() == ".mat":
        from scipy.io import savemat

        atomic_write(path, lambda tmp: savemat(tmp, {"Kernel": kernel}), True)
    elif path.suffix.lower() == ".npy":
        def write(tmp: str) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, kernel)
        atomic_write(path, write, True)
    else:
        raise KernelError(f"{path}: kernels are saved as .mat or .npy")
    return path


def compose_kernels(first: np.ndarray, first_scale: int, second: np.ndarray) -> np.ndarray:
    """The single kernel equal to downscaling by ``first_scale`` with ``first`` and then with
    ``second`` (on the coarser grid): ``big[a + s*r, b + s*c] += first[a, b] * second[r, c]``.

    Borders holding less than 1e-6 of the mass are trimmed; the result sums to 1.

    References
    ----------
    S. Bell-Kligler, A. Shocher, M. Irani, "Blind Super-Resolution Kernel Estimation using an
    Internal-GAN", NeurIPS 2019 (appendix: the analytic x4 kernel).
    """
    first, _ = validate_kernel(first, name="first kernel")
    second, _ = validate_kernel(second, name="second kernel")
    s = int(first_scale)
    fh, fw = first.shape
    sh, sw = second.shape
    big = np.zeros((fh + s * (sh - 1), fw + s * (sw - 1)))
    for r in range(sh):
        for c in range(sw):
            big[s * r:s * r + fh, s * c:s * c + fw] += second[r, c] * first
    return _trim(big)


def _trim(kernel: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    total = np.abs(kernel).sum()
    rows = np.nonzero(np.abs(kernel).sum(axis=1) > tol * total)[0]
    cols = np.nonzero(np.abs(kernel).sum(axis=0) > tol * total)[0]
    trimmed = kernel[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return trimmed / trimmed.sum()


def analytic_x4(kernel_x2: np.ndarray) -> np.ndarray:
    """x4 kernel equivalent to downscaling twice by 2 with ``kernel_x2``."""
    return compose_kernels(kernel_x2, 2, kernel_x2)


def analytic_x8(kernel_x2: np.ndarray) -> np.ndarray:
    """x8 kernel equivalent to downscaling three times by 2 with ``kernel_x2``."""
    return compose_kernels(analytic_x4(kernel_x2), 4, kernel_x2)


def _centre_for_scale(size: int, scale: int) -> float:
    """Where a ``size``-wide kernel for ``scale`` is centred: the middle of its first
    ``scale x scale`` block, as the downscaling grid expects."""
    return size // 2 + 0.5 * (scale - size % 2)


def random_gaussian_kernel(
    size: int = 11,
    rng: np.random.Generator | None = None,
    *,
    lambda_range: tuple[float, float] = (0.6, 5.0),
    noise: float = 0.25,
    scale: int = 2,
) -> np.ndarray:
    """A random anisotropic Gaussian kernel as in the DIV2KRK benchmark.

    Covariance ``Q diag(lambda1, lambda2) Q^T``: eigenvalues (variances, in HR pixels squared)
    ``lambda1, lambda2 ~ U(lambda_range)``, rotation ``theta ~ U(-pi, pi)``; uniform multiplicative
    noise of up to ``noise`` of each value; normalised to sum 1. The mean sits where a kernel for
    ``scale`` is centred (the middle of the first ``scale x scale`` block). DIV2KRK used 11x11
    kernels with variances in (0.6, 5) for x2 (standard deviations 0.77 to 2.24 px, which
    matches the spread of its 100 published kernels) and 31x31 kernels for x4.
    """
    rng = np.random.default_rng() if rng is None else rng
    l1, l2 = rng.uniform(*lambda_range, size=2)
    theta = rng.uniform(-np.pi, np.pi)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cov = rot @ np.diag([l1, l2]) @ rot.T
    centre = _centre_for_scale(size, scale)
    y, x = np.indices((size, size), dtype=np.float64)
    d = np.stack([y - centre, x - centre], axis=-1)
    k = np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d))
    k *= 1.0 + rng.uniform(-noise, noise, size=k.shape)
    k = np.clip(k, 0, None)
    return k / k.sum()


def random_shake_kernel(
    size: int = 11,
    rng: np.random.Generator | None = None,
    *,
    scale: int = 2,
    steps: int = 48,
    span_range: tuple[float, float] = (0.1, 0.7),
    jitter: float = 0.2,
    turn_probability: float = 0.04,
    lens_sigma: float = 0.4,
) -> np.ndarray:
    """A random camera-shake (motion) blur kernel: a thin, curved, asymmetric trajectory.

    The camera's path is a random walk with momentum: ``steps`` positions, each the previous one
    plus a velocity that starts as a unit vector of random direction and at every step takes a
    random acceleration ``N(0, jitter**2)`` per axis (its speed kept within 0.25-1.5), and with
    probability ``turn_probability`` turns sharply (by 45 to 135 degrees either way). The path is
    rescaled so that its larger extent is ``span * size`` pixels with ``span ~ U(span_range)``:
    short paths are nearly points, long ones strongly directional. It is resampled at sub-steps
    of at most 0.1 px, every sub-step holding the same exposure (the kernel is brighter where
    the camera moved slowly), splatted bilinearly onto a ``size x size`` grid, blurred by a
    Gaussian of ``lens_sigma`` pixels (the lens), clipped at 0 and normalised to sum 1.

    The path is placed so that the kernel's centre of mass sits where a kernel for ``scale`` is
    centred (the middle of the first ``scale x scale`` block, as in
    :func:`random_gaussian_kernel`); a path too long for the array around that centre is shrunk
    about its centre of mass, and a residual offset (from the blur's tails at the borders) is
    removed by a sub-pixel shift.

    Parameters
    ----------
    size : int
        Side of the square kernel (HR pixels).
    rng : numpy.random.Generator, optional
        The source of randomness (a fresh unseeded one by default).
    scale : int
        The downscaling factor the kernel is for; sets where its centre of mass sits.
    steps : int
        Positions of the random walk (at least 2).
    span_range : (float, float)
        Bounds of the uniform draw of the path's larger extent, as fractions of ``size``.
    jitter : float
        Standard deviation of the per-step acceleration, relative to the initial speed: larger
        values give curlier paths.
    turn_probability : float
        Chance per step of a sharp turn.
    lens_sigma : float
        Standard deviation (pixels) of the Gaussian blur applied to the rasterised path; 0 for
        none.

    Returns
    -------
    ndarray
        ``size x size`` float64 kernel, non-negative, summing to 1.

    Raises
    ------
    ValueError
        For a ``size`` too small to hold a path around the centre for ``scale``, fewer than 2
        ``steps``, or a bad ``span_range`` or ``lens_sigma``.

    References
    ----------
    G. Boracchi, A. Foi, "Modeling the Performance of Image Restoration From Motion Blur", IEEE
    Transactions on Image Processing 21(8), 2012 (random camera trajectories with inertia and
    impulsive turns).
    """
    from scipy.ndimage import gaussian_filter, shift

    rng = np.random.default_rng() if rng is None else rng
    centre = _centre_for_scale(size, scale)
    room = min(centre, size - 1 - centre) - 1.0  # largest offset of a path point from the centre
    if room <= 0:
        raise ValueError(f"size {size} is too small for a scale-{scale} kernel; use a larger size")
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    low, high = span_range
    if not 0 < low <= high:
        raise ValueError(f"span_range must satisfy 0 < low <= high, got {span_range}")
    if lens_sigma < 0:
        raise ValueError(f"lens_sigma must be >= 0, got {lens_sigma}")

    angle = rng.uniform(-np.pi, np.pi)
    velocity = np.array([np.sin(angle), np.cos(angle)])  # (row, column)
    path = np.zeros((steps, 2))
    for t in range(1, steps):
        velocity = velocity + rng.normal(0.0, jitter, size=2)
        if rng.random() < turn_probability:
            turn = rng.choice([-1.0, 1.0]) * rng.uniform(np.pi / 4, 3 * np.pi / 4)
            c, s = np.cos(turn), np.sin(turn)
            velocity = np.array([c * velocity[0] - s * velocity[1],
                                 s * velocity[0] + c * velocity[1]])
        speed = max(float(np.hypot(*velocity)), 1e-9)
        velocity *= np.clip(speed, 0.25, 1.5) / speed
        path[t] = path[t - 1] + velocity
    path *= rng.uniform(low, high) * size / max(float(np.ptp(path, axis=0).max()), 1e-9)

    # Equal exposure per sub-step: resample uniformly in time, at most 0.1 px apart.
    longest = float(np.hypot(*np.diff(path, axis=0).T).max())
    sub = max(1, int(np.ceil(longest / 0.1)))
    times = np.linspace(0, steps - 1, (steps - 1) * sub + 1)
    points = np.stack([np.interp(times, np.arange(steps), path[:, i]) for i in (0, 1)], axis=1)
    # Bilinear splatting keeps the points' mean, and a Gaussian blur keeps the mean too, so the
    # points' mean becomes the kernel's centre of mass.
    points -= points.mean(axis=0)
    reach = np.abs(points).max()
    if reach > room:
        points *= room / reach
    points += centre

    kernel = np.zeros((size, size))
    base = np.floor(points).astype(int)
    frac = points - base
    for dr in (0, 1):
        for dc in (0, 1):
            weight = (frac[:, 0] if dr else 1 - frac[:, 0]) * (frac[:, 1] if dc else 1 - frac[:, 1])
            np.add.at(kernel, (base[:, 0] + dr, base[:, 1] + dc), weight)
    if lens_sigma > 0:
        kernel = gaussian_filter(kernel, lens_sigma, mode="constant")
    kernel = np.clip(kernel, 0, None)
    kernel /= kernel.sum()
    for _ in range(3):  # the blur's tails cut at the borders can move the centre slightly
        offset = centre - centre_of_mass(kernel)
        if np.abs(offset).max() < 1e-3:
            break
        kernel = np.clip(shift(kernel, offset, order=1, mode="constant"), 0, None)
        kernel /= kernel.sum()
    return kernel


def bicubic_kernel(scale: int = 2) -> np.ndarray:
    """MATLAB's antialiased bicubic downscaling kernel for an integer ``scale`` (4*scale taps)."""
    from .resize import cubic

    offsets = np.arange(4 * scale) - (4 * scale - 1) / 2.0
    taps = cubic(offsets / scale) / scale
    taps /= taps.sum()
    return np.outer(taps, taps)


def centre_of_mass(kernel: np.ndarray) -> np.ndarray:
    """(row, column) centre of mass of a kernel."""
    k = np.asarray(kernel, dtype=np.float64)
    grid = np.indices(k.shape)
    return np.array([(g * k).sum() / k.sum() for g in grid])


def _centred(kernel: np.ndarray, size: int) -> np.ndarray:
    """Kernel resampled (linearly) onto a ``size x size`` grid whose middle is its centre of mass.

    Kernels that differ only by where they sit in their arrays differ by whole pixels in their
    centres of mass, so they are resampled at identical fractional offsets: identical results.
    """
    from scipy.ndimage import map_coordinates

    k = np.asarray(kernel, dtype=np.float64)
    offset = centre_of_mass(k) - (size - 1) / 2.0
    grid = np.indices((size, size), dtype=np.float64)
    coords = [grid[0] + offset[0], grid[1] + offset[1]]
    out = map_coordinates(k, coords, order=1, mode="grid-constant", cval=0.0)
    return out / out.sum()


def kernel_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    """L2 distance between two kernels after aligning their centres of mass (both sum to 1)."""
    size = max(*estimate.shape, *truth.shape) + 2
    return float(np.sqrt(((_centred(estimate, size) - _centred(truth, size)) ** 2).sum()))


def kernel_covariance(kernel: np.ndarray) -> np.ndarray:
    """2x2 second-moment matrix (rows, columns; pixels squared) of a kernel's positive part."""
    k = np.clip(np.asarray(kernel, dtype=np.float64), 0, None)
    k = k / k.sum()
    y, x = np.indices(k.shape, dtype=np.float64)
    cy, cx = (y * k).sum(), (x * k).sum()
    return np.array([[((y - cy) ** 2 * k).sum(), ((y - cy) * (x - cx) * k).sum()],
                     [((y - cy) * (x - cx) * k).sum(), ((x - cx) ** 2 * k).sum()]])


def principal_angle(kernel: np.ndarray) -> tuple[float, float]:
    """Orientation (degrees, in [0, 180)) of a kernel's long axis and its elongation (ratio of
    the second-moment eigenvalues, >= 1)."""
    values, vectors = np.linalg.eigh(kernel_covariance(kernel))
    vy, vx = vectors[:, 1]
    return float(np.degrees(np.arctan2(vy, vx)) % 180.0), float(values[1] / max(values[0], 1e-12))


def kernel_picture(kernel: np.ndarray, *, pixel: int = 16) -> np.ndarray:
    """An RGB uint8 picture of a kernel: each tap a ``pixel``-sized square, viridis colours."""
    import cv2

    k = np.asarray(kernel, dtype=np.float64)
    k = np.clip(k, 0, None)
    norm = (255 * k / k.max()).round().astype(np.uint8) if k.max() > 0 else k.astype(np.uint8)
    big = np.kron(norm, np.ones((pixel, pixel), dtype=np.uint8))
    bgr = cv2.applyColorMap(big, cv2.COLORMAP_VIRIDIS)
    return bgr[:, :, ::-1].copy()
