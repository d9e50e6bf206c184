"""EDSR-baseline training through the runner: data, resume, init_from, loss, errors."""

import json

import numpy as np
import pytest

from zssr import baselines
from zssr.train import EDSR, TrainConfigError, run
from zssr.train.checkpoint import load_checkpoint
from zssr.train.edsr import TrainData, copy_matching_weights, make_pairs

TINY = dict(blocks=1, width=8, patch=12)


def _config(task, hr, ck, **kw):
    return task.config(hr_dirs=[hr], checkpoint_dir=ck, batch_size=2, quiet=True, **kw)


def _run(task, config):
    return run(task, config, log=lambda _: None)


def test_pairs_are_mod_cropped_and_crops_aligned(natural_image, rng):
    hr = (natural_image[:63, :61] * 255).astype(np.uint8)
    lr, hr2 = make_pairs(hr, 3)
    assert hr2.shape == (63, 60, 3) and lr.shape == (21, 20, 3) and lr.dtype == np.uint8
    x, y = TrainData([(lr, hr2)], 3, 8, rng).batch(4)
    assert x.shape == (4, 8, 8, 3) and y.shape == (4, 24, 24, 3)
    assert 0 <= x.min() and x.max() <= 1
    with pytest.raises(ValueError, match="patch"):
        TrainData([(lr, hr2)], 3, 30, rng)


def test_training_checkpoints_resumes_and_writes_best(tmp_path, hr_folder):
    task = EDSR(scale=2, **TINY)
    hr = hr_folder(tmp_path / "hr")
    out = tmp_path / "w.weights.h5"
    config = _config(task, hr, tmp_path / "ck", val_count=1, val_every=2, iters=4, output=out)
    state = _run(task, config)
    assert state["step"] == 4 and [h["step"] for h in state["history"]] == [2, 4]
    assert all(np.isfinite(h["score"]) for h in state["history"])  # validation PSNR-Y
    assert out.exists()
    state = _run(task, config.replace(iters=6, resume=True))
    assert [h["step"] for h in state["history"]] == [2, 4, 6]
    model = baselines.build("edsr-baseline", 2, n_blocks=1, width=8)
    model.load_weights(str(out))  # the best weights fit the architecture they were trained as


def test_training_errors_name_the_option(tmp_path, hr_folder):
    task = EDSR(scale=2, **TINY)
    hr = hr_folder(tmp_path / "hr", n=2)
    config = _config(task, hr, tmp_path / "ck", val_count=1, iters=2)
    with pytest.raises(TrainConfigError, match="no checkpoint") as e:
        _run(task, config.replace(resume=True))
    assert e.value.field == "resume"
    with pytest.raises(TrainConfigError, match="leaves no training images"):
        _run(task, config.replace(val_count=2))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        _run(task, config.replace(hr_dirs=[tmp_path / "missing"]))


def test_init_from_x2_copies_all_but_the_upsampler(tmp_path):
    x2 = baselines.build("edsr-baseline", 2, seed=1, n_blocks=2, width=8)
    path = tmp_path / "x2.weights.h5"
    x2.save_weights(str(path))
    x3 = baselines.build("edsr-baseline", 3, seed=2, n_blocks=2, width=8)
    copied = copy_matching_weights(x3, path, 2, n_blocks=2, width=8)
    assert "head" in copied and "tail" in copied and "block1_conv1" in copied
    assert not any(name.startswith("up_") for name in copied)
    x4 = baselines.build("edsr-baseline", 4, seed=2, n_blocks=2, width=8)
    copied = copy_matching_weights(x4, path, 2, n_blocks=2, width=8)
    assert "up_conv0" in copied and "up_conv1" not in copied  # x4's first stage is an x2 stage
    np.testing.assert_array_equal(x4.get_layer("head").get_weights()[0],
                                  x2.get_layer("head").get_weights()[0])


def test_training_from_init_weights_scores_them_first_and_records_their_sha256(tmp_path, hr_folder):
    from zssr.weights import sha256_file

    task = EDSR(scale=2, **TINY)
    init = tmp_path / "init.weights.h5"
    baselines.build("edsr-baseline", 2, seed=3, n_blocks=1, width=8).save_weights(str(init))
    hr = hr_folder(tmp_path / "hr")
    state = _run(task, _config(task, hr, tmp_path / "ck", val_count=1, iters=1,
                               init_from=str(init)))
    assert state["args"]["init_from"] == str(init)
    assert state["args"]["init_from_sha256"] == sha256_file(init)
    start = state["history"][0]
    assert start["step"] == 0 and start["start"] and np.isfinite(start["score"])
    assert state["best_score"] == max(h["score"] for h in state["history"])


def test_l2_loss_is_trained_recorded_and_kept_on_resume(tmp_path, hr_folder):
    hr = hr_folder(tmp_path / "hr")
    first_losses = {}
    for loss in ("l1", "l2"):
        task = EDSR(scale=2, loss=loss, **TINY)
        ck = tmp_path / loss
        config = _config(task, hr, ck, val_count=1, val_every=1, seed=4, iters=1)
        state = _run(task, config)
        assert state["args"]["loss"] == loss
        first_losses[loss] = state["history"][0]["loss"]
        assert load_checkpoint(ck)[0].loss == {"l1": "mean_absolute_error",
                                               "l2": "mean_squared_error"}[loss]
    # Same seed, same first batch and weights: the squared error of [0, 1] values is the
    # smaller number, and it is far from equal to the absolute one.
    assert first_losses["l2"] < 0.5 * first_losses["l1"]
    # A resumed run keeps its loss; asking for another one is an error, not silently ignored.
    with pytest.raises(TrainConfigError, match="must stay 'l2'") as e:
        _run(EDSR(scale=2, loss="l1", **TINY), config.replace(iters=2, resume=True))
    assert e.value.field == "loss"
    assert json.loads((ck / "state.json").read_text())["step"] == 1


def test_a_step_run_may_resume_on_a_time_budget(tmp_path, hr_folder):
    task = EDSR(scale=2, **TINY)
    hr = hr_folder(tmp_path / "hr")
    config = _config(task, hr, tmp_path / "ck", val_count=1, iters=1)
    _run(task, config)
    state = _run(task, config.replace(iters=2, time_budget=600.0, resume=True))
    assert state["step"] == 2 and state["resumes"][-1]["time_budget"] == 600.0
