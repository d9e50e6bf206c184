"""zssr.runlog: the batch's JSON-lines run log."""

import json
import os
import stat

from zssr.runlog import RunLog, entry


def test_append_and_read_latest_line_per_input(tmp_path):
    old = os.umask(0o022)
    try:
        _check_append_and_read(tmp_path)
    finally:
        os.umask(old)


def _check_append_and_read(tmp_path):
    out = tmp_path / "a_zssr_x2.png"
    out.write_bytes(b"x")
    log = RunLog(tmp_path / "zssr-run.jsonl")
    log.append(entry(input=tmp_path / "a.png", output=None, sha256=None, seconds=1.0,
                     status="failed", error="boom"))
    log.append(entry(input=tmp_path / "a.png", output=out, sha256="ab", seconds=2.5, status="ok"))
    log.append(entry(input=tmp_path / "b.png", output=tmp_path / "gone.png", sha256="cd",
                     seconds=1, status="ok"))
    latest = log.read()
    assert latest[str(tmp_path / "a.png")]["status"] == "ok"
    assert set(log.completed()) == {str(tmp_path / "a.png")}  # b's output is gone
    line = json.loads(log.path.read_text().splitlines()[0])
    assert set(line) == {"input", "output", "sha256", "seconds", "status", "error", "host", "time"}
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o644  # as any writer would make it


def test_a_cut_last_line_is_skipped_and_the_next_line_starts_fresh(tmp_path):
    log = RunLog(tmp_path / "zssr-run.jsonl")
    log.append(entry(input=tmp_path / "a.png", output=None, sha256=None, seconds=0,
                     status="failed"))
    with open(log.path, "a") as fh:
        fh.write('{"input": "/x/b.png", "sta')  # a run killed mid-write
    log.append(entry(input=tmp_path / "c.png", output=None, sha256=None, seconds=0,
                     status="failed"))
    assert sorted(k.rsplit("/", 1)[-1] for k in log.read()) == ["a.png", "c.png"]
    assert RunLog(tmp_path / "missing.jsonl").read() == {}
