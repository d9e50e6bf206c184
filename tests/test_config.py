import dataclasses

import pytest

from zssr import ZSSRConfig, preset, preset_names


def test_presets_exist_and_differ_as_documented():
    assert {"ideal", "gradual", "stepwise", "kernel", "real"} <= set(preset_names())
    ideal, gradual = preset("ideal"), preset("gradual")
    kernel, real = preset("kernel"), preset("real")
    assert ideal == ZSSRConfig() and ideal.gradual_step == 0
    assert gradual.gradual_step == 0.5 and gradual.back_projection_iters == (6, 6, 8, 10, 10, 12)
    assert not kernel.allow_rotation and kernel.back_projection_iters == (2,)
    assert real.noise_std > 0 and real.back_projection_iters == (0,)
    stepwise = preset("stepwise")
    assert stepwise.scale_steps == (2.0, 4.0) and stepwise.base_change_scales == (2.0, 4.0)
    warm = preset("warm")  # x2 weights: larger factors go by x2 steps
    assert warm.init_weights == "warm" and warm.scale_steps == stepwise.scale_steps
    assert warm.base_change_scales == stepwise.base_change_scales


def test_frozen_and_overrides():
    cfg = preset("ideal", max_iters=10)
    assert cfg.max_iters == 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.max_iters = 5  # type: ignore[misc]
    with pytest.raises(TypeError, match="unknown ZSSRConfig field"):
        cfg.replace(max_iterations=3)


@pytest.mark.parametrize("field,value", [("max_iters", 0), ("min_scale", 0.0),
                                         ("min_scale", 1.5), ("noise_std", -1.0),
                                         ("learning_rate", float("nan")),
                                         ("back_projection_iters", (-1,)),
                                         ("leave_as_is_probability", 0.8),
                                         ("seed", -1), ("tile_size", 3), ("tile_size", 15)])
def test_invalid_values_are_rejected(field, value):
    with pytest.raises(ValueError, match=field.split("_")[0]):
        preset("ideal", **{field: value})


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="ideal, gradual"):
        preset("best")


def test_to_dict_round_trip():
    cfg = preset("gradual")
    assert ZSSRConfig(**{k: tuple(v) if isinstance(v, list) else v
                         for k, v in cfg.to_dict().items()}) == cfg


def test_every_field_has_a_one_line_help_and_string_fields_their_choices():
    for f in dataclasses.fields(ZSSRConfig):
        text = f.metadata.get("help", "")
        assert text and "\n" not in text and len(text) <= 100, f.name
        assert " dB" not in text and "AVX" not in text, f.name
        if isinstance(f.default, str) and f.name != "init_weights":
            assert f.default in f.metadata["choices"], f.name
    # the choices are exactly what validation accepts
    for f in dataclasses.fields(ZSSRConfig):
        for choice in f.metadata.get("choices", ()):
            preset("ideal", **{f.name: choice})
    with pytest.raises(ValueError, match="precision"):
        preset("ideal", precision="half")


def test_class_and_preset_docstrings_hold_no_measurements():
    from zssr.config import PRESETS

    assert len(ZSSRConfig.__doc__.splitlines()) < 50
    for make in PRESETS.values():
        for word in (" dB", "seconds", "EPYC", "Xeon", "AVX", "AMX", "2026"):
            assert word not in make.__doc__, (make.__name__, word)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) if value else "none"
    return str(value)


@pytest.mark.parametrize("name", ["gradual", "warm", "real", "kernel"])
def test_from_strings_round_trips_every_field(name):
    cfg = preset(name)
    items = [f"{k}={_text(getattr(cfg, k))}" for k in (f.name for f in dataclasses.fields(cfg))]
    assert ZSSRConfig.from_strings(items) == cfg


def test_parse_value_types_come_from_the_field():
    from zssr.config import parse_overrides, parse_value

    assert parse_value("back_projection_iters", "6,8,10") == (6, 8, 10)
    assert parse_value("scale_steps", "2,4") == (2.0, 4.0)
    assert isinstance(parse_value("scale_steps", "2")[0], float)
    assert parse_value("base_change_scales", "none") == () == parse_value("scale_steps", "")
    assert parse_value("allow_rotation", "False") is False
    assert parse_value("self_ensemble", "1") is True
    assert parse_value("max_iters", "7") == 7 and parse_value("noise_std", "0.5") == 0.5
    assert parse_value("init_weights", "w.weights.h5") == "w.weights.h5"
    for name, bad in (("max_iters", "1.5"), ("allow_rotation", "maybe"),
                      ("back_projection_iters", "2.5"), ("nonsense", "1")):
        with pytest.raises(ValueError, match=name):
            parse_value(name, bad)
    assert parse_overrides(["max_iters=5", "scale_steps=2"]) == {"max_iters": 5,
                                                                 "scale_steps": (2.0,)}
    with pytest.raises(ValueError, match="field=value"):
        parse_overrides(["max_iters"])


def test_kernel_safe_resets_all_but_the_kept_fields():
    from zssr.config import KERNEL_SAFE, kernel_safe

    cfg, changed = kernel_safe(preset("warm"))
    assert changed == ("allow_rotation", "base_change_scales", "scale_steps", "self_ensemble")
    assert all(getattr(cfg, k) == v for k, v in KERNEL_SAFE.items())
    cfg, changed = kernel_safe(preset("warm"), keep={"self_ensemble": True})
    assert cfg.self_ensemble and "self_ensemble" not in changed
    same = preset("kernel")
    assert kernel_safe(same) == (same, ())


def test_the_default_preset_is_the_recommended_warm_for_any_kernel():
    from zssr.config import RECOMMENDED, default_preset

    assert RECOMMENDED == "warm"
    assert default_preset(True) == default_preset(False) == RECOMMENDED


def test_tiles_are_off_or_large_enough_to_hold_their_margins():
    assert preset("ideal", tile_size=0).tile_size == 0
    assert preset("ideal", tile_size=16).tile_size == 16
    with pytest.raises(ValueError, match="tile_size must be 0 .* or >= 16"):
        preset("ideal", tile_size=8)


def test_degradation_aware_leaves_a_clean_input_alone():
    from zssr.config import degradation_aware

    cfg = preset("warm")
    assert degradation_aware(cfg) == (cfg, ())
    real = preset("real")
    # no noise found: the preset's own noise stays; a number given replaces it, 0 included
    assert degradation_aware(real, noise_std=None) == (real, ())
    quiet, changed = degradation_aware(real, noise_std=0.0)
    assert quiet.noise_std == 0.0 and changed == ("noise_std",)
    assert quiet.back_projection_iters == real.back_projection_iters  # no noise: not degraded


def test_degradation_aware_models_jpeg_and_noise():
    from zssr.config import DEGRADED, degradation_aware

    cfg, changed = degradation_aware(preset("warm"), jpeg_quality=75, jpeg_subsampling="4:4:4",
                                     noise_std=0.02)
    assert (cfg.jpeg_quality, cfg.jpeg_subsampling, cfg.noise_std) == (75, "4:4:4", 0.02)
    assert cfg.back_projection_iters == DEGRADED["back_projection_iters"]
    assert cfg.init_weights == "warm-real"
    assert set(changed) == {"jpeg_quality", "jpeg_subsampling", "noise_std", "init_weights",
                            *(k for k in DEGRADED if getattr(preset("warm"), k) != DEGRADED[k])}
    # the fields a user set stay; a random start stays random
    kept, changed = degradation_aware(preset("ideal", back_projection_iters=(4,)),
                                      jpeg_quality=50, keep={"back_projection_iters"})
    assert kept.back_projection_iters == (4,) and kept.init_weights == ""
    assert "back_projection_iters" not in changed and kept.jpeg_quality == 50
    own, _ = degradation_aware(preset("warm", init_weights="mine.weights.h5"), noise_std=0.01)
    assert own.init_weights == "mine.weights.h5"


def test_noise_std_is_checked_in_the_units_of_the_range():
    from zssr.config import check_noise_std

    assert check_noise_std(0) == 0.0 and check_noise_std(0.5) == 0.5
    for bad in (float("inf"), float("nan"), -0.01, 5):
        with pytest.raises(ValueError, match="5 grey levels is 0.0196"):
            check_noise_std(bad)


def test_jpeg_fields_are_checked():
    with pytest.raises(ValueError, match="jpeg_quality"):
        ZSSRConfig(jpeg_quality=101)
    with pytest.raises(ValueError, match="jpeg_subsampling"):
        ZSSRConfig(jpeg_subsampling="4:1:1")
    assert ZSSRConfig.from_strings(["jpeg_quality=80"]).jpeg_quality == 80
