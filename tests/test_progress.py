import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from zssr.progress import ProgressBars

ROOT = Path(__file__).resolve().parents[1]


def _events(bars, phase, total, step=0, n_steps=1):
    for i in range(1, total + 1):
        bars(SimpleNamespace(phase=phase, step=step, n_steps=n_steps, iteration=i, total=total,
                             loss=0.5, learning_rate=1e-3, g_loss=0.1, d_loss=0.2))


def test_without_a_terminal_each_phase_is_one_line(monkeypatch):
    # Piped into a log, a bar used to write every update: kilobytes per image.
    stream = io.StringIO()  # not a TTY
    monkeypatch.setattr(sys, "stderr", stream)
    bars = ProgressBars("pic.png", False)
    _events(bars, "train", 200, step=0, n_steps=2)
    _events(bars, "predict", 8, step=0, n_steps=2)
    _events(bars, "train", 200, step=1, n_steps=2)
    _events(bars, "predict", 8, step=1, n_steps=2)
    bars.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4, lines
    assert "pic.png step 1/2 train" in lines[0] and "200/200" in lines[0]
    assert "\r" not in stream.getvalue() and len(stream.getvalue()) < 500


def test_quiet_bars_print_nothing(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    bars = ProgressBars("pic.png", True)
    _events(bars, "train", 5)
    bars.close()
    assert stream.getvalue() == ""


def test_a_backend_that_cannot_be_imported_is_one_clear_error(tmp_path):
    code = ("from zssr.progress import BackendUnavailable, import_backend\n"
            "try:\n    import_backend()\n"
            "except BackendUnavailable as exc:\n    print(exc)\n")
    hidden = tmp_path / "jax"  # where jax is installed, a stand-in that fails hides it
    hidden.mkdir()
    (hidden / "__init__.py").write_text('raise ImportError("No module named \'jax\'")\n')
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "KERAS_BACKEND=jax" in done.stdout and "pip install jax" in done.stdout
    assert len(done.stdout.strip().splitlines()) == 1


def test_backend_unavailable_is_an_import_error():
    from zssr.progress import BackendUnavailable, import_backend

    assert issubclass(BackendUnavailable, ImportError) and callable(import_backend)


def test_check_backend_finds_a_missing_or_unknown_backend_without_importing(monkeypatch):
    import importlib.util

    from zssr.progress import BackendUnavailable, check_backend

    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    check_backend()  # installed here
    monkeypatch.setenv("KERAS_BACKEND", "tensorflowz")
    with pytest.raises(BackendUnavailable, match="KERAS_BACKEND=tensorflowz: not a Keras backend"):
        check_backend()
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(BackendUnavailable, match=r"KERAS_BACKEND=torch: .*pip install torch"):
        check_backend()
