"""The package's front door: ``import zssr`` and the first use of its Keras-backed names say
nothing on stderr (TensorFlow's C++ start-up lines stay off a library user's terminal)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(code, **env):
    environ = {k: v for k, v in os.environ.items() if k != "ZSSR_DEBUG"}
    environ.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environ, timeout=300, cwd=ROOT)


@pytest.mark.parametrize("code", ["import zssr; zssr.ZSSR; zssr.estimate_kernel",
                                  "from zssr import upscale"])
def test_first_use_of_the_keras_backed_names_prints_nothing_on_stderr(code):
    done = _run(code + "; print('ok')")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n" and done.stderr == ""


def test_errors_still_reach_the_caller():
    done = _run("import zssr\ntry:\n    zssr.nothing\nexcept AttributeError as e:\n"
                "    print(e)")
    assert "no attribute 'nothing'" in done.stdout and done.stderr == ""
