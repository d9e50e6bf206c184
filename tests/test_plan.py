import numpy as np
import pytest

from zssr import preset
from zssr.plan import (
    MIN_SON_SIDE,
    check_size,
    make_plan,
    scale_steps,
    spread,
    step_kernels,
    total_scale,
)


def test_gradual_steps_match_official_recipe():
    assert scale_steps(2, 0.5) == [(1.0, 1.5), (1.5, 1.0), (1.5, 1.5), (1.5, 2.0), (2.0, 1.5),
                                   (2.0, 2.0)]
    assert scale_steps(2) == [(2.0, 2.0)]
    assert scale_steps(4, 0.5, explicit=(2,)) == [(2.0, 2.0), (4.0, 4.0)]
    assert scale_steps((4, 3), explicit=(2, 3.5)) == [(2.0, 2.0), (3.5, 3.0), (4.0, 3.0)]
    steps = scale_steps((2, 1.5), 0.5)
    assert steps[-1] == (2.0, 1.5)
    assert all(a <= 2 and b <= 1.5 for a, b in steps)


def test_total_scale_is_checked():
    assert total_scale(2) == (2.0, 2.0) and total_scale((2, 1)) == (2.0, 1.0)
    for bad in (1.0, 0.5, float("nan"), float("inf"), (1, 0.9)):
        with pytest.raises(ValueError, match="scale must be"):
            total_scale(bad)


def test_spread_gives_one_value_per_step_last_on_last():
    assert spread((10,), 3) == [10, 10, 10]
    assert spread((6, 8, 10), 1) == [10]
    assert spread((1, 2), 6) == [1, 1, 1, 2, 2, 2]


def test_one_jump_plan():
    plan = make_plan((20, 26, 3), (2.0, 2.0), None, preset("ideal", back_projection_iters=(3,)))
    (step,) = plan.steps
    assert step.scale == step.relative == (2.0, 2.0) and step.kernel is None
    assert step.back_projection_iters == 3 and not step.base_change
    assert plan.final_back_projection == 0


def test_base_changes_make_later_steps_relative_and_end_with_a_back_projection():
    cfg = preset("stepwise", back_projection_iters=(4,))
    plan = make_plan((20, 26, 3), (4.0, 4.0), None, cfg)
    assert [s.scale for s in plan.steps] == [(2.0, 2.0), (4.0, 4.0)]
    assert [s.relative for s in plan.steps] == [(2.0, 2.0), (2.0, 2.0)]
    # The final step's base change would change nothing, so it is left out.
    assert [s.base_change for s in plan.steps] == [True, False]
    assert plan.final_back_projection == 4
    assert make_plan((20, 26, 3), (4.0, 4.0), None,
                     cfg.replace(back_project_to_input=False)).final_back_projection == 0
    # With a kernel the back-projection onto the input (bicubic) is not done.
    kernels = [np.ones((3, 3)), np.ones((3, 3))]
    assert make_plan((20, 26, 3), (4.0, 4.0), kernels, cfg).final_back_projection == 0


def test_gradual_plan_has_no_base_change_and_spreads_back_projection():
    plan = make_plan((20, 26, 3), (2.0, 2.0), None,
                     preset("gradual", back_projection_iters=(1, 2)))
    assert [s.relative for s in plan.steps] == scale_steps(2, 0.5)
    assert [s.back_projection_iters for s in plan.steps] == [1, 1, 1, 2, 2, 2]
    assert not any(s.base_change for s in plan.steps) and plan.final_back_projection == 0


def test_kernels_are_normalised_and_checked():
    (k,) = step_kernels(np.ones((3, 3)), 1)
    assert k.dtype == np.float64 and k.sum() == pytest.approx(1.0)
    assert step_kernels("bicubic", 2) == [None, None]
    with pytest.raises(ValueError, match="one kernel per step"):
        step_kernels(np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match="got 1 kernels for 2"):
        step_kernels([np.ones((3, 3))], 2)
    with pytest.raises(ValueError, match="positive sum"):
        step_kernels(np.zeros((3, 3)), 1)
    with pytest.raises(ValueError, match="kernel must be"):
        step_kernels("gaussian", 1)
    with pytest.raises(ValueError, match="larger than the 8x8 image"):
        make_plan((8, 8, 3), (2.0, 2.0), np.ones((9, 9)), preset("kernel"))


def test_too_small_images_are_refused_with_the_size_that_works():
    check_size((7, 8, 3), (2.0, 2.0))  # ceil(7 / 2) = 4 pixels: enough
    with pytest.raises(ValueError, match=f"needs >= {MIN_SON_SIDE}.*at least 8x8"):
        check_size((6, 9, 3), (2.0, 2.0))
