"""Checkpoints, best weights and the weight average of a run."""

import numpy as np
import pytest

from zssr.network import build_network, compile_network
from zssr.train import checkpoint


def test_checkpoint_round_trip_keeps_model_optimiser_state_and_rng(tmp_path):
    model = compile_network(build_network(3, depth=2, width=4, seed=3), 1e-3)
    x = np.random.default_rng(0).random((1, 8, 8, 3)).astype(np.float32)
    model.train_on_batch(x, x)
    rng = np.random.default_rng(5)
    rng.random(3)
    assert not checkpoint.has_checkpoint(tmp_path)
    state = checkpoint.new_state({"what": "test"})
    checkpoint.save_checkpoint(tmp_path, model, state, rng)
    assert checkpoint.has_checkpoint(tmp_path)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    model2, state2, rng2 = checkpoint.load_checkpoint(tmp_path)
    assert state2["args"] == {"what": "test"} and rng2.random() == rng.random()
    assert int(model2.optimizer.iterations) == 1
    for a, b in zip(model.get_weights(), model2.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        checkpoint.load_checkpoint(tmp_path / "none")


def test_export_best_writes_the_weights_alone_into_a_fresh_model(tmp_path):
    model = build_network(3, depth=2, width=4, seed=1)
    checkpoint.save_weights(model, tmp_path / checkpoint.BEST_FILE)
    out = checkpoint.export_best(tmp_path, tmp_path / "sub" / "x.weights.h5",
                                 lambda: build_network(3, depth=2, width=4))
    fresh = build_network(3, depth=2, width=4)
    fresh.load_weights(str(out))
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in out.parent.iterdir()) == ["x.weights.h5"]


def test_note_resume_records_the_new_schedule():
    state = {"step": 4, "args": {"iters": 4, "ema": 0.0, "time_budget": None}}
    checkpoint.note_resume(state, 6)
    checkpoint.note_resume(state, 8, ema=0.9, time_budget=30.0)
    assert state["resumes"] == [{"step": 4, "iters": 6},
                                {"step": 4, "iters": 8, "ema": 0.9, "time_budget": 30.0}]
    assert state["args"] == {"iters": 8, "ema": 0.9, "time_budget": 30.0}


def test_weight_average_is_an_exponential_moving_average(tmp_path):
    avg = checkpoint.WeightAverage(0.5, [np.zeros(2), np.ones((1, 1))])
    avg.update([np.array([2.0, 4.0]), np.zeros((1, 1))])
    avg.update([np.array([2.0, 0.0]), np.zeros((1, 1))])
    np.testing.assert_allclose(avg.weights[0], [1.5, 1.0])
    np.testing.assert_allclose(avg.weights[1], [[0.25]])
    for bad in (0.0, 1.0, -0.5):
        with pytest.raises(ValueError, match="ema must be in"):
            checkpoint.WeightAverage(bad, [np.zeros(1)])
    model = build_network(3, depth=2, width=4)
    avg = checkpoint.WeightAverage(0.5, model.get_weights())
    avg.weights[0] += 1.0
    avg.save(tmp_path / checkpoint.EMA_FILE)
    kept = checkpoint.WeightAverage.for_run(0.5, tmp_path, model)
    np.testing.assert_array_equal(kept.weights[0], avg.weights[0])
    assert checkpoint.WeightAverage.for_run(0.0, tmp_path, model) is None
    with pytest.raises(ValueError, match="does not match"):
        checkpoint.WeightAverage.for_run(0.5, tmp_path, build_network(3, depth=3, width=4))
