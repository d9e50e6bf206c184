import numpy as np
import pytest

from zssr.resize import cubic, downscale_with_kernel, imresize, output_shape_for

from .conftest import shared_data_or_skip


def test_cubic_kernel_known_values():
    x = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    np.testing.assert_allclose(cubic(x), [1.0, 0.5625, 0.0, -0.0625, 0.0, 0.0])


def test_constant_image_stays_constant():
    img = np.full((13, 17, 3), 0.3)
    for scale in (2, 0.5, 1.5, (2, 0.75)):
        np.testing.assert_allclose(imresize(img, scale), 0.3, atol=1e-12)


def test_upscaling_reproduces_linear_ramp_on_matlab_grid():
    # Cubic convolution reproduces linear functions; MATLAB puts output pixel i of an upscale by
    # s at input coordinate (i + 0.5) / s - 0.5. Check that mapping away from the borders.
    ramp = np.tile(np.arange(20.0)[None, :], (4, 1))
    up = imresize(ramp, (1, 2))
    i = np.arange(up.shape[1])
    expected = (i + 0.5) / 2 - 0.5
    np.testing.assert_allclose(up[0, 4:-4], expected[4:-4], atol=1e-12)


def test_known_values_of_x2_downscale_of_ramp():
    # With antialiasing the x2 downscale of a ramp samples it at 2i + 0.5.
    ramp = np.tile(np.arange(32.0)[:, None], (1, 3))
    down = imresize(ramp, 0.5)
    np.testing.assert_allclose(down[3:-3, 1], 2 * np.arange(16)[3:-3] + 0.5, atol=1e-12)


@pytest.mark.parametrize("shape", [(85, 61), (43, 43), (7, 9)])
def test_odd_sizes_round_trip_with_output_shape(shape):
    img = np.random.default_rng(0).random(shape + (3,))
    small = imresize(img, 0.5)
    assert small.shape[:2] == output_shape_for(shape, 0.5)
    back = imresize(small, 2, output_shape=shape)
    assert back.shape == img.shape


def _centroid(img):
    grid = np.indices(img.shape[:2])
    w = img if img.ndim == 2 else img.mean(axis=2)
    return np.array([(g * w).sum() / w.sum() for g in grid])


def _blob(n=64, centre=(30.3, 33.7), sigma=4.0):
    y, x = np.indices((n, n))
    return np.exp(-((y - centre[0]) ** 2 + (x - centre[1]) ** 2) / (2 * sigma**2))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_downscale_then_upscale_does_not_shift(scale):
    blob = _blob()
    back = imresize(imresize(blob, 1 / scale), scale, output_shape=blob.shape)
    np.testing.assert_allclose(_centroid(back), _centroid(blob), atol=0.02)


def test_anisotropic_shapes():
    img = np.zeros((10, 20))
    assert imresize(img, (2, 1.5)).shape == (20, 30)
    assert imresize(img, (0.5, 0.25)).shape == (5, 5)
    assert imresize(np.zeros((10, 20, 3)), 1.5).shape == (15, 30, 3)


def test_rejects_integer_images_with_a_fix():
    with pytest.raises(TypeError, match="astype"):
        imresize(np.zeros((4, 4), np.uint8), 2)


def _gaussian_kernel(size=13, sigma=(1.6, 1.6)):
    y, x = np.indices((size, size)) - size // 2
    k = np.exp(-(y**2) / (2 * sigma[0] ** 2) - x**2 / (2 * sigma[1] ** 2))
    return k / k.sum()


@pytest.mark.parametrize("scale", [2, 4])
def test_kernel_downscale_is_aligned_with_bicubic_grid(scale):
    blob = _blob(96, centre=(47.2, 45.9))
    down_k = downscale_with_kernel(blob, _gaussian_kernel(), 1 / scale)
    down_b = imresize(blob, 1 / scale)
    assert down_k.shape == down_b.shape
    np.testing.assert_allclose(_centroid(down_k), _centroid(down_b), atol=0.02)
    # and upscaling it back lands where the blob was
    back = imresize(down_k, scale, output_shape=blob.shape)
    np.testing.assert_allclose(_centroid(back), _centroid(blob), atol=0.05)


def test_kernel_centre_of_mass_is_what_counts():
    blob = _blob(64)
    k = _gaussian_kernel(11)
    padded = np.pad(k, ((0, 4), (2, 0)))  # same kernel, centre of mass off the array centre
    a = downscale_with_kernel(blob, k, 0.5)
    b = downscale_with_kernel(blob, padded, 0.5)
    np.testing.assert_allclose(a[4:-4, 4:-4], b[4:-4, 4:-4], atol=1e-6)


def test_kernel_downscale_normalises_and_validates():
    img = np.ones((16, 16, 3), np.float32)
    out = downscale_with_kernel(img, np.ones((3, 3)) * 5.0, 0.5)
    np.testing.assert_allclose(out, 1.0, atol=1e-6)
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="positive sum"):
        downscale_with_kernel(img, np.zeros((3, 3)), 0.5)


def test_matches_matlab_files_of_shared_set5():
    import imageio.v3 as iio

    from zssr.metrics import psnr

    root = shared_data_or_skip("set5")
    hr = iio.imread(root / "HR" / "bird.png")
    lr = iio.imread(root / "LR_bicubic" / "X2" / "birdx2.png")
    down = imresize(hr.astype(np.float64) / 255, 0.5)
    assert psnr(down, lr, y_channel=False) >= 50.0


def test_replicate_border_option():
    ramp = np.tile(np.arange(12.0)[None, :], (3, 1))
    sym = imresize(ramp, (1, 0.5))
    rep = imresize(ramp, (1, 0.5), border="replicate")
    np.testing.assert_allclose(sym[:, 2:-2], rep[:, 2:-2])  # same away from the edges
    assert not np.allclose(sym[:, 0], rep[:, 0])
    with pytest.raises(ValueError, match="border"):
        imresize(ramp, 2, border="wrap")


def test_downscale_with_kernel_refuses_to_upscale():
    from zssr.kernels import bicubic_kernel
    from zssr.resize import downscale_with_kernel

    with pytest.raises(ValueError, match="scale must be <= 1"):
        downscale_with_kernel(np.zeros((8, 8)), bicubic_kernel(2), 2)
    assert downscale_with_kernel(np.zeros((8, 8)), bicubic_kernel(2), (0.5, 1.0)).shape == (4, 8)


def _dense_resize(img, scale, shape):
    from zssr.resize import _resize_taps, as_pair

    out = img
    scales = as_pair(scale)
    for axis in np.argsort(scales, kind="stable"):
        axis = int(axis)
        m = _resize_taps(img.shape[axis], shape[axis], scales[axis], "cubic", True).dense
        out = np.moveaxis(np.tensordot(m, np.moveaxis(out, axis, 0), axes=([1], [0])), 0, axis)
    return out


@pytest.mark.parametrize("scale", [2, 3, 4, 0.5, 1 / 3, 0.25, 1.5, 1 / 1.5, (2, 0.5), (0.75, 3)])
def test_banded_filtering_equals_the_dense_matrix(scale):
    rng = np.random.default_rng(0)
    img = rng.random((97, 130, 3))
    shape = output_shape_for(img.shape, scale)
    fast = imresize(img, scale)
    np.testing.assert_allclose(fast, _dense_resize(img, scale, shape), rtol=0, atol=1e-12)
    # float32 keeps its dtype and agrees to float32 rounding
    fast32 = imresize(img.astype(np.float32), scale)
    assert fast32.dtype == np.float32
    np.testing.assert_allclose(fast32, fast, rtol=0, atol=1e-5)


def test_integer_factors_take_the_filtering_path():
    from zssr.resize import _resize_taps

    up, down = _resize_taps(100, 200, 2.0, "cubic", True), _resize_taps(100, 50, 0.5, "cubic", True)
    assert (up.period, up.stride) == (2, 1) and (down.period, down.stride) == (1, 2)
    assert _resize_taps(100, 150, 1.5, "cubic", True).period == 3
    # an irregular band (odd target length forced by output_shape) still works, densely
    irregular = imresize(np.ones((70, 70)), output_shape=(71, 70))
    np.testing.assert_allclose(irregular, 1.0, atol=1e-12)


def test_kernel_downscale_filtering_equals_dense_sampling():
    from zssr.resize import _sample_taps

    rng = np.random.default_rng(1)
    img = rng.random((90, 131, 3)).astype(np.float32)
    kernel = rng.random((7, 6)) + 0.1
    out = downscale_with_kernel(img, kernel, 0.5)
    # the same sampling through dense matrices
    import cv2

    k = kernel / kernel.sum()
    filtered = cv2.filter2D(img, -1, k.astype(np.float32), borderType=cv2.BORDER_REFLECT)
    grid = np.indices(k.shape, dtype=np.float64)
    ref = filtered
    for axis in (0, 1):
        offset = k.shape[axis] // 2 - (grid[axis] * k).sum()
        taps = _sample_taps(img.shape[axis], out.shape[axis], 0.5, offset)
        assert taps.period == 1 and taps.stride == 2
        m = taps.dense.astype(np.float32)
        ref = np.moveaxis(np.tensordot(m, np.moveaxis(ref, axis, 0), axes=([1], [0])), 0, axis)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-5)
