import cv2
import numpy as np
import pytest

from zssr.tiling import tiled_apply


def _box3(x):
    """A local operator of radius 1 (3x3 box filter, zero outside)."""
    out = cv2.boxFilter(np.ascontiguousarray(x), -1, (3, 3), normalize=True,
                        borderType=cv2.BORDER_CONSTANT)
    return out.reshape(x.shape)


@pytest.mark.parametrize("tile", [0, 5, 7, 40])
def test_tiles_with_a_margin_equal_one_pass(rng, tile):
    image = rng.random((23, 17, 3)).astype(np.float32)
    np.testing.assert_allclose(tiled_apply(_box3, image, tile=tile, margin=1), _box3(image),
                               rtol=0, atol=1e-6)


def test_without_a_margin_tiles_show_seams(rng):
    image = rng.random((20, 20, 3)).astype(np.float32)
    assert not np.allclose(tiled_apply(_box3, image, tile=5, margin=0), _box3(image))


def test_integer_scale_output(rng):
    image = rng.random((9, 11, 2)).astype(np.float32)

    def up2(x):
        return np.repeat(np.repeat(x, 2, axis=0), 2, axis=1)

    out = tiled_apply(up2, image, tile=4, margin=0, scale=2)
    np.testing.assert_array_equal(out, up2(image))
    with pytest.raises(ValueError, match="positive integer"):
        tiled_apply(up2, image, tile=4, margin=0, scale=1.5)
