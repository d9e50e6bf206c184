"""``--cluster``: one Ray task per image (zssr.cluster), on a local Ray instance shared by the
module (``ray.init(num_cpus=2)``); the command line runs in this process and uses it.

A folder of tiny images completes with outputs bit-identical to the serial one-thread reference
of conftest, the broken file is reported while the others finish, and a run stopped midway
resumes from the run log without redoing finished images."""

import importlib.util
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from zssr.cli import main
from zssr.runlog import NAME, RunLog

from .conftest import PARALLEL_FLAGS

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                reason="Ray is not installed (pip install 'zssr[ray]')")


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"KERAS_BACKEND": os.environ["KERAS_BACKEND"]}})
    yield ray
    ray.shutdown()


def _lines(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _terminate_after_first(log, stop):
    """Deliver SIGTERM to the CLI's handler once the run log has an ``ok`` line, as a kill from
    outside would (it acts at its next poll); through the handler, not ``os.kill``, so that a
    run that ends first cannot leave this process to the default action."""
    from zssr.batch import SIGNALS

    while not stop.is_set():
        if any(e["status"] == "ok" for e in _lines(log)):
            SIGNALS.handler(signal.SIGTERM, None)
            return
        time.sleep(0.05)


def test_cluster_stops_resumes_and_matches_serial(ray_cluster, parallel_inputs,
                                                  serial_reference, tmp_path, capsys):
    out = tmp_path / "out"
    log = out / NAME
    stop = threading.Event()
    killer = threading.Thread(target=_terminate_after_first, args=(log, stop), daemon=True)
    killer.start()
    try:
        code = main([str(parallel_inputs), "-o", str(out), "--cluster", "ray", *PARALLEL_FLAGS])
    finally:
        stop.set()
        killer.join()
    assert code == 130
    first = _lines(log)
    done_first = {e["input"] for e in first if e["status"] == "ok"}
    assert 1 <= len(done_first) < 6, "the stop came too late to test a resumption"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "a partial file was left"
    kept = {e["output"]: Path(e["output"]).stat().st_mtime_ns for e in first
            if e["status"] == "ok"}
    capsys.readouterr()

    assert main([str(parallel_inputs), "-o", str(out), "--cluster", "ray", "--skip-existing",
                 *PARALLEL_FLAGS]) == 1  # broken.png
    err = capsys.readouterr().err
    assert err.count("broken.png") == 1 and "error:" in err
    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == serial_reference
    assert not [e for e in _lines(log)[len(first):] if e["input"] in done_first]
    assert {o: Path(o).stat().st_mtime_ns for o in kept} == kept
    final = RunLog(log).read()
    assert sorted(Path(k).name for k, e in final.items() if e["status"] == "ok") == \
        [f"im{i}.png" for i in range(6)]
    assert [Path(k).name for k, e in final.items() if e["status"] == "failed"] == ["broken.png"]
    assert ray_cluster.is_initialized()  # the module's instance was used, not shut down
