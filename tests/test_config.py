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
                                         ("leave_as_is_probability", 0.8)])
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
