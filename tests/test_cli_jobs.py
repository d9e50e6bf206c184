"""zssr.cli_jobs: where a batch runs (--jobs, --threads, --cluster) and the flags' checks."""

import builtins
from pathlib import Path

import pytest

from zssr.batch import Job, UsageError
from zssr.cli import EXIT_USAGE, build_parser, main
from zssr.cli_jobs import check_flags, plan


def _args(*flags):
    return build_parser().parse_args(["x.png", *flags])


@pytest.mark.parametrize("flags, message", [
    (["--cluster", "ray", "--jobs", "2"], "--jobs runs worker processes"),
    (["--cluster", "spark"], "give ray"),
    (["--cpus-per-image", "2"], "apply to --cluster"),
    (["--jobs", "0"], "--jobs must be >= 1"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--cluster", "ray", "--cpus-per-image", "0"], "--cpus-per-image must be > 0"),
])
def test_check_flags_refuses_contradictions(flags, message):
    with pytest.raises(UsageError, match=message):
        check_flags(_args(*flags))


def test_bad_parallel_flags_exit_2_before_any_work(tmp_path, capsys):
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    assert main([str(image), "--jobs", "2", "--cluster", "ray"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --jobs")


def _jobs(tmp_path, n):
    return [Job(tmp_path / f"{i}.png", tmp_path / f"{i}.png") for i in range(n)]


def test_plan_serial_pool_and_one_worker_per_gpu(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert plan(_jobs(tmp_path, 3), _args()).mode == "serial"
    assert plan(_jobs(tmp_path, 3), _args("--threads", "1")).slots[0].threads == 1
    pool = plan(_jobs(tmp_path, 3), _args("--jobs", "2"))
    assert pool.mode == "pool" and len(pool.slots) == 2 and pool.todo == [0, 1, 2]
    assert plan(_jobs(tmp_path, 1), _args("--jobs", "4")).mode == "serial"  # one image
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    gpus = plan(_jobs(tmp_path, 5), _args())
    assert gpus.mode == "pool" and [s.gpu for s in gpus.slots] == [0, 1]
    ray = plan(_jobs(tmp_path, 2), _args("--cluster", "ray://head:10001",
                                         "--gpus-per-image", "0.5"))
    assert ray.mode == "ray" and ray.cluster["gpus_per_image"] == 0.5
    assert ray.cluster["address"] == "ray://head:10001"


def test_cluster_without_ray_is_one_line_with_the_install(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    from zssr.cluster import import_ray

    with pytest.raises(UsageError, match=r"Ray is not installed; pip install ray"):
        import_ray()


def test_threads_in_a_process_where_keras_runs_is_refused(tmp_path, capsys, monkeypatch):
    import keras  # noqa: F401

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "")
    image = tmp_path / "x.png"
    import imageio.v3 as iio
    import numpy as np

    iio.imwrite(image, np.zeros((8, 8, 3), np.uint8))
    assert main([str(image), "--threads", "1", "-o", str(tmp_path / "o")]) == EXIT_USAGE
    assert "new zssr process" in capsys.readouterr().err


def test_skip_existing_trusts_the_run_log_only_for_this_scale(tmp_path):
    from zssr.runlog import RunLog, entry

    (tmp_path / "in").mkdir()
    jobs = [Job(tmp_path / "in" / f"{n}.png", Path(f"{n}.png")) for n in "ab"]
    out = tmp_path / "out"
    out.mkdir()
    x2 = out / "a_zssr_x2.png"
    x2.write_bytes(b"png")
    RunLog(out / "zssr-run.jsonl").append(entry(input=jobs[0].path, output=x2, sha256="0",
                                                seconds=1, status="ok"))
    done = plan(jobs, _args("-o", str(out), "--skip-existing"))
    assert done.settled[0][2] == "done in an earlier run (run log)" and done.todo == [1]
    x4 = plan(jobs, _args("-o", str(out), "--skip-existing", "--scale", "4"))
    assert x4.settled == {} and x4.todo == [0, 1]  # the x2 entry does not count for x4


def test_all_skipped_starts_no_cluster(tmp_path, monkeypatch, capsys):
    import imageio.v3 as iio
    import numpy as np

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise AssertionError("Ray was imported although nothing was left to run")
        return real_import(name, *args, **kwargs)

    for n in "ab":
        iio.imwrite(tmp_path / f"{n}.png", np.zeros((8, 8, 3), np.uint8))
        (tmp_path / "out").mkdir(exist_ok=True)
        (tmp_path / "out" / f"{n}_zssr_x2.png").write_bytes(b"png")
    monkeypatch.setattr(builtins, "__import__", no_ray)
    assert main([str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "out"),
                 "--skip-existing", "--cluster", "ray"]) == 0
    assert capsys.readouterr().err.count("output exists") == 2
