"""The training loop: checkpoints, best weights, interruption, resume, EMA, time budget."""

import itertools
import json
import os
import signal

import numpy as np
import pytest

from zssr.network import build_network, compile_network
from zssr.train import checkpoint, runner
from zssr.train.runner import fit


def _setup():
    model = compile_network(build_network(3, depth=2, width=4), 1e-3)
    rng = np.random.default_rng(0)

    def batch():
        x = rng.random((1, 8, 8, 3)).astype(np.float32)
        return x, x
    return model, rng, batch


def _fit(model, state, rng, folder, **kw):
    return fit(model, state, rng, folder=folder, quiet=True, **kw)


def test_interrupt_keeps_the_last_finished_step_and_resume_continues(tmp_path):
    model, rng, batch = _setup()
    calls = {"n": 0}

    def interrupted_batch():
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return batch()

    with pytest.raises(KeyboardInterrupt):
        _fit(model, checkpoint.new_state({}), rng, tmp_path, next_batch=interrupted_batch,
             validate=None, iters=10, val_every=100)
    model2, state2, rng2 = checkpoint.load_checkpoint(tmp_path)
    assert state2["step"] == 3 and state2["history"][-1] == {"step": 3, "interrupted": True}
    assert rng2.bit_generator.state == rng.bit_generator.state
    for a, b in zip(model.get_weights(), model2.get_weights()):
        np.testing.assert_array_equal(a, b)
    state2 = _fit(model2, state2, rng2, tmp_path, next_batch=batch, validate=lambda m: 1.0,
                  iters=5, val_every=5)
    assert state2["step"] == 5 and state2["best_step"] == 5
    assert (tmp_path / "best.weights.h5").exists()
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in logged] == [5]


def test_a_signal_stops_at_the_next_step_boundary_and_a_second_stops_at_once(tmp_path):
    model, rng, batch = _setup()
    calls = {"n": 0, "after_signal": 0}

    def signalling_batch(times):
        def next_batch():
            calls["n"] += 1
            if calls["n"] == 3:
                for _ in range(times):
                    os.kill(os.getpid(), signal.SIGTERM)
                calls["after_signal"] += 1  # reached only if the handler did not raise
            return batch()
        return next_batch

    previous = signal.getsignal(signal.SIGTERM)
    restore = runner.STOP.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            _fit(model, checkpoint.new_state({}), rng, tmp_path, validate=None, iters=10,
                 val_every=100, next_batch=signalling_batch(1))
    finally:
        restore()
    assert calls == {"n": 3, "after_signal": 1}  # the step that got the signal went on
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["step"] == 3 and state["history"][-1] == {"step": 3, "interrupted": True}
    assert signal.getsignal(signal.SIGTERM) == previous  # handler restored

    calls.update(n=0, after_signal=0)
    restore = runner.STOP.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            _fit(model, checkpoint.new_state({}), rng, tmp_path / "b", validate=None, iters=10,
                 val_every=100, next_batch=signalling_batch(2))
    finally:
        restore()
    assert calls == {"n": 3, "after_signal": 0}  # the second signal raised inside the step


def test_ema_is_scored_and_kept_while_training_goes_on_from_the_raw_weights(tmp_path):
    model, rng, batch = _setup()
    decay = 0.5
    seen = {"avg": [w.copy() for w in model.get_weights()], "validated": [], "expected": []}
    train_on_batch = model.train_on_batch

    def tracking_train_on_batch(x, y):  # the average we expect, step by step
        loss = train_on_batch(x, y)
        seen["raw"] = [w.copy() for w in model.get_weights()]
        seen["avg"] = [decay * a + (1 - decay) * w for a, w in zip(seen["avg"], seen["raw"])]
        return loss

    def validate(m):
        seen["validated"].append([w.copy() for w in m.get_weights()])
        seen["expected"].append(seen["avg"])
        return -float(len(seen["validated"]))  # the first validation stays the best

    model.train_on_batch = tracking_train_on_batch
    state = _fit(model, checkpoint.new_state({}), rng, tmp_path, next_batch=batch,
                 validate=validate, iters=4, val_every=2, ema=decay)
    assert state["step"] == 4 and state["best_step"] == 2 and len(seen["validated"]) == 2
    for got, want in zip(seen["validated"], seen["expected"]):
        for v, e in zip(got, want):
            np.testing.assert_allclose(v, e, rtol=1e-5, atol=1e-7)
    assert not all(np.allclose(v, r) for v, r in zip(seen["validated"][-1], seen["raw"]))
    for w, r in zip(model.get_weights(), seen["raw"]):
        np.testing.assert_array_equal(w, r)
    model2, _, _ = checkpoint.load_checkpoint(tmp_path)
    for w, r in zip(model2.get_weights(), seen["raw"]):  # last.keras: the raw weights
        np.testing.assert_array_equal(w, r)
    best = build_network(3, depth=2, width=4)
    best.load_weights(str(tmp_path / "best.weights.h5"))  # best: the average at step 2
    for b, v in zip(best.get_weights(), seen["validated"][0]):
        np.testing.assert_array_equal(b, v)
    saved = checkpoint.WeightAverage.for_run(decay, tmp_path, model2)  # resume: same average
    for s, e in zip(saved.weights, seen["expected"][-1]):
        np.testing.assert_allclose(s, e, rtol=1e-5, atol=1e-7)


def test_an_interrupt_while_the_average_is_scored_checkpoints_the_raw_weights(tmp_path):
    model, rng, batch = _setup()

    def interrupted_validation(m):
        raise KeyboardInterrupt  # e.g. a second Ctrl-C, which is not deferred

    with pytest.raises(KeyboardInterrupt):
        _fit(model, checkpoint.new_state({}), rng, tmp_path, next_batch=batch,
             validate=interrupted_validation, iters=4, val_every=2, ema=0.5)
    average = np.load(tmp_path / "ema.npz")
    saved, _, _ = checkpoint.load_checkpoint(tmp_path)
    for w, s in zip(model.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(s, w)
    assert not all(np.allclose(w, average[f"arr_{i}"]) for i, w in enumerate(saved.get_weights()))


def test_time_budget_ends_the_run_and_the_rate_follows_the_time(tmp_path):
    from zssr.schedule import cosine

    model, rng, batch = _setup()
    ticks = itertools.count()  # a clock that moves 1 s each time it is read
    seen = []

    def rate(step, seconds):
        seen.append((step, seconds))
        return cosine(seconds, 40.0, 1e-3, 1e-5)

    kw = dict(next_batch=batch, validate=lambda m: 1.0, iters=1000, val_every=3, rate=rate,
              clock=lambda: float(next(ticks)))
    state = _fit(model, checkpoint.new_state({}), rng, tmp_path, time_budget=40.0, **kw)
    assert 3 < state["step"] < 1000 and state["seconds"] >= 40  # stopped by the time
    assert state["history"][-1]["step"] == state["step"]  # the last step is validated
    assert [s for s, _ in seen] == list(range(state["step"]))
    rates = [h["learning_rate"] for h in state["history"]]
    assert rates == sorted(rates, reverse=True) and rates[0] < 1e-3 and rates[-1] < 1e-4
    done = state["step"]
    state = _fit(model, state, rng, tmp_path, time_budget=40.0, **kw)  # already spent
    assert state["step"] == done
    state = _fit(model, state, rng, tmp_path, time_budget=60.0, **kw)  # more time: goes on
    assert state["step"] > done and state["seconds"] >= 60


def test_score_start_logs_the_starting_weights_as_step_0(tmp_path):
    model, rng, batch = _setup()
    scores = iter([5.0, 4.0, 3.0])
    state = _fit(model, checkpoint.new_state({}), rng, tmp_path, next_batch=batch,
                 validate=lambda m: next(scores), iters=2, val_every=1, score_start=True)
    assert [h["step"] for h in state["history"]] == [0, 1, 2]
    assert state["history"][0]["start"] is True
    assert state["best_step"] == 0 and state["best_score"] == 5.0  # never worse than its start
