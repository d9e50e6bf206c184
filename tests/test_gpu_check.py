"""``benchmarks/gpu_check.py``: refuses without a GPU; ``--allow-cpu`` runs its timed path."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _pair(tmp_path):
    import imageio.v3 as iio

    rng = np.random.default_rng(0)
    hr = (rng.random((48, 48, 3)) * 255).astype(np.uint8)
    iio.imwrite(tmp_path / "hr.png", hr)
    iio.imwrite(tmp_path / "lr.png", hr[::2, ::2])
    return ["--image", str(tmp_path / "lr.png"), "--gt", str(tmp_path / "hr.png")]


def _run(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}  # no GPU
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, timeout=300)


def test_without_a_gpu_it_refuses_in_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "results"
    done = _run(*_pair(tmp_path), "--results", str(out))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "sees no GPU" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_allow_cpu_times_each_preset_and_writes_the_table(tmp_path):
    out = tmp_path / "results"
    done = _run(*_pair(tmp_path), "--presets", "warm,ideal", "--set", "max_iters=3",
                "--set", "min_iters=0", "--allow-cpu", "--results", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((out / "gpu_check_x2_cpu.json").read_text())
    assert record["device"] == "CPU"
    assert [r["preset"] for r in record["rows"]] == ["warm", "ideal"]
    assert all(r["seconds"] > 0 and r["iterations"] <= 3 and 5 < r["psnr_y"] < 60
               for r in record["rows"])
    table = (out / "gpu_check_x2_cpu.md").read_text()
    assert "| warm |" in table and "| ideal |" in table and "no GPU used" in table
