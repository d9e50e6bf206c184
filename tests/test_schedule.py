import math

import pytest

from zssr import preset
from zssr.schedule import RatePolicy, cosine, lr_should_drop


def test_cosine_endpoints_and_clipping():
    assert cosine(0, 10, 1e-3, 1e-5) == 1e-3
    assert cosine(10, 10, 1e-3, 1e-5) == pytest.approx(1e-5, rel=1e-12)
    assert cosine(5, 10, 1e-3, 1e-5) == pytest.approx((1e-3 + 1e-5) / 2)
    assert cosine(-3, 10, 1e-3, 1e-5) == cosine(0, 10, 1e-3, 1e-5)
    assert cosine(25, 10, 1e-3, 1e-5) == cosine(10, 10, 1e-3, 1e-5)


@pytest.mark.parametrize("max_iters", [1, 2, 7, 200, 3000])
def test_cosine_is_bit_identical_to_the_engines_former_formula(max_iters):
    lr, min_lr = 1e-3, 1e-5
    for it in range(max_iters):
        former = min_lr + 0.5 * (lr - min_lr) * (
            1.0 + math.cos(math.pi * it / max(max_iters - 1, 1)))
        assert cosine(it, max(max_iters - 1, 1), lr, min_lr) == former


def test_lr_policy_detects_plateau_and_progress():
    iters = [0, 50, 100, 150, 200]
    assert lr_should_drop(iters, [1.0, 0.8, 0.6, 0.4, 0.2], 1.5) is False
    assert lr_should_drop(iters, [0.5, 0.51, 0.49, 0.5, 0.51], 1.5) is True
    assert lr_should_drop(iters, [0.5, 0.6, 0.7, 0.8, 0.9], 1.5) is True  # rising error
    assert lr_should_drop(iters[:2], [0.5, 0.5], 1.5) is False  # too few points


def test_rate_policy_cosine_runs_without_tests():
    policy = RatePolicy(preset("ideal", lr_schedule="cosine", max_iters=5, learning_rate=1e-3,
                               min_learning_rate=1e-5))
    rates = []
    for it in range(5):
        assert policy.start(it) and not policy.wants_test(it) and not policy.update(it)
        rates.append(policy.value)
    assert rates[0] == 1e-3 and rates[-1] == pytest.approx(1e-5)
    assert not policy.finished() and policy.drops == [] and policy.tests == []


def test_rate_policy_drops_on_a_plateau_then_stops():
    cfg = preset("ideal", learning_rate=1e-3, min_learning_rate=1e-4, test_every=2,
                 lr_slope_range=8, lr_check_every=4, min_iters=2)
    policy = RatePolicy(cfg)
    dropped = []
    for it in range(40):
        assert not policy.start(it)
        if policy.wants_test(it):
            policy.record_test(it, 0.5 + 0.01 * ((it // 2) % 3 - 1))  # noise, no fall: a plateau
        if policy.update(it):
            dropped.append(it)
        if policy.finished():
            break
    assert (it + 1) % cfg.lr_check_every == 0 and dropped == policy.drops == [7, 11]
    assert policy.value == pytest.approx(1e-5) and policy.finished()
    assert all(b - a > cfg.min_iters for a, b in zip([0, *dropped], dropped))
    assert all(i % cfg.test_every == 0 for i, _ in policy.tests)
