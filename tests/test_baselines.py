"""Supervised baselines: EDSR-baseline, pixel shuffle, weights I/O, tiling, training, harness."""

import json

import keras
import numpy as np
import pytest

from zssr import baselines
from zssr.baselines.models import PixelShuffle
from zssr.metrics import psnr
from zssr.resize import imresize


@pytest.mark.parametrize("scale,params,published", [(2, 1369859, 1.37e6), (3, 1554499, 1.55e6),
                                                    (4, 1517571, 1.52e6)])
def test_edsr_baseline_parameter_count_matches_the_paper(scale, params, published):
    model = baselines.build("edsr-baseline", scale)
    assert model.count_params() == params
    assert round(params / 1e4) * 1e4 == published  # the EDSR authors' 1.37M / 1.55M / 1.52M
    assert model.compute_output_shape((1, 10, 12, 3)) == (1, 10 * scale, 12 * scale, 3)


@pytest.mark.parametrize("r", [2, 3])
def test_pixel_shuffle_layout(rng, r):
    c = 2
    x = rng.random((1, 3, 4, c * r * r)).astype(np.float32)
    y = keras.ops.convert_to_numpy(PixelShuffle(r)(x))
    assert y.shape == (1, 3 * r, 4 * r, c)
    for h, w, i, j, ch in [(0, 0, 0, 0, 0), (2, 3, r - 1, 1, 1), (1, 2, 1, r - 1, 0)]:
        assert y[0, h * r + i, w * r + j, ch] == x[0, h, w, (i * r + j) * c + ch]


def test_pixel_shuffle_serialises():
    layer = PixelShuffle(3, name="ps")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(clone, PixelShuffle) and clone.factor == 3
    with pytest.raises(ValueError, match="positive integer"):
        PixelShuffle(1.5)


def test_save_load_round_trip_gives_identical_outputs(tmp_path, natural_image):
    model = baselines.build("edsr-baseline", 2, seed=3)
    path = tmp_path / "m.weights.h5"
    model.save_weights(str(path))
    loaded = baselines.load("edsr-baseline", 2, weights=path)
    lr = natural_image[:24, :24]
    np.testing.assert_array_equal(baselines.upscale(model, lr), baselines.upscale(loaded, lr))
    other = baselines.build("edsr-baseline", 2, seed=4)
    assert not np.array_equal(baselines.upscale(other, lr), baselines.upscale(model, lr))


def test_tiled_inference_equals_untiled_on_256px(rng):
    model = baselines.build("edsr-baseline", 2, seed=0)
    tail = model.get_layer("tail")  # tame the random net's output so few pixels are clipped
    tail.set_weights([tail.get_weights()[0] * 0.1, tail.get_weights()[1]])
    lr = rng.random((256, 256, 3)).astype(np.float32) * 0.5 + 0.25
    whole = baselines.upscale(model, lr, tile_size=0)
    tiled = baselines.upscale(model, lr, tile_size=100)  # 3x3 tiles with a 40-px margin
    assert whole.shape == (512, 512, 3)
    inside = np.mean((whole > 0) & (whole < 1))
    assert inside > 0.9, "too many clipped pixels for the comparison to mean anything"
    assert np.abs(whole - tiled).max() <= 1 / 255
    # ...and the check can fail: a margin below the receptive radius leaves seams.
    seams = baselines.upscale(model, lr, tile_size=100, margin=2)
    assert np.abs(whole - seams).max() > 1 / 255


def test_self_ensemble_averages_the_eight_flips_and_turns(natural_image):
    model = baselines.build("edsr-baseline", 2, seed=5, n_blocks=1, width=8)
    tail = model.get_layer("tail")  # keep most outputs inside [0, 1], where nothing is clipped
    tail.set_weights([tail.get_weights()[0] * 0.1, tail.get_weights()[1]])
    lr = natural_image[:20, :26]  # not square: a mixed-up axis would show
    outs = []
    for flip in (False, True):
        for k in range(4):
            x = np.rot90(lr[:, ::-1] if flip else lr, k)
            y = np.rot90(baselines.upscale(model, np.ascontiguousarray(x), tile_size=0), -k)
            outs.append(y[:, ::-1] if flip else y)
    outs = np.stack(outs)
    inside = np.all((outs > 0) & (outs < 1), axis=0)
    assert inside.mean() > 0.9, "too many clipped pixels for the comparison to mean anything"
    ens = baselines.upscale(model, lr, self_ensemble=True, tile_size=0)
    assert ens.shape == (40, 52, 3)
    np.testing.assert_allclose(ens[inside], outs.mean(axis=0)[inside], atol=1e-5)
    assert np.abs(ens - outs[0]).max() > 1e-3  # not just the plain output
    tiled = baselines.upscale(model, lr, self_ensemble=True, tile_size=8)
    assert np.abs(tiled - ens).max() <= 1 / 255
    gray = baselines.upscale(model, lr.mean(axis=2), self_ensemble=True)
    assert gray.shape == (40, 52)


def test_gray_images_go_through_as_rgb(natural_image):
    model = baselines.build("edsr-baseline", 2)
    gray = natural_image[:20, :20].mean(axis=2)
    out = baselines.upscale(model, gray)
    assert out.shape == (40, 40) and out.dtype == np.float32


def test_integral_float_scales_are_accepted_and_others_refused():
    for two in (2.0, np.int64(2)):
        model = baselines.build("edsr-baseline", two, n_blocks=1, width=8)
        assert tuple(model.compute_output_shape((1, 8, 8, 3))) == (1, 16, 16, 3)
    assert baselines.weights_path("edsr-baseline", 3.0).name == "edsr-baseline_x3.weights.h5"
    for bad in (2.5, True, "two"):
        with pytest.raises(ValueError, match="integer factor|must be a number"):
            baselines.build("edsr-baseline", bad)
    with pytest.raises(ValueError, match="supports scales"):
        baselines.build("edsr-baseline", 5.0)


def test_unknown_or_missing_weights_are_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="unknown baseline"):
        baselines.build("srcnn", 2)
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        baselines.load("edsr-baseline", 2, weights=tmp_path / "nope.weights.h5")
    monkeypatch.setattr(baselines, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="no shipped weights for edsr-baseline x3"):
        baselines.load("edsr-baseline", 3)


def test_shipped_file_with_wrong_hash_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(baselines, "WEIGHTS_DIR", tmp_path)
    model = baselines.build("edsr-baseline", 2)
    path = baselines.weights_path("edsr-baseline", 2)
    model.save_weights(str(path))
    entry = {"file": path.name, "sha256": "0" * 64}
    (tmp_path / "manifest.json").write_text(json.dumps({"weights": [entry]}))
    with pytest.raises(ValueError, match="corrupt or was replaced"):
        baselines.load("edsr-baseline", 2)
    entry["sha256"] = baselines.sha256(path)
    (tmp_path / "manifest.json").write_text(json.dumps({"weights": [entry]}))
    assert baselines.load("edsr-baseline", 2).count_params() == model.count_params()


def test_every_shipped_weights_file_loads_and_beats_bicubic():
    from skimage import data

    entries = baselines.manifest()
    if not entries:
        pytest.skip("no baseline weights are shipped in zssr/baselines/weights")
    hr = data.astronaut()[60:252, 140:332].astype(np.float32) / 255.0  # 192x192, divisible by 2..4
    for entry in entries.values():
        assert baselines.sha256(baselines.WEIGHTS_DIR / entry["file"]) == entry["sha256"]
        for key in ("name", "scale", "training_data", "iterations", "hardware", "set5_psnr_y"):
            assert key in entry, f"manifest entry {entry['file']} lacks {key}"
        s = entry["scale"]
        lr = np.round(np.clip(imresize(hr, 1 / s), 0, 1) * 255) / 255
        model = baselines.load(entry["name"], s)
        sr = baselines.upscale(model, lr)
        assert psnr(sr, hr, scale=s) > psnr(baselines.bicubic(lr, s), hr, scale=s) + 0.3


def _tiny_folder(path, natural, n=4):
    import imageio.v3 as iio

    path.mkdir(parents=True)
    for i in range(n):
        iio.imwrite(path / f"img{i}.png", (natural[:, i * 4:i * 4 + 60] * 255).astype(np.uint8))
    return path


TINY = ["--blocks", "1", "--width", "8", "--patch", "12", "--batch-size", "2", "-q"]


def test_training_script_checkpoints_resumes_and_writes_best(tmp_path, natural_image):
    from zssr.baselines.train import main

    hr = _tiny_folder(tmp_path / "hr", natural_image)
    ck, out = tmp_path / "ck", tmp_path / "w.weights.h5"
    args = ["--hr-dir", str(hr), "--scale", "2", "--val-count", "1", "--val-every", "2",
            "--checkpoint-dir", str(ck), "--output", str(out), *TINY]
    assert main(args + ["--iters", "4"]) == 0
    state = json.loads((ck / "state.json").read_text())
    assert state["step"] == 4 and [h["step"] for h in state["history"]] == [2, 4]
    assert all(np.isfinite(h["score"]) for h in state["history"])  # validation PSNR-Y
    assert out.exists()
    assert main(args + ["--iters", "6", "--resume"]) == 0
    state = json.loads((ck / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == [2, 4, 6]
    model = baselines.build("edsr-baseline", 2, n_blocks=1, width=8)
    model.load_weights(str(out))  # the best weights fit the architecture they were trained as


def test_training_errors_are_clear(tmp_path, natural_image, capsys):
    from zssr.baselines.train import main

    hr = _tiny_folder(tmp_path / "hr", natural_image, n=2)
    base = ["--hr-dir", str(hr), "--scale", "2", "--checkpoint-dir", str(tmp_path / "ck"), *TINY]
    assert main(base + ["--resume", "--iters", "2", "--val-count", "1"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert main(base + ["--val-count", "2", "--iters", "2"]) == 2
    assert "leaves no training images" in capsys.readouterr().err
    assert main(["--hr-dir", str(tmp_path / "missing"), "--scale", "2", "--checkpoint-dir",
                 str(tmp_path / "ck"), *TINY]) == 2
    assert "not a folder" in capsys.readouterr().err
    for bad in ("1", "-0.1"):
        with pytest.raises(SystemExit) as e:
            main(base + ["--ema", bad])
        assert e.value.code == 2 and "--ema must be 0 (off) or in (0, 1)" in capsys.readouterr().err


def test_init_from_x2_copies_all_but_the_upsampler(tmp_path):
    from zssr.baselines.train import _copy_matching_weights

    x2 = baselines.build("edsr-baseline", 2, seed=1, n_blocks=2, width=8)
    path = tmp_path / "x2.weights.h5"
    x2.save_weights(str(path))
    x3 = baselines.build("edsr-baseline", 3, seed=2, n_blocks=2, width=8)
    copied = _copy_matching_weights(x3, path, 2, n_blocks=2, width=8)
    assert "head" in copied and "tail" in copied and "block1_conv1" in copied
    assert not any(name.startswith("up_") for name in copied)
    x4 = baselines.build("edsr-baseline", 4, seed=2, n_blocks=2, width=8)
    copied = _copy_matching_weights(x4, path, 2, n_blocks=2, width=8)
    assert "up_conv0" in copied and "up_conv1" not in copied  # x4's first stage is an x2 stage
    np.testing.assert_array_equal(x4.get_layer("head").get_weights()[0],
                                  x2.get_layer("head").get_weights()[0])


def test_training_from_init_weights_records_their_sha256(tmp_path, natural_image):
    from zssr.baselines.train import main

    init = tmp_path / "init.weights.h5"
    baselines.build("edsr-baseline", 2, seed=3, n_blocks=1, width=8).save_weights(str(init))
    hr = _tiny_folder(tmp_path / "hr", natural_image)
    ck = tmp_path / "ck"
    assert main(["--hr-dir", str(hr), "--scale", "2", "--val-count", "1", "--iters", "1",
                 "--checkpoint-dir", str(ck), "--init-from", str(init), *TINY]) == 0
    state = json.loads((ck / "state.json").read_text())
    recorded = state["args"]
    assert recorded["init_from"] == str(init)
    # The file may later be replaced (a shipped file by this run's result): its hash stays.
    assert recorded["init_from_sha256"] == baselines.sha256(init)
    # The starting weights are scored first (step 0), so the best is never worse than them.
    start = state["history"][0]
    assert start["step"] == 0 and start["start"] and np.isfinite(start["score"])
    assert state["best_score"] == max(h["score"] for h in state["history"])


def test_a_run_that_never_beat_its_start_is_not_shipped(tmp_path, natural_image, capsys):
    from zssr.baselines import ship

    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "state.json").write_text(json.dumps({"best_step": 0, "best_score": 30.0, "args": {}}))
    assert ship.main(["--checkpoint-dir", str(ck), "--scale", "2", "--set5", str(tmp_path),
                      "--hardware", "test"]) == 2
    assert "no step beat the weights the run started from" in capsys.readouterr().err


def test_l2_loss_is_trained_recorded_and_kept_on_resume(tmp_path, natural_image, capsys):
    from zssr.baselines.train import main
    from zssr.training import load_checkpoint

    hr = _tiny_folder(tmp_path / "hr", natural_image)
    first_losses = {}
    for loss in ("l1", "l2"):
        ck = tmp_path / loss
        args = ["--hr-dir", str(hr), "--scale", "2", "--val-count", "1", "--val-every", "1",
                "--checkpoint-dir", str(ck), "--loss", loss, "--seed", "4", *TINY]
        assert main(args + ["--iters", "1"]) == 0
        state = json.loads((ck / "state.json").read_text())
        assert state["args"]["loss"] == loss
        first_losses[loss] = state["history"][0]["loss"]
        model = load_checkpoint(ck)[0]
        assert model.loss == {"l1": "mean_absolute_error", "l2": "mean_squared_error"}[loss]
    # Same seed, same first batch and weights: the squared error of [0, 1] values is the
    # smaller number, and it is far from equal to the absolute one.
    assert first_losses["l2"] < 0.5 * first_losses["l1"]
    # A resumed run keeps its loss; asking for another one is an error, not silently ignored.
    assert main(args + ["--iters", "2", "--resume", "--loss", "l1"]) == 2
    assert "trained with --loss l2" in capsys.readouterr().err


def test_cosine_by_time_runs_from_lr_to_min_lr_over_the_budget():
    from zssr.training import cosine_by_time

    rate = cosine_by_time(1e-4, 1e-6, 100.0)
    assert rate(0) == pytest.approx(1e-4) and rate(100) == pytest.approx(1e-6)
    assert rate(50) == pytest.approx((1e-4 + 1e-6) / 2)
    assert rate(250) == pytest.approx(1e-6)  # past the budget it stays at the floor
    assert rate(20) > rate(40) > rate(60) > rate(80)


def test_time_budget_ends_the_run_and_anneals_the_rate_over_the_time(tmp_path, natural_image,
                                                                      monkeypatch, capsys):
    from types import SimpleNamespace

    from zssr import training
    from zssr.baselines.train import main

    ticks = iter(range(10**6))  # a clock that moves 1 s each time it is read
    monkeypatch.setattr(training, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    hr = _tiny_folder(tmp_path / "hr", natural_image)
    ck = tmp_path / "ck"
    args = ["--hr-dir", str(hr), "--scale", "2", "--val-count", "1", "--val-every", "3",
            "--checkpoint-dir", str(ck), "--lr", "1e-3", "--min-lr", "1e-5", "--iters", "1000",
            *TINY]
    assert main(args + ["--time-budget", "40"]) == 0
    state = json.loads((ck / "state.json").read_text())
    assert 3 < state["step"] < 1000 and state["seconds"] >= 40  # stopped by the time
    rates = [h["learning_rate"] for h in state["history"]]
    assert state["history"][-1]["step"] == state["step"]  # the last step is validated
    assert rates == sorted(rates, reverse=True) and rates[0] < 1e-3 and rates[-1] < 1e-4
    # More time on resume: the run goes on where the clock stopped.
    assert main(args + ["--time-budget", "60", "--resume"]) == 0
    resumed = json.loads((ck / "state.json").read_text())
    assert resumed["step"] > state["step"] and resumed["seconds"] >= 60
    assert resumed["resumes"][-1]["time_budget"] == 60
    # A run on a step schedule cannot be switched to the clock (its rate is not settable).
    by_steps = args + ["--checkpoint-dir", str(tmp_path / "ck2")]
    assert main(by_steps + ["--iters", "1"]) == 0
    assert main(by_steps + ["--time-budget", "10", "--resume"]) == 2
    assert "started without --time-budget" in capsys.readouterr().err
    for bad in ("0", "-5"):
        with pytest.raises(SystemExit):
            main(args + ["--time-budget", bad])
    assert "--time-budget must be > 0" in capsys.readouterr().err


def test_pack_is_lossless_keeps_the_order_and_the_held_out_images(tmp_path, natural_image):
    import cv2

    from zssr.baselines.pack import pack
    from zssr.io import list_images, read_image

    src = _tiny_folder(tmp_path / "hr" / "a", natural_image, n=5).parent
    gray16 = (natural_image[:40, :40].mean(axis=2) * 65535).astype(np.uint16)
    (src / "b").mkdir()
    cv2.imwrite(str(src / "b" / "z16.png"), gray16)  # WebP holds neither: copied as it is
    record = pack(src, tmp_path / "out", val_count=2, log=lambda _: None)
    before, after = list_images([src]), list_images([tmp_path / "out"])
    assert [p.relative_to(src).with_suffix("") for p in before] == \
        [p.relative_to(tmp_path / "out").with_suffix("") for p in after]
    assert [p.suffix for p in after] == [".webp"] * 5 + [".png"]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(read_image(a).pixels, read_image(b).pixels)
    assert record["images"] == 6 and not record["left_out"]
    assert [f["held_out"] for f in record["files"]] == [False] * 4 + [True] * 2
    # Over budget: training images go, evenly spaced; the held-out last two always stay.
    sizes = sorted(f["bytes"] for f in record["files"][:4])
    budget = (record["bytes"] - sizes[-1] - sizes[-2] + 1) / 2**20
    small = pack(src, tmp_path / "small", val_count=2, max_mib=budget, log=lambda _: None)
    assert small["bytes"] <= budget * 2**20 and 0 < len(small["left_out"]) <= 3
    assert {f["source"] for f in small["files"] if f["held_out"]} == {"a/img4.png", "b/z16.png"}
    for taken in (tmp_path / "out", src / "a" / "img0.png"):
        with pytest.raises(ValueError, match="not an empty folder"):
            pack(src, taken, val_count=2, log=lambda _: None)


def test_score_rates_weights_files_on_the_held_out_images(tmp_path, natural_image, capsys):
    from zssr.baselines import score

    hr = _tiny_folder(tmp_path / "hr", natural_image, n=3)
    path = tmp_path / "w.weights.h5"
    baselines.build("edsr-baseline", 2, seed=1).save_weights(str(path))
    assert score.main(["--hr-dir", str(hr), "--scale", "2", "--val-count", "1", str(path)]) == 0
    value, name = capsys.readouterr().out.split()
    assert name == str(path) and 5 < float(value) < 60
    missing = str(tmp_path / "no.h5")
    assert score.main(["--hr-dir", str(hr), "--scale", "2", "--val-count", "1", missing]) == 2
    assert "no weights file" in capsys.readouterr().err
