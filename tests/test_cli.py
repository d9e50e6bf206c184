import dataclasses
import json

import imageio.v3 as iio
import numpy as np
import pytest

from zssr import ZSSRConfig, preset
from zssr.cli import AUTO_FIELDS, build_parser, config_from_args, main

# A tiny network cannot start from the shipped weights of the default preset (warm): random.
TINY = ["--max-iters", "3", "--depth", "3", "--width", "8", "--crop-size", "16",
        "--test-every", "1", "--lr-slope-range", "2", "--back-projection-iters", "1",
        "--init-weights", "", "-q"]


@pytest.fixture
def image_file(tmp_path, natural_image):
    path = tmp_path / "pic.png"
    iio.imwrite(path, (natural_image[:16, :20] * 255).round().astype(np.uint8))
    return path


def _value_for(field):
    default = getattr(ZSSRConfig(), field.name)
    if isinstance(default, bool):
        return ([f"--no-{field.name.replace('_', '-')}"] if default
                else [f"--{field.name.replace('_', '-')}"]), not default
    if isinstance(default, tuple):
        new = (3, 4) if field.name == "back_projection_iters" else (2.0, 4.0)
        return [f"--{field.name.replace('_', '-')}", ",".join(map(str, new))], new
    if isinstance(default, str):
        new = {"lr_schedule": "cosine", "precision": "mixed_bfloat16", "loss_weights": "gradient",
               "crop_geometry": "inside" if default == "official" else "official",
               "jpeg_subsampling": "4:4:4"}.get(field.name, "net.weights.h5")
        return [f"--{field.name.replace('_', '-')}", new], new
    new = {"min_scale": 0.25, "leave_as_is_probability": 0.1,
           "no_interpolate_probability": 0.2, "lr_slope_range": 300,
           "depth": 5, "gradual_step": 0.25, "noise_std": 0.02}.get(field.name, default * 2 + 1)
    return [f"--{field.name.replace('_', '-')}", str(new)], type(default)(new)


@pytest.mark.parametrize("field", dataclasses.fields(ZSSRConfig), ids=lambda f: f.name)
def test_every_config_field_is_a_flag_that_reaches_the_config(field):
    flag, expected = _value_for(field)
    args = build_parser().parse_args(["x.png", "--preset", "ideal", *flag])
    resolved = config_from_args(args)
    if field.name in AUTO_FIELDS:  # resolved per input, from what was asked
        assert resolved.degradation[field.name] == expected
        assert getattr(resolved.config, field.name) == getattr(preset("ideal"), field.name)
    else:
        assert getattr(resolved.config, field.name) == expected


def test_jpeg_quality_and_noise_std_default_to_auto_and_take_numbers_or_off():
    assert _resolve().degradation == {"jpeg_quality": "auto", "noise_std": "auto", "keep": ()}
    resolved = _resolve("--jpeg-quality", "off", "--noise-std", "0.02", "--max-iters", "9")
    assert resolved.degradation == {"jpeg_quality": 0, "noise_std": 0.02, "keep": ("max_iters",)}
    assert _resolve("--jpeg-quality", "AUTO").degradation["jpeg_quality"] == "auto"
    assert _resolve("--jpeg-quality", "85").degradation["jpeg_quality"] == 85
    for bad in (["--jpeg-quality", "101"], ["--jpeg-quality", "high"], ["--noise-std", "-1"],
                ["--noise-std", "off"], ["--noise-std", "inf"], ["--noise-std", "5"]):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["x.png", *bad])
        assert exc.value.code == 2


def _resolve(*argv):
    return config_from_args(build_parser().parse_args(["x.png", *argv]))


def test_each_recipe_flag_has_its_own_one_line_help():
    fields = {f.name for f in dataclasses.fields(ZSSRConfig)}
    helps = {a.dest: a.help for a in build_parser()._actions if a.dest in fields}
    assert len(helps) == len(fields) and len(set(helps.values())) == len(helps)
    assert "x2 then x4" in helps["scale_steps"] and "fine-tune" in helps["init_weights"]
    # each shows the value a run without --preset uses (the recommended warm)
    assert "(warm: 2,4)" in helps["scale_steps"] and "(warm: warm)" in helps["init_weights"]
    assert '(warm: "")' not in helps["init_weights"]
    assert "``" not in "".join(helps.values()) and "\n" not in "".join(helps.values())


def test_help_is_short_one_line_per_option_and_lists_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert len(text.splitlines()) <= 100
    for line in ("--lr-schedule {policy,cosine}", "--precision {auto,float32,mixed_bfloat16}",
                 "--crop-geometry {official,inside}", "--max-iters INT"):
        assert line in text
    # each option's help on the line of the option itself (no essays, no wrapped paragraphs)
    assert "(warm: 200)" in next(x for x in text.splitlines() if "--max-iters INT " in x)
    assert " dB" not in text and "EPYC" not in text and "AVX" not in text


def test_string_options_refuse_values_outside_their_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["x.png", "--lr-schedule", "linear"])
    assert exc.value.code == 2 and "invalid choice: 'linear'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["x.png", "--back-projection-iters", "2,x"])
    assert "'2,x' is not a comma-separated list of ints" in capsys.readouterr().err


def test_each_image_gets_its_own_progress_state():
    from types import SimpleNamespace

    from zssr.progress import ProgressBars

    # A cache decorator once slipped onto the class: images with the same name shared bars.
    first, second = ProgressBars("a.png", True), ProgressBars("a.png", True)
    assert first is not second
    seen = []
    counting = ProgressBars("a.png", True, on_event=lambda: seen.append(1))
    counting(SimpleNamespace(phase="train", step=0, iteration=1, total=3))
    assert seen == [1]
    first.key = ("train", 0)
    assert second.key is None  # one image's phase is not another's


def test_core_messages_are_translated_into_flags():
    from zssr.cli import to_flags

    assert to_flags("tile_size must be >= 0") == "--tile-size must be >= 0"
    assert to_flags("x.png exists; pass overwrite=True to replace it or skip_existing=True to "
                    "keep it") == ("x.png exists; pass --overwrite to replace it or "
                                   "--skip-existing to keep it")
    assert to_flags("use precision='float32' here") == "use --precision float32 here"
    assert to_flags("above max_pixels=1,000; raise max_pixels") == (
        "above --max-pixels 1,000; raise --max-pixels")
    assert to_flags("set allow_rotation=False") == "set --no-allow-rotation"
    assert to_flags("choose another output_dir") == "choose another -o"
    assert to_flags("depth must be >= 2") == "depth must be >= 2"  # plain words stay words


def test_an_empty_list_flag_can_be_written_none():
    assert _resolve("--preset", "warm", "--scale-steps", "none").config.scale_steps == ()


def test_preset_and_overrides_combine():
    resolved = _resolve("--preset", "real", "--max-iters", "7")
    assert resolved.config.noise_std == 0.0125 and resolved.config.max_iters == 7
    assert resolved.preset == "real" and resolved.kernel_safe == ()


def test_config_from_args_leaves_the_namespace_alone():
    args = build_parser().parse_args(["x.png", "--kernel", "k.mat"])
    before = dict(vars(args))
    resolved = config_from_args(args)
    assert vars(args) == before and resolved.preset == "warm"


def test_a_tiny_network_without_a_random_start_is_refused_up_front(image_file, capsys,
                                                                    monkeypatch):
    _no_backend(monkeypatch)
    assert main([str(image_file), "--depth", "3", "-q"]) == 2
    err = capsys.readouterr().err
    assert "--init-weights ''" in err and "--preset ideal" in err and len(err.splitlines()) == 1
    assert _resolve("--depth", "3", "--init-weights", "").config.init_weights == ""
    assert _resolve("--preset", "ideal", "--width", "8").config.width == 8


def test_no_preset_runs_the_recommended_warm():
    from zssr.config import kernel_safe, preset

    plain = _resolve()
    assert plain.preset == "warm" and plain.config == preset("warm")
    with_kernel = _resolve("--kernel", "k.mat")
    assert with_kernel.preset == "warm"
    assert with_kernel.config == kernel_safe(preset("warm"))[0]
    assert _resolve("--preset", "ideal").config == preset("ideal")
    preset_help = next(a.help for a in build_parser()._actions if a.dest == "preset")
    assert "default: warm" in preset_help


def test_a_given_kernel_turns_off_rotations_unless_asked_for():
    resolved = _resolve("--preset", "warm", "--kernel", "k.mat")
    cfg = resolved.config
    assert not cfg.allow_rotation and not cfg.self_ensemble and cfg.init_weights == "warm"
    assert cfg.scale_steps == () and cfg.base_change_scales == ()  # one jump with a kernel
    assert resolved.kernel_safe == ("allow_rotation", "base_change_scales", "scale_steps",
                                    "self_ensemble")
    resolved = _resolve("--preset", "warm", "--kernel", "k.mat", "--self-ensemble")
    cfg = resolved.config
    assert cfg.self_ensemble and not cfg.allow_rotation
    assert "self_ensemble" not in resolved.kernel_safe
    resolved = _resolve("--preset", "gradual", "--kernel", "k.mat")
    assert resolved.config.gradual_step == 0 and "gradual_step" in resolved.kernel_safe
    resolved = _resolve("--preset", "warm")
    cfg = resolved.config
    assert cfg.allow_rotation and cfg.self_ensemble and resolved.kernel_safe == ()
    assert cfg.scale_steps == (2.0, 4.0)


def test_scale_parsing():
    p = build_parser()
    assert p.parse_args(["x.png", "--scale", "2,1.5"]).scale == (2.0, 1.5)
    assert p.parse_args(["x.png", "--scale", "3"]).scale == (3.0, 3.0)
    for bad in ("1", "0.5", "nan", "two", "2,2,2"):
        with pytest.raises(SystemExit) as exc:
            p.parse_args(["x.png", "--scale", bad])
        assert exc.value.code == 2


def test_writes_output_and_sidecar(image_file, tmp_path, capsys):
    out = tmp_path / "out"
    gt = tmp_path / "gt.png"
    iio.imwrite(gt, np.zeros((32, 40, 3), np.uint8))
    code = main([str(image_file), "--scale", "2", "-o", str(out), "--seed", "3",
                 "--gt", str(gt), "--preset", "ideal", *TINY])
    assert code == 0
    png = out / "pic_zssr_x2.png"
    meta = json.loads((out / "pic_zssr_x2.json").read_text())
    assert iio.imread(png).shape == (32, 40, 3)
    assert meta["seed"] == 3 and meta["config"]["seed"] == 3
    assert meta["iterations"] == 3 and meta["final_learning_rate"] == pytest.approx(1e-3)
    assert meta["kernel"] == "bicubic" and len(meta["input_sha256"]) == 64
    assert meta["metrics"]["psnr_y"] > 0 and "ssim_y" in meta["metrics"]
    assert meta["seconds"] > 0 and meta["config"]["max_iters"] == 3
    assert meta["precision_used"] in ("float32", "mixed_bfloat16")
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    # an existing output is not replaced without --overwrite
    before = png.read_bytes()
    assert main([str(image_file), "-o", str(out), "--seed", "9", *TINY]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert png.read_bytes() == before
    assert main([str(image_file), "-o", str(out), "--overwrite", *TINY]) == 0


def test_given_kernel_with_a_rotating_preset_says_what_it_turned_off(image_file, tmp_path,
                                                                     capsys):
    y, x = np.mgrid[-2:3, -2:3]
    kernel = tmp_path / "k.npy"
    np.save(kernel, np.exp(-(x ** 2 / 2.0 + y ** 2 / 0.5)))
    out = tmp_path / "out"
    loud = [a for a in TINY if a != "-q"]
    assert main([str(image_file), "--preset", "ideal", "--kernel", str(kernel), "-o", str(out),
                 *loud]) == 0
    assert "reset allow_rotation, self_ensemble" in capsys.readouterr().err
    config = json.loads((out / "pic_zssr_x2.json").read_text())["config"]
    assert not config["allow_rotation"] and not config["self_ensemble"]


def test_emulated_bfloat16_is_warned_about_but_runs(image_file, tmp_path, capsys, monkeypatch):
    from zssr import network

    monkeypatch.setattr(network, "bfloat16_is_native", lambda: False)
    assert main([str(image_file), "--precision", "mixed_bfloat16", "-o", str(tmp_path),
                 *TINY]) == 0
    err = capsys.readouterr().err  # shown even with -q: it explains a slow run
    assert "warning: --precision mixed_bfloat16" in err and "emulated" in err
    assert main([str(image_file), "--precision", "auto", "-o", str(tmp_path / "a"),
                 *TINY]) == 0
    assert "warning" not in capsys.readouterr().err


def test_anisotropic_output_name(image_file, tmp_path):
    assert main([str(image_file), "--scale", "2,1.5", "-o", str(tmp_path), *TINY]) == 0
    assert iio.imread(tmp_path / "pic_zssr_x2x1.5.png").shape == (32, 30, 3)


def test_estimated_kernel_needs_scale_2_or_4(image_file, tmp_path, capsys):
    assert main([str(image_file), "--kernel", "estimated", "--scale", "3", "-o", str(tmp_path),
                 *TINY]) == 2
    assert "--scale 2 or 4" in capsys.readouterr().err
    assert not list(tmp_path.glob("*_zssr_*")) and not list(tmp_path.glob("*_kernel_*"))


def test_estimated_kernel_end_to_end(tmp_path, natural_image):
    from zssr.kernels import load_kernel

    src = tmp_path / "big.png"
    iio.imwrite(src, (natural_image[:64, :72] * 255).round().astype(np.uint8))
    assert main([str(src), "--kernel", "estimated", "--estimate-iters", "4", "--scale", "4",
                 "-o", str(tmp_path / "o"), *TINY]) == 0
    meta = json.loads((tmp_path / "o" / "big_zssr_x4.json").read_text())
    assert meta["kernel"] == "estimated (KernelGAN)" and meta["preset"] == "warm"
    assert meta["config"]["scale_steps"] == [] and not meta["config"]["allow_rotation"]
    assert set(meta["kernel_files"]) == {"x2", "x4"}
    k2 = load_kernel(tmp_path / "o" / "big_kernel_x2.mat").kernel
    k4 = load_kernel(tmp_path / "o" / "big_kernel_x4.mat").kernel
    assert k2.shape == (13, 13) and k4.shape[0] > 13
    assert iio.imread(tmp_path / "o" / "big_kernel_x2.png").shape == (13 * 16, 13 * 16, 3)
    assert meta["kernel_estimation_config"]["max_iters"] == 4
    assert meta["kernel_estimation_config"]["sharpen"] == 1.5  # the calibrated default
    assert main([str(src), "--kernel", "estimated", "--estimate-iters", "4", "--scale", "2",
                 "--estimate-sharpen", "1", "--estimate-ensemble", "3", "-o",
                 str(tmp_path / "p"), *TINY]) == 0
    meta = json.loads((tmp_path / "p" / "big_zssr_x2.json").read_text())
    assert meta["kernel_estimation_config"]["sharpen"] == 1.0
    assert meta["kernel_estimation_config"]["ensemble"] == 3
    assert main([str(src), "--kernel", "estimated", "--estimate-sharpen", "0", *TINY]) == 2
    assert main([str(src), "--kernel", "estimated", "--estimate-ensemble", "0", *TINY]) == 2


def test_real_flag_and_preset_conflict(image_file, tmp_path, capsys):
    assert _resolve("--real").config.noise_std == 0.0125
    assert main([str(image_file), "--real", "--preset", "ideal", *TINY]) == 2
    assert "--real" in capsys.readouterr().err


@pytest.mark.parametrize("content,message", [(None, "not found; give a .mat or .npy file, or "
                                                    "--kernel bicubic"),
                                             ("bad", "cannot read"),
                                             ("wrongkey", "no variable 'Kernel'"),
                                             ("zeros", "positive sum")])
def test_bad_kernel_files_are_errors(image_file, tmp_path, capsys, content, message):
    from scipy.io import savemat

    path = tmp_path / "k.mat"
    if content == "bad":
        path.write_text("not a mat file")
    elif content == "wrongkey":
        savemat(path, {"K": np.ones((3, 3))})
    elif content == "zeros":
        savemat(path, {"Kernel": np.zeros((3, 3))})
    assert main([str(image_file), "--kernel", str(path), "-o", str(tmp_path), *TINY]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("*_zssr_*"))


def test_kernel_file_is_used_and_recorded(image_file, tmp_path):
    path = tmp_path / "k.npy"
    np.save(path, np.ones((5, 5)) * 2.0)
    assert main([str(image_file), "--kernel", str(path), "--preset", "kernel",
                 "-o", str(tmp_path), *TINY]) == 0
    meta = json.loads((tmp_path / "pic_zssr_x2.json").read_text())
    assert meta["kernel"] == "file" and meta["kernel_normalised"] is True
    assert meta["preset"] == "kernel" and meta["config"]["allow_rotation"] is False


def test_missing_input_and_bad_preset(tmp_path, capsys):
    assert main([str(tmp_path / "nope.png"), *TINY]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["x.png", "--preset", "best"])
    assert exc.value.code == 2


def test_one_bad_file_does_not_stop_the_others(image_file, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_text("this is not a png")
    code = main([str(broken), str(image_file), "-o", str(tmp_path / "o"), *TINY])
    assert code == 1
    assert (tmp_path / "o" / "pic_zssr_x2.png").exists()
    assert "broken.png" in capsys.readouterr().err


def test_python_m_zssr_is_the_cli():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "zssr", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("zssr ")


def _usage_error(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code, capsys.readouterr().err


@pytest.mark.parametrize("argv", [["x.png", "--scale", "0.5"], ["x.png", "--no-such-flag"], []],
                         ids=["bad-scale", "unknown-flag", "no-input"])
def test_a_usage_error_is_one_line_that_points_to_help(capsys, argv):
    code, err = _usage_error(capsys, argv)
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("zssr: error: ") and err.rstrip().endswith("(see zssr --help)")


def test_the_command_is_called_zssr(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.startswith("usage: zssr ")


def _no_backend(monkeypatch):
    import zssr.cli

    def fail(**_):
        raise AssertionError("the backend was imported before the command line was checked")
    monkeypatch.setattr(zssr.cli, "import_backend", fail)


@pytest.mark.parametrize("flags,message", [(["--seed", "-1"], "seed must be >= 0"),
                                           (["--tile-size", "3"], "--tile-size must be 0")])
def test_bad_recipe_values_are_refused_up_front(image_file, tmp_path, capsys, monkeypatch, flags,
                                                message):
    _no_backend(monkeypatch)
    assert main([str(image_file), "-o", str(tmp_path), *TINY, *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1, err


def test_a_missing_ground_truth_is_refused_before_training(image_file, tmp_path, capsys,
                                                          monkeypatch):
    _no_backend(monkeypatch)
    assert main([str(image_file), "-o", str(tmp_path), "--gt", str(tmp_path / "no.png"),
                 *TINY]) == 2
    err = capsys.readouterr().err
    assert "--gt" in err and "no.png" in err and len(err.splitlines()) == 1, err
    assert not list(tmp_path.glob("*_zssr_*"))


def test_a_failed_file_is_reported_once(image_file, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_text("this is not a png")
    loud = [a for a in TINY if a != "-q"]
    assert main([str(broken), str(image_file), "-o", str(tmp_path / "o"), *loud]) == 1
    err = capsys.readouterr().err
    reason = next(x for x in err.splitlines() if x.startswith("error: ")).split(": ", 2)[-1]
    assert err.count(reason) == 1, err
    assert "failed" in err and "1 done, 0 skipped, 1 failed of 2" in err


def _subprocess_env(**extra):
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    return dict(os.environ, PYTHONPATH=str(root), **extra)


def test_an_unavailable_keras_backend_is_one_line_and_exit_2(image_file, tmp_path):
    import os
    import subprocess
    import sys

    hidden = tmp_path / "no_jax" / "jax"  # jax is installed here: a stand-in hides it
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("No module named \'jax\'")\n')
    env = _subprocess_env(KERAS_BACKEND="jax")
    env["PYTHONPATH"] = f"{hidden.parent}{os.pathsep}{env['PYTHONPATH']}"
    done = subprocess.run([sys.executable, "-m", "zssr", str(image_file), "-o", str(tmp_path),
                           *TINY], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert len(done.stderr.splitlines()) == 1, done.stderr[-3000:]
    assert "KERAS_BACKEND=jax" in done.stderr and "pip install jax" in done.stderr


def test_ctrl_c_while_keras_imports_is_one_line_and_exit_130(image_file, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    # ZSSR_TEST_IMPORT_DELAY (a test seam of zssr.progress.import_backend) holds the import
    # step open, so that the signal lands there and not in Python's start-up.
    # The child gets Ctrl-C's default disposition whatever the test process has (a terminal's
    # zssr has it; a SIGINT ignored here would be inherited and the child would sleep on).
    proc = subprocess.Popen([sys.executable, "-m", "zssr", str(image_file), "-o", str(tmp_path),
                             *TINY], env=_subprocess_env(ZSSR_TEST_IMPORT_DELAY="60"),
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err[-3000:]
    assert len(err.splitlines()) <= 2 and "Traceback" not in err, err[-3000:]


def test_python_m_zssr_works_from_another_folder(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "zssr", "--version"], cwd=tmp_path,
                          env=_subprocess_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("zssr "), done.stderr


def test_main_entry_exits_with_mains_code(monkeypatch):
    import zssr.cli

    monkeypatch.setattr(zssr.cli, "main", lambda argv=None: 1)
    with pytest.raises(SystemExit) as exc:
        zssr.cli.main_entry()
    assert exc.value.code == 1


def test_the_wheel_installs_a_zssr_command(tmp_path):
    import shutil
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    # Built from a copy without the weights: quicker, and no build/ left in the checkout.
    root, src = Path(__file__).resolve().parents[1], tmp_path / "src"
    shutil.copytree(root / "zssr", src / "zssr",
                    ignore=shutil.ignore_patterns("*.h5", "__pycache__"))
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(root / name, src / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(tmp_path), str(src)], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0 and ("connection" in done.stderr.lower()
                                 or "no matching distribution" in done.stderr.lower()):
        pytest.skip("building a wheel needs setuptools from the package index")
    assert done.returncode == 0, done.stderr[-3000:]
    wheel = next(tmp_path.glob("zssr-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt"))
        text = zf.read(name).decode()
    assert "[console_scripts]" in text and "zssr = zssr.cli:main_entry" in text


def test_a_report_in_an_unwritable_place_is_refused_before_training(image_file, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main([str(image_file), "--report", str(blocker / "r.html"), *TINY]) == 2
    assert "--report" in capsys.readouterr().err
    assert not list(image_file.parent.glob("*_zssr_*"))


def test_init_weights_of_another_shape_are_refused_before_any_image(image_file, tmp_path,
                                                                       capsys):
    from zssr.network import build_network

    weights = tmp_path / "w.weights.h5"
    build_network(3, depth=3, width=8).save_weights(str(weights))
    code = main([str(image_file), "--preset", "ideal", "--init-weights", str(weights),
                 "--depth", "4", "--width", "8", "--max-iters", "2", "-q"])
    assert code == 2
    assert "--init-weights" in capsys.readouterr().err
    assert not list(image_file.parent.glob("*_zssr_*"))


def test_a_jpeg_input_is_modelled_and_the_sidecar_says_so(tmp_path, natural_image, capsys):
    from PIL import Image

    jpg = tmp_path / "photo.jpg"
    Image.fromarray((natural_image[:24, :24] * 255).round().astype(np.uint8)).save(jpg,
                                                                                  quality=60)
    out = tmp_path / "out"
    assert main([str(jpg), "--scale", "2", "-o", str(out), "--preset", "ideal", *TINY[:-1]]) == 0
    meta = json.loads((out / "photo_zssr_x2.json").read_text())
    seen = meta["degradation"]
    assert seen["jpeg"]["quality"] == 60 and seen["jpeg"]["subsampling"] == "4:2:0"
    assert seen["jpeg"]["standard_tables"] and seen["jpeg_quality"] == 60
    assert meta["config"]["jpeg_quality"] == 60 and "jpeg_quality" in seen["changed"]
    assert "noise_std_measured" in seen and seen["asked"]["jpeg_quality"] == "auto"
    # --back-projection-iters was given (TINY): it stays, though a degraded input turns it off
    assert meta["config"]["back_projection_iters"] == [1]
    assert "JPEG quality 60 (4:2:0)" in capsys.readouterr().err
    # off: the plain run
    assert main([str(jpg), "--scale", "2", "-o", str(out), "--preset", "ideal", "--overwrite",
                 "--jpeg-quality", "off", "--noise-std", "0", *TINY]) == 0
    meta = json.loads((out / "photo_zssr_x2.json").read_text())
    assert meta["config"]["jpeg_quality"] == 0 and meta["degradation"]["changed"] == []


def test_a_clean_png_runs_the_plain_recipe(image_file, tmp_path):
    out = tmp_path / "out"
    assert main([str(image_file), "--scale", "2", "-o", str(out), "--preset", "ideal", *TINY]) == 0
    meta = json.loads((out / "pic_zssr_x2.json").read_text())
    assert meta["degradation"]["jpeg"] is None and meta["degradation"]["changed"] == []
    assert meta["config"]["jpeg_quality"] == 0 and meta["config"]["noise_std"] == 0.0
