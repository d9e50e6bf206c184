"""``--jobs``: worker processes on this machine (zssr.parallel through the command line).

One interrupted run and its resumption, both with two workers, against the serial one-thread
reference of conftest: outputs bit-identical, the broken file reported while the others finish,
SIGTERM leaves no partial file and exit 130, the resumed run skips what the run log has."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from zssr.runlog import NAME, RunLog

from .conftest import PARALLEL_FLAGS, run_zssr

ROOT = Path(__file__).resolve().parents[1]


def _lines(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_jobs_interrupt_resume_and_identical_outputs(parallel_inputs, serial_reference, tmp_path):
    out = tmp_path / "out"
    log = out / NAME
    proc = subprocess.Popen([sys.executable, "-m", "zssr", str(parallel_inputs), "-o", str(out),
                             "--jobs", "2", "--threads", "1", *PARALLEL_FLAGS],
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not any(e["status"] == "ok" for e in _lines(log)) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)  # to the driver only; it stops its workers
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    first = _lines(log)
    done_first = {e["input"] for e in first if e["status"] == "ok"}
    assert 1 <= len(done_first) < 6, "the interruption came too late to test a resumption"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "a partial file was left"
    kept = {e["output"]: Path(e["output"]).stat().st_mtime_ns for e in first
            if e["status"] == "ok"}

    again = run_zssr(parallel_inputs, "-o", out, "--jobs", "2", "--threads", "1",
                     "--skip-existing", *PARALLEL_FLAGS)
    assert again.returncode == 1, again.stderr  # broken.png
    assert again.stderr.count("broken.png") == 1, again.stderr
    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == serial_reference
    assert not [e for e in _lines(log)[len(first):] if e["input"] in done_first], \
        "images finished before the interruption ran again"
    assert {o: Path(o).stat().st_mtime_ns for o in kept} == kept
    final = RunLog(log).read()
    assert sorted(Path(k).name for k, e in final.items() if e["status"] == "ok") == \
        [f"im{i}.png" for i in range(6)]
    assert [Path(k).name for k, e in final.items() if e["status"] == "failed"] == ["broken.png"]
