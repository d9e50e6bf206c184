"""Folders, globs, bad inputs, interruption and resume: every failure is clear and loses nothing."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.io import savemat

from zssr import batch
from zssr.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--init-weights", "", "--max-iters", "2", "--depth", "2", "--width", "4",
        "--crop-size", "12", "--test-every", "1", "--lr-slope-range", "2",
        "--back-projection-iters", "1", "-q"]


def _png(path, h=12, w=16, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), (rng.random((h, w, 3)) * 255).astype(np.uint8))
    return path


def _written(folder):
    """The images, sidecars and kernel files under ``folder`` (not a batch's run log)."""
    return sorted(p.name for p in Path(folder).rglob("*") if p.is_file()
                  and p.name != "zssr-run.jsonl") if Path(folder).exists() else []


def test_folder_is_mirrored_and_earlier_outputs_ignored(tmp_path, capsys):
    _png(tmp_path / "in" / "a.png")
    _png(tmp_path / "in" / "sub" / "b.png", seed=1)
    _png(tmp_path / "in" / "a_zssr_x2.png")  # an earlier output next to its input
    assert main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), *TINY[:-1]]) == 0
    assert (tmp_path / "out" / "a_zssr_x2.png").exists()
    assert (tmp_path / "out" / "sub" / "b_zssr_x2.png").exists()
    assert not (tmp_path / "out" / "a_zssr_x2_zssr_x2.png").exists()
    err = capsys.readouterr().err
    assert "ignored 1 earlier zssr output" in err and "2 done, 0 skipped, 0 failed of 2" in err


def test_glob_pattern(tmp_path):
    _png(tmp_path / "x1.png")
    _png(tmp_path / "x2.png", seed=1)
    _png(tmp_path / "y.png", seed=2)
    assert main([str(tmp_path / "x*.png"), "-o", str(tmp_path / "out"), *TINY]) == 0
    assert _written(tmp_path / "out") == ["x1_zssr_x2.json", "x1_zssr_x2.png",
                                          "x2_zssr_x2.json", "x2_zssr_x2.png"]


def test_one_failure_does_not_stop_the_batch(tmp_path, capsys):
    _png(tmp_path / "in" / "a.png")
    (tmp_path / "in" / "b.png").write_text("not an image")
    _png(tmp_path / "in" / "c.png", seed=3)
    assert main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), *TINY[:-1]]) == 1
    assert _written(tmp_path / "out") == ["a_zssr_x2.json", "a_zssr_x2.png",
                                          "c_zssr_x2.json", "c_zssr_x2.png"]
    err = capsys.readouterr().err
    assert "b.png" in err and "1 failed of 3" in err
    log = [json.loads(line) for line in (tmp_path / "out" / "zssr-run.jsonl").read_text()
           .splitlines()]
    assert [(Path(e["input"]).name, e["status"]) for e in log] == \
        [("a.png", "ok"), ("b.png", "failed"), ("c.png", "ok")]
    assert log[1]["error"] and log[1]["sha256"] is None
    assert log[0]["sha256"] == hashlib.sha256((tmp_path / "out" / "a_zssr_x2.png")
                                              .read_bytes()).hexdigest()


def test_inputs_that_would_share_an_output_do_not_overwrite_each_other(tmp_path, capsys):
    first = _png(tmp_path / "a" / "x.png", seed=1)
    _png(tmp_path / "b" / "x.png", seed=2)  # mirrored into the same -o folder as a/x.png
    out = tmp_path / "out"
    args = [str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out), *TINY[:-1]]
    assert main([*args, "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert f"would also be the output of {first}" in err and "1 failed of 2" in err
    sidecar = (out / "x_zssr_x2.json").read_text()
    assert str(first) in sidecar  # the first input's result, not replaced by the second's
    # A resumed batch still reports the clash instead of taking the first output for its own.
    assert main([*args, "--skip-existing"]) == 1
    assert "would also be the output of" in capsys.readouterr().err


def test_a_file_named_twice_runs_once(tmp_path, capsys):
    path = _png(tmp_path / "in" / "a.png")
    # Before: the second mention failed on the first one's output ("exists"), exit 1.
    assert main([str(tmp_path / "in"), str(path), *TINY[:-1]]) == 0
    assert capsys.readouterr().err.count("ok ") == 1
    assert _written(tmp_path / "in") == ["a.png", "a_zssr_x2.json", "a_zssr_x2.png"]


def _text(path, content):
    path.write_text(content)
    return path


def _truncated_png(path):
    _png(path, 40, 40)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _truncated_jpeg(path, cut=200):
    rng = np.random.default_rng(0)
    cv2.imwrite(str(path), (rng.random((64, 64, 3)) * 255).astype(np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[:-cut])
    return path


def _bad_kernel(kind):
    def make(tmp_path):
        k = tmp_path / "k.mat"
        content = {"wrong_key": {"K": np.ones((3, 3))}, "nan": {"Kernel": np.full((3, 3), np.nan)},
                   "zeros": {"Kernel": np.zeros((3, 3))},
                   "3d": {"Kernel": np.ones((3, 3, 3))}}[kind]
        savemat(k, content)
        return ["--kernel", str(k)]
    return make


# name: (setup returning extra CLI args, expected exit code, words the message must contain)
BAD = {
    "missing_path": (lambda t: [str(t / "nope.png")], 2, ["nope.png", "no such file"]),
    "empty_folder": (lambda t: [str((t / "empty").mkdir() or t / "empty")], 2,
                     ["empty", "no images"]),
    "zero_byte": (lambda t: [str((t / "z.png").write_bytes(b"") or t / "z.png")], 1,
                  ["z.png", "empty"]),
    "truncated_png": (lambda t: [str(_truncated_png(t / "t.png") or t / "t.png")], 1,
                      ["t.png", "truncated"]),
    "truncated_jpeg": (lambda t: [str(_truncated_jpeg(t / "t.jpg"))], 1,
                       ["t.jpg", "truncated"]),
    "text_named_png": (lambda t: [str(_text(t / "x.png", "hello"))], 1,
                       ["x.png", "cannot be decoded"]),
    "too_small": (lambda t: [str(_png(t / "s.png", 5, 5))], 1, ["s.png", "too small"]),
    "scale_le_1": (lambda t: [str(_png(t / "a.png")), "--scale", "0.5"], 2, ["scale", "> 1"]),
    "scale_nan": (lambda t: [str(_png(t / "a.png")), "--scale", "nan"], 2, ["scale", "finite"]),
    "scale_malformed": (lambda t: [str(_png(t / "a.png")), "--scale", "2x"], 2,
                        ["scale", "not a number"]),
    "unknown_preset": (lambda t: [str(_png(t / "a.png")), "--preset", "best"], 2,
                       ["preset", "ideal"]),
    "unwritable_output": (lambda t: [str(_png(t / "a.png")), "-o",
                                     str(_text(t / "file", "") / "o")], 2,
                          ["cannot write", "choose another -o"]),
    "kernel_wrong_key": (lambda t: [str(_png(t / "a.png")), *_bad_kernel("wrong_key")(t)], 2,
                         ["k.mat", "Kernel"]),
    "kernel_nan": (lambda t: [str(_png(t / "a.png")), *_bad_kernel("nan")(t)], 2,
                   ["k.mat", "NaN"]),
    "kernel_zeros": (lambda t: [str(_png(t / "a.png")), *_bad_kernel("zeros")(t)], 2,
                     ["k.mat", "positive sum"]),
    "kernel_3d": (lambda t: [str(_png(t / "a.png")), *_bad_kernel("3d")(t)], 2,
                  ["k.mat", "2-D"]),
    "kernel_larger_than_image": (
        lambda t: [str(_png(t / "a.png")), "--kernel",
                   str(np.save(t / "big.npy", np.ones((31, 31))) or t / "big.npy")], 1,
        ["a.png", "larger than"]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_gives_one_clear_line_and_writes_nothing(case, tmp_path, capsys):
    make_args, code, words = BAD[case]
    args = make_args(tmp_path)
    out = tmp_path / "outdir"
    if "-o" not in args:
        args += ["-o", str(out)]
    try:
        result = main([*args, *TINY])
    except SystemExit as exc:  # argparse rejects malformed flags itself, with code 2
        result = exc.code
    err = capsys.readouterr().err
    assert result == code, err
    for word in words:
        assert word in err, (word, err)
    assert "Traceback" not in err
    assert not [p for p in tmp_path.rglob("*_zssr_*")], "nothing may be written"
    assert not [p for p in tmp_path.rglob(".*")]  # no hidden temporary file left behind


def test_max_pixels_refuses_clearly(tmp_path, capsys):
    src = _png(tmp_path / "a.png")
    assert main([str(src), "--max-pixels", "100", "-o", str(tmp_path / "o"), *TINY]) == 1
    assert "--max-pixels" in capsys.readouterr().err
    assert _written(tmp_path / "o") == []


def test_same_seed_gives_bit_identical_output(tmp_path):
    src = _png(tmp_path / "a.png", 16, 16)
    args = ["--init-weights", "", "--max-iters", "6", "--depth", "3", "--width", "8",
            "--crop-size", "12", "-q", "--seed", "11"]
    assert main([str(src), "-o", str(tmp_path / "1"), *args]) == 0
    assert main([str(src), "-o", str(tmp_path / "2"), *args]) == 0
    assert ((tmp_path / "1" / "a_zssr_x2.png").read_bytes()
            == (tmp_path / "2" / "a_zssr_x2.png").read_bytes())


def test_a_swallowed_interrupt_still_stops_the_batch(tmp_path, monkeypatch):
    from zssr import ZSSR
    from zssr.batch import SIGNALS

    real_run = ZSSR.run

    def run(self, image, scale, kernel=None, progress=None):
        try:  # SIGTERM lands inside a library that catches every exception
            SIGNALS.handler(signal.SIGTERM, None)
        except KeyboardInterrupt:
            pass
        return real_run(self, image, scale, kernel, progress=progress)

    monkeypatch.setattr(ZSSR, "run", run)
    for i in range(2):
        _png(tmp_path / "in" / f"im{i}.png", seed=i)
    assert main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), *TINY]) == 130
    assert _written(tmp_path / "out") == []
    # The flag does not outlive the batch: the next one runs.
    monkeypatch.setattr(ZSSR, "run", real_run)
    assert main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), *TINY]) == 0


def test_a_signal_waits_for_the_next_progress_event_and_a_second_one_stops_at_once(
        tmp_path, monkeypatch):
    from zssr import ZSSR
    from zssr.batch import SIGNALS

    real_run = ZSSR.run
    seen = {"ran_on": 0, "second_raised": False}

    def run(self, image, scale, kernel=None, progress=None):
        SIGNALS.handler(signal.SIGTERM, None)  # first: recorded, not raised here
        seen["ran_on"] += 1
        try:
            SIGNALS.handler(signal.SIGTERM, None)
        except KeyboardInterrupt:
            seen["second_raised"] = True
        return real_run(self, image, scale, kernel, progress=progress)

    monkeypatch.setattr(ZSSR, "run", run)
    _png(tmp_path / "in" / "im0.png", seed=0)
    assert main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), *TINY]) == 130
    assert seen == {"ran_on": 1, "second_raised": True}
    assert _written(tmp_path / "out") == []
    assert signal.getsignal(signal.SIGINT) != SIGNALS.handler  # handlers restored


def test_interrupted_batch_leaves_no_partial_file_and_resumes(tmp_path):
    for i in range(3):
        _png(tmp_path / "in" / f"im{i}.png", 16, 16, seed=i)
    out = tmp_path / "out"
    # Long enough per image that the second is still training when the signal lands, even if
    # this process is slow to notice the first image's sidecar on a busy machine.
    slow = ["--init-weights", "", "--max-iters", "2000", "--min-learning-rate", "1e-30",
            "--depth", "2", "--width", "4",
            "--crop-size", "12", "-q"]
    cmd = [sys.executable, str(ROOT / "run_zssr.py"), str(tmp_path / "in"), "-o", str(out), *slow]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 240
    while not (out / "im0_zssr_x2.json").exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "first image never finished"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # the second image is training now
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    names = _written(out)
    assert not [n for n in names if n.startswith(".")], names  # no temporary file left
    assert "im0_zssr_x2.png" in names and "im2_zssr_x2.png" not in names
    first = (out / "im0_zssr_x2.png").stat().st_mtime_ns
    assert cv2.imread(str(out / "im0_zssr_x2.png")).shape == (32, 32, 3)  # complete, readable
    assert main([str(tmp_path / "in"), "-o", str(out), "--skip-existing",
                 "--init-weights", "", "--max-iters", "3", "--depth", "2", "--width", "4",
                 "--crop-size", "12",
                 "-q"]) == 0
    assert sorted(n for n in _written(out) if n.endswith(".png")) == [
        "im0_zssr_x2.png", "im1_zssr_x2.png", "im2_zssr_x2.png"]
    assert (out / "im0_zssr_x2.png").stat().st_mtime_ns == first


def test_max_pixels_is_checked_from_the_header_before_decoding(tmp_path, capsys, monkeypatch,
                                                               png_header_only):
    import zssr.io

    def no_decoding(path):
        raise AssertionError(f"{path} was decoded")

    monkeypatch.setattr(zssr.io, "read_image", no_decoding)
    huge = png_header_only(tmp_path / "huge.png", 100000, 100000)
    big = _png(tmp_path / "big.png", h=300, w=400)
    for src, size in ((huge, "100000x100000"), (big, "400x300")):
        assert main([str(src), "--max-pixels", "1000", "-o", str(tmp_path / "o"), *TINY]) == 1
        err = capsys.readouterr().err
        assert size in err and "--max-pixels" in err and "1,000" in err, err
        assert "was decoded" not in err and "OpenCV" not in err and "Assertion" not in err
    assert _written(tmp_path / "o") == []


def _jobs(*paths):
    return [batch.Job(Path(p), Path(Path(p).name)) for p in paths]


def test_preflight_refuses_a_missing_ground_truth_before_any_training(tmp_path):
    src = _png(tmp_path / "a.png")
    with pytest.raises(batch.UsageError, match="gt=.*nope.png: no such file"):
        batch.preflight(_jobs(src), out_dir=None, gt=str(tmp_path / "nope.png"))
    batch.preflight(_jobs(src), out_dir=None, gt=str(src))  # an existing file passes


def test_preflight_refuses_an_output_folder_that_cannot_be_written(tmp_path):
    src = _png(tmp_path / "a.png")
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the folder should be: fails even for root
    with pytest.raises(batch.UsageError, match="cannot write .*output_dir"):
        batch.preflight(_jobs(src), out_dir=blocker / "o", gt=None)
    batch.preflight(_jobs(src), out_dir=tmp_path / "o", gt=None)
    assert (tmp_path / "o").is_dir()


def test_preflight_without_output_dir_checks_the_inputs_folders(tmp_path, monkeypatch):
    src = _png(tmp_path / "in" / "a.png")
    batch.preflight(_jobs(src), out_dir=None, gt=None)
    # root may write anywhere, so the permission bits cannot show a refusal when the tests run
    # as root: there the file system's answer (os.access) is replaced
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False
                        if Path(path) == src.parent else real_access(path, mode, **kw))
    with pytest.raises(batch.UsageError, match=r"cannot write .*in\b.*output_dir") as exc:
        batch.preflight(_jobs(src), out_dir=None, gt=None)
    assert "\n" not in str(exc.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders; the test above covers it")
def test_preflight_refuses_a_read_only_input_folder(tmp_path):
    src = _png(tmp_path / "in" / "a.png")
    src.parent.chmod(0o555)
    try:
        with pytest.raises(batch.UsageError, match="cannot write"):
            batch.preflight(_jobs(src), out_dir=None, gt=None)
    finally:
        src.parent.chmod(0o755)


@pytest.mark.parametrize("spec,suggestion", [("estimate", "estimated"), ("Estimated", "estimated"),
                                             ("bicubc", "bicubic"), ("bicubic.", "bicubic")])
def test_a_kernel_word_that_is_almost_a_keyword_gets_a_suggestion(spec, suggestion, tmp_path,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(batch.UsageError, match=f"did you mean '{suggestion}'") as exc:
        batch.load_kernel_spec(spec)
    assert f"kernel={spec}" in str(exc.value) and "\n" not in str(exc.value)


def test_a_missing_kernel_file_is_still_reported_as_a_missing_file(tmp_path):
    with pytest.raises(batch.UsageError, match="k.mat") as exc:
        batch.load_kernel_spec(str(tmp_path / "k.mat"))
    assert "did you mean" not in str(exc.value)


@pytest.mark.parametrize("dataset", ["set5", "set14"])
def test_clean_test_set_inputs_run_the_plain_recipe(dataset):
    """The MATLAB-bicubic LR inputs of Set5 and Set14 (x2) are PNGs without noise: the default
    run on each is the plain one, so its output is the one zssr gave before it modelled JPEG
    and noise."""
    from zssr.batch import resolve_degradation
    from zssr.config import preset
    from zssr.io import read_image

    from .conftest import shared_data_or_skip

    folder = shared_data_or_skip(dataset, "LR_bicubic", "X2")
    asked = {"jpeg_quality": "auto", "noise_std": "auto", "keep": ()}
    files = sorted(folder.glob("*.png"))
    assert files
    for path in files:
        config, record = resolve_degradation(path, read_image(path).pixels, preset("warm"), asked)
        assert config == preset("warm") and record["changed"] == [], path.name


def test_resolve_degradation_models_what_the_file_and_pixels_show(tmp_path):
    from PIL import Image
    from skimage import data

    from zssr.batch import resolve_degradation
    from zssr.config import DEGRADED, preset
    from zssr.io import read_image

    coffee = data.coffee()
    noisy = np.clip(np.rint(coffee + np.random.default_rng(0).normal(0, 6, coffee.shape)), 0, 255)
    Image.fromarray(noisy.astype(np.uint8)).save(tmp_path / "noisy.png")
    auto = {"jpeg_quality": "auto", "noise_std": "auto", "keep": ()}
    path = tmp_path / "noisy.png"
    config, record = resolve_degradation(path, read_image(path).pixels, preset("warm"), auto)
    assert config.noise_std == pytest.approx(6 / 255, rel=0.2) and record["jpeg"] is None
    assert record["noise_std_measured"] == config.noise_std and config.jpeg_quality == 0
    assert config.init_weights == "warm-real"
    assert config.back_projection_iters == DEGRADED["back_projection_iters"]
    assert {"noise_std", "init_weights", "back_projection_iters"} <= set(record["changed"])

    Image.fromarray(coffee).save(tmp_path / "wide.jpg", quality=80, subsampling=1)  # 4:2:2
    path = tmp_path / "wide.jpg"
    pixels = read_image(path).pixels
    config, record = resolve_degradation(path, pixels, preset("warm"), auto)
    assert (config.jpeg_quality, config.jpeg_subsampling) == (80, "4:2:2")
    assert record["jpeg"]["quality"] == 80 and record["jpeg_subsampling"] == "4:2:2"
    # turned a quarter by EXIF: the halved chroma axis is vertical now, which 4:2:0 covers
    config, _ = resolve_degradation(path, pixels, preset("warm"), auto, orientation=6)
    assert config.jpeg_subsampling == "4:2:0"
    # a quality given by hand still copies the file's subsampling; a subsampling given is kept
    forced = {"jpeg_quality": 60, "noise_std": 0.0, "keep": ()}
    config, _ = resolve_degradation(path, pixels, preset("warm"), forced)
    assert (config.jpeg_quality, config.jpeg_subsampling, config.noise_std) == (60, "4:2:2", 0)
    kept = {**forced, "keep": ("jpeg_subsampling",)}
    config, _ = resolve_degradation(path, pixels, preset("warm", jpeg_subsampling="4:4:4"), kept)
    assert config.jpeg_subsampling == "4:4:4"
    assert resolve_degradation(path, pixels, preset("warm"), None) == (preset("warm"), None)


def test_a_shipped_start_is_checked_against_its_manifest_without_keras():
    code = ("import sys\n"
            "from zssr import preset\n"
            "from zssr.batch import UsageError, check_weights_fit\n"
            "check_weights_fit(preset('warm'), load=False)\n"
            "try:\n"
            "    check_weights_fit(preset('warm', depth=10), load=False)\n"
            "except UsageError as exc:\n"
            "    print(exc)\n"
            "print('keras' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    lines = done.stdout.splitlines()
    assert lines[-1] == "False", done.stdout + done.stderr[-2000:]
    assert "depth-8, width-64 network, not depth 10" in lines[0]
