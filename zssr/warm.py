"""Warm-start weights for the ZSSR network: the shipped file, its manifest, and shipping it.

``ZSSRConfig(init_weights="warm")`` (the ``warm`` preset, ``run_zssr.py --init-weights warm``)
starts per-image training from generic weights instead of a random network; a path to a
``.weights.h5`` file of your own works the same way. The shipped weights are trained by
``python -m zssr.pretrain`` (multi-image training of the ZSSR network with the ZSSR sampler, x2
sons, mostly bicubic with some random Gaussian kernels) and put into the package with::

    python -m zssr.warm --checkpoint-dir runs/warm_x2 --hardware "2-core CPU" [--note TEXT]

which exports the run's best weights without optimiser state to ``zssr/weights/`` and writes
their entry of ``zssr/weights/manifest.json`` (sha256, size, training data and recipe,
iterations, hardware, seconds, validation PSNR-Y). Loading checks the sha256 against the
manifest and is offline.

References
----------
J. W. Soh, S. Cho, N. I. Cho, "Meta-Transfer Learning for Zero-Shot Super-Resolution",
CVPR 2020 (MZSR: ZSSR from a learned starting point needs far fewer updates).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["NAMES", "WEIGHTS_DIR", "manifest", "resolve", "main"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
NAMES = {"warm": "warm_x2.weights.h5"}


def manifest() -> dict[str, dict]:
    """Entries of ``zssr/weights/manifest.json`` keyed by file name (empty if there is none)."""
    from .training import read_manifest

    return read_manifest(WEIGHTS_DIR / "manifest.json")


def resolve(init_weights: str) -> str:
    """The file that ``init_weights`` names: a shipped name (``"warm"``), checked against the
    manifest's sha256, or else the path itself.

    Raises
    ------
    FileNotFoundError
        If a shipped name's file or manifest entry is missing.
    ValueError
        If a shipped file's sha256 differs from its manifest entry.
    """
    from .io import sha256_file

    if init_weights not in NAMES:
        return init_weights
    path = WEIGHTS_DIR / NAMES[init_weights]
    entry = manifest().get(path.name)
    if not path.is_file() or entry is None:
        raise FileNotFoundError(
            f"the shipped warm-start weights {path} (or their manifest entry) are missing; "
            "reinstall zssr, or pass a weights file of your own from `python -m zssr.pretrain`")
    if sha256_file(path) != entry["sha256"]:
        raise ValueError(f"{path} does not match the sha256 in its manifest; the file is "
                         "damaged: reinstall zssr")
    return str(path)


def main(argv: list[str] | None = None) -> int:
    from .io import sha256_file
    from .network import build_network
    from .training import check_improved, export_best, run_record, write_manifest_entry

    p = argparse.ArgumentParser(prog="python -m zssr.warm", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint-dir", required=True, help="a run of python -m zssr.pretrain")
    p.add_argument("--hardware", required=True, help="where the training ran, in words")
    p.add_argument("--note", default="", help="free text for the manifest entry")
    args = p.parse_args(argv)

    ckpt = Path(args.checkpoint_dir)
    state_file = ckpt / "state.json"
    if not state_file.is_file():
        p.error(f"no state.json in {ckpt}: not a finished or checkpointed pretrain run")
    state = json.loads(state_file.read_text())
    try:
        check_improved(state, ckpt)
    except ValueError as e:
        p.error(str(e))
    run = state["args"]
    target = WEIGHTS_DIR / NAMES["warm"]
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    export_best(ckpt, target, lambda: build_network(3, depth=run["depth"], width=run["width"]))
    params = build_network(3, depth=run["depth"], width=run["width"]).count_params()
    entry = {
        "file": target.name, "sha256": sha256_file(target), "bytes": target.stat().st_size,
        "params": int(params), "depth": run["depth"], "width": run["width"],
        "recipe": {k: run.get(k) for k in ("scale", "crop", "batch_size", "lr", "min_lr",
                                           "iters", "kernel_mix", "noise_std", "precision",
                                           "seed", "init_from", "init_from_sha256")},
        **run_record(state), "hardware": args.hardware,
        "date": time.strftime("%Y-%m-%d"), "note": args.note,
    }
    write_manifest_entry(WEIGHTS_DIR / "manifest.json", entry)
    print(f"wrote {target} ({entry['bytes']} bytes, step {entry['iterations']}, validation "
          f"PSNR-Y {entry['validation_psnr_y']}) and its manifest entry")
    return 0


if __name__ == "__main__":
    sys.exit(main())
