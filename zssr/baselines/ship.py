"""Put trained baseline weights into the package with their manifest entry.

    python -m zssr.baselines.ship --checkpoint-dir runs/edsr_x2 --scale 2 \\
        --set5 ../shared/data/set5 --hardware "2-core AMD EPYC CPU"

Exports ``best.weights.h5`` (the model's weights only) from a training run of
``zssr.baselines.train`` to ``zssr/baselines/weights/<name>_x<scale>.weights.h5``, measures
PSNR-Y / SSIM-Y on Set5 (the EDSR layout, MATLAB-made LR files), and writes the entry of
``manifest.json``: sha256, training data and recipe, iterations, hardware, seconds, and the
measured scores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..training import check_improved, export_best, run_record, write_manifest_entry
from . import WEIGHTS_DIR, build, load, sha256, upscale, weights_path

#: The run settings a manifest entry repeats as its recipe.
RECIPE_KEYS = ("batch_size", "patch", "lr", "min_lr", "schedule", "loss", "iters", "time_budget",
               "ema", "seed", "init_from", "init_from_sha256")


def set5_scores(model, set5: Path, scale: int) -> dict:
    """Mean PSNR-Y / SSIM-Y of the model on Set5 at ``scale`` (papers' protocol)."""
    from ..benchmark import load_edsr_layout
    from ..metrics import psnr, ssim

    rows = []
    for sample in load_edsr_layout(set5, scale):
        sr = upscale(model, sample.lr)
        rows.append((psnr(sr, sample.hr, scale=scale), ssim(sr, sample.hr, scale=scale)))
    return {"set5_psnr_y": float(np.mean([r[0] for r in rows])),
            "set5_ssim_y": float(np.mean([r[1] for r in rows]))}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m zssr.baselines.ship", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint-dir", required=True,
                   help="run folder of python -m zssr.baselines.train (its best.weights.h5)")
    p.add_argument("--scale", type=int, required=True, choices=[2, 3, 4],
                   help="scale the run was trained for")
    p.add_argument("--name", default="edsr-baseline", help="model name (default %(default)s)")
    p.add_argument("--set5", required=True, help="Set5 in the EDSR layout")
    p.add_argument("--hardware", required=True, help="where the training ran, in words")
    p.add_argument("--note", default="", help="free text for the manifest entry")
    args = p.parse_args(argv)

    ckpt = Path(args.checkpoint_dir)
    state = json.loads((ckpt / "state.json").read_text())
    try:
        check_improved(state, ckpt)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    target = weights_path(args.name, args.scale)
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    # Through a fresh, uncompiled model: the run's file also holds the optimiser's state.
    export_best(ckpt, target, lambda: build(args.name, args.scale))
    model = load(args.name, args.scale, weights=target)
    entry = {
        "file": target.name, "name": args.name, "scale": args.scale,
        "sha256": sha256(target), "bytes": target.stat().st_size,
        "params": int(model.count_params()),
        "recipe": {k: state["args"][k] for k in RECIPE_KEYS if k in state["args"]},
        **run_record(state), "hardware": args.hardware,
        **set5_scores(model, Path(args.set5), args.scale),
        "date": time.strftime("%Y-%m-%d"), "note": args.note,
    }
    write_manifest_entry(WEIGHTS_DIR / "manifest.json", entry)
    print(json.dumps(entry, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
