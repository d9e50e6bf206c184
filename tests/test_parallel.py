"""``--jobs``: worker processes on this machine (zssr.parallel through the command line).

One interrupted run and its resumption, both with two workers, against the serial one-thread
reference of conftest: outputs bit-identical, the broken file reported while the others finish,
SIGTERM leaves no partial file and exit 130, the resumed run skips what the run log has."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from zssr.runlog import NAME

from .conftest import PARALLEL_FLAGS, check_resumed, check_stopped, run_log_lines, run_zssr

ROOT = Path(__file__).resolve().parents[1]


def test_jobs_interrupt_resume_and_identical_outputs(parallel_inputs, serial_reference, tmp_path):
    out = tmp_path / "out"
    log = out / NAME
    proc = subprocess.Popen([sys.executable, "-m", "zssr", str(parallel_inputs), "-o", str(out),
                             "--jobs", "2", "--threads", "1", *PARALLEL_FLAGS],
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not any(e["status"] == "ok" for e in run_log_lines(log)) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)  # to the driver only; it stops its workers
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    first, kept = check_stopped(out, log)

    again = run_zssr(parallel_inputs, "-o", out, "--jobs", "2", "--threads", "1",
                     "--skip-existing", *PARALLEL_FLAGS)
    assert again.returncode == 1, again.stderr  # broken.png
    assert again.stderr.count("broken.png") == 1, again.stderr
    check_resumed(out, log, first, kept, serial_reference)


def test_the_driver_of_a_jobs_run_does_not_import_keras(parallel_inputs, tmp_path):
    # Keras is the workers' business: importing it in the driver would delay their start by
    # the seconds it takes. The pool is replaced by a stand-in that only counts the images.
    code = ("import sys\n"
            "import zssr.parallel\n"
            "seen = []\n"
            "zssr.parallel.run_pool = lambda jobs, *a, **k: seen.append(len(jobs))\n"
            "from zssr.cli import main\n"
            f"main([{str(parallel_inputs)!r}, '-o', {str(tmp_path / 'out')!r}, '--jobs', '2',\n"
            "      '--report', '--kernel', 'estimated', '-q'])\n"
            "print(seen, 'keras' in sys.modules, 'tensorflow' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.split("\n")[0] == "[7] False False", done.stdout + done.stderr[-2000:]
