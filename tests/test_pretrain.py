"""Warm start: multi-image pre-training of the ZSSR network and starting ZSSR from its weights."""

import json

import numpy as np
import pytest

from zssr import ZSSR, preset
from zssr.network import build_network, forward, load_initial_weights

TINY_NET = dict(depth=3, width=8)


def _folder(path, natural, n=4):
    import imageio.v3 as iio

    path.mkdir(parents=True)
    for i in range(n):
        iio.imwrite(path / f"img{i}.png", (natural[:, i * 4:i * 4 + 60] * 255).astype(np.uint8))
    return path


def test_pretrain_writes_weights_that_zssr_starts_from(tmp_path, natural_image):
    from zssr.pretrain import main

    hr = _folder(tmp_path / "hr", natural_image)
    out = tmp_path / "warm.weights.h5"
    args = ["--hr-dir", str(hr), "--val-count", "1", "--iters", "4", "--val-every", "2",
            "--batch-size", "2", "--crop", "24", "--depth", "3", "--width", "8", "-q",
            "--checkpoint-dir", str(tmp_path / "ck"), "--output", str(out)]
    assert main(args) == 0
    state = json.loads((tmp_path / "ck" / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == [2, 4]
    assert all(np.isfinite(h["score"]) for h in state["history"])
    assert main(args[:5] + ["6"] + args[6:] + ["--resume"]) == 0
    resumed = json.loads((tmp_path / "ck" / "state.json").read_text())
    assert resumed["step"] == 6 and resumed["args"]["iters"] == 6
    assert resumed["resumes"] == [{"step": 4, "iters": 6}]

    cfg = preset("ideal", max_iters=2, crop_size=16, test_every=1, lr_slope_range=2,
                 self_ensemble=False, back_projection_iters=(0,), **TINY_NET)
    lr = natural_image[:20, :24]
    cold = ZSSR(cfg).upscale(lr, 2)
    warm = ZSSR(cfg.replace(init_weights=str(out))).upscale(lr, 2)
    again = ZSSR(cfg.replace(init_weights=str(out))).upscale(lr, 2)
    assert not np.array_equal(cold, warm)
    np.testing.assert_array_equal(warm, again)


def test_pretrain_init_from_starts_from_the_given_weights_and_records_them(tmp_path,
                                                                          natural_image):
    from zssr.io import sha256_file
    from zssr.pretrain import main

    hr = _folder(tmp_path / "hr", natural_image)
    start = build_network(3, **TINY_NET, seed=42)
    init = tmp_path / "start.weights.h5"
    start.save_weights(str(init))
    out = tmp_path / "warm.weights.h5"
    # One step at a negligible rate: the result must be the starting weights.
    assert main(["--hr-dir", str(hr), "--val-count", "1", "--iters", "1", "--batch-size", "2",
                 "--crop", "24", "--depth", "3", "--width", "8", "-q", "--lr", "1e-12",
                 "--min-lr", "1e-12", "--init-from", str(init),
                 "--checkpoint-dir", str(tmp_path / "ck"), "--output", str(out)]) == 0
    state = json.loads((tmp_path / "ck" / "state.json").read_text())
    assert state["args"]["init_from"] == str(init)
    assert state["args"]["init_from_sha256"] == sha256_file(init)
    trained = build_network(3, **TINY_NET)
    trained.load_weights(str(out))
    for a, b in zip(start.get_weights(), trained.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


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
    assert "--init-weights: no such file" in capsys.readouterr().err
    assert not list(tmp_path.glob("a_zssr*"))


def test_ship_then_resolve_the_warm_name(tmp_path, natural_image, monkeypatch):
    from zssr import warm
    from zssr.pretrain import main as pretrain_main

    monkeypatch.setattr(warm, "WEIGHTS_DIR", tmp_path / "weights")
    with pytest.raises(FileNotFoundError, match="warm-start weights"):
        warm.resolve("warm")
    assert warm.resolve("my.weights.h5") == "my.weights.h5"  # a path passes through
    hr = _folder(tmp_path / "hr", natural_image)
    ck = tmp_path / "ck"
    assert pretrain_main(["--hr-dir", str(hr), "--val-count", "1", "--iters", "2",
                          "--val-every", "2", "--batch-size", "2", "--crop", "24",
                          "--depth", "3", "--width", "8", "-q", "--checkpoint-dir",
                          str(ck)]) == 0
    assert warm.main(["--checkpoint-dir", str(ck), "--hardware", "test"]) == 0
    path = warm.resolve("warm")
    entry = warm.manifest()["warm_x2.weights.h5"]
    assert entry["depth"] == 3 and entry["iterations"] == 2 and entry["recipe"]["crop"] == 24
    net = build_network(3, **TINY_NET)
    load_initial_weights(net, path, **TINY_NET)
    # A damaged shipped file is refused, not loaded.
    with open(path, "ab") as f:
        f.write(b"x")
    with pytest.raises(ValueError, match="sha256"):
        warm.resolve("warm")


def test_shipped_warm_weights_load_and_beat_interpolation(natural_image):
    from zssr import warm
    from zssr.metrics import psnr
    from zssr.resize import imresize

    path = warm.resolve("warm")  # sha256 checked against the manifest
    entry = warm.manifest()["warm_x2.weights.h5"]
    assert entry["bytes"] < 2_000_000 and entry["iterations"] > 0 and entry["hardware"]
    net = build_network(3, depth=entry["depth"], width=entry["width"])
    load_initial_weights(net, path, depth=entry["depth"], width=entry["width"])
    hr = natural_image[:64, :64]
    interpolated = imresize(imresize(hr, 0.5), 2.0)
    # Without any per-image training the generic weights already beat bicubic interpolation.
    assert psnr(np.clip(forward(net, interpolated), 0, 1), hr, scale=2) > psnr(
        np.clip(interpolated, 0, 1), hr, scale=2) + 0.3
    sr = ZSSR(preset("warm", max_iters=2, crop_size=32)).upscale(imresize(hr, 0.5), 2)
    assert sr.shape == hr.shape
