"""Warm-start pretraining of the ZSSR network through the runner, and ZSSR started from it."""

import json

import numpy as np

from zssr import ZSSR, preset
from zssr.network import build_network
from zssr.train import WarmStart, run
from zssr.train.warm_start import FatherBatches

TINY = WarmStart(crop=24, depth=3, width=8)


def _config(tmp_path, hr, **kw):
    return TINY.config(hr_dirs=[hr], checkpoint_dir=tmp_path / "ck", val_count=1,
                       batch_size=2, quiet=True, **kw)


def test_father_batches_have_one_shape_and_follow_the_seed(natural_image):
    def draw(seed):
        data = FatherBatches([natural_image], 2.0, 24, 0.5, np.random.default_rng(seed))
        return data.batch(3)

    x, y = draw(1)
    assert x.shape == y.shape == (3, 24, 24, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(draw(1)[0], x)
    assert not np.array_equal(draw(2)[0], x)


def test_pretraining_writes_weights_that_zssr_starts_from(tmp_path, natural_image, hr_folder):
    hr = hr_folder(tmp_path / "hr")
    out = tmp_path / "warm.weights.h5"
    config = _config(tmp_path, hr, iters=4, val_every=2, output=out)
    state = run(TINY, config, log=lambda _: None)
    assert [h["step"] for h in state["history"]] == [2, 4]
    assert all(np.isfinite(h["score"]) for h in state["history"])
    assert state["args"]["task"] == "warm-start" and state["args"]["crop"] == 24
    resumed = run(TINY, config.replace(iters=6, resume=True), log=lambda _: None)
    assert resumed["step"] == 6 and resumed["args"]["iters"] == 6
    assert resumed["resumes"] == [{"step": 4, "iters": 6}]
    assert json.loads((tmp_path / "ck" / "state.json").read_text())["step"] == 6

    cfg = preset("ideal", max_iters=2, crop_size=16, test_every=1, lr_slope_range=2,
                 self_ensemble=False, back_projection_iters=(0,), depth=3, width=8)
    lr = natural_image[:20, :24]
    cold = ZSSR(cfg).upscale(lr, 2)
    warm = ZSSR(cfg.replace(init_weights=str(out))).upscale(lr, 2)
    again = ZSSR(cfg.replace(init_weights=str(out))).upscale(lr, 2)
    assert not np.array_equal(cold, warm)
    np.testing.assert_array_equal(warm, again)


def test_init_from_starts_from_the_given_weights_and_records_them(tmp_path, hr_folder):
    from zssr.weights import sha256_file

    hr = hr_folder(tmp_path / "hr")
    start = build_network(3, depth=3, width=8, seed=42)
    init = tmp_path / "start.weights.h5"
    start.save_weights(str(init))
    out = tmp_path / "warm.weights.h5"
    # One step at a negligible rate: the result must be the starting weights.
    state = run(TINY, _config(tmp_path, hr, iters=1, val_every=1, lr=1e-12, min_lr=1e-12,
                              init_from=str(init), output=out), log=lambda _: None)
    assert state["args"]["init_from"] == str(init)
    assert state["args"]["init_from_sha256"] == sha256_file(init)
    assert state["history"][0]["start"] is True  # the starting weights were scored first
    trained = build_network(3, depth=3, width=8)
    trained.load_weights(str(out))
    for a, b in zip(start.get_weights(), trained.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
