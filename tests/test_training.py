"""The shared training loop: checkpoints, best weights, interruption and resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

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
