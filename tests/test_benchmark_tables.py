"""Benchmark tables: markdown of one method and of a comparison, the figure's window."""

import numpy as np

from zssr.benchmark.tables import compare_markdown, figure_box, method_markdown

META = {"dataset": "set", "scale": 2, "machine": "m", "version": "v", "date": "d",
        "preset": None, "overrides": {"max_iters": 5}}


def test_comparison_names_each_zssr_methods_preset():
    with_zssr = compare_markdown(META, {"methods": ["bicubic", "zssr"], "rows": []})
    assert "per image. ZSSR presets: `zssr` ideal, overrides {'max_iters': 5}." in with_zssr
    asked = compare_markdown({**META, "preset": "real"},
                             {"methods": ["zssr", "zssr-estimated"], "rows": []})
    assert "`zssr` real, `zssr-estimated` real" in asked
    assert "ZSSR presets" not in compare_markdown(META, {"methods": ["bicubic"], "rows": []})


def test_method_table_reports_the_preset_it_ran():
    row = {"image": "a", "psnr_y": 30.0, "ssim_y": 0.9, "seconds": 1.0, "iterations": 5}
    mean = {"psnr_y": 30.0, "ssim_y": 0.9, "seconds": 1.0, "median_seconds": 1.0,
            "median_iterations": 5}
    table = {"method": "zssr-estimated", "rows": [row], "mean": mean}
    assert "— zssr-estimated (preset `kernel`)" in method_markdown(META, table)
    assert "(preset `real`)" in method_markdown({**META, "preset": "real"}, table)
    assert "preset" not in method_markdown(META, {**table, "method": "bicubic"}).splitlines()[0]


def test_figure_box_finds_the_detailed_window_inside_the_shave():
    hr = np.zeros((100, 100), np.float32)
    hr[60:80, 20:40] = np.indices((20, 20)).sum(0) % 2  # a checkerboard: all the detail
    rows, cols = figure_box(hr, 2, size=20)
    assert (rows.start, cols.start) == (60, 20) and rows.stop - rows.start == 20
