import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from zssr.metrics import prepare_pair, psnr, rgb_to_y, ssim


@pytest.fixture
def pair(natural_image, rng):
    noisy = np.clip(natural_image + rng.normal(0, 0.03, natural_image.shape), 0, 1)
    return noisy.astype(np.float32), natural_image


def test_psnr_matches_scikit_image_on_y(pair):
    a, b = pair
    ya, yb = prepare_pair(a, b, scale=2)
    expected = peak_signal_noise_ratio(yb, ya, data_range=255)
    assert psnr(a, b, scale=2) == pytest.approx(expected, abs=1e-9)


def test_ssim_matches_scikit_image_configured_the_wang_way(pair):
    a, b = pair
    ya, yb = prepare_pair(a, b, scale=3)
    expected = structural_similarity(
        ya, yb, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert ssim(a, b, scale=3) == pytest.approx(expected, abs=1e-9)


def test_constant_offset_identity():
    base = np.full((40, 40, 3), 100, np.uint8)
    base[::2] = 120
    shifted = base + 3
    # A uniform offset d on R, G and B moves Y by d * 219 / 255.
    expected = 20 * math.log10(255 / (3 * 219 / 255))
    assert psnr(shifted, base, shave=2) == pytest.approx(expected, abs=1e-9)
    assert ssim(base, base, shave=2) == pytest.approx(1.0)
    assert psnr(base, base) == math.inf


def test_rounds_to_uint8_before_comparing():
    a = np.full((20, 20, 3), 100 / 255, np.float64)
    b = a + 0.4 / 255  # rounds to the same uint8
    assert psnr(a, b) == math.inf


def test_gray_images_compared_on_their_own_values():
    g = np.arange(64, dtype=np.uint8).reshape(8, 8) * 3
    np.testing.assert_array_equal(rgb_to_y(g), g.astype(float))
    np.testing.assert_array_equal(rgb_to_y(g[:, :, None]), g.astype(float))
    rgb = np.repeat(g[:, :, None], 3, axis=2)
    np.testing.assert_allclose(rgb_to_y(rgb), 16 + g.astype(float) * 219 / 255)
    assert psnr(g, g) == math.inf


def test_y_of_white_and_black():
    np.testing.assert_allclose(rgb_to_y(np.full((1, 1, 3), 255, np.uint8)), 235.0)
    np.testing.assert_allclose(rgb_to_y(np.zeros((1, 1, 3), np.uint8)), 16.0)


def test_errors_are_clear():
    a = np.zeros((20, 20, 3))
    with pytest.raises(ValueError, match="differ in size"):
        psnr(a, np.zeros((21, 20, 3)))
    with pytest.raises(ValueError, match="channel"):
        psnr(a, np.zeros((20, 20)))
    with pytest.raises(TypeError, match="ambiguous"):
        psnr(np.zeros((20, 20), np.uint16), np.zeros((20, 20), np.uint16))
    with pytest.raises(ValueError, match="leaves nothing"):
        psnr(a, a, shave=10)
    with pytest.raises(TypeError):
        psnr(a, a, 2)  # options are keyword-only
