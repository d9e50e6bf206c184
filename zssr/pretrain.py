"""Generic starting weights for the ZSSR network (warm start), trained across many images.

    python -m zssr.pretrain --hr-dir ../shared/data/train --scale 2 --iters 20000 \\
        --checkpoint-dir runs/warm_x2 --output warm_x2.weights.h5

The idea of MZSR (Soh, Cho, Cho, CVPR 2020): ZSSR started from weights that already know how
images downscale needs far fewer per-image updates. Here the starting point is plain multi-image
training of the ZSSR network itself with the ZSSR sampler: each step draws HR fathers from
random training images (the same crops, flips, rotations and affine warps as per-image
training), makes their LR sons with the bicubic kernel or, with probability ``--kernel-mix``, a
random anisotropic Gaussian kernel of the DIV2KRK kind (so the start also suits non-bicubic
kernels), and learns son -> father with L1 and Adam (cosine schedule). Validation: PSNR-Y of the
network on held-out images, downscaled with bicubic and with a fixed random kernel each.

Use the result with ``run_zssr.py --init-weights FILE`` (or ``ZSSRConfig(init_weights=FILE)``).
Checkpoints and ``--resume`` work as in ``zssr.baselines.train``. Keras 3 only, so
``KERAS_BACKEND=jax`` trains on a GPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["FatherBatches", "main"]


class FatherBatches:
    """Batches of (interpolated LR son, HR father) from many images via the ZSSR sampler.

    Parameters
    ----------
    images : list of HxWx3 float arrays in [0, 1]
    scale : float
    crop : int
        Father side; fathers that come out smaller (small images, strong downscale) are drawn
        again so a batch has one shape.
    kernel_mix : float
        Probability that a father's son is made with a random Gaussian kernel instead of bicubic.
    rng : numpy Generator
    noise_std : float
        Gaussian noise on the sons.
    """

    def __init__(self, images: list[np.ndarray], scale: float, crop: int, kernel_mix: float,
                 rng: np.random.Generator, noise_std: float = 0.0) -> None:
        self.images = [im for im in images if min(im.shape[:2]) >= crop]
        if not self.images:
            raise ValueError(f"no training image is at least {crop} px on its shorter side")
        self.scale, self.crop, self.kernel_mix = float(scale), crop, kernel_mix
        self.rng, self.noise_std = rng, noise_std
        areas = np.array([im.shape[0] * im.shape[1] for im in self.images], dtype=np.float64)
        self.weights = areas / areas.sum()

    def _kernel(self) -> np.ndarray | None:
        from .kernels import random_gaussian_kernel

        if self.rng.random() >= self.kernel_mix:
            return None
        return random_gaussian_kernel(11, self.rng, scale=round(self.scale))

    def one(self) -> tuple[np.ndarray, np.ndarray]:
        from .sampler import FatherSource, father_to_son, interpolate_son, sample_hr_father

        pair = (self.scale, self.scale)
        for _ in range(100):
            image = self.images[self.rng.choice(len(self.images), p=self.weights)]
            father = sample_hr_father([FatherSource(image)], self.rng, crop_size=self.crop)
            if father.shape[:2] == (self.crop, self.crop):
                break
        else:
            raise RuntimeError("could not draw a full-size father in 100 tries; lower --crop")
        son = father_to_son(father, pair, self._kernel(), self.rng, noise_std=self.noise_std)
        return interpolate_son(son, pair, father.shape[:2]), father

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = zip(*(self.one() for _ in range(size)))
        return np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32)


def validation_set(images: list[np.ndarray], scale: float, seed: int = 1
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each held-out image: (interpolated son, image) with the bicubic kernel and with a
    fixed random Gaussian kernel."""
    from .kernels import random_gaussian_kernel
    from .sampler import father_to_son, interpolate_son

    rng = np.random.default_rng(seed)
    pair = (float(scale), float(scale))
    out = []
    for image in images:
        for kernel in (None, random_gaussian_kernel(11, rng, scale=round(scale))):
            son = father_to_son(image, pair, kernel, rng)
            son = np.round(son * 255) / 255
            out.append((interpolate_son(son, pair, image.shape[:2]), image))
    return out


def validate(model, pairs: list[tuple[np.ndarray, np.ndarray]], scale: float) -> float:
    """Mean PSNR-Y of the network's output against the HR images."""
    from .metrics import psnr
    from .network import forward

    return float(np.mean([psnr(np.clip(forward(model, x), 0, 1), y, scale=scale)
                          for x, y in pairs]))


def _read_rgb(paths: list[Path]) -> list[np.ndarray]:
    from .io import read_image

    images = []
    for p in paths:
        img = read_image(p).pixels
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        images.append(np.ascontiguousarray(img[:, :, :3], dtype=np.float32))
    return images


def pretrain(args: argparse.Namespace, log: Callable[[str], None] = print) -> dict:
    """Run pre-training as configured by the parsed command line; returns the final state."""
    import keras

    from . import training
    from .network import build_network

    ckpt, files, val_files = training.prepare_run(args)
    t0 = time.perf_counter()
    images, val_images = _read_rgb(files), _read_rgb(val_files)
    val_pairs = validation_set(val_images, args.scale)
    log(f"{len(images)} training images, {len(val_images)} validation images "
        f"({time.perf_counter() - t0:.1f} s to load)")

    schedule = training.learning_rate_for(args)
    if args.resume:
        model, state, rng = training.load_checkpoint(ckpt)
        training.set_learning_rate(model.optimizer, schedule)
        training.note_resume(state, args.iters, args.ema, args.time_budget)
        log(f"resumed at step {state['step']} from {ckpt}")
    else:
        model = build_network(3, depth=args.depth, width=args.width, seed=args.seed,
                              precision=args.precision)
        state = training.new_state(training.jsonable_args(args))
        if args.init_from:
            from .io import sha256_file
            from .network import load_initial_weights
            from .warm import resolve

            path = resolve(args.init_from)
            load_initial_weights(model, path, depth=args.depth, width=args.width)
            # The shipped file may be replaced by this run's result: keep which one it was.
            state["args"]["init_from_sha256"] = sha256_file(path)
            log(f"initialised from {path}")
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mean_absolute_error")
        rng = np.random.default_rng(args.seed)
    data = FatherBatches(images, args.scale, args.crop, args.kernel_mix, rng, args.noise_std)
    state = training.fit(
        model, state, rng, next_batch=lambda: data.batch(args.batch_size),
        validate=(lambda m: validate(m, val_pairs, args.scale)) if val_pairs else None,
        iters=args.iters, val_every=args.val_every, folder=ckpt, quiet=args.quiet,
        **training.fit_options(args))
    if args.output:
        out = training.export_best(ckpt, args.output, lambda: build_network(
            3, depth=args.depth, width=args.width))
        log(f"wrote {out} (step {state['best_step']}, validation PSNR-Y {state['best_score']})")
    return state


def build_parser() -> argparse.ArgumentParser:
    from . import training

    p = argparse.ArgumentParser(prog="python -m zssr.pretrain", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_run_flags(p, iters=20000, batch_size=8, lr=1e-3, min_lr=1e-5, val_every=500,
                           val_count=8)
    p.add_argument("--scale", type=float, default=2.0, help="scale of the sons (default 2)")
    p.add_argument("--crop", type=int, default=96, help="father side (default 96)")
    p.add_argument("--kernel-mix", type=float, default=0.5,
                   help="share of sons made with a random Gaussian kernel (default 0.5)")
    p.add_argument("--noise-std", type=float, default=0.0,
                   help="Gaussian noise added to the sons (default 0)")
    p.add_argument("--init-from", default=None,
                   help="start from these weights instead of random ones: a .weights.h5 file "
                        "of the same depth and width, or 'warm' for the shipped ones (their "
                        "sha256 is recorded)")
    p.add_argument("--depth", type=int, default=8,
                   help="layers of the ZSSR network (default 8; ZSSR must use the same)")
    p.add_argument("--width", type=int, default=64,
                   help="channels of the ZSSR network (default 64; ZSSR must use the same)")
    return p


def main(argv: list[str] | None = None) -> int:
    from . import training

    parser = build_parser()
    args = parser.parse_args(argv)
    training.check_run_flags(parser, args, ("crop", "depth", "width"))
    if not 0 <= args.kernel_mix <= 1:
        parser.error("--kernel-mix must be in [0, 1]")
    return training.run_main(pretrain, args)


if __name__ == "__main__":
    sys.exit(main())
