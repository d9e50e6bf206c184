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


def test_degradations_draw_noise_and_jpeg_at_their_rates():
    import pytest

    from zssr.train.config import TrainConfigError
    from zssr.train.warm_start import Degradations

    rng = np.random.default_rng(0)
    draws = [Degradations(noise_mix=0.5, jpeg_mix=0.25, jpeg_min_quality=40,
                          jpeg_max_quality=60).draw(rng) for _ in range(2000)]
    noisy = [d["noise_std"] for d in draws if "noise_std" in d]
    jpeg = [d["jpeg_quality"] for d in draws if "jpeg_quality" in d]
    assert 0.45 < len(noisy) / 2000 < 0.55 and 0.2 < len(jpeg) / 2000 < 0.3
    assert 0 <= min(noisy) and max(noisy) <= 15 / 255
    assert min(jpeg) == 40 and max(jpeg) == 60
    # no mix: no draw at all, so an undegraded run's random stream is the one it always was
    rng = np.random.default_rng(3)
    assert Degradations().draw(rng) == {} and not Degradations().active
    assert rng.random() == np.random.default_rng(3).random()
    with pytest.raises(TrainConfigError):
        WarmStart(jpeg_mix=1.5)
    with pytest.raises(TrainConfigError):
        WarmStart(jpeg_min_quality=90, jpeg_max_quality=80)


def test_degraded_batches_and_validation(natural_image, monkeypatch):
    from zssr import sampler
    from zssr.sampler import father_to_son, interpolate_son
    from zssr.train.warm_start import Degradations, validation_set

    seen = []

    def spy(father, scale, kernel, rng, **degradation):
        seen.append(degradation)
        return father_to_son(father, scale, kernel, rng, **degradation)

    monkeypatch.setattr(sampler, "father_to_son", spy)
    every = Degradations(noise_mix=1.0, jpeg_mix=1.0, jpeg_min_quality=40, jpeg_max_quality=41)
    batch = FatherBatches([natural_image], 2.0, 32, 0.0, np.random.default_rng(0),
                          noise_std=0.5, degradations=every).batch(4)
    assert batch[0].shape == (4, 32, 32, 3) and len(seen) == 4
    for d in seen:  # every son compressed and given a drawn noise, which replaces the fixed one
        assert d["jpeg_quality"] in (40, 41) and 0 <= d["noise_std"] <= 15 / 255
    monkeypatch.undo()
    assert len(validation_set([natural_image], 2.0)) == 2
    pairs = validation_set([natural_image], 2.0, degraded=True)
    son = father_to_son(natural_image, (2.0, 2.0), None, np.random.default_rng(1),
                        jpeg_quality=75)
    expected = interpolate_son(np.round(son * 255) / 255, (2.0, 2.0), natural_image.shape[:2])
    assert len(pairs) == 2
    np.testing.assert_array_equal(pairs[0][0], expected)  # the first is the JPEG q75 son
    np.testing.assert_array_equal(pairs[0][1], natural_image)
