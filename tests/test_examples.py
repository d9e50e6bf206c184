"""The scripts in examples/ run as their docstrings say: from any folder, with the set-up venv.

Running them to the end means training ZSSR (minutes), so these tests pin what broke before:
``import zssr`` from outside the checkout (the package must be installed into the venv, as
``make`` does) and a usage message, not a traceback, when arguments are missing.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_zssr_imports_from_another_folder_as_this_checkout(tmp_path):
    code = "import zssr, pathlib; print(pathlib.Path(zssr.__file__).resolve().parent)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, (
        f"`import zssr` fails outside the checkout ({done.stderr.strip().splitlines()[-1:]}); "
        "set up with `make test` or install it with `pip install -e .`")
    assert Path(done.stdout.strip()) == ROOT / "zssr", "zssr is imported from another copy"


@pytest.mark.parametrize("script, usage", [("upscale_array.py", "IMAGE"),
                                           ("compare_baselines.py", "DATASET_DIR SCALE")])
def test_example_without_arguments_prints_usage(tmp_path, script, usage):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert f"usage: {ROOT / 'examples' / script} {usage}" in done.stderr
