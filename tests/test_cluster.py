"""``--cluster``: one Ray task per image (zssr.cluster), on a local Ray instance shared by the
module (``ray.init(num_cpus=2)``); the command line runs in this process and uses it.

A folder of tiny images completes with outputs bit-identical to the serial one-thread reference
of conftest, the broken file is reported while the others finish, and a run stopped midway
resumes from the run log without redoing finished images."""

import importlib.util
import os
import signal
import threading
import time

import pytest

from zssr.cli import main
from zssr.runlog import NAME

from .conftest import PARALLEL_FLAGS, check_resumed, check_stopped, run_log_lines

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                reason="Ray is not installed (pip install 'zssr[ray]')")


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"KERAS_BACKEND": os.environ["KERAS_BACKEND"]}})
    yield ray
    ray.shutdown()


def _terminate_after_first(log, stop):
    """Deliver SIGTERM to the CLI's handler once the run log has an ``ok`` line, as a kill from
    outside would (it acts at its next poll); through the handler, not ``os.kill``, so that a
    run that ends first cannot leave this process to the default action."""
    from zssr.batch import SIGNALS

    while not stop.is_set():
        if any(e["status"] == "ok" for e in run_log_lines(log)):
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
    first, kept = check_stopped(out, log)
    capsys.readouterr()

    assert main([str(parallel_inputs), "-o", str(out), "--cluster", "ray", "--skip-existing",
                 *PARALLEL_FLAGS]) == 1  # broken.png
    err = capsys.readouterr().err
    assert err.count("broken.png") == 1 and "error:" in err
    check_resumed(out, log, first, kept, serial_reference)
    assert ray_cluster.is_initialized()  # the module's instance was used, not shut down
