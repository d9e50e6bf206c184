"""Print the sha256 of zssr's outputs for a fixed small input, to check that a refactoring keeps
behaviour: run it before and after on the same machine and compare (``diff``).

    .venv/bin/python scripts/output_hashes.py [--work DIR] > hashes.txt

Runs the CLI (``run_zssr.py``) with ``ideal``, ``gradual`` and ``kernel`` (short
``--max-iters``), ``warm``, and EDSR-baseline x2 through the Python API, on a 64x64 crop of a
public-domain photo (scikit-image's astronaut). Same machine, same library versions: identical
lines. Takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RUNS = {
    "ideal": ["--preset", "ideal", "--max-iters", "40"],
    "gradual": ["--preset", "gradual", "--max-iters", "15"],
    "warm": ["--preset", "warm"],
    "kernel": ["--preset", "kernel", "--kernel", "{kernel}", "--max-iters", "40"],
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=None, help="folder for the inputs and outputs")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="zssr-hashes-"))
    work.mkdir(parents=True, exist_ok=True)

    import cv2
    from skimage import data

    crop = data.astronaut()[40:104, 180:244]
    cv2.imwrite(str(work / "input.png"), crop[:, :, ::-1])
    yy, xx = np.mgrid[-5:6, -5:6]
    kernel = np.exp(-(yy**2 / 3.0 + xx**2 / 1.2 + 0.6 * xx * yy / 1.5))
    np.save(work / "kernel.npy", (kernel / kernel.sum()).astype(np.float64))

    for name, flags in RUNS.items():
        out = work / name
        cmd = [sys.executable, str(ROOT / "run_zssr.py"), str(work / "input.png"), "--scale", "2",
               "-o", str(out), "-q", "--overwrite", "--seed", "0"]
        cmd += [f.format(kernel=work / "kernel.npy") for f in flags]
        subprocess.run(cmd, check=True)
        (png,) = sorted(out.glob("*.png"))
        print(f"{name:14s} {digest(png)}")

    from zssr import baselines

    image = crop.astype(np.float32) / 255.0
    sr = baselines.upscale(baselines.load("edsr-baseline", 2), image)
    as_uint8 = np.round(np.clip(sr, 0, 1) * 255).astype(np.uint8)
    print(f"{'edsr-baseline':14s} {hashlib.sha256(as_uint8.tobytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
