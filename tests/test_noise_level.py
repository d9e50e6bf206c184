import functools

import numpy as np
import pytest

from zssr.degrade import jpeg_roundtrip
from zssr.noise_level import NOISE_FLOOR, estimate_noise_std


@functools.cache
def _image(name: str) -> np.ndarray:
    """A scikit-image sample as uint8. Not astronaut: its own grain reads above the floor, so
    it is no clean image."""
    from skimage import data

    return getattr(data, name)()


def _noisy(name: str, levels: float, seed: int) -> np.ndarray:
    """``clip(clean + N(0, levels))`` rounded to 8 bits as a saved PNG would be, then / 255."""
    clean = _image(name).astype(np.float64)
    noise = np.random.default_rng(seed).standard_normal(clean.shape) * levels
    return (np.clip(np.rint(clean + noise), 0, 255) / 255.0).astype(np.float32)


def _clean(name: str) -> np.ndarray:
    return _image(name).astype(np.float32) / 255.0


@pytest.mark.parametrize("name,levels", [
    *[("coffee", levels) for levels in (2, 5, 10, 15)],
    *[("camera", levels) for levels in (2, 5, 10, 15)],  # grey
    ("chelsea", 2), ("chelsea", 15),
])
def test_finds_added_noise_within_20_percent(name, levels):
    estimate = estimate_noise_std(_noisy(name, levels, seed=levels))
    assert estimate == pytest.approx(levels / 255.0, rel=0.2)


def test_noise_of_5_grey_levels_reads_as_0_0196():
    assert estimate_noise_std(_noisy("coffee", 5, seed=0)) == pytest.approx(0.0196, rel=0.2)


@pytest.mark.parametrize("name", ["coffee", "chelsea", "camera", "rocket"])
def test_clean_images_give_exactly_zero(name):
    assert estimate_noise_std(_clean(name)) == 0.0


@pytest.mark.parametrize("name", ["coffee", "camera"])
def test_floor_sits_between_clean_residue_and_weakest_noise(name):
    raw = estimate_noise_std(_clean(name), floor=0.0)
    assert 0.0 < raw < NOISE_FLOOR  # a residue is there, and the floor hides it
    assert 0.29 / 255.0 < NOISE_FLOOR < 0.7 * (0.8 * 2.0 / 255.0)


def test_floor_keyword():
    rng = np.random.default_rng(7)
    noisy = np.rint(np.clip(100.0 + 2.0 * rng.standard_normal((64, 96, 3)), 0, 255)) / 255.0
    default = estimate_noise_std(noisy)
    assert default > NOISE_FLOOR
    assert estimate_noise_std(noisy, floor=0.0) == default
    assert estimate_noise_std(noisy, floor=default * 1.01) == 0.0


@pytest.mark.parametrize("name,quality", [("coffee", 90), ("coffee", 75), ("coffee", 50),
                                          ("camera", 75)])
def test_jpeg_artefacts_are_not_noise(name, quality):
    assert estimate_noise_std(jpeg_roundtrip(_clean(name), quality)) == 0.0


def test_saturated_regions_do_not_hide_noise():
    image = _image("chelsea").astype(np.float64)
    image[:150] = 255.0  # a white sky over half the image
    image[150:, :120] = 0.0  # and a black block: clipping squeezes the noise in both
    noise = np.random.default_rng(10).standard_normal(image.shape) * 10.0
    noisy = np.clip(np.rint(image + noise), 0, 255) / 255.0
    assert estimate_noise_std(noisy) == pytest.approx(10.0 / 255.0, rel=0.2)


@pytest.mark.parametrize("shape", [(96, 128, 3), (96, 128), (16, 16, 3)])
def test_unquantised_noise_on_a_flat_image(shape):
    rng = np.random.default_rng(3)
    image = np.clip(0.4 + 0.03 * rng.standard_normal(shape), 0.0, 1.0)
    assert estimate_noise_std(image) == pytest.approx(0.03, rel=0.1)


def test_constant_images_have_no_noise():
    assert estimate_noise_std(np.full((32, 40, 3), 0.5), floor=0.0) == 0.0
    assert estimate_noise_std(np.zeros((32, 40)), floor=0.0) == 0.0


def test_gray_layouts_and_dtypes_agree_and_input_is_untouched():
    noisy = _noisy("camera", 5, seed=1)
    before = noisy.copy()
    gray = estimate_noise_std(noisy)
    assert estimate_noise_std(noisy[:, :, None]) == gray
    assert estimate_noise_std(noisy.astype(np.float64)) == pytest.approx(gray, rel=1e-5)
    assert estimate_noise_std(noisy) == gray  # deterministic
    np.testing.assert_array_equal(noisy, before)
    assert isinstance(gray, float)


@pytest.mark.parametrize("image,message", [
    (np.zeros((32, 32), np.uint8), "divide 8-bit data by 255"),
    (np.zeros((32, 32), bool), "float array"),
    (np.zeros((32, 32, 2)), "HxW, HxWx1 or HxWx3"),
    (np.zeros((32, 32, 4)), "HxW, HxWx1 or HxWx3"),
    (np.zeros(64), "HxW, HxWx1 or HxWx3"),
    (np.zeros((1, 32, 32, 3)), "HxW, HxWx1 or HxWx3"),
    (np.zeros((15, 64)), "too small"),
    (np.zeros((64, 15, 3)), "too small"),
    (np.full((32, 32), 1.5), r"in \[0, 1\]"),
    (np.full((32, 32, 3), -0.1), r"in \[0, 1\]"),
    (np.full((32, 32), np.nan), r"in \[0, 1\]"),
], ids=["uint8", "bool", "2-channels", "4-channels", "1-d", "4-d", "short", "narrow",
        "above-1", "below-0", "nan"])
def test_bad_inputs_raise_clear_errors(image, message):
    with pytest.raises(ValueError, match=message):
        estimate_noise_std(image)


def test_noise_to_model_models_clear_noise_in_large_enough_images():
    from zssr.noise_level import MODEL_FROM, MODEL_MIN_PIXELS, noise_to_model

    assert _image("coffee").shape[0] * _image("coffee").shape[1] >= MODEL_MIN_PIXELS
    modelled, measured = noise_to_model(_noisy("coffee", 5, seed=1))
    assert modelled == measured and modelled == pytest.approx(5 / 255, rel=0.2)
    # weak noise is measured but not modelled; a clean image gives a plain run
    modelled, measured = noise_to_model(_noisy("coffee", 2, seed=1))
    assert modelled == 0.0 and 0 < measured < MODEL_FROM
    assert noise_to_model(_clean("coffee")) == (0.0, 0.0)
    # too few pixels to tell noise from texture: not measured
    assert noise_to_model(_noisy("coffee", 10, seed=1)[:100, :100]) == (0.0, None)
