"""Every public function that takes an image array refuses the same bad inputs the same way."""

import numpy as np
import pytest

from zssr import baselines, estimate_kernel
from zssr.checks import float_image


def test_float_image_copies_clips_rounding_errors_and_reports_the_layout():
    gray = np.array([[-0.0005, 0.25], [1.0008, 1.0]], dtype=np.float64)
    out, squeezed = float_image(gray)
    assert squeezed and out.shape == (2, 2, 1) and out.dtype == np.float32
    assert out[:, :, 0].tolist() == [[0.0, 0.25], [1.0, 1.0]]
    assert gray[0, 0] == -0.0005  # the caller's array is untouched
    rgb, squeezed = float_image(np.zeros((3, 4, 3), np.float32))
    assert not squeezed and rgb.shape == (3, 4, 3)


@pytest.mark.parametrize("low,high,fix", [(0.0, 255.0, "/ 255"), (0.0, 4000.0, "/ 65535"),
                                          (-0.5, 1.0, "[0, 1]"), (0.0, 1.01, "[0, 1]")])
def test_floats_outside_0_1_are_refused_not_clipped(low, high, fix):
    image = np.linspace(low, high, 48, dtype=np.float32).reshape(4, 4, 3)
    with pytest.raises(ValueError, match="outside") as exc:
        float_image(image)
    message = str(exc.value)
    assert "\n" not in message and fix in message
    assert f"{low:g}" in message and f"{high:g}" in message  # names the range found


@pytest.mark.parametrize("dtype,fix", [(np.uint8, "/ 255"), (np.uint16, "/ 65535"),
                                       (np.int32, "/ 2147483647"), (bool, "float array")])
def test_non_float_arrays_are_refused_with_the_conversion(dtype, fix):
    with pytest.raises(TypeError, match=f"got dtype .*{fix}"):
        float_image(np.zeros((4, 4, 3), dtype))


@pytest.mark.parametrize("shape,message", [((4, 4, 4), "HxWx1 or HxWx3"), ((4,), "shape"),
                                           ((0, 4, 3), "empty")])
def test_bad_shapes_are_refused(shape, message):
    with pytest.raises(ValueError, match=message):
        float_image(np.zeros(shape, np.float32))


def test_non_finite_values_are_refused():
    image = np.zeros((4, 4), np.float32)
    image[1, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        float_image(image)


def test_baselines_and_estimation_refuse_integer_images(natural_image):
    # These used to take uint8 values at face value (255 = far above white) and return a
    # plausible-looking, almost white image without a word.
    u8 = (natural_image[:24, :24] * 255).astype(np.uint8)
    model = baselines.build("edsr-baseline", 2)
    with pytest.raises(TypeError, match="/ 255"):
        baselines.upscale(model, u8)
    with pytest.raises(TypeError, match="/ 255"):
        baselines.bicubic(u8, 2)
    with pytest.raises(TypeError, match="/ 255"):
        estimate_kernel(u8)
    with pytest.raises(ValueError, match="NaN"):
        baselines.upscale(model, np.full((8, 8, 3), np.nan, np.float32))


def test_bicubic_keeps_any_channel_count_and_the_gray_layout(natural_image):
    gray = natural_image[:10, :12].mean(axis=2)
    assert baselines.bicubic(gray, 2).shape == (20, 24)
    rgba = np.concatenate([natural_image[:10, :12], np.ones((10, 12, 1), np.float32)], axis=2)
    assert baselines.bicubic(rgba, 2).shape == (20, 24, 4)
