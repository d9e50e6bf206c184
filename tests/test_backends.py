"""The engine, the kernel estimator and EDSR-baseline under ``KERAS_BACKEND=jax`` against
TensorFlow, on the CPU.

Keras fixes its backend once per process, so ``tests/backend_probe.py`` runs once per backend,
each in a subprocess (the two at once, on the CPU only), and the tests compare the two ``.npz``
files it writes. The whole module is skipped where jax is not installed.

What is compared, and why so:

* **EDSR-baseline** (shipped weights, no randomness): the outputs are equal within float
  rounding.
* **The engine** with the ``warm`` preset (shipped starting weights, fewer iterations, float32):
  both backends start from the same weights and draw the same fathers and sons (NumPy's
  generator), so they train alike; float rounding differs and Adam carries it along, so the
  outputs agree closely, not to the bit: their PSNR to each other is high and their PSNR-Y
  against the ground truth agrees within 0.05 dB.
* **No random-start engine run.** Keras's seeded ``RandomNormal`` draws different numbers on
  TensorFlow and JAX, and a random-start network starts as nearly the identity (each layer
  scales the residual by about ``init_variance``) and stays so for hundreds of iterations: a run
  short enough for this module compares two back-projected interpolations, not two trainings.
  The warm run covers the same training and prediction code from identical weights.
* **The kernel estimator**, made to start identically: the probe draws KernelGAN's seeded
  initial weights from NumPy (in the probe process only; zssr is unchanged), and the crops and
  noise come from NumPy's generator. The first two iterations' losses then agree within float
  tolerance: this checks the forward passes of generator and discriminator, the kernel priors,
  the gradients and the first Adam step of each network. The estimate itself is only checked to
  be a valid kernel. Comparing final kernels fails for a reason other than the backend: from
  about the third iteration on, rounding differences grow (Adam's first steps are about
  ``lr * sign(gradient)``, so a gradient near zero flips its step), so each backend's estimate
  is another draw from the spread that different seeds give on TensorFlow. After 30-150
  iterations that spread of the centre of mass and second moments is several pixels, so a
  tolerance that never fails would test nothing. After 200 iterations it narrows, but with
  outliers, so a tolerance safe across machines would still be wide, and those 200 iterations
  would take most of this module's time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zssr.metrics import psnr

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).resolve().with_name("backend_probe.py")
BACKENDS = ("tensorflow", "jax")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="jax is not installed, so the JAX backend cannot be compared with TensorFlow "
           "(pip install 'jax>=0.4.30')")


def _environment(backend: str) -> dict[str, str]:
    """The probe's environment: ``backend``, this checkout first on the path, CPU only."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env.update(KERAS_BACKEND=backend, PYTHONPATH=str(ROOT) + (os.pathsep + path if path else ""),
               CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3",
               # One thread each: the two probes run at once, and two thread pools each as
               # wide as the machine slow both down several times.
               OMP_NUM_THREADS="1", TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1",
               XLA_FLAGS=(env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                          "intra_op_parallelism_threads=1").strip())
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict[str, np.ndarray]]:
    """Each backend's probe results (``backend_probe.py``), keyed by backend."""
    folder = tmp_path_factory.mktemp("backends")
    procs = {}
    for backend in BACKENDS:
        log = open(folder / f"{backend}.log", "wb")  # noqa: SIM115 (closed below)
        procs[backend] = (subprocess.Popen(
            [sys.executable, str(PROBE), str(folder / f"{backend}.npz")], cwd=ROOT,
            env=_environment(backend), stdout=log, stderr=subprocess.STDOUT), log)
    results = {}
    for backend, (proc, log) in procs.items():
        try:
            code = proc.wait(timeout=900)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        log.close()
        if code != 0:
            tail = (folder / f"{backend}.log").read_text(errors="replace")[-4000:]
            pytest.fail(f"backend_probe.py failed under KERAS_BACKEND={backend} "
                        f"(exit {code}):\n{tail}")
        with np.load(folder / f"{backend}.npz") as data:
            results[backend] = {name: data[name] for name in data.files}
    return results


def test_probes_ran_on_their_backends(runs):
    for backend in BACKENDS:
        assert str(runs[backend]["backend"]) == backend
        assert set(json.loads(str(runs[backend]["seconds"]))) == {"warm", "kernel", "edsr"}


def test_edsr_baseline_equal(runs):
    tf, jx = runs["tensorflow"]["edsr"], runs["jax"]["edsr"]
    assert jx.shape == tf.shape == (64, 64, 3)
    assert jx.dtype == np.float32
    np.testing.assert_allclose(jx, tf, rtol=0, atol=1e-4)


def test_warm_engine_output_close(runs):
    tf, jx = runs["tensorflow"]["warm"], runs["jax"]["warm"]
    assert jx.shape == tf.shape == (64, 64, 3)
    assert jx.dtype == np.float32
    np.testing.assert_allclose(jx, tf, rtol=0, atol=1e-4)


def test_warm_engine_quality_equal(runs):
    hr = runs["tensorflow"]["hr"]
    tf = psnr(runs["tensorflow"]["warm"], hr, scale=2)
    jx = psnr(runs["jax"]["warm"], hr, scale=2)
    bicubic = psnr(np.clip(_bicubic_x2(runs["tensorflow"]["lr"]), 0, 1), hr, scale=2)
    assert tf > bicubic + 1.0, "the warm run should clearly beat bicubic here"
    assert abs(jx - tf) < 0.05, f"PSNR-Y: jax {jx:.3f} dB, TensorFlow {tf:.3f} dB"


def _bicubic_x2(image: np.ndarray) -> np.ndarray:
    from zssr.resize import imresize

    return imresize(image, 2.0)


def test_kernel_estimate_valid_under_jax(runs):
    k = runs["jax"]["kernel"]
    assert k.shape == runs["tensorflow"]["kernel"].shape == (13, 13)
    assert np.isfinite(k).all() and (k >= 0).all()
    assert abs(k.sum() - 1.0) < 1e-9


def test_kernel_first_iterations_equal(runs):
    """Same starting weights, crops and noise: the first iteration's losses agree to float
    rounding, the second's (after one Adam step of each network) nearly so."""
    tf, jx = runs["tensorflow"]["kernel_losses"], runs["jax"]["kernel_losses"]
    assert tf.shape == jx.shape == (10, 2)
    np.testing.assert_allclose(jx[0], tf[0], rtol=1e-5)
    np.testing.assert_allclose(jx[1], tf[1], rtol=1e-3)

