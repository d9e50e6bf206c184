import numpy as np
import pytest

from zssr import ZSSR, preset, upscale
from zssr.engine import Engine, TrainingDiverged
from zssr.metrics import psnr
from zssr.plan import scale_steps
from zssr.resize import imresize

TINY = dict(max_iters=4, depth=3, width=8, crop_size=24, test_every=2, lr_slope_range=4,
            back_projection_iters=(1,))


@pytest.fixture
def small(natural_image):
    return natural_image[:20, :26]


@pytest.mark.parametrize("scale,shape", [(2, (40, 52)), (1.5, (30, 39)), ((2, 1.5), (40, 39))])
def test_end_to_end_shapes(small, scale, shape):
    result = ZSSR(preset("ideal", **TINY)).run(small, scale)
    assert result.image.shape == shape + (3,)
    assert result.image.dtype == np.float32
    assert 0 <= result.image.min() and result.image.max() <= 1
    assert result.iterations == 4
    assert result.final_learning_rate == pytest.approx(1e-3)


def test_gray_input_keeps_its_layout(small):
    gray = small.mean(axis=2)
    out = upscale(gray, 2, config=preset("ideal", **TINY))
    assert out.shape == (40, 52)


def test_seeded_runs_are_reproducible(small):
    cfg = preset("ideal", **TINY, seed=5)
    a = ZSSR(cfg).upscale(small, 2)
    b = ZSSR(cfg).upscale(small, 2)
    c = ZSSR(cfg.replace(seed=6)).upscale(small, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_training_beats_bicubic_on_a_natural_image(natural_image):
    hr = natural_image[:48, :64]
    lr = imresize(hr, 0.5)
    cfg = preset("ideal", max_iters=120, depth=4, width=16, crop_size=48,
                 back_projection_iters=(0,), self_ensemble=False)
    sr = ZSSR(cfg).upscale(lr, 2)
    bicubic = np.clip(imresize(lr, 2), 0, 1)
    assert psnr(sr, hr, scale=2) > psnr(bicubic, hr, scale=2)


def test_progress_callback_sees_training_and_ensemble(small):
    events = []
    ZSSR(preset("ideal", **TINY)).run(small, 2, progress=events.append)
    train = [e for e in events if e.phase == "train"]
    ens = [e for e in events if e.phase == "predict"]
    assert [e.iteration for e in train] == [1, 2, 3, 4]
    assert len(ens) == 8  # full geometric self-ensemble for an isotropic scale


def test_anisotropic_scale_uses_four_transforms(small):
    events = []
    ZSSR(preset("ideal", **TINY)).run(small, (2, 1.5), progress=events.append)
    assert len([e for e in events if e.phase == "predict"]) == 4


def test_gradual_run_reports_each_step(small):
    cfg = preset("gradual", **{**TINY, "back_projection_iters": (1, 2)})
    result = ZSSR(cfg).run(small, 2)
    assert [s.scale for s in result.steps] == scale_steps(2, 0.5)
    assert [s.back_projection_iters for s in result.steps] == [1, 1, 1, 2, 2, 2]
    assert result.image.shape == (40, 52, 3)


def test_stepwise_preset_steps(small):
    cfg = preset("stepwise", **TINY)
    assert scale_steps(4, cfg.gradual_step, cfg.scale_steps) == [(2.0, 2.0), (4.0, 4.0)]
    assert scale_steps(3, cfg.gradual_step, cfg.scale_steps) == [(2.0, 2.0), (3.0, 3.0)]
    result = ZSSR(cfg).run(small, 4)
    assert result.image.shape == (80, 104, 3) and len(result.steps) == 2


def test_base_change(small):
    cfg = preset("ideal", **TINY, gradual_step=1.0, base_change_scales=(2.0,))
    result = ZSSR(cfg).run(small, 3)
    assert result.image.shape == (60, 78, 3)


def test_base_change_at_the_final_step_changes_nothing(small):
    cfg = preset("ideal", **TINY)
    plain = ZSSR(cfg).upscale(small, 2)
    np.testing.assert_array_equal(
        ZSSR(cfg.replace(scale_steps=(2.0, 4.0), base_change_scales=(2.0, 4.0))).upscale(small, 2),
        plain)


def test_base_change_ends_consistent_with_the_original_input(small):
    cfg = preset("ideal", **{**TINY, "back_projection_iters": (3,)}, scale_steps=(2.0,),
                 base_change_scales=(2.0,))
    with_bp = ZSSR(cfg).upscale(small, 4)
    without = ZSSR(cfg.replace(back_project_to_input=False)).upscale(small, 4)

    def inconsistency(sr):
        return np.abs(imresize(sr, 0.25, output_shape=small.shape[:2]) - small).mean()

    assert inconsistency(with_bp) < inconsistency(without)


def test_lr_policy_stops_training_on_a_plateau(small):
    cfg = preset("ideal", max_iters=400, depth=2, width=4, crop_size=16, test_every=5,
                 lr_slope_range=25, lr_check_every=10, min_iters=10, learning_rate=1e-7,
                 noise_std=0.05, min_learning_rate=1e-9, back_projection_iters=(0,),
                 self_ensemble=False)
    result = ZSSR(cfg).run(small, 2)
    step = result.steps[0]
    assert step.iterations < 400
    assert step.final_learning_rate < 1e-9
    # 1e-7 -> 1e-8 -> 1e-9 -> 1e-10, which is below the minimum: three drops, then stop.
    assert len(step.lr_drop_iterations) == 3
    assert step.iterations == step.lr_drop_iterations[-1] + 1


def test_kernel_arguments(small):
    cfg = preset("kernel", **TINY)
    k = np.ones((3, 3))
    assert ZSSR(cfg).upscale(small, 2, kernel=k).shape == (40, 52, 3)
    with pytest.raises(ValueError, match="one kernel per step"):
        ZSSR(preset("gradual", **TINY)).upscale(small, 2, kernel=k)
    with pytest.raises(ValueError, match="positive sum"):
        ZSSR(cfg).upscale(small, 2, kernel=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="kernel must be"):
        ZSSR(cfg).upscale(small, 2, kernel="gaussian")


def test_bad_inputs(small):
    z = ZSSR(preset("ideal", **TINY))
    with pytest.raises(TypeError, match="float"):
        z.upscale((small * 255).astype(np.uint8), 2)
    with pytest.raises(ValueError, match="scale"):
        z.upscale(small, 1.0)
    with pytest.raises(ValueError, match="scale"):
        z.upscale(small, float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        z.upscale(np.full((8, 8, 3), np.nan, np.float32), 2)


def test_tiled_prediction_equals_untiled(natural_image):
    lr = natural_image[:40, :44]
    cfg = preset("ideal", **{**TINY, "max_iters": 3})
    untiled = ZSSR(cfg.replace(tile_size=0)).upscale(lr, 2)
    tiled = ZSSR(cfg.replace(tile_size=24)).upscale(lr, 2)  # 80x88 output in 24-px tiles
    assert np.abs(tiled - untiled).max() <= 1 / 255


def test_gray_hxwx1_array(small):
    out = upscale(small[:, :, :1], 2, config=preset("ideal", **TINY))
    assert out.shape == (40, 52, 1)


def test_cosine_schedule_runs_exactly_max_iters_without_tests(natural_image):
    cfg = preset("ideal", lr_schedule="cosine", max_iters=7, learning_rate=1e-3,
                 min_learning_rate=1e-5, **{k: v for k, v in TINY.items() if k != "max_iters"})
    result = ZSSR(cfg).run(natural_image[:24, :24], 2)
    report = result.steps[0]
    assert report.iterations == 7 and report.reconstruction_mse == []
    assert report.final_learning_rate == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="lr_schedule"):
        preset("ideal", lr_schedule="linear")


def test_mixed_bfloat16_training_runs_and_stays_close(natural_image):
    lr = natural_image[:24, :24]
    cfg = preset("ideal", **TINY)
    full = ZSSR(cfg).upscale(lr, 2)
    mixed = ZSSR(cfg.replace(precision="mixed_bfloat16")).upscale(lr, 2)
    assert mixed.dtype == np.float32 and mixed.shape == full.shape
    assert psnr(mixed, full, scale=2) > 40  # 4 tiny steps apart: only rounding differs


def test_non_finite_training_raises_instead_of_returning_a_broken_image(small):
    from zssr.network import build_network

    net = build_network(3, depth=TINY["depth"], width=TINY["width"])
    nan = [np.full_like(w, np.nan) for w in net.get_weights()]
    with pytest.raises(TrainingDiverged,
                       match=r'loss is nan at iteration 1.*precision="float32"') as caught:
        Engine(preset("ideal", **TINY), initial_weights=nan).run(small, 2)
    assert "--" not in str(caught.value)  # API terms; the command line translates


def test_the_engine_takes_weights_as_arrays_not_files(small):
    with pytest.raises(ValueError, match="initial_weights"):
        Engine(preset("warm", **TINY))


def test_non_finite_prediction_raises(small, monkeypatch):
    import zssr.engine as engine

    real = engine.forward
    calls = {"n": 0}

    def forward(model, x):
        out = np.array(real(model, x))
        calls["n"] += 1
        if calls["n"] == 3:  # the third ensemble member (a cosine schedule runs no tests)
            out[0, 0, 0] = np.inf
        return out

    monkeypatch.setattr(engine, "forward", forward)
    with pytest.raises(TrainingDiverged, match="ensemble member 3 of 8"):
        ZSSR(preset("ideal", **TINY, lr_schedule="cosine")).run(small, 2)


def _diverge_once(monkeypatch):
    """Make the first training of a run fail as a bfloat16 divergence would, after it has
    drawn samples; returns the call log."""
    from zssr.network import precision_of

    real = Engine.fit
    calls = []

    def fit(self, model, ctx):
        calls.append(precision_of(model))
        if len(calls) == 1:
            ctx.rng.random(7)  # samples drawn before the loss went bad
            raise TrainingDiverged.during("training diverged: the loss is nan at iteration 3",
                                          step=0, n_steps=1, precision=precision_of(model))
        return real(self, model, ctx)

    monkeypatch.setattr(Engine, "fit", fit)
    return calls


def test_auto_precision_retrains_a_diverged_bfloat16_step_in_float32(small, monkeypatch):
    import zssr.network as network

    reference = ZSSR(preset("ideal", **TINY, precision="float32", seed=3)).run(small, 2)
    monkeypatch.setattr(network, "bfloat16_is_native", lambda: True)
    calls = _diverge_once(monkeypatch)
    result = ZSSR(preset("ideal", **TINY, precision="auto", seed=3)).run(small, 2)
    assert calls == ["mixed_bfloat16", "float32"]
    step = result.steps[0]
    assert step.precision == "float32"
    assert step.retried.startswith("training diverged: the loss is nan at iteration 3 in "
                                   "mixed_bfloat16; trained again in float32")
    # Same start weights and same samples: exactly the float32 run.
    np.testing.assert_array_equal(result.image, reference.image)


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_an_explicit_precision_is_not_retried(small, monkeypatch, precision):
    calls = _diverge_once(monkeypatch)
    with pytest.raises(TrainingDiverged, match=f"this run: {precision}"):
        ZSSR(preset("ideal", **TINY, precision=precision)).run(small, 2)
    assert len(calls) == 1


def test_gradient_loss_weights_reach_the_loss_cropped_with_the_father(small, monkeypatch):
    from zssr.sampler import gradient_weight_map

    seen = []
    real = Engine.fit

    def fit(self, model, ctx):
        step = model.train_on_batch

        def train_on_batch(x, y, sample_weight=None):
            seen.append((y[0].copy(), None if sample_weight is None else sample_weight[0]))
            return step(x, y, sample_weight=sample_weight)

        model.train_on_batch = train_on_batch
        try:
            return real(self, model, ctx)
        finally:
            del model.train_on_batch  # the network goes back to the pool as it was

    monkeypatch.setattr(Engine, "fit", fit)
    cfg = preset("kernel", **{**TINY, "crop_size": 12}, loss_weights="gradient",
                 leave_as_is_probability=1.0, no_interpolate_probability=0.0)
    image = np.ascontiguousarray(small)
    ZSSR(cfg).run(image, 2)
    expected = gradient_weight_map(image)
    for father, weights in seen:
        assert weights is not None and weights.shape == father.shape[:2]
        # Plain crops: find the father in the image, its weights are the map's same crop.
        hits = [(i, j) for i in range(image.shape[0] - 11) for j in range(image.shape[1] - 11)
                if np.array_equal(image[i:i + 12, j:j + 12], father)]
        assert len(hits) == 1
        i, j = hits[0]
        np.testing.assert_allclose(weights, expected[i:i + 12, j:j + 12], rtol=1e-5, atol=1e-6)
    seen.clear()
    ZSSR(cfg.replace(loss_weights="uniform")).run(image, 2)
    assert all(w is None for _, w in seen)
    with pytest.raises(ValueError, match="loss_weights"):
        preset("ideal", loss_weights="edges")


def test_sons_are_degraded_like_the_input_until_a_base_change(small, monkeypatch):
    from zssr import engine

    seen = []
    real_father_to_son = engine.father_to_son

    def spy(father, scale, kernel, rng, **degradation):
        seen.append(degradation.get("jpeg_quality", 0))
        return real_father_to_son(father, scale, kernel, rng, **degradation)

    monkeypatch.setattr(engine, "father_to_son", spy)
    cfg = preset("ideal", **TINY).replace(jpeg_quality=50, noise_std=0.01, scale_steps=(2.0, 4.0),
                                         base_change_scales=(2.0,))
    result = ZSSR(cfg).run(np.ascontiguousarray(small[:16, :16]), 4)
    first, _ = result.steps
    n_first = first.iterations + len(first.reconstruction_mse)
    assert seen[:n_first] == [50] * n_first  # training pairs and reconstruction tests alike
    assert set(seen[n_first:]) == {0} and len(seen) > n_first  # the input is now an output
