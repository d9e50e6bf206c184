"""Scoring EDSR weights files on a run's held-out images."""

import numpy as np
import pytest

from zssr import baselines
from zssr.train import score


def test_score_rates_weights_files_on_the_held_out_images(tmp_path, natural_image):
    import imageio.v3 as iio

    hr = tmp_path / "hr"
    hr.mkdir()
    for i in range(3):
        iio.imwrite(hr / f"img{i}.png", (natural_image[:, i * 4:i * 4 + 60] * 255).astype(np.uint8))
    paths = []
    for seed in (1, 2):
        paths.append(tmp_path / f"w{seed}.weights.h5")
        baselines.build("edsr-baseline", 2, seed=seed).save_weights(str(paths[-1]))
    scores = score(paths, hr_dirs=[hr], scale=2, val_count=1)
    assert [p for p, _ in scores] == [str(p) for p in paths]
    assert all(5 < s < 60 for _, s in scores) and scores[0][1] != scores[1][1]
    with pytest.raises(FileNotFoundError, match="no weights file"):
        score([tmp_path / "no.h5"], hr_dirs=[hr], scale=2, val_count=1)
