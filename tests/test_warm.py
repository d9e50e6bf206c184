"""The warm-start weights: lookup by name, the shipped file, ZSSR started from weights."""

import json

import numpy as np
import pytest

from zssr import ZSSR, preset, warm
from zssr.network import build_network, forward, load_initial_weights
from zssr.weights import WeightsError, sha256_file

TINY_NET = dict(depth=3, width=8)


def test_a_path_passes_through_and_a_missing_shipped_file_says_what_to_do(tmp_path):
    assert warm.resolve("my.weights.h5", folder=tmp_path) == "my.weights.h5"
    with pytest.raises(FileNotFoundError, match="reinstall zssr, or pass init_weights=PATH"):
        warm.resolve("warm", folder=tmp_path)


def test_a_tampered_manifest_is_refused(tmp_path):
    path = tmp_path / warm.NAMES["warm"]
    build_network(3, **TINY_NET).save_weights(str(path))
    entry = {"file": path.name, "sha256": sha256_file(path)}
    (tmp_path / "manifest.json").write_text(json.dumps({"weights": [entry]}))
    assert warm.resolve("warm", folder=tmp_path) == str(path)
    assert warm.manifest(tmp_path) == {path.name: entry}
    entry["sha256"] = "0" * 64
    (tmp_path / "manifest.json").write_text(json.dumps({"weights": [entry]}))
    with pytest.raises(WeightsError, match="sha256"):
        warm.resolve("warm", folder=tmp_path)


def test_rgb_weights_fold_exactly_into_a_gray_network(tmp_path, rng):
    rgb = build_network(3, seed=5, init_variance=2.0, **TINY_NET)
    path = tmp_path / "rgb.weights.h5"
    rgb.save_weights(str(path))
    gray_net = build_network(1, **TINY_NET)
    load_initial_weights(gray_net, str(path), **TINY_NET)
    g = rng.random((20, 24, 1)).astype(np.float32)
    expected = forward(rgb, np.repeat(g, 3, axis=2)).mean(axis=2, keepdims=True)
    np.testing.assert_allclose(forward(gray_net, g), expected, atol=1e-5)
    assert np.abs(expected - g).max() > 1e-2  # the residual is not trivially zero


def test_wrong_initial_weights_are_errors(tmp_path):
    net = build_network(3, **TINY_NET)
    with pytest.raises(FileNotFoundError, match="initial weights not found"):
        load_initial_weights(net, str(tmp_path / "none.weights.h5"), **TINY_NET)
    other = tmp_path / "other.weights.h5"
    build_network(3, depth=4, width=8).save_weights(str(other))
    with pytest.raises(ValueError, match="depth-3, width-8"):
        load_initial_weights(net, str(other), **TINY_NET)


def test_cli_refuses_missing_initial_weights(tmp_path, natural_image, capsys):
    import imageio.v3 as iio

    from zssr.cli import main

    img = tmp_path / "a.png"
    iio.imwrite(img, (natural_image[:16, :16] * 255).astype(np.uint8))
    assert main([str(img), "--init-weights", str(tmp_path / "nope.weights.h5")]) == 2
    assert "--init-weights" in capsys.readouterr().err
    assert not list(tmp_path.glob("a_zssr*"))


def test_shipped_warm_weights_load_and_beat_interpolation(natural_image):
    from zssr.metrics import psnr
    from zssr.resize import imresize

    path = warm.resolve("warm")  # sha256 checked against the package's manifest
    entry = warm.manifest()[warm.NAMES["warm"]]
    assert entry["bytes"] < 2_000_000 and entry["iterations"] > 0 and entry["hardware"]
    net = build_network(3, depth=entry["depth"], width=entry["width"])
    load_initial_weights(net, path, depth=entry["depth"], width=entry["width"])
    hr = natural_image[:64, :64]
    interpolated = imresize(imresize(hr, 0.5), 2.0)
    # Without any per-image training the generic weights already beat bicubic interpolation.
    assert psnr(np.clip(forward(net, interpolated), 0, 1), hr, scale=2) > psnr(
        np.clip(interpolated, 0, 1), hr, scale=2) + 0.3
    sr = ZSSR(preset("warm", max_iters=2, crop_size=32)).upscale(
        np.clip(imresize(hr, 0.5), 0, 1), 2)  # bicubic overshoots [0, 1]; inputs may not
    assert sr.shape == hr.shape
