"""The sidecar: what produced an output, with the keys the CLI has always written."""

import json
from pathlib import Path
from types import SimpleNamespace

from zssr import preset
from zssr.io import ImageInfo, sha256_file
from zssr.provenance import machine_description, sidecar, steps_record, versions

KEYS = ["input", "input_sha256", "input_height_width", "input_mode", "input_dtype",
        "exif_orientation_applied", "palette_expanded", "float_values_clipped", "output",
        "output_height_width", "output_mode", "output_dtype", "alpha", "scale",
        "scale_steps_run", "preset", "config",
        "seed", "precision_used", "kernel", "iterations", "final_learning_rate", "seconds",
        "steps", "metrics", "versions", "device", "machine", "date"]


def _step():
    return SimpleNamespace(scale=(2.0, 2.0), iterations=5, final_learning_rate=1e-4,
                           lr_drop_iterations=[3], final_loss=0.01, train_seconds=1.5,
                           predict_seconds=0.5, back_projection_iters=10,
                           precision="float32", retried=None,
                           reconstruction_mse=[(0, 0.02), (50, 0.01)])


def test_sidecar_has_the_clis_keys_in_order_and_is_plain_json(tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(b"pixels")
    result = SimpleNamespace(iterations=5, final_learning_rate=1e-4, seconds=2.0,
                             steps=[_step()])
    config = preset("kernel", seed=4, precision="float32")
    record = sidecar(input_path=src, input_shape=(10, 12, 3), info=ImageInfo("uint8", "LA"),
                     output_path=tmp_path / "out.png", output_shape=(20, 24), alpha=True,
                     scale=(2.0, 2.0), preset="kernel", config=config,
                     kernel_info={"kernel": "bicubic"}, result=result, metrics=None)
    assert list(record) == KEYS
    assert record["input_sha256"] == sha256_file(src)
    # one order everywhere: (height, width) for sizes, (vertical, horizontal) for scales
    assert record["input_height_width"] == [10, 12]
    assert record["output_height_width"] == [20, 24]
    assert record["scale_steps_run"] == [[2.0, 2.0]]
    assert record["output_mode"] == "LA" and record["alpha"] == "bicubic"
    assert record["seed"] == 4 and record["config"] == config.to_dict()
    assert record["precision_used"] == "float32" and record["scale"] == [2.0, 2.0]
    assert record["steps"][0]["lr_drop_iterations"] == [3]
    assert json.loads(json.dumps(record)) == record


def test_a_16_bit_gray_with_alpha_is_written_as_rgba():
    info = ImageInfo("uint16", "LA")
    result = SimpleNamespace(iterations=1, final_learning_rate=1.0, seconds=0.0, steps=[])
    record = sidecar(input_path=Path(__file__), input_shape=(4, 4),
                     info=info, output_path=Path("o.png"),
                     output_shape=(8, 8), alpha=False, scale=(2.0, 2.0), preset="ideal",
                     config=preset("ideal"), kernel_info={"kernel": "file"}, result=result,
                     metrics={"psnr_y": 1.0})
    assert record["output_mode"] == "RGBA" and record["alpha"] is None
    assert record["kernel"] == "file" and record["metrics"] == {"psnr_y": 1.0}


def test_steps_versions_and_machine():
    (step,) = steps_record([_step()])
    assert step["scale"] == [2.0, 2.0] and step["iterations"] == 5 and step["retried"] is None
    assert step["reconstruction_mse"] == [[0, 0.02], [50, 0.01]]  # the report's curve
    found = versions()
    assert {"zssr", "python", "numpy", "keras", "keras_backend"} <= set(found)
    assert "cores" in machine_description()


def test_an_x2_run_records_the_one_step_that_ran_not_the_configs_steps(tmp_path):
    import cv2
    import numpy as np

    from zssr.cli import main

    src = tmp_path / "a.png"
    cv2.imwrite(str(src), (np.random.default_rng(0).random((12, 16, 3)) * 255).astype(np.uint8))
    assert main([str(src), "-o", str(tmp_path), "--scale-steps", "2,4", "--init-weights", "",
                 "--max-iters", "2",
                 "--depth", "2", "--width", "4", "--crop-size", "12", "--test-every", "1",
                 "--lr-slope-range", "2", "--back-projection-iters", "1", "-q"]) == 0
    record = json.loads((tmp_path / "a_zssr_x2.json").read_text())
    assert record["config"]["scale_steps"] == [2.0, 4.0]  # the config stays the config
    assert record["scale_steps_run"] == [[2.0, 2.0]]  # what ran: one x2 step
    assert record["input_height_width"] == [12, 16] and record["output_height_width"] == [24, 32]
