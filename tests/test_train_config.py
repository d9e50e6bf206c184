"""TrainConfig and the task options: defaults from the task, errors that name the field."""

import pytest

from zssr.train import EDSR, TrainConfig, TrainConfigError, WarmStart

BASE = dict(hr_dirs=["hr"], checkpoint_dir="ck")


def test_a_task_fills_in_its_recipe_and_fields_override_it():
    warm = WarmStart().config(**BASE)
    assert (warm.iters, warm.batch_size, warm.lr, warm.min_lr, warm.val_every,
            warm.val_count) == (20000, 8, 1e-3, 1e-5, 500, 8)
    edsr = EDSR(scale=3).config(**BASE, iters=7)
    assert (edsr.iters, edsr.batch_size, edsr.lr, edsr.min_lr, edsr.val_every,
            edsr.val_count) == (7, 16, 2e-4, 1e-6, 1000, 10)
    assert edsr.hr_dirs == ("hr",) and edsr.replace(ema=0.5).ema == 0.5
    with pytest.raises(TypeError):
        TrainConfig(**BASE)  # the recipe has no defaults of its own


@pytest.mark.parametrize("change, field, words", [
    ({"time_budget": 0}, "time_budget", "must be > 0 seconds"),
    ({"ema": 1.0}, "ema", "must be 0 (off) or in (0, 1)"),
    ({"iters": 0}, "iters", "must be >= 1"),
    ({"val_count": -1}, "val_count", "must be >= 0"),
    ({"lr": 0.0}, "lr", "must be a positive number"),
    ({"precision": "float16"}, "precision", "must be one of"),
    ({"output": "w.h5"}, "output", "must end in .weights.h5"),
    ({"hr_dirs": []}, "hr_dirs", "at least one folder"),
])
def test_bad_options_name_their_field(change, field, words):
    with pytest.raises(TrainConfigError) as e:
        WarmStart().config(**{**BASE, **change})
    assert e.value.field == field and words in e.value.problem
    assert str(e.value).startswith(field) and "--" not in str(e.value)


@pytest.mark.parametrize("make, field", [
    (lambda: WarmStart(kernel_mix=1.5), "kernel_mix"),
    (lambda: WarmStart(crop=0), "crop"),
    (lambda: EDSR(scale=5), "scale"),
    (lambda: EDSR(loss="l3"), "loss"),
    (lambda: EDSR(patch=0), "patch"),
])
def test_bad_task_options_name_their_field(make, field):
    with pytest.raises(TrainConfigError) as e:
        make()
    assert e.value.field == field


def test_a_step_schedule_cannot_follow_a_time_budget():
    task = EDSR(schedule="step")
    with pytest.raises(TrainConfigError, match="time_budget") as e:
        task.check(task.config(**BASE, time_budget=10))
    assert e.value.field == "schedule"


def test_learning_rates_are_the_one_cosine_over_steps_or_time_and_the_step_schedule():
    from zssr.schedule import cosine

    task = WarmStart()
    steps = task.config(**BASE, iters=10, lr=1e-3, min_lr=1e-5)
    assert task.learning_rate(steps, 0, 99.0) == 1e-3
    assert task.learning_rate(steps, 4, 0.0) == cosine(4, 10, 1e-3, 1e-5)
    assert task.learning_rate(steps, 10, 0.0) == pytest.approx(1e-5)
    timed = steps.replace(time_budget=100.0)
    assert task.learning_rate(timed, 3, 50.0) == pytest.approx((1e-3 + 1e-5) / 2)
    assert task.learning_rate(timed, 3, 250.0) == pytest.approx(1e-5)  # past the budget
    stepped = EDSR(schedule="step", step_every=3)
    assert [stepped.learning_rate(steps, s, 0.0) for s in (0, 2, 3, 6)] == [
        1e-3, 1e-3, 5e-4, 2.5e-4]
