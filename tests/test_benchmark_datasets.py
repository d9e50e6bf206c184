"""Benchmark datasets: the EDSR layout, the DIV2KRK layout, plain folders of HR images."""

import imageio.v3 as iio
import numpy as np
import pytest

from zssr.benchmark.datasets import load_dataset
from zssr.resize import imresize


def test_benchmark_reads_a_plain_folder_of_hr_images(tmp_path, natural_image):
    hr = (natural_image[:45, :62] * 255).round().astype(np.uint8)  # odd height: mod-cropped
    iio.imwrite(tmp_path / "photo.png", hr)
    (sample,) = load_dataset(tmp_path, 2)
    assert sample.name == "photo" and sample.hr.shape == (44, 62, 3)
    want = np.round(np.clip(imresize(hr[:44].astype(np.float32) / 255, 0.5), 0, 1) * 255) / 255
    np.testing.assert_allclose(sample.lr, want, atol=1e-6)
    with pytest.raises(FileNotFoundError, match="no images named"):
        load_dataset(tmp_path, 2, ["other"])


def test_edsr_layout_is_detected_and_mod_cropped(tmp_path, natural_image):
    hr = (natural_image[:33, :40] * 255).round().astype(np.uint8)
    (tmp_path / "HR").mkdir()
    (tmp_path / "LR_bicubic" / "X2").mkdir(parents=True)
    iio.imwrite(tmp_path / "HR" / "a.png", hr)
    iio.imwrite(tmp_path / "LR_bicubic" / "X2" / "ax2.png", hr[:32:2, ::2])
    (sample,) = load_dataset(tmp_path, 2)
    assert sample.hr.shape == (32, 40, 3) and sample.lr.shape == (16, 20, 3)
    assert sample.kernel is None
