"""zssr.workers: thread, core and GPU limits of worker processes."""

import json
import os
import subprocess
import sys

import pytest

from zssr.workers import Slot, gpu_count, plan_slots


def test_plan_slots_shares_the_cores_without_overlap():
    slots = plan_slots(2, cpus=2, gpus=0)
    assert [s.threads for s in slots] == [1, 1]
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) >= 2:
        assert slots[0].cores == (allowed[0],) and slots[1].cores == (allowed[1],)
    assert all(s.gpu is None for s in slots)


def test_plan_slots_one_gpu_per_worker_round_robin():
    slots = plan_slots(3, cpus=6, gpus=2)
    assert [s.gpu for s in slots] == [0, 1, 0]
    assert [s.threads for s in slots] == [2, 2, 2]


def test_plan_slots_more_threads_than_cores_does_not_pin():
    slots = plan_slots(4, threads=3, cpus=2, gpus=0)
    assert all(s.threads == 3 and s.cores == () for s in slots)
    with pytest.raises(ValueError, match="workers"):
        plan_slots(0)


def test_gpu_count_follows_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,3")
    assert gpu_count() == 2
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert gpu_count() == 0
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpu_count() == 0


def test_limit_threads_sets_the_environment_before_keras(tmp_path):
    code = ("import json, os, sys; from zssr.workers import Slot, limit_threads; "
            "cpu = sorted(os.sched_getaffinity(0))[0]; "
            "limit_threads(Slot(1, (cpu,), 1)); "
            "print(json.dumps({k: os.environ.get(k) for k in ('TF_NUM_INTRAOP_THREADS', "
            "'OMP_NUM_THREADS', 'XLA_FLAGS', 'CUDA_VISIBLE_DEVICES', "
            "'XLA_PYTHON_CLIENT_PREALLOCATE')} | "
            "{'cores': sorted(os.sched_getaffinity(0)), 'cpu': cpu, "
            "'keras': 'keras' in sys.modules}))")
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True)
    got = json.loads(done.stdout)
    assert got["TF_NUM_INTRAOP_THREADS"] == got["OMP_NUM_THREADS"] == "1"
    assert "--xla_cpu_multi_thread_eigen=false" in got["XLA_FLAGS"]
    assert got["CUDA_VISIBLE_DEVICES"] == "1" and got["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert got["cores"] == [got["cpu"]] and got["keras"] is False


def test_limit_threads_refuses_once_keras_runs_with_other_threads(monkeypatch):
    import keras  # noqa: F401  (the test process has Keras running)

    from zssr.workers import limit_threads

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "7")
    with pytest.raises(RuntimeError, match="before Keras"):
        limit_threads(Slot(1))
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    limit_threads(Slot(1))  # a reused worker already set up for this slot
