import io

import numpy as np
import pytest
from PIL import Image

from zssr.degrade import add_noise, degrade, encode_jpeg, jpeg_roundtrip, mcu_size
from zssr.io import ijg_tables
from zssr.sampler import father_to_son


def _tables(data: bytes) -> dict[int, np.ndarray]:
    with Image.open(io.BytesIO(data)) as im:
        return {k: np.asarray(v) for k, v in im.quantization.items()}


def _dct_matrix() -> np.ndarray:
    k = np.arange(8)
    m = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / 16) * np.sqrt(2 / 8)
    m[0] /= np.sqrt(2)
    return m


def _quantisation_residual(gray: np.ndarray, table: np.ndarray, dy: int, dx: int) -> float:
    """How far the 8x8 DCT coefficients of the blocks that start at (dy, dx) are from integer
    multiples of ``table`` (0: exactly on the grid), over the coefficients of at least half a
    step (those off the grid fall anywhere: the residual then averages 0.25)."""
    d = _dct_matrix()
    h, w = (gray.shape[0] - dy) // 8 * 8, (gray.shape[1] - dx) // 8 * 8
    blocks = gray[dy:dy + h, dx:dx + w].reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    coefficients = d @ (blocks - 128.0) @ d.T
    ratio = coefficients / table.reshape(8, 8)
    counted = np.abs(ratio) >= 0.5
    return float(np.mean(np.abs(ratio - np.round(ratio))[counted]))


@pytest.mark.parametrize("quality", [30, 75, 95])
@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:0"])
def test_a_jpeg_son_is_encoded_with_the_requested_tables(natural_image, quality, subsampling):
    pixels = (natural_image[:40, :48] * 255).round().astype(np.uint8)
    tables = _tables(encode_jpeg(pixels, quality, subsampling=subsampling))
    expected = ijg_tables(quality)
    assert set(tables) == {0, 1}
    for k in (0, 1):
        np.testing.assert_array_equal(tables[k], expected[k])


def test_a_jpeg_son_carries_the_quantisation_on_its_shifted_grid(natural_image):
    gray = natural_image.mean(axis=2)
    out = jpeg_roundtrip(gray, 50, offset=(3, 5)) * 255.0
    table = ijg_tables(50)[0]
    # 3 rows and 5 columns of padding: the first whole block starts at row 5, column 3
    on_grid = _quantisation_residual(out, table, 5, 3)
    # decoded pixels are rounded to integers, so the residual is small but not zero on the grid
    assert on_grid < 0.06
    for dy, dx in ((0, 0), (5, 4), (4, 3), (3, 5)):
        assert _quantisation_residual(out, table, dy, dx) > 0.2


def test_jpeg_roundtrip_keeps_shape_and_range_and_loses_more_at_low_quality(natural_image):
    image = natural_image[:37, :45]
    errors = []
    for quality in (95, 75, 30):
        out = jpeg_roundtrip(image, quality, subsampling="4:2:0", offset=(7, 11))
        assert out.shape == image.shape and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
        errors.append(float(np.abs(out - image).mean()))
    assert errors[0] < errors[1] < errors[2]
    assert jpeg_roundtrip(image[:, :, 0], 75).shape == image.shape[:2]


def test_jpeg_refuses_what_it_cannot_encode(natural_image):
    with pytest.raises(ValueError, match="quality"):
        jpeg_roundtrip(natural_image, 0)
    with pytest.raises(ValueError, match="subsampling"):
        jpeg_roundtrip(natural_image, 75, subsampling="4:1:1")
    with pytest.raises(ValueError, match="1 or 3 channels"):
        jpeg_roundtrip(np.zeros((8, 8, 2)), 75)
    with pytest.raises(ValueError, match="uint8"):
        encode_jpeg(np.zeros((8, 8)), 75)


def test_mcu_size():
    assert mcu_size("4:2:0") == (16, 16) and mcu_size("4:4:4") == (8, 8)
    assert mcu_size("4:2:2") == (8, 16)


def test_noise_has_the_requested_std_and_stays_in_range():
    rng = np.random.default_rng(0)
    flat = np.full((200, 200, 3), 0.5, np.float32)
    noisy = add_noise(flat, 0.02, rng)
    assert float(noisy.std()) == pytest.approx(0.02, rel=0.02)
    assert add_noise(flat, 0.0, rng) is flat
    assert add_noise(np.ones((50, 50, 1), np.float32), 0.1, rng).max() <= 1.0


def test_degrade_adds_noise_before_compression(natural_image):
    son = natural_image[:32, :32]
    a = degrade(son, np.random.default_rng(1), noise_std=0.05, jpeg_quality=90)
    rng = np.random.default_rng(1)
    noisy = add_noise(son, 0.05, rng)
    offset = (int(rng.integers(16)), int(rng.integers(16)))
    b = jpeg_roundtrip(noisy, 90, subsampling="4:2:0", offset=offset)
    np.testing.assert_array_equal(a, b)
    # nothing asked: the son itself (clipped), and no random draw
    rng = np.random.default_rng(2)
    np.testing.assert_array_equal(degrade(son, rng), np.clip(son, 0, 1))
    assert rng.random() == np.random.default_rng(2).random()


def test_father_to_son_degrades_after_downscaling(natural_image):
    father = natural_image[:48, :48]
    clean = father_to_son(father, (2.0, 2.0), None, np.random.default_rng(0))
    son = father_to_son(father, (2.0, 2.0), None, np.random.default_rng(0), jpeg_quality=40,
                        jpeg_subsampling="4:4:4")
    assert son.shape == clean.shape == (24, 24, 3)
    assert 0.005 < float(np.abs(son - clean).mean()) < 0.05
