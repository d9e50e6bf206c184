import base64
import io
import os
import re
import stat
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from zssr import ProgressEvent, ZSSRConfig
from zssr.report import MAX_SIDE, Recorder, ReportEntry, render_report, write_report
from zssr.resize import imresize


def _entry(rng, name="a.png", shape=(6, 8, 3), scale=2.0, kernel=None, n_events=7):
    lr = rng.random(shape).astype(np.float32)
    out_shape = (int(shape[0] * scale), int(shape[1] * scale)) + tuple(shape[2:])
    events = [(0, i + 1, 0.1 / (i + 1), 1e-3 * 0.9 ** i) for i in range(n_events)]
    return ReportEntry(name=name, input=lr, output=rng.random(out_shape).astype(np.float32),
                       scale=(scale, scale), kernel=kernel, events=events,
                       reconstruction=[[(2, 0.01), (5, 0.004)]], seconds=3.5,
                       metrics={"psnr_y": 31.234, "ssim_y": 0.91234})


def _u8(pixels):
    return (np.clip(np.asarray(pixels, dtype=np.float64), 0, 1) * 255).round().astype(np.uint8)


def _images(page):
    """alt -> decoded pictures of every <img> on the page."""
    found = {}
    for alt, src in re.findall(r'<img[^>]*alt="([^"]*)"[^>]*src="([^"]*)"', page):
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        found.setdefault(alt, []).append(np.asarray(Image.open(io.BytesIO(data))))
    return found


def _sections(page):
    return page.split('<section class="entry"')[1:]


def test_one_section_per_entry_in_order(rng):
    page = render_report([_entry(rng, "first.png"), _entry(rng, "sec<ond>.png")])
    sections = _sections(page)
    assert len(sections) == 2
    assert "first.png" in sections[0] and "sec&lt;ond&gt;.png" in sections[1]
    assert page.count('<div class="cmp">') == 2 and page.count('<svg class="curve"') == 2


def test_images_are_data_uris_that_decode_to_the_output_size(rng):
    entry = _entry(rng, shape=(6, 8, 3), scale=3.0)
    pictures = _images(render_report([entry]))
    assert pictures["zssr"][0].shape == (18, 24, 3)
    assert pictures["bicubic"][0].shape == (18, 24, 3)
    expected = _u8(entry.output)
    assert np.array_equal(pictures["zssr"][0], expected)


def test_the_before_layer_is_matlab_bicubic_of_the_input(rng):
    entry = _entry(rng, shape=(7, 9), scale=2.0)
    before = _images(render_report([entry]))["bicubic"][0]
    expected = imresize(entry.input, 2.0, output_shape=(14, 18))
    assert before.shape == (14, 18)
    assert np.array_equal(before, _u8(expected))


def test_large_outputs_embed_the_same_centre_crop_of_both_layers(rng):
    entry = _entry(rng, shape=(4, MAX_SIDE // 2 + 10, 3), scale=2.0)
    page = render_report([entry])
    pictures = _images(page)
    width = entry.output.shape[1]
    assert pictures["zssr"][0].shape == pictures["bicubic"][0].shape == (8, MAX_SIDE, 3)
    left = (width - MAX_SIDE) // 2
    crop = entry.output[:, left:left + MAX_SIDE]
    assert np.array_equal(pictures["zssr"][0], _u8(crop))
    assert f"crop of {width}\u00d78" in page


def test_the_curve_has_a_point_per_recorded_iteration(rng):
    page = render_report([_entry(rng, n_events=11)])
    loss = re.search(r'<polyline class="loss" points="([^"]*)"', page).group(1).split()
    rate = re.search(r'<polyline class="rate" points="([^"]*)"', page).group(1).split()
    assert len(loss) == len(rate) == 11
    xs = [float(p.split(",")[0]) for p in loss]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    assert page.count('<circle class="mse"') == 2


def test_scale_steps_follow_each_other_on_the_iteration_axis(rng):
    entry = _entry(rng)
    entry.events = [(s, i, 0.1, 1e-3) for s in range(2) for i in range(1, 6)]
    entry.reconstruction = [[(3, 0.01)], [(3, 0.02)]]
    page = render_report([entry])
    xs = [float(p.split(",")[0]) for p in
          re.search(r'<polyline class="loss" points="([^"]*)"', page).group(1).split()]
    assert len(xs) == 10 and all(a < b for a, b in zip(xs, xs[1:]))
    assert page.count('class="step"') == 1 and "step 2" in page


def test_the_kernel_picture_appears_only_with_a_kernel(rng):
    kernel = np.outer(np.hanning(7), np.hanning(7))
    with_kernel = render_report([_entry(rng, kernel=kernel / kernel.sum())])
    without = render_report([_entry(rng)])
    assert len(_images(with_kernel)["kernel"]) == 1 and "kernel 7\u00d77" in with_kernel
    assert "kernel" not in _images(without) and 'class="kernel"' not in without


def test_time_and_metrics_are_shown(rng):
    entry = _entry(rng)
    entry.seconds = 125.0
    page = render_report([entry])
    assert "2 min 5 s" in page and "31.23 dB" in page and "0.9123" in page
    entry.metrics = None
    assert "PSNR-Y" not in render_report([entry])


def test_the_page_references_nothing_on_the_network(rng):
    page = render_report([_entry(rng, kernel=np.ones((3, 3)) / 9), _entry(rng)])
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    sources = re.findall(r'\b(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith(("data:", "#")) for s in sources)
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_writing_is_atomic(rng, tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    path.write_text("old page")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_report(path, [_entry(rng)])
    assert path.read_text() == "old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    monkeypatch.undo()
    assert write_report(path, [_entry(rng)]) == path
    assert path.read_text().startswith("<!DOCTYPE html>")


def test_the_recorder_records_training_events_and_forwards_every_event():
    seen, closed = [], []

    class Bars:
        def __call__(self, event):
            seen.append(event)

        def close(self):
            closed.append(True)

    tracked = Recorder().track("x.png", Bars())
    events = [ProgressEvent("train", 0, 1, i, 3, 0.5 / i, 1e-3) for i in (1, 2, 3)]
    events.append(ProgressEvent("predict", 0, 1, 1, 8))
    for event in events:
        tracked(event)
    tracked.close()
    assert seen == events and closed == [True]
    assert tracked.events == [(0, i, 0.5 / i, 1e-3) for i in (1, 2, 3)]


def test_a_sidecar_record_of_the_command_line_becomes_an_entry(tmp_path, natural_image):
    from zssr.batch import Job, load_kernel_spec, process
    from zssr.kernels import save_kernel

    image = tmp_path / "pic.png"
    iio.imwrite(image, (natural_image[:12, :14] * 255).round().astype(np.uint8))
    kernel = np.outer(np.hanning(7), np.hanning(7))
    save_kernel(tmp_path / "k.mat", kernel / kernel.sum())
    array, kernel_info = load_kernel_spec(str(tmp_path / "k.mat"))
    config = ZSSRConfig(max_iters=3, depth=3, width=8, crop_size=16, test_every=1,
                        lr_slope_range=2, back_projection_iters=(1,))
    recorder = Recorder()
    record = process(Job(image, Path("pic.png")), config=config, preset="ideal", scale=(2.0, 2.0),
                     kernel=array, kernel_info=kernel_info, out_dir=tmp_path / "out",
                     max_pixels=10**6, progress=recorder.track("pic.png"))
    recorder.add("pic.png", record)
    (entry,) = recorder.entries()
    assert entry.output.shape[:2] == (24, 28) and entry.input.shape[:2] == (12, 14)
    assert [e[1] for e in entry.events] == [1, 2, 3]
    assert entry.kernel is not None and entry.kernel.shape == (7, 7)
    assert entry.seconds == record["seconds"]
    page = recorder.write(tmp_path / "report.html").read_text()
    assert len(_sections(page)) == 1 and len(_images(page)["kernel"]) == 1


def test_an_estimated_kernels_record_shows_that_kernel_and_the_estimation_time(tmp_path, rng):
    from zssr.kernels import save_kernel
    from zssr.report import entry_from_record

    iio.imwrite(tmp_path / "in.png", (rng.random((5, 6, 3)) * 255).astype(np.uint8))
    iio.imwrite(tmp_path / "out.png", (rng.random((20, 24, 3)) * 255).astype(np.uint8))
    for size in (5, 9):
        save_kernel(tmp_path / f"k_x{2 if size == 5 else 4}.mat", np.ones((size, size)))
    record = {"input": str(tmp_path / "in.png"), "output": str(tmp_path / "out.png"),
              "scale": [4.0, 4.0], "seconds": 10.0, "kernel_estimation_seconds": 5.0,
              "kernel_files": {f"x{s}": {"mat": str(tmp_path / f"k_x{s}.mat")} for s in (2, 4)},
              "steps": [{"reconstruction_mse": [[60, 0.5]]}, {}], "metrics": None}
    entry = entry_from_record(record, events=[(0, 1, 0.1, 1e-3)])
    assert entry.name == "in.png" and entry.kernel.shape == (9, 9)
    assert entry.seconds == 15.0 and entry.reconstruction == [[(60, 0.5)], []]
    assert entry.output.shape == (20, 24, 3) and entry.events == [(0, 1, 0.1, 1e-3)]
    del record["kernel_files"]
    assert entry_from_record(record).kernel is None


def test_the_page_gets_the_usual_permissions_not_the_temporary_files(rng, tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_report(tmp_path / "report.html", [_entry(rng)])
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_the_reconstruction_panel_appears_only_when_tests_were_run(rng):
    entry = _entry(rng)
    assert "reconstruction</text>" in render_report([entry])
    entry.reconstruction = [[]]
    page = render_report([entry])
    assert "reconstruction</text>" not in page and '<polyline class="loss"' in page


def test_the_loss_panel_adds_a_moving_average_of_the_noisy_loss(rng):
    entry = _entry(rng, n_events=100)
    entry.events = [(0, i, 0.1 + 0.05 * (-1) ** i, 1e-3) for i in range(1, 101)]
    page = render_report([entry])
    ys = [float(p.split(",")[1]) for p in
          re.search(r'<polyline class="loss smooth" points="([^"]*)"', page).group(1).split()]
    raw = [float(p.split(",")[1]) for p in
           re.search(r'<polyline class="loss" points="([^"]*)"', page).group(1).split()]
    assert len(ys) == len(raw) == 100
    assert np.ptp(ys[50:]) < 0.2 * np.ptp(raw[50:])


CLI_TINY = ["--init-weights", "", "--max-iters", "3", "--depth", "3", "--width", "8",
            "--crop-size", "16", "-q"]


def test_the_command_line_writes_one_report_for_the_batch(tmp_path, natural_image):
    from zssr.cli import main

    for name, crop in (("a.png", natural_image[:12, :14]), ("b.png", natural_image[4:14, 2:12])):
        iio.imwrite(tmp_path / name, (crop * 255).round().astype(np.uint8))
    page = tmp_path / "page.html"
    code = main([str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--scale", "2", "-o",
                 str(tmp_path / "out"), *CLI_TINY, "--report", str(page)])
    assert code == 0
    html = page.read_text(encoding="utf-8")
    assert len(_sections(html)) == 2 and "a.png" in html and "b.png" in html
    assert html.count('<polyline class="loss" points=') == 2


def test_a_bare_report_flag_writes_beside_the_one_output(tmp_path, natural_image):
    from zssr.cli import main

    iio.imwrite(tmp_path / "a.png", (natural_image[:12, :14] * 255).round().astype(np.uint8))
    assert main([str(tmp_path / "a.png"), "--scale", "2", *CLI_TINY, "--report"]) == 0
    page = tmp_path / "a_zssr_x2.html"
    assert page.is_file() and len(_sections(page.read_text(encoding="utf-8"))) == 1


def test_a_report_name_that_is_not_html_is_a_usage_error(tmp_path, natural_image, capsys):
    from zssr.cli import main

    iio.imwrite(tmp_path / "a.png", (natural_image[:12, :14] * 255).round().astype(np.uint8))
    assert main(["--report", str(tmp_path / "a.png"), str(tmp_path / "a.png"), *CLI_TINY]) == 2
    assert "--report" in capsys.readouterr().err
    assert not list(tmp_path.glob("*_zssr_*"))  # refused before any training
