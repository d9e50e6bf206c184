"""The shared training loop: checkpoints, best weights, interruption and resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from zssr import training
from zssr.network import build_network, compile_network


def _setup(tmp_path):
    model = compile_network(build_network(3, depth=2, width=4), 1e-3)
    rng = np.random.default_rng(0)

    def batch():
        x = rng.random((1, 8, 8, 3)).astype(np.float32)
        return x, x
    return model, rng, batch


def test_interrupt_keeps_the_last_finished_step_and_resume_continues(tmp_path):
    model, rng, batch = _setup(tmp_path)
    calls = {"n": 0}

    def interrupted_batch():
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return batch()

    state = training.new_state({"what": "test"})
    try:
        training.fit(model, state, rng, next_batch=interrupted_batch, validate=None, iters=10,
                     val_every=100, folder=tmp_path, quiet=True)
        raise AssertionError("the interrupt did not propagate")
    except KeyboardInterrupt:
        pass
    model2, state2, rng2 = training.load_checkpoint(tmp_path)
    assert state2["step"] == 3 and state2["history"][-1] == {"step": 3, "interrupted": True}
    assert rng2.bit_generator.state == rng.bit_generator.state
    for a, b in zip(model.get_weights(), model2.get_weights()):
        np.testing.assert_array_equal(a, b)
    state2 = training.fit(model2, state2, rng2, next_batch=batch, validate=lambda m: 1.0,
                          iters=5, val_every=5, folder=tmp_path, quiet=True)
    assert state2["step"] == 5 and state2["best_step"] == 5
    assert (tmp_path / "best.weights.h5").exists()


def test_a_signal_during_fit_stops_at_the_next_step_boundary_and_a_second_stops_at_once(
        tmp_path):
    model, rng, batch = _setup(tmp_path)
    calls = {"n": 0, "after_signal": 0}

    def signalling_batch():
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)
            calls["after_signal"] += 1  # the handler did not raise here: the step goes on
        return batch()

    def train(_args):
        state = training.new_state({"what": "test"})
        training.fit(model, state, rng, next_batch=signalling_batch, validate=None, iters=10,
                     val_every=100, folder=tmp_path, quiet=True)

    assert training.run_main(train, None) == 130
    assert calls == {"n": 3, "after_signal": 1}
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["step"] == 3 and state["history"][-1] == {"step": 3, "interrupted": True}
    assert signal.getsignal(signal.SIGTERM) != training._STOP.handler  # handler restored

    calls.update(n=0, after_signal=0)

    def twice(_args):
        def batch_signalling_twice():
            calls["n"] += 1
            if calls["n"] == 2:
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGTERM)
                calls["after_signal"] += 1
            return batch()
        training.fit(model, training.new_state({}), rng, next_batch=batch_signalling_twice,
                     validate=None, iters=10, val_every=100, folder=tmp_path / "b", quiet=True)

    assert training.run_main(twice, None) == 130
    assert calls == {"n": 2, "after_signal": 0}  # the second signal raised inside the step


def test_sigterm_writes_a_checkpoint_and_exits_130(tmp_path, natural_image):
    import imageio.v3 as iio

    hr = tmp_path / "hr"
    hr.mkdir()
    for i in range(3):
        iio.imwrite(hr / f"{i}.png", (natural_image[:, i * 8:i * 8 + 60] * 255).astype(np.uint8))
    ck = tmp_path / "ck"
    cmd = [sys.executable, "-m", "zssr.baselines.train", "--hr-dir", str(hr), "--scale", "2",
           "--blocks", "1", "--width", "8", "--patch", "12", "--batch-size", "2", "-q",
           "--val-count", "1", "--val-every", "1", "--iters", "1000000",
           "--checkpoint-dir", str(ck)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    log = ck / "log.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not (
            log.exists() and log.read_text().count("\n") >= 2):  # two steps done
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    assert "continue with --resume" in err
    state = json.loads((ck / "state.json").read_text())
    assert state["step"] >= 2 and state["history"][-1]["interrupted"] is True


def test_run_main_resolves_auto_precision_and_warns_of_emulated_bfloat16(monkeypatch, capsys):
    from types import SimpleNamespace

    from zssr import network

    seen = []
    monkeypatch.setattr(network, "_bfloat16_is_native", lambda: False)
    for asked in ("auto", "mixed_bfloat16", "float32"):
        assert training.run_main(lambda a: seen.append(a.precision),
                                 SimpleNamespace(precision=asked)) == 0
    # auto -> float32 here; an explicit choice is kept, but the emulated one is warned about
    assert seen == ["float32", "mixed_bfloat16", "float32"]
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "mixed_bfloat16" in err and "emulated" in err
    monkeypatch.setattr(network, "_bfloat16_is_native", lambda: True)
    assert training.run_main(lambda a: seen.append(a.precision),
                             SimpleNamespace(precision="auto")) == 0
    assert seen[-1] == "mixed_bfloat16" and "warning" not in capsys.readouterr().err


def test_weight_average_is_an_exponential_moving_average(tmp_path):
    avg = training.WeightAverage(0.5, [np.zeros(2), np.ones((1, 1))])
    avg.update([np.array([2.0, 4.0]), np.zeros((1, 1))])
    avg.update([np.array([2.0, 0.0]), np.zeros((1, 1))])
    np.testing.assert_allclose(avg.weights[0], [1.5, 1.0])
    np.testing.assert_allclose(avg.weights[1], [[0.25]])
    for bad in (0.0, 1.0, -0.5):
        try:
            training.WeightAverage(bad, [np.zeros(1)])
            raise AssertionError(f"decay {bad} was accepted")
        except ValueError as e:
            assert "--ema" in str(e)


def test_fit_with_ema_scores_and_keeps_the_average_trains_on_and_resumes_it(tmp_path):
    model, rng, batch = _setup(tmp_path)
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
    state = training.fit(model, training.new_state({}), rng, next_batch=batch,
                         validate=validate, iters=4, val_every=2, folder=tmp_path, quiet=True,
                         ema=decay)
    assert state["step"] == 4 and state["best_step"] == 2 and len(seen["validated"]) == 2
    # validation saw the average, not the raw weights, and training went on from the raw ones
    for got, want in zip(seen["validated"], seen["expected"]):
        for v, e in zip(got, want):
            np.testing.assert_allclose(v, e, rtol=1e-5, atol=1e-7)
    assert not all(np.allclose(v, r) for v, r in zip(seen["validated"][-1], seen["raw"]))
    for w, r in zip(model.get_weights(), seen["raw"]):
        np.testing.assert_array_equal(w, r)
    model2, _, _ = training.load_checkpoint(tmp_path)
    for w, r in zip(model2.get_weights(), seen["raw"]):  # last.keras: the raw weights
        np.testing.assert_array_equal(w, r)
    best = compile_network(build_network(3, depth=2, width=4), 1e-3)
    best.load_weights(str(tmp_path / "best.weights.h5"))  # best: the average at step 2
    for b, v in zip(best.get_weights(), seen["validated"][0]):
        np.testing.assert_array_equal(b, v)
    # a resumed run continues the saved average instead of restarting it from the weights
    saved = training.WeightAverage.for_run(decay, tmp_path, model2)
    for s, e in zip(saved.weights, seen["expected"][-1]):
        np.testing.assert_allclose(s, e, rtol=1e-5, atol=1e-7)
    assert training.WeightAverage.for_run(0.0, tmp_path, model2) is None


def test_an_interrupt_while_the_average_is_scored_checkpoints_the_raw_weights(tmp_path):
    model, rng, batch = _setup(tmp_path)

    def interrupted_validation(m):
        raise KeyboardInterrupt  # e.g. a second Ctrl-C, which is not deferred

    with pytest.raises(KeyboardInterrupt):
        training.fit(model, training.new_state({}), rng, next_batch=batch,
                     validate=interrupted_validation, iters=4, val_every=2, folder=tmp_path,
                     quiet=True, ema=0.5)
    average = np.load(tmp_path / "ema.npz")
    saved, _, _ = training.load_checkpoint(tmp_path)
    for w, s in zip(model.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(s, w)
    assert not all(np.allclose(w, average[f"arr_{i}"]) for i, w in enumerate(saved.get_weights()))
