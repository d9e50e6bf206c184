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


def test_the_demo_runs_the_default_preset_and_says_where_its_outputs_are(monkeypatch, capsys,
                                                                          tmp_path):
    import importlib.util
    import json

    pytest.importorskip("skimage")
    spec = importlib.util.spec_from_file_location("demo", ROOT / "examples" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    calls = []

    def fake_main(argv):  # records the command line instead of training
        calls.append(argv)
        out = tmp_path / "demo_output"
        (out / "astronaut_lr_zssr_x2.json").write_text(json.dumps(
            {"metrics": {"psnr_y": 30.0, "ssim_y": 0.9}, "iterations": 200, "seconds": 1.0}))
        return 0

    monkeypatch.setattr(demo, "main", fake_main)
    monkeypatch.setattr(demo, "ROOT", tmp_path)  # write there, not into the checkout
    assert demo.run() == 0
    argv = calls[0]
    assert "--preset" not in argv and "--real" not in argv  # the recommended default
    text = capsys.readouterr().out
    assert "outputs in" in text and "astronaut_lr_zssr_x2.png" in text
    assert "min on" not in text  # no machine timings
