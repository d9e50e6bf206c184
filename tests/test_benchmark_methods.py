import numpy as np
import pytest

from zssr.resize import imresize

TINY = dict(max_iters=2, depth=2, width=4, crop_size=8, test_every=1, lr_slope_range=2,
            back_projection_iters=(1,))


@pytest.fixture
def sample(natural_image):
    from zssr.benchmark import Sample

    hr = natural_image[:24, :24]
    return Sample("a", np.clip(imresize(hr, 0.5), 0, 1).astype(np.float32), hr, 2)


@pytest.fixture
def runs(monkeypatch):
    """The configs ZSSR ran with (ZSSR.run is public; the estimate is replaced by bicubic)."""
    import zssr
    import zssr.estimate
    from zssr.kernels import bicubic_kernel

    seen = []
    real_run = zssr.ZSSR.run

    def run(self, *args, **kwargs):
        seen.append(self.config)
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(zssr.ZSSR, "run", run)
    monkeypatch.setattr(zssr.estimate, "estimate_kernel",
                        lambda lr, scale, **kw: bicubic_kernel(scale))
    return seen


@pytest.mark.parametrize("method", ["zssr", "zssr-estimated"])
def test_the_preset_run_is_the_preset_reported(method, sample, runs):
    from zssr.benchmark import evaluate

    table = evaluate([sample], method, preset_name="real", overrides=TINY, log=lambda s: None)
    assert table["rows"][0]["preset"] == "real"
    (config,) = runs
    assert config.noise_std == 0.0125  # the real preset ran, not kernel's or ideal's
    assert not config.self_ensemble and config.back_projection_iters == (1,)


def test_zssr_gt_needs_the_datasets_kernel(sample):
    from zssr.benchmark import evaluate

    with pytest.raises(ValueError, match="no ground-truth kernel"):
        evaluate([sample], "zssr-gt", overrides=TINY, log=lambda s: None)


def test_the_registry_says_what_each_method_runs():
    from zssr import baselines
    from zssr.benchmark import BASELINES, METHODS, get, preset_for

    assert METHODS[:4] == ("bicubic", "zssr", "zssr-gt", "zssr-estimated")
    assert set(BASELINES) == {*baselines.NAMES, *(n + "-ensemble" for n in baselines.NAMES)}
    assert preset_for("zssr", None) == "ideal" and preset_for("zssr-gt", None) == "kernel"
    assert preset_for("zssr-estimated", None) == "kernel"
    assert preset_for("zssr-estimated", "warm") == "warm" == preset_for("zssr-gt", "warm")
    assert preset_for("bicubic", "warm") is None and not get("edsr-baseline").is_zssr
    assert get("zssr-gt").needs_kernel and not get("zssr").needs_kernel
    assert get("edsr-baseline-ensemble").network == "edsr-baseline"


def test_a_registered_method_is_run_by_evaluate(sample):
    from zssr.benchmark import REGISTRY, Method, evaluate, register

    def run(s, **kwargs):
        return np.zeros_like(s.hr), None, {"note": kwargs["preset"]}

    try:
        register(Method("zeros", run))
        row = evaluate([sample], "zeros", log=lambda s: None)["rows"][0]
        assert row["note"] is None and row["psnr_y"] < 15
    finally:
        REGISTRY.pop("zeros", None)


def test_the_benchmark_pins_its_own_presets_not_the_cli_default():
    # The CLI's default moved to warm; the committed results were made with these.
    from zssr.benchmark.methods import get

    assert get("zssr").default_preset == "ideal"
    assert get("zssr-gt").default_preset == get("zssr-estimated").default_preset == "kernel"
    assert get("bicubic").default_preset is None
