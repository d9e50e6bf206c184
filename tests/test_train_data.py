"""A run's files: the held-out split, reading as RGB."""

import numpy as np
import pytest

from zssr.train import TrainConfigError
from zssr.train.data import read_rgb, split_validation


def test_split_holds_out_the_last_files_or_takes_the_given_ones():
    files = [f"{i}.png" for i in range(4)]
    assert split_validation(files, None, 1) == (files[:3], files[3:])
    assert split_validation(files, None, 0) == (files, [])
    assert split_validation(files, ["v.png"], 3) == (files, ["v.png"])
    with pytest.raises(TrainConfigError, match="leaves no training images") as e:
        split_validation(files, None, 4)
    assert e.value.field == "val_count"


def test_gray_images_are_read_as_rgb(tmp_path):
    import imageio.v3 as iio

    gray = (np.arange(48, dtype=np.uint8) * 5).reshape(6, 8)
    iio.imwrite(tmp_path / "g.png", gray)
    rgb = read_rgb(tmp_path / "g.png")
    assert rgb.shape == (6, 8, 3) and rgb.dtype == np.float32
    np.testing.assert_allclose(rgb[:, :, 1], gray / 255.0, atol=1e-6)
