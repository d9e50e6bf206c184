"""The report page in a real browser: headless Chromium opens it from disk with ``#selftest``;
the page's own script checks that every picture decoded, that the slider moves the top layer's
clip and that the zoom magnifies both layers with pixelated rendering, and writes its verdict
into ``<body data-selftest=...>``, which ``--dump-dom`` prints."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from zssr.report import ReportEntry, render_report, write_report


def _chromium():
    for name in (os.environ.get("ZSSR_CHROMIUM", ""), "chromium", "chromium-browser",
                 "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (apt-get install chromium; or set "
    "ZSSR_CHROMIUM to a Chromium/Chrome binary)")


def _headless(tmp_path, *args):
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
            *args]


def _selftest(tmp_path, page):
    url = page.resolve().as_uri() + "#selftest"
    done = subprocess.run(_headless(tmp_path, "--virtual-time-budget=5000", "--dump-dom", url),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    verdict = re.search(r'<body[^>]*data-selftest="([^"]*)"', done.stdout)
    assert verdict, "the page's self-test did not run:\n" + done.stdout[:500]
    return verdict.group(1)


def _entries(rng):
    kernel = np.outer(np.hanning(9), np.hanning(9))
    events = [(0, i, 0.2 / i, 1e-3 * 0.99 ** i) for i in range(1, 40)]
    return [ReportEntry("gray.png", rng.random((10, 12)), rng.random((20, 24)), (2.0, 2.0),
                        events=events),
            ReportEntry("colour.png", rng.random((8, 10, 3)), rng.random((32, 40, 3)), (4.0, 4.0),
                        kernel=kernel / kernel.sum(), events=events, seconds=2.0)]


def test_the_page_works_in_headless_chromium(rng, tmp_path):
    page = write_report(tmp_path / "report.html", _entries(rng))
    assert _selftest(tmp_path, page) == "ok images=5/5 slider=2/2 zoom=2/2"


def test_the_self_test_reports_a_broken_picture(rng, tmp_path):
    prefix = "data:image/png;base64,"
    html = render_report(_entries(rng)).replace(prefix, prefix + "AA", 1)
    page = tmp_path / "broken.html"
    page.write_text(html, encoding="utf-8")
    verdict = _selftest(tmp_path, page)
    assert verdict.startswith("fail ") and "images=4/5" in verdict
