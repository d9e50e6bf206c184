import numpy as np
import pytest

import zssr
from zssr import ZSSR, api, preset, upscale
from zssr.config import kernel_safe
from zssr.engine import Engine, TrainingDiverged
from zssr.network import build_network

TINY = dict(max_iters=4, depth=3, width=8, crop_size=24, test_every=2, lr_slope_range=4,
            back_projection_iters=(1,))


@pytest.fixture
def small(natural_image):
    return natural_image[:20, :26]


@pytest.fixture
def configs_run(monkeypatch):
    """Record the config of every engine run instead of running it."""
    seen = []

    def run(self, image, scale=2.0, kernel=None, *, progress=None):
        seen.append(self.config)
        return zssr.ZSSRResult(np.zeros((1, 1, 3), np.float32), (2.0, 2.0), [], 0.0)

    monkeypatch.setattr(Engine, "run", run)
    return seen


def test_the_public_names_are_the_facade():
    assert zssr.ZSSR is api.ZSSR and zssr.upscale is api.upscale


def test_upscale_runs_the_command_lines_recipe(small, configs_run):
    kernel = np.ones((3, 3))
    upscale(small, 2)
    upscale(small, 2, kernel="bicubic")
    upscale(small, 2, kernel=kernel)
    upscale(small, 2, kernel=kernel, preset="fast")
    upscale(small, 2, preset="ideal")
    default, bicubic, with_kernel, fast, ideal = configs_run
    assert default == preset("warm") == bicubic  # the recommended preset, one name away
    assert with_kernel == kernel_safe(preset("warm"))[0] and not with_kernel.allow_rotation
    assert ideal == preset("ideal")
    assert fast == kernel_safe(preset("fast"))[0] and not fast.self_ensemble
    assert not fast.allow_rotation and fast.max_iters == preset("fast").max_iters


def test_zssr_without_a_config_runs_the_recommended_preset(small, configs_run):
    from zssr.config import RECOMMENDED

    assert ZSSR().config == preset(RECOMMENDED) == preset("warm")
    ZSSR().run(small, 2)
    assert configs_run == [preset("warm")]


@pytest.mark.parametrize("wrong", ["warm", {"max_iters": 3}, 7])
def test_zssr_refuses_what_is_not_a_config(wrong):
    with pytest.raises(TypeError, match=r"ZSSR\(zssr\.preset\('warm'\)\)"):
        ZSSR(wrong)


def test_an_explicit_config_is_used_as_given(small, configs_run):
    cfg = preset("ideal", **TINY)
    upscale(small, 2, kernel=np.ones((3, 3)), config=cfg)
    ZSSR(cfg).run(small, 2, kernel=np.ones((3, 3)))
    assert configs_run == [cfg, cfg] and cfg.self_ensemble and cfg.allow_rotation
    with pytest.raises(ValueError, match="config or preset"):
        upscale(small, 2, config=cfg, preset="fast")


def test_upscale_with_a_kernel_trains_without_the_ensemble(small):
    events = []
    out = upscale(small, 2, kernel=np.ones((3, 3)), progress=events.append)  # default, made
    # kernel-safe
    assert out.shape == (40, 52, 3)
    assert len([e for e in events if e.phase == "predict"]) == 1


def test_initial_weights_are_read_once_per_file(tmp_path, monkeypatch):
    import zssr.network as network

    path = tmp_path / "start.weights.h5"
    build_network(3, depth=2, width=4, seed=9).save_weights(path)
    reads = []
    real = network.read_initial_weights
    monkeypatch.setattr(network, "read_initial_weights",
                        lambda *a, **k: reads.append(a) or real(*a, **k))
    api.clear_weights_cache()
    a = api.initial_weights(str(path), 3, depth=2, width=4)
    b = api.initial_weights(str(path), 3, depth=2, width=4)
    gray = api.initial_weights(str(path), 1, depth=2, width=4)
    assert len(reads) == 2 and a is b
    assert gray[0].shape[2] == 1 and gray[-1].shape[3] == 1  # folded for one channel
    net = build_network(3, depth=2, width=4)
    network.load_initial_weights(net, str(path), depth=2, width=4)
    for x, y in zip(a, net.get_weights()):
        np.testing.assert_array_equal(x, y)  # the same values as loading into a network
    build_network(3, depth=2, width=4, seed=1).save_weights(path)  # a changed file
    before = len(reads)
    c = api.initial_weights(str(path), 3, depth=2, width=4)
    assert len(reads) == before + 1 and not np.array_equal(c[0], a[0])
    with pytest.raises(FileNotFoundError, match="not found"):
        api.initial_weights(str(tmp_path / "none.weights.h5"), 3, depth=2, width=4)


def test_a_weights_file_starts_training(small, tmp_path):
    path = tmp_path / "start.weights.h5"
    build_network(3, depth=TINY["depth"], width=TINY["width"], seed=9).save_weights(path)
    cfg = preset("ideal", **TINY, lr_schedule="cosine")
    from_file = ZSSR(cfg.replace(init_weights=str(path))).run(small, 2)
    arrays = api.initial_weights(str(path), 3, depth=TINY["depth"], width=TINY["width"])
    from_arrays = Engine(cfg, initial_weights=arrays).run(small, 2)
    np.testing.assert_array_equal(from_file.image, from_arrays.image)
    random_start = ZSSR(cfg).run(small, 2)
    assert not np.array_equal(from_file.image, random_start.image)


def test_non_finite_weights_from_a_file_raise(small, tmp_path):
    net = build_network(3, depth=TINY["depth"], width=TINY["width"])
    net.set_weights([np.full_like(w, np.nan) for w in net.get_weights()])
    path = tmp_path / "nan.weights.h5"
    net.save_weights(str(path))
    with pytest.raises(TrainingDiverged, match=r'loss is nan at iteration 1.*precision="float32"'):
        ZSSR(preset("ideal", **TINY, init_weights=str(path))).run(small, 2)


def test_bad_input_is_reported_before_the_weights(small, tmp_path):
    z = ZSSR(preset("ideal", **TINY, init_weights=str(tmp_path / "none.weights.h5")))
    with pytest.raises(ValueError, match="scale"):
        z.upscale(small, 1.0)
    with pytest.raises(TypeError, match="float"):
        z.upscale((small * 255).astype(np.uint8), 2)
    with pytest.raises(FileNotFoundError, match="not found"):
        z.upscale(small, 2)


def test_upscale_models_a_jpeg_and_noise_as_the_command_line_does(small, configs_run):
    from skimage import data

    from zssr.config import degradation_aware

    upscale(small, 2, jpeg_quality=70, jpeg_subsampling="4:4:4")
    upscale(small, 2, noise_std=0.02)
    upscale(small, 2, preset="real", noise_std=0)
    noisy = np.clip(data.coffee() / 255 + np.random.default_rng(0).normal(0, 6 / 255,
                                                                           data.coffee().shape),
                    0, 1).astype(np.float32)
    upscale(noisy, 2)
    upscale(data.coffee() / 255.0, 2)
    jpeg, noise, real, auto, clean = configs_run
    assert jpeg == degradation_aware(preset("warm"), jpeg_quality=70,
                                     jpeg_subsampling="4:4:4")[0]
    assert jpeg.jpeg_quality == 70 and jpeg.back_projection_iters == (0,)
    assert noise.noise_std == 0.02 and noise.init_weights == "warm-real"
    assert real.noise_std == 0.0  # a number given is the noise, 0 included
    assert auto.noise_std == pytest.approx(6 / 255, rel=0.2)
    assert clean == preset("warm")


def test_degradations_are_checked_and_not_mixed_with_a_config(small):
    with pytest.raises(ValueError, match="jpeg_quality"):
        upscale(small, 2, jpeg_quality=120)
    with pytest.raises(ValueError, match="jpeg_subsampling"):
        upscale(small, 2, jpeg_quality=70, jpeg_subsampling="4:1:1")
    with pytest.raises(ValueError, match="noise_std"):
        upscale(small, 2, noise_std="loud")
    with pytest.raises(ValueError, match="noise_std"):
        upscale(small, 2, noise_std=-0.1)
    with pytest.raises(ValueError, match="as given"):
        upscale(small, 2, config=preset("ideal"), jpeg_quality=70)
