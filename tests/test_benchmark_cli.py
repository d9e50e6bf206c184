"""``python -m zssr.benchmark``: tables, figures, warnings and usage errors."""

import csv
import json
import subprocess
import sys

import imageio.v3 as iio
import numpy as np

from zssr import baselines
from zssr.benchmark import main
from zssr.resize import imresize


def _edsr_layout(root, natural_image):
    (root / "HR").mkdir(parents=True)
    (root / "LR_bicubic" / "X2").mkdir(parents=True)
    for i, crop in enumerate([natural_image[:, :64], natural_image[:, 16:80]]):
        iio.imwrite(root / "HR" / f"im{i}.png", (crop * 255).round().astype(np.uint8))
        lr = np.clip(imresize(crop, 0.5), 0, 1)
        iio.imwrite(root / "LR_bicubic" / "X2" / f"im{i}x2.png",
                    (lr * 255).round().astype(np.uint8))


def test_benchmark_compares_methods_in_one_table_and_figure(tmp_path, natural_image):
    root = tmp_path / "set"
    _edsr_layout(root, natural_image)
    weights = tmp_path / "edsr.weights.h5"
    baselines.build("edsr-baseline", 2).save_weights(str(weights))
    out = tmp_path / "results"
    methods = ["bicubic", "edsr-baseline", "edsr-baseline-ensemble"]
    assert main(["--dataset", str(root), "--scale", "2", "--method", ",".join(methods),
                 "--baseline-weights", str(weights), "--results-dir", str(out)]) == 0
    stem = out / ("set_x2_compare_" + "+".join(methods))
    rows = list(csv.DictReader(open(f"{stem}.csv")))
    assert [r["image"] for r in rows] == ["im0", "im1", "mean"]
    assert float(rows[2]["bicubic:psnr_y"]) > 20
    assert "edsr-baseline:seconds" in rows[0]
    # the ensemble runs the same weights, 8 times, and gets another result
    assert rows[2]["edsr-baseline-ensemble:psnr_y"] != rows[2]["edsr-baseline:psnr_y"]
    table = json.loads(open(f"{stem}.json").read())
    assert table["methods"] == methods
    markdown = open(f"{stem}.md").read()
    assert "| im0 |" in markdown and "ZSSR presets" not in markdown  # no ZSSR column here
    figure = iio.imread(f"{stem}.png")
    assert figure.ndim == 3 and figure.shape[0] > 100 and figure.shape[1] > figure.shape[0]


def test_benchmark_warns_of_emulated_bfloat16_for_zssr_methods(tmp_path, natural_image, capsys,
                                                                monkeypatch):
    from zssr import network

    root = tmp_path / "set"
    root.mkdir()
    iio.imwrite(root / "im0.png", (natural_image[:32, :32] * 255).round().astype(np.uint8))
    monkeypatch.setattr(network, "bfloat16_is_native", lambda: False)
    tiny = ["--dataset", str(root), "--scale", "2", "--max-iters", "2", "--set", "depth=2",
            "--set", "width=4", "--set", "crop_size=16", "--results-dir", str(tmp_path / "r")]
    assert main([*tiny, "--method", "zssr", "--set", "precision=mixed_bfloat16"]) == 0
    err = capsys.readouterr().err
    assert "warning: --set precision=mixed_bfloat16" in err and "emulated" in err
    assert main([*tiny, "--method", "bicubic,zssr"]) == 0  # auto: float32 here, no warning
    assert "warning" not in capsys.readouterr().err
    # a bad --set stays a clean usage error (exit 2), not a traceback from the check above
    assert main([*tiny, "--method", "zssr", "--set", "precision=half"]) == 2
    assert "error: zssr: invalid ZSSRConfig: precision" in capsys.readouterr().err


def test_benchmark_set_uses_the_config_parser(tmp_path, natural_image, capsys):
    import pytest

    root = tmp_path / "set"
    root.mkdir()
    iio.imwrite(root / "im0.png", (natural_image[:32, :32] * 255).round().astype(np.uint8))
    base = ["--dataset", str(root), "--scale", "2", "--results-dir", str(tmp_path / "r")]
    for bad, says in (("max_iters=two", "'two' is not a int"), ("nonsense=1", "nonsense"),
                      ("max_iters", "field=value")):
        with pytest.raises(SystemExit) as exc:
            main([*base, "--set", bad])
        assert exc.value.code == 2 and says in capsys.readouterr().err


def test_benchmark_names_a_missing_dataset_without_a_traceback(tmp_path, capsys):
    assert main(["--dataset", str(tmp_path / "nope"), "--scale", "2"]) == 2
    assert "error: --dataset" in capsys.readouterr().err


def test_python_m_zssr_benchmark_still_runs():
    out = subprocess.run([sys.executable, "-m", "zssr.benchmark", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "zssr-estimated" in out and "--set FIELD=VALUE" in out
