import numpy as np
import pytest
from scipy.io import savemat

from zssr.kernels import (
    KernelError,
    analytic_x4,
    analytic_x8,
    bicubic_kernel,
    centre_of_mass,
    compose_kernels,
    kernel_covariance,
    kernel_error,
    kernel_picture,
    load_kernel,
    principal_angle,
    random_gaussian_kernel,
    save_kernel,
)
from zssr.resize import downscale_with_kernel, imresize


@pytest.mark.parametrize("suffix", [".mat", ".npy"])
def test_round_trip(tmp_path, suffix, rng):
    k = random_gaussian_kernel(11, rng)
    save_kernel(tmp_path / f"k{suffix}", k)
    loaded = load_kernel(tmp_path / f"k{suffix}")
    np.testing.assert_allclose(loaded.kernel, k)
    assert not loaded.was_normalised


def test_unnormalised_kernel_is_normalised_and_reported(tmp_path):
    np.save(tmp_path / "k.npy", np.ones((3, 3)))
    loaded = load_kernel(tmp_path / "k.npy")
    assert loaded.kernel.sum() == pytest.approx(1.0)
    assert loaded.was_normalised and loaded.original_sum == pytest.approx(9.0)


@pytest.mark.parametrize("case,message", [
    ("missing", "not found"), ("suffix", "unknown kernel format"), ("garbage", "cannot read"),
    ("key", "no variable 'Kernel'"), ("nan", "NaN"), ("zeros", "positive sum"),
    ("3d", "2-D"), ("text", "numeric"), ("negative", "sums to a negative number"),
    ("cancelling", "sums to zero"),
])
def test_every_invalid_file(tmp_path, case, message):
    path = tmp_path / ("k.txt" if case == "suffix" else "k.mat")
    if case == "suffix":
        path.write_text("1 2 3")
    elif case == "garbage":
        path.write_bytes(b"\x00garbage")
    elif case == "key":
        savemat(path, {"kernel": np.ones((3, 3))})
    elif case == "nan":
        savemat(path, {"Kernel": np.full((3, 3), np.nan)})
    elif case == "zeros":
        savemat(path, {"Kernel": np.zeros((3, 3))})
    elif case == "negative":
        savemat(path, {"Kernel": -np.ones((3, 3))})
    elif case == "cancelling":
        savemat(path, {"Kernel": np.array([[1.0, -1.0], [2.0, -2.0]])})
    elif case == "3d":
        savemat(path, {"Kernel": np.ones((3, 3, 2))})
    elif case == "text":
        savemat(path, {"Kernel": "abc"})
    with pytest.raises(KernelError, match=message) as exc:
        load_kernel(path)
    if case in ("negative", "cancelling"):  # not called all-zero when it is not
        assert "all-zero" not in str(exc.value)


def _blob(n=96, centre=(47.3, 45.8), sigma=5.0):
    y, x = np.indices((n, n))
    return np.exp(-((y - centre[0]) ** 2 + (x - centre[1]) ** 2) / (2 * sigma**2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_downscale_then_upscale_does_not_shift(seed):
    k = random_gaussian_kernel(11, np.random.default_rng(seed))
    blob = _blob()
    back = imresize(downscale_with_kernel(blob, k, 0.5), 2, output_shape=blob.shape)
    np.testing.assert_allclose(centre_of_mass(back), centre_of_mass(blob), atol=0.05)


def _symmetric_anisotropic(size=10, sigmas=(2.5, 0.8), angle=0.6):
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    cov = rot @ np.diag(np.square(sigmas)) @ rot.T
    c = (size - 1) / 2.0
    y, x = np.indices((size, size), dtype=float)
    d = np.stack([y - c, x - c], -1)
    k = np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d))
    return k / k.sum()


@pytest.mark.parametrize("angle", [0.0, 0.6, 2.1])
def test_analytic_x4_equals_downscaling_twice(angle, natural_image):
    # A point-symmetric even-sized kernel has its centre of mass on the half-pixel grid where
    # kernel downscaling needs no interpolation, so the identity holds to float precision.
    k2 = _symmetric_anisotropic(angle=angle)
    img = natural_image.astype(np.float64)
    twice = downscale_with_kernel(downscale_with_kernel(img, k2, 0.5), k2, 0.5)
    once = downscale_with_kernel(img, analytic_x4(k2), 0.25)
    assert once.shape == twice.shape
    m = 4  # border pixels see the mirrored border differently
    np.testing.assert_allclose(once[m:-m, m:-m], twice[m:-m, m:-m], atol=1e-6)


def test_analytic_x8_and_composition_shapes():
    k = bicubic_kernel(2)
    assert analytic_x4(k).sum() == pytest.approx(1.0)
    assert analytic_x8(k).shape[0] > analytic_x4(k).shape[0]
    np.testing.assert_allclose(compose_kernels(k, 2, np.ones((1, 1))), k)


def test_bicubic_kernel_is_matlabs():
    img = np.random.default_rng(0).random((32, 32))
    np.testing.assert_allclose(downscale_with_kernel(img, bicubic_kernel(2), 0.5)[4:-4, 4:-4],
                               imresize(img, 0.5)[4:-4, 4:-4], atol=1e-12)


def test_random_kernel_orientation_and_error_measures():
    rng = np.random.default_rng(3)
    k = random_gaussian_kernel(15, rng, lambda_range=(3.0, 3.0), noise=0.0)
    assert principal_angle(k)[1] == pytest.approx(1.0, abs=1e-6)  # isotropic
    assert kernel_error(k, k) < 1e-9
    shifted = np.pad(k, ((2, 0), (0, 3)))  # same kernel elsewhere in a bigger array
    assert kernel_error(shifted, k) < 1e-6
    assert kernel_error(bicubic_kernel(2), k) > 0.05


def test_random_kernel_lambdas_are_variances():
    # DIV2KRK's recipe draws the covariance eigenvalues, not the standard deviations.
    k = random_gaussian_kernel(31, np.random.default_rng(0), lambda_range=(2.0, 2.0), noise=0.0)
    y, x = np.indices(k.shape, dtype=np.float64)
    cy = (y * k).sum()
    assert ((y - cy) ** 2 * k).sum() == pytest.approx(2.0, rel=1e-3)
    assert np.allclose(k, k.T, atol=1e-12)  # isotropic: no preferred axis


def test_kernel_picture():
    pic = kernel_picture(np.eye(3) / 3, pixel=4)
    assert pic.shape == (12, 12, 3) and pic.dtype == np.uint8


def test_div2krk_lr_is_reproduced_by_our_kernel_convention():
    from zssr.benchmark import load_div2krk_layout, resynthesis_psnr

    from .conftest import shared_data_or_skip

    root = shared_data_or_skip("div2krk")
    for scale in (2, 4):
        (sample,) = load_div2krk_layout(root, scale, ["2"])
        # centre of mass on MATLAB's grid reproduces the benchmark's LR files (>= 50 dB here)
        assert resynthesis_psnr(sample.hr, sample.lr, sample.kernel, scale) >= 50.0


def test_sharpening_a_gaussian_divides_its_variances():
    from zssr.estimate.kernelgan import sharpen_kernel

    k = random_gaussian_kernel(31, np.random.default_rng(4), lambda_range=(1.5, 3.0), noise=0.0)
    cov = kernel_covariance
    np.testing.assert_allclose(cov(sharpen_kernel(k, 1.5)), cov(k) / 1.5, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(sharpen_kernel(k, 1.0), k, atol=1e-12)
    assert principal_angle(sharpen_kernel(k, 2.0))[0] == pytest.approx(principal_angle(k)[0],
                                                                      abs=1e-6)
    with pytest.raises(ValueError, match="sharpen must be > 0"):
        sharpen_kernel(k, 0.0)


def test_a_missing_kernel_file_is_named_in_api_terms(tmp_path):
    with pytest.raises(KernelError, match="kernel='bicubic'") as exc:
        load_kernel(tmp_path / "none.mat")
    assert "--" not in str(exc.value)


def _distance_to_moment_matched_gaussian(kernel):
    """Total-variation distance between a kernel and the Gaussian of the same mean and
    second moments sampled on its grid (0: Gaussian-shaped; 1: disjoint)."""
    cov = kernel_covariance(kernel)
    centre = centre_of_mass(kernel)
    y, x = np.indices(kernel.shape, dtype=np.float64)
    d = np.stack([y - centre[0], x - centre[1]], axis=-1)
    g = np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d))
    return 0.5 * np.abs(kernel - g / g.sum()).sum()


@pytest.mark.parametrize("size, scale", [(11, 2), (31, 4), (13, 3), (12, 2)])
def test_random_shake_kernel_is_a_normalised_kernel_centred_for_its_scale(size, scale):
    from zssr.kernels import random_shake_kernel

    centre = size // 2 + 0.5 * (scale - size % 2)  # where random_gaussian_kernel centres
    for seed in range(20):
        k = random_shake_kernel(size, np.random.default_rng(seed), scale=scale)
        assert k.shape == (size, size)
        assert k.min() >= 0
        assert k.sum() == pytest.approx(1.0, abs=1e-9)
        np.testing.assert_allclose(centre_of_mass(k), [centre, centre], atol=0.1)


def test_random_shake_kernel_is_reproducible_from_its_seed():
    from zssr.kernels import random_shake_kernel

    a = random_shake_kernel(11, np.random.default_rng(5))
    np.testing.assert_array_equal(a, random_shake_kernel(11, np.random.default_rng(5)))
    assert not np.allclose(a, random_shake_kernel(11, np.random.default_rng(6)))


def test_random_shake_kernels_are_not_gaussian_shaped():
    # Mass on a thin curved path, not filling an ellipse: most shake kernels are far from the
    # Gaussian with their own second moments, where DIV2KRK's noisy Gaussians all stay close.
    from zssr.kernels import random_shake_kernel

    def far(kernels):
        return np.mean([_distance_to_moment_matched_gaussian(k) > 0.1 for k in kernels])

    seeds = range(50)
    assert far(random_gaussian_kernel(11, np.random.default_rng(s)) for s in seeds) == 0.0
    assert far(random_shake_kernel(11, np.random.default_rng(s)) for s in seeds) >= 0.7
    assert far(random_shake_kernel(31, np.random.default_rng(s), scale=4) for s in seeds) >= 0.9


def test_random_shake_kernel_spans_vary_with_the_draw():
    from zssr.kernels import random_shake_kernel

    spans = []
    for seed in range(30):
        k = random_shake_kernel(31, np.random.default_rng(seed), scale=4, lens_sigma=0.0)
        rows, cols = np.nonzero(k > 1e-6)
        spans.append(max(np.ptp(rows), np.ptp(cols)))
    assert min(spans) <= 6 and max(spans) >= 18  # near-points and long strokes
    assert max(spans) <= 0.7 * 31 + 2  # bilinear splatting adds at most a pixel each side


def test_random_shake_kernel_rejects_bad_arguments():
    from zssr.kernels import random_shake_kernel

    with pytest.raises(ValueError, match="too small"):
        random_shake_kernel(3, scale=2)
    with pytest.raises(ValueError, match="steps"):
        random_shake_kernel(11, steps=1)
    with pytest.raises(ValueError, match="span_range"):
        random_shake_kernel(11, span_range=(0.5, 0.2))
    with pytest.raises(ValueError, match="lens_sigma"):
        random_shake_kernel(11, lens_sigma=-1.0)
