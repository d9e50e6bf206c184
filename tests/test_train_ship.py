"""Shipping a run's best weights with their manifest entry (into a folder of the test's own)."""

import json

import numpy as np
import pytest

from zssr import baselines, warm
from zssr.network import build_network
from zssr.train import ship_edsr, ship_warm
from zssr.train.checkpoint import BEST_FILE, save_weights
from zssr.weights import WeightsError, read_manifest, sha256_file


def _run_folder(path, model, *, best_step=3, **args):
    """A finished run's folder as the runner leaves it: best weights and state."""
    path.mkdir()
    save_weights(model, path / BEST_FILE)
    state = {"step": 4, "best_step": best_step, "best_score": 30.5, "seconds": 12.34,
             "keras_backend": "tensorflow", "history": [],
             "args": {"hr_dirs": ["data/train"], "val_dirs": None, "val_count": 8,
                      "iters": 4, "lr": 1e-3, **args}}
    (path / "state.json").write_text(json.dumps(state))
    return path


def test_ship_warm_then_resolve_the_warm_name(tmp_path):
    net = build_network(3, depth=3, width=8, seed=7)
    ck = _run_folder(tmp_path / "ck", net, depth=3, width=8, crop=24)
    folder = tmp_path / "weights"
    entry = ship_warm(ck, hardware="test", note="n", folder=folder)
    assert entry["file"] == "warm_x2.weights.h5" and entry["iterations"] == 3
    assert entry["depth"] == 3 and entry["recipe"] == {"crop": 24, "iters": 4, "lr": 1e-3}
    assert entry["training_data"] == ["data/train"] and entry["validation_psnr_y"] == 30.5
    assert read_manifest(folder / "manifest.json")["warm_x2.weights.h5"] == entry
    path = warm.resolve("warm", folder=folder)
    assert sha256_file(path) == entry["sha256"]
    shipped = build_network(3, depth=3, width=8)
    shipped.load_weights(path)
    for a, b in zip(net.get_weights(), shipped.get_weights()):
        np.testing.assert_array_equal(a, b)
    with open(path, "ab") as f:  # a damaged shipped file is refused, not loaded
        f.write(b"x")
    with pytest.raises(WeightsError, match="sha256"):
        warm.resolve("warm", folder=folder)


def test_ship_warm_real_under_its_own_name(tmp_path):
    net = build_network(3, depth=3, width=8, seed=5)
    ck = _run_folder(tmp_path / "ck", net, depth=3, width=8, crop=24, jpeg_mix=0.6,
                     noise_mix=0.5)
    folder = tmp_path / "weights"
    entry = ship_warm(ck, hardware="test", folder=folder, name="warm-real")
    assert entry["file"] == "warm_real_x2.weights.h5"
    assert entry["recipe"]["jpeg_mix"] == 0.6 and entry["recipe"]["noise_mix"] == 0.5
    assert sha256_file(warm.resolve("warm-real", folder=folder)) == entry["sha256"]
    with pytest.raises(FileNotFoundError):  # the other name was not shipped here
        warm.resolve("warm", folder=folder)
    with pytest.raises(ValueError, match="name"):
        ship_warm(ck, hardware="test", folder=folder, name="cold")


def test_ship_edsr_scores_on_set5_and_writes_the_entry(tmp_path, natural_image):
    import imageio.v3 as iio

    from zssr.resize import imresize

    set5 = tmp_path / "set5"
    (set5 / "HR").mkdir(parents=True)
    (set5 / "LR_bicubic" / "X2").mkdir(parents=True)
    hr = natural_image[:48, :48]
    iio.imwrite(set5 / "HR" / "a.png", (hr * 255).round().astype(np.uint8))
    lr = np.clip(imresize(hr, 0.5), 0, 1)
    iio.imwrite(set5 / "LR_bicubic" / "X2" / "ax2.png", (lr * 255).round().astype(np.uint8))
    ck = _run_folder(tmp_path / "ck", baselines.build("edsr-baseline", 2, seed=1),
                     patch=48, loss="l1")
    folder = tmp_path / "weights"
    entry = ship_edsr(ck, scale=2, set5=set5, hardware="test", folder=folder)
    assert entry["file"] == "edsr-baseline_x2.weights.h5" and entry["scale"] == 2
    assert entry["recipe"] == {"patch": 48, "loss": "l1", "iters": 4, "lr": 1e-3}
    assert 5 < entry["set5_psnr_y"] < 60 and 0 < entry["set5_ssim_y"] <= 1
    assert read_manifest(folder / "manifest.json")[entry["file"]]["sha256"] == sha256_file(
        folder / entry["file"])


def test_a_run_that_never_beat_its_start_is_not_shipped(tmp_path):
    ck = _run_folder(tmp_path / "ck", build_network(3, depth=3, width=8), best_step=0,
                     depth=3, width=8)
    for ship in (lambda: ship_warm(ck, hardware="t", folder=tmp_path / "w"),
                 lambda: ship_edsr(ck, scale=2, set5=tmp_path, hardware="t",
                                   folder=tmp_path / "w")):
        with pytest.raises(ValueError, match="no step beat the weights the run started from"):
            ship()
    assert not (tmp_path / "w").exists()
    with pytest.raises(FileNotFoundError, match="not a training run"):
        ship_warm(tmp_path, hardware="t", folder=tmp_path / "w")
