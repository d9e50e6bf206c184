"""Supervised baselines: EDSR-baseline, pixel shuffle, weights I/O, tiling, harness."""

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


