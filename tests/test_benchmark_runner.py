"""Running a benchmark method: saved outputs and their reuse."""

import imageio.v3 as iio
import numpy as np
import pytest

from zssr.benchmark import Sample, evaluate
from zssr.resize import imresize


def test_benchmark_saves_outputs_and_reuses_them(tmp_path, natural_image):
    hr = natural_image[:32, :32]
    lr = np.clip(imresize(hr, 0.5), 0, 1)
    samples = [Sample("a", lr, hr, 2)]
    tiny = dict(max_iters=3, depth=3, width=8, crop_size=16, test_every=1, lr_slope_range=2)
    first = evaluate(samples, "zssr", overrides=tiny, outputs=tmp_path, log=lambda s: None)
    saved = list(tmp_path.rglob("a.png"))
    assert len(saved) == 1 and iio.imread(saved[0]).shape == (32, 32, 3)
    again = evaluate(samples, "zssr", overrides=tiny, outputs=tmp_path, reuse=True,
                     log=lambda s: None)
    assert again["rows"][0]["reused"] is True
    assert again["rows"][0]["psnr_y"] == first["rows"][0]["psnr_y"]
    assert again["rows"][0]["seconds"] == first["rows"][0]["seconds"]
    other = evaluate(samples, "zssr", overrides={**tiny, "max_iters": 4}, outputs=tmp_path,
                     reuse=True, log=lambda s: None)
    assert "reused" not in other["rows"][0]  # other settings: other folder, run again
    assert len(list(tmp_path.rglob("a.png"))) == 2


def test_unknown_method_lists_the_registered_ones(natural_image):
    hr = natural_image[:16, :16]
    with pytest.raises(ValueError, match="bicubic, zssr, zssr-gt"):
        evaluate([Sample("a", hr[::2, ::2], hr, 2)], "zssr-best", log=lambda s: None)
