import numpy as np
import pytest

from zssr import ZSSR, pool, preset

TINY = dict(max_iters=4, depth=3, width=8, crop_size=24, test_every=2, lr_slope_range=4,
            back_projection_iters=(1,))


@pytest.fixture
def small(natural_image):
    return natural_image[:20, :26]


def test_a_reused_network_trains_exactly_as_a_new_one(small, tmp_path):
    from zssr.network import build_network

    cfg = preset("ideal", **TINY, seed=5, precision="float32")
    pool.clear_network_pool()
    fresh = ZSSR(cfg).run(small, 2)
    key = pool.pool_key(3, cfg.depth, cfg.width, "float32")
    assert pool.POOL.free(key) == 1  # given back after the run
    # Other runs in between leave the pooled network trained, with Adam moments and a step
    # count, and with other starting weights; the next run must not see any of that.
    ZSSR(cfg.replace(seed=6, learning_rate=3e-3)).run(small, 2)
    path = tmp_path / "start.weights.h5"
    build_network(3, depth=cfg.depth, width=cfg.width, seed=9).save_weights(path)
    ZSSR(cfg.replace(init_weights=str(path))).run(small, 2)
    again = ZSSR(cfg).run(small, 2)
    assert pool.POOL.free(key) == 1  # the same network each time
    np.testing.assert_array_equal(again.image, fresh.image)
    assert again.steps[0].final_loss == fresh.steps[0].final_loss


def test_acquire_resets_and_release_keeps_at_most_per_key():
    spec = dict(depth=2, width=4, init_variance=0.1, seed=3, precision="float32")
    local = pool.NetworkPool(per_key=1)
    key = pool.pool_key(1, 2, 4, "float32")
    a, b = object(), object()
    local.give(key, a)
    local.give(key, a)  # the same network is never kept twice
    local.give(key, b)  # over per_key: dropped
    assert local.free(key) == 1 and local.take(key) is a and local.take(key) is None
    pool.clear_network_pool()
    net = pool.acquire(1, learning_rate=1e-3, **spec)
    start = [w.copy() for w in net.get_weights()]
    net.set_weights([w + 1 for w in start])
    pool.release(net, depth=2, width=4)
    again = pool.acquire(1, learning_rate=2e-3, **spec)
    assert again is net  # reused, and back at the seeded start with a fresh optimiser
    for w, s in zip(again.get_weights(), start):
        np.testing.assert_array_equal(w, s)
    assert float(again.optimizer.learning_rate.numpy()) == pytest.approx(2e-3)
    assert all(not np.any(v.numpy()) for v in again.optimizer.variables
               if v.path.endswith(("momentum", "velocity", "iteration")))
    given = [np.zeros_like(w) for w in start]
    pool.release(again, depth=2, width=4)
    with_weights = pool.acquire(1, learning_rate=1e-3, weights=given, **spec)
    assert all(not np.any(w) for w in with_weights.get_weights())
    pool.release(with_weights, depth=2, width=4)
    pool.clear_network_pool()
    assert pool.POOL.free(key) == 0
