"""Train a supervised baseline (EDSR-baseline) on a folder of HR images.

    python -m zssr.baselines.train --hr-dir ../shared/data/train --scale 2 \\
        --iters 300000 --checkpoint-dir runs/edsr_x2 --output edsr-baseline_x2.weights.h5

LR inputs are made from the HR images with ``zssr.resize.imresize`` (MATLAB's bicubic with
antialiasing) and rounded to 8 bits, like the LR files of the benchmark sets. Each step draws
``--batch-size`` aligned random crops (``--patch`` LR pixels) with random flips and quarter turns;
the loss is L1 (``--loss l2``: mean squared error, a common last stage for PSNR; from our shipped
x3/x4 files it lowered the validation score, see benchmarks/README.md), the optimiser Adam with a
cosine or step schedule. Every ``--val-every`` steps the model is scored (PSNR-Y, shave = scale)
on held-out images (``--val-dir``, or the last ``--val-count`` images of the training folders,
which are then not trained on); the best weights are kept (with ``--ema``, an exponential
moving average of the weights is what is scored and kept). ``--checkpoint-dir`` holds
``last.keras`` (model and optimiser state), ``state.json`` (step, sampler state, history),
``log.jsonl`` and, with ``--ema``, ``ema.npz``; ``--resume`` continues from them. x3/x4
models can start from x2 weights with ``--init-from`` (every layer whose name and shape agree is
copied: all but the upsampler at x3, and at x4 also its first x2 stage); a run from given
weights scores them first (step 0), so its best is never worse than its start.
``--time-budget SECONDS`` trains for a fixed time instead of ``--iters`` steps: the cosine then
runs over the time, and the run stops when it is spent (``scripts/device_finetune.sh`` uses it
on a GPU whose speed is not known in advance).

Only Keras 3 APIs are used, so ``KERAS_BACKEND=jax`` trains on a GPU where one is available.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["TrainData", "load_folder", "make_pairs", "train", "main"]

def make_pairs(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Mod-crop an 8-bit RGB HR image to a multiple of ``scale`` and make its 8-bit LR version
    with MATLAB-compatible bicubic downscaling. Returns (lr, hr) as uint8."""
    from ..resize import imresize

    h, w = hr.shape[0] - hr.shape[0] % scale, hr.shape[1] - hr.shape[1] % scale
    hr = hr[:h, :w]
    lr = imresize(hr.astype(np.float32) / 255.0, 1.0 / scale, output_shape=(h // scale,
                                                                            w // scale))
    lr = np.clip(np.round(lr * 255.0), 0, 255).astype(np.uint8)
    return lr, hr


def load_folder(paths: Sequence[Path], scale: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Read images (gray ones become RGB) and make their (lr, hr) uint8 pairs."""
    from ..io import read_image

    pairs = []
    for p in paths:
        img = read_image(p).pixels
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        img = np.clip(np.round(img[:, :, :3] * 255.0), 0, 255).astype(np.uint8)
        pairs.append(make_pairs(img, scale))
    return pairs


class TrainData:
    """Random aligned LR/HR crops with flips and quarter turns.

    Parameters
    ----------
    pairs : list of (lr, hr) uint8 arrays
    scale, patch : int
        Upscaling factor and LR crop side (the HR crop is ``scale * patch``); images smaller
        than a crop are skipped.
    rng : numpy Generator
    """

    def __init__(self, pairs: list[tuple[np.ndarray, np.ndarray]], scale: int, patch: int,
                 rng: np.random.Generator) -> None:
        self.pairs = [p for p in pairs if min(p[0].shape[:2]) >= patch]
        if not self.pairs:
            raise ValueError(f"no training image has an LR side >= patch ({patch})")
        self.scale, self.patch, self.rng = scale, patch, rng
        # Larger images are drawn more often, so every pixel is about equally likely.
        areas = np.array([p[0].shape[0] * p[0].shape[1] for p in self.pairs], dtype=np.float64)
        self.weights = areas / areas.sum()

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        s, p = self.scale, self.patch
        lr_b = np.empty((size, p, p, 3), dtype=np.float32)
        hr_b = np.empty((size, p * s, p * s, 3), dtype=np.float32)
        for n in range(size):
            lr, hr = self.pairs[self.rng.choice(len(self.pairs), p=self.weights)]
            y = int(self.rng.integers(0, lr.shape[0] - p + 1))
            x = int(self.rng.integers(0, lr.shape[1] - p + 1))
            a, b = lr[y:y + p, x:x + p], hr[y * s:(y + p) * s, x * s:(x + p) * s]
            k = int(self.rng.integers(0, 8))
            if k & 4:
                a, b = a[:, ::-1], b[:, ::-1]
            a, b = np.rot90(a, k & 3), np.rot90(b, k & 3)
            lr_b[n], hr_b[n] = a, b
        return lr_b / np.float32(255.0), hr_b / np.float32(255.0)


#: ``--loss`` -> the Keras loss the model is compiled with.
LOSSES = {"l1": "mean_absolute_error", "l2": "mean_squared_error"}


def _schedule(args: argparse.Namespace):
    """The optimiser's rate: :func:`zssr.training.learning_rate_for` (cosine over the steps or
    the time), or with ``--schedule step`` halved every ``--step-every`` steps."""
    import keras

    from .. import training

    if args.schedule == "cosine":
        return training.learning_rate_for(args)
    if args.time_budget:
        raise ValueError("--time-budget runs a cosine over the time; drop --schedule step")
    return keras.optimizers.schedules.ExponentialDecay(args.lr, decay_steps=args.step_every,
                                                       decay_rate=0.5, staircase=True)


def validate(model, pairs: list[tuple[np.ndarray, np.ndarray]], scale: int) -> float:
    """Mean PSNR-Y (shave = scale) of the model on (lr, hr) uint8 pairs."""
    from ..metrics import psnr
    from . import upscale

    scores = [psnr(upscale(model, lr.astype(np.float32) / 255.0),
                   hr.astype(np.float32) / 255.0, scale=scale) for lr, hr in pairs]
    return float(np.mean(scores))


def _copy_matching_weights(model, source_path: Path, scale_from: int, **arch) -> list[str]:
    """Copy every layer of an x``scale_from`` model of the same family into ``model`` where the
    names and shapes agree (all but the upsampler, whose first x2 stage also fits an x4 model);
    returns the copied layer names."""
    from . import build

    src = build("edsr-baseline", scale_from, **arch)
    src.load_weights(str(source_path))
    by_name = {layer.name: layer for layer in src.layers}
    copied = []
    for layer in model.layers:
        other = by_name.get(layer.name)
        if other is None or not layer.weights:
            continue
        if [w.shape for w in layer.get_weights()] == [w.shape for w in other.get_weights()]:
            layer.set_weights(other.get_weights())
            copied.append(layer.name)
    return copied


def train(args: argparse.Namespace, log: Callable[[str], None] = print) -> dict:
    """Run training as configured by the parsed command line; returns the final state."""
    import keras

    from .. import training
    from . import build, sha256

    keras.mixed_precision.set_global_policy(args.precision)
    arch = {"n_blocks": args.blocks, "width": args.width}
    ckpt, files, val_files = training.prepare_run(args)
    t0 = time.perf_counter()
    pairs = load_folder(files, args.scale)
    val_pairs = load_folder(val_files, args.scale)
    log(f"{len(pairs)} training images, {len(val_pairs)} validation images "
        f"({time.perf_counter() - t0:.1f} s to load)")

    schedule = _schedule(args)
    if args.resume:
        from . import models  # noqa: F401  (registers the custom layers for deserialisation)

        model, state, rng = training.load_checkpoint(ckpt)
        # The step count lives in the optimiser; the schedule follows this run's flags, so a
        # resumed run may extend --iters (the cosine then spans the new total).
        training.set_learning_rate(model.optimizer, schedule)
        trained_loss = state["args"].get("loss", "l1")  # runs from before --loss used L1
        if args.loss != trained_loss:
            raise ValueError(f"--resume: the run was trained with --loss {trained_loss}, not "
                             f"{args.loss}; start a new run with --init-from to change the loss")
        training.note_resume(state, args.iters, args.ema, args.time_budget)
        log(f"resumed at step {state['step']} from {ckpt}")
    else:
        model = build(args.model, args.scale, seed=args.seed, **arch)
        state = training.new_state(training.jsonable_args(args))
        if args.init_from:
            copied = _copy_matching_weights(model, Path(args.init_from), args.init_scale, **arch)
            # A run often starts from a shipped file that its own result later replaces:
            # keep which file it was.
            state["args"]["init_from_sha256"] = sha256(args.init_from)
            log(f"initialised {len(copied)} layers from {args.init_from}")
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss=LOSSES[args.loss])
        rng = np.random.default_rng(args.seed)
    data = TrainData(pairs, args.scale, args.patch, rng)
    state = training.fit(
        model, state, rng, next_batch=lambda: data.batch(args.batch_size),
        validate=(lambda m: validate(m, val_pairs, args.scale)) if val_pairs else None,
        iters=args.iters, val_every=args.val_every, folder=ckpt, quiet=args.quiet,
        **training.fit_options(args))
    if args.output:
        keras.mixed_precision.set_global_policy("float32")  # shipped weights: float32 model
        out = training.export_best(ckpt, args.output,
                                   lambda: build(args.model, args.scale, **arch))
        log(f"wrote {out} (step {state['best_step']}, validation PSNR-Y {state['best_score']})")
    return state


def build_parser() -> argparse.ArgumentParser:
    from .. import training

    p = argparse.ArgumentParser(prog="python -m zssr.baselines.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_run_flags(p, iters=300000, batch_size=16, lr=2e-4, min_lr=1e-6,
                           val_every=1000, val_count=10)
    p.add_argument("--scale", type=int, required=True, choices=[2, 3, 4])
    p.add_argument("--model", default="edsr-baseline", choices=["edsr-baseline"])
    p.add_argument("--blocks", type=int, default=16,
                   help="residual blocks (default 16: EDSR-baseline; fewer for experiments)")
    p.add_argument("--width", type=int, default=64, help="channels (default 64)")
    p.add_argument("--patch", type=int, default=48, help="LR crop side (default 48)")
    p.add_argument("--schedule", choices=["cosine", "step"], default="cosine")
    p.add_argument("--loss", choices=sorted(LOSSES), default="l1",
                   help="l1 (default, as EDSR) or l2 (mean squared error)")
    p.add_argument("--step-every", type=int, default=100000,
                   help="step schedule: halve the rate every N steps (default 100000)")
    p.add_argument("--init-from", default=None,
                   help="start from these weights (e.g. x2 weights for an x3/x4 model; their "
                        "sha256 is recorded)")
    p.add_argument("--init-scale", type=int, default=2, help="scale of --init-from (default 2)")
    return p


def main(argv: list[str] | None = None) -> int:
    from .. import training

    parser = build_parser()
    args = parser.parse_args(argv)
    training.check_run_flags(parser, args, ("patch", "blocks", "width"))
    return training.run_main(train, args)


if __name__ == "__main__":
    sys.exit(main())
