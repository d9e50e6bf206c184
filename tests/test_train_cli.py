"""The trainers' command line: flags reach the config, errors name flags, exit codes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zssr.train.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
TINY_WARM = ["--val-count", "1", "--batch-size", "2", "--crop", "24", "--depth", "3",
             "--width", "8", "-q"]
TINY_EDSR = ["--blocks", "1", "--width", "8", "--patch", "12", "--batch-size", "2", "-q"]


def test_every_flag_reaches_the_config_and_the_task(tmp_path):
    from zssr.train import EDSR, TrainConfig, WarmStart
    from zssr.train.cli import fields_from

    args = build_parser().parse_args([
        "edsr", "--hr-dir", "a", "--hr-dir", "b", "--val-dir", "v", "--val-count", "3",
        "--iters", "7", "--time-budget", "9", "--batch-size", "5", "--lr", "0.1",
        "--min-lr", "0.01", "--val-every", "2", "--checkpoint-dir", "ck", "--resume",
        "--output", "o.weights.h5", "--seed", "6", "--ema", "0.9", "-q", "--precision", "auto",
        "--scale", "3", "--blocks", "2", "--width", "4", "--patch", "8", "--schedule", "step",
        "--loss", "l2", "--step-every", "11", "--init-from", "i.h5", "--init-scale", "2"])
    config = TrainConfig(**fields_from(TrainConfig, args))
    assert config == TrainConfig(
        hr_dirs=("a", "b"), val_dirs=("v",), val_count=3, iters=7, time_budget=9.0,
        batch_size=5, lr=0.1, min_lr=0.01, val_every=2, checkpoint_dir="ck", resume=True,
        output="o.weights.h5", seed=6, ema=0.9, quiet=True, precision="auto", init_from="i.h5")
    assert EDSR(**fields_from(EDSR, args)) == EDSR(scale=3, blocks=2, width=4, patch=8,
                                                schedule="step", loss="l2", step_every=11,
                                                init_scale=2)
    args = build_parser().parse_args([
        "warm-start", "--hr-dir", "a", "--checkpoint-dir", "ck", "--scale", "3", "--crop", "32",
        "--kernel-mix", "0.25", "--noise-std", "0.01", "--depth", "4", "--width", "16",
        "--init-from", "warm"])
    assert WarmStart(**fields_from(WarmStart, args)) == WarmStart(
        scale=3.0, crop=32, kernel_mix=0.25, noise_std=0.01, depth=4, width=16)
    config = TrainConfig(**fields_from(TrainConfig, args))
    assert config == WarmStart().config(hr_dirs=["a"], checkpoint_dir="ck", init_from="warm")


def test_errors_name_the_flags(tmp_path, hr_folder, capsys):
    hr = hr_folder(tmp_path / "hr", n=2, step=8)
    base = ["edsr", "--hr-dir", str(hr), "--scale", "2", "--checkpoint-dir",
            str(tmp_path / "ck"), "--iters", "2", *TINY_EDSR]
    assert main(base + ["--resume", "--val-count", "1"]) == 2
    assert "error: --resume is set but there is no checkpoint" in capsys.readouterr().err
    assert main(base + ["--val-count", "2"]) == 2
    assert "error: --val-count 2 leaves no training images" in capsys.readouterr().err
    for bad, words in ((["--ema", "1"], "--ema must be 0 (off) or in (0, 1)"),
                       (["--time-budget", "0"], "--time-budget must be > 0"),
                       (["--output", "w.h5"], "--output must end in .weights.h5")):
        with pytest.raises(SystemExit) as e:
            main(base + bad)
        assert e.value.code == 2 and words in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["warm-start", "--hr-dir", str(hr), "--checkpoint-dir", "x", "--kernel-mix", "2"])
    assert "--kernel-mix must be in [0, 1]" in capsys.readouterr().err


def test_auto_precision_is_resolved_and_recorded(tmp_path, hr_folder, capsys):
    from zssr.network import precision_warning, resolve_precision

    hr = hr_folder(tmp_path / "hr", n=3, step=8)
    for precision in ("auto", "mixed_bfloat16"):
        ck = tmp_path / precision
        assert main(["warm-start", "--hr-dir", str(hr), "--checkpoint-dir", str(ck),
                     "--iters", "1", "--precision", precision, *TINY_WARM]) == 0
        state = json.loads((ck / "state.json").read_text())
        assert state["args"]["precision"] == resolve_precision(precision)
        err = capsys.readouterr().err
        # an emulated bfloat16 asked for by name is warned about, in the flag's words
        assert ("warning: --precision mixed_bfloat16" in err) == bool(
            precision_warning(precision))


def test_ship_and_score_commands(tmp_path, hr_folder, capsys):
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "state.json").write_text(json.dumps({"best_step": 0, "best_score": 30.0, "args": {}}))
    assert main(["ship-edsr", "--checkpoint-dir", str(ck), "--scale", "2", "--set5",
                 str(tmp_path), "--hardware", "test"]) == 2
    assert "no step beat the weights the run started from" in capsys.readouterr().err
    assert main(["ship-warm", "--checkpoint-dir", str(ck), "--hardware", "test"]) == 2
    assert "nothing to ship" in capsys.readouterr().err
    hr = hr_folder(tmp_path / "hr", n=3, step=8)
    assert main(["score", "--hr-dir", str(hr), "--scale", "2", "--val-count", "1",
                 str(tmp_path / "no.h5")], ) == 2
    assert "no weights file" in capsys.readouterr().err


@pytest.mark.parametrize("module, shows", [("zssr.train", "COMMAND"),
                                           ("zssr.pretrain", "--kernel-mix"),
                                           ("zssr.baselines.train", "--patch"),
                                           ("zssr.baselines.ship", "--set5"),
                                           ("zssr.baselines.score", "--val-count")])
def test_the_commands_and_their_former_names_answer_help(module, shows):
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith(f"usage: python -m {module}")
    assert shows in out.stdout


def test_the_former_warm_shipping_command_says_where_it_went():
    out = subprocess.run([sys.executable, "-m", "zssr.warm", "--checkpoint-dir", "x"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 1 and "python -m zssr.train ship-warm" in out.stderr


def test_sigterm_writes_a_checkpoint_and_exits_130(tmp_path, hr_folder):
    hr = hr_folder(tmp_path / "hr", n=3, step=8)
    ck = tmp_path / "ck"
    cmd = [sys.executable, "-m", "zssr.baselines.train", "--hr-dir", str(hr), "--scale", "2",
           *TINY_EDSR, "--val-count", "1", "--val-every", "1", "--iters", "1000000",
           "--checkpoint-dir", str(ck)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
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
