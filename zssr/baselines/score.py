"""Score baseline weights files on the images a training run holds out, here, in float32.

    python -m zssr.baselines.score --hr-dir ../shared/data/train --scale 3 \\
        zssr/baselines/weights/edsr-baseline_x3.weights.h5 runs/gpu/x3_best.weights.h5

The held-out images are chosen as ``zssr.baselines.train`` chooses them (``--val-dir``, or the
last ``--val-count`` images of ``--hr-dir``) and scored the way it validates (PSNR-Y, shave =
scale). Weights trained elsewhere (a GPU, another precision) are compared with the shipped ones
on the same machine and precision before one of them is shipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m zssr.baselines.score", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", nargs="+", help=".weights.h5 files of the model below")
    p.add_argument("--hr-dir", action="append", required=True,
                   help="the training folder(s) of the run (repeatable)")
    p.add_argument("--val-dir", action="append", default=None,
                   help="validation folder, if the run had one")
    p.add_argument("--val-count", type=int, default=10, help="held-out images (default 10)")
    p.add_argument("--scale", type=int, required=True, choices=[2, 3, 4])
    p.add_argument("--model", default="edsr-baseline", choices=["edsr-baseline"])
    args = p.parse_args(argv)

    import keras

    from ..io import list_images
    from ..training import split_validation
    from . import build
    from .train import load_folder, validate

    keras.mixed_precision.set_global_policy("float32")
    try:
        missing = [w for w in args.weights if not Path(w).is_file()]
        if missing:
            raise FileNotFoundError(f"no weights file {', '.join(missing)}")
        _, val_files = split_validation(
            list_images(args.hr_dir), list_images(args.val_dir) if args.val_dir else None,
            args.val_count)
        pairs = load_folder(val_files, args.scale)
        model = build(args.model, args.scale)
        for path in args.weights:
            model.load_weights(path)
            print(f"{validate(model, pairs, args.scale):.4f}  {path}")
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
