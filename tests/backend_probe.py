"""Run zssr's engine, kernel estimator and EDSR-baseline on small fixed inputs under this
process's Keras backend and save what they return, for ``tests/test_backends.py``.

    KERAS_BACKEND=jax python tests/backend_probe.py OUT.npz [--seed N]

Not a test module (pytest does not collect it): Keras fixes its backend once per process, so the
tests run this script once per backend, each in a subprocess, and compare the two files.

The file holds ``hr`` (a 64x64 crop of scikit-image's astronaut) and ``lr`` (its MATLAB-bicubic
x0.5); ``warm``: ``zssr.ZSSR`` with the ``warm`` preset (fewer iterations, float32) on ``lr``;
``kernel``: :func:`zssr.estimate.estimate_kernel` on a 96x96 crop and ``kernel_losses``, its
generator and discriminator loss of every iteration; ``edsr``: the shipped EDSR-baseline x2 on
``lr``; ``backend`` and ``seconds`` (JSON, per part).

The kernel estimation draws its random starting weights from NumPy (see
:func:`numpy_random_normal`), so that it starts from the same weights on every backend.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator

import numpy as np

WARM_ITERS = 10
KERNEL_ITERS = 10


def astronaut_crop(top: int, left: int, size: int) -> np.ndarray:
    """A ``size`` x ``size`` RGB crop of scikit-image's astronaut, float32 in [0, 1]."""
    from skimage import data

    return data.astronaut()[top:top + size, left:left + size].astype(np.float32) / 255.0


@contextlib.contextmanager
def numpy_random_normal() -> Iterator[None]:
    """Within the block, ``keras.initializers.RandomNormal(mean, stddev, seed)`` draws from
    ``np.random.default_rng(seed)``: the same numbers on every backend (Keras's own seeded
    initialisers draw different numbers on TensorFlow and JAX). zssr is not changed; the
    initialiser is restored on exit."""
    import keras

    class NumpyRandomNormal(keras.initializers.Initializer):
        """N(``mean``, ``stddev``) from NumPy's generator seeded with ``seed``."""

        def __init__(self, mean=0.0, stddev=0.05, seed=None):
            self.mean, self.stddev, self.seed = float(mean), float(stddev), int(seed or 0)

        def __call__(self, shape, dtype=None):
            values = np.random.default_rng(self.seed).normal(self.mean, self.stddev, shape)
            return keras.ops.convert_to_tensor(values.astype("float32"), dtype=dtype)

        def get_config(self):
            return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}

    original = keras.initializers.RandomNormal
    keras.initializers.RandomNormal = NumpyRandomNormal
    try:
        yield
    finally:
        keras.initializers.RandomNormal = original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the .npz file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the ZSSR and KernelGAN runs")
    args = parser.parse_args(argv)

    import keras

    import zssr
    from zssr import baselines
    from zssr.estimate import KernelGANConfig, estimate_kernel
    from zssr.resize import imresize

    hr = astronaut_crop(100, 180, 64)
    lr = np.clip(imresize(hr, 0.5), 0.0, 1.0).astype(np.float32)
    results: dict[str, np.ndarray] = {"hr": hr, "lr": lr}
    seconds = {}

    t0 = time.perf_counter()
    # float32: "auto" would pick bfloat16 on CPUs that have it, rounded differently per backend.
    cfg = zssr.preset("warm", max_iters=WARM_ITERS, precision="float32", seed=args.seed)
    results["warm"] = zssr.ZSSR(cfg).upscale(lr, 2)
    seconds["warm"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    losses: list[tuple[float, float]] = []
    with numpy_random_normal():
        results["kernel"] = estimate_kernel(
            astronaut_crop(40, 160, 96), 2,
            config=KernelGANConfig(max_iters=KERNEL_ITERS, ensemble=1, seed=args.seed),
            progress=lambda event: losses.append((event.g_loss, event.d_loss)))
    results["kernel_losses"] = np.array(losses, dtype=np.float64)
    seconds["kernel"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    results["edsr"] = baselines.upscale(baselines.load("edsr-baseline", 2), lr)
    seconds["edsr"] = time.perf_counter() - t0

    results["backend"] = np.array(keras.backend.backend())
    results["seconds"] = np.array(json.dumps(seconds))
    np.savez(args.out, **results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
