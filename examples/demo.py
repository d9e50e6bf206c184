"""Demo: shrink a public-domain photo by 2, super-resolve it with ZSSR, compare with bicubic.

Run with ``make demo`` (or ``python examples/demo.py``). It runs the command line's
default, the recommended ``warm`` preset (200 fine-tuning steps from shipped weights); add
``--preset ideal`` to the ``main([...])`` call below for the paper's recipe (minutes). Writes to
``demo_output/``: the LR input, the ground truth, the bicubic and the ZSSR upscales, the
ZSSR sidecar JSON and ``report.html``, a page to open in a browser (drag the slider to compare
bicubic with ZSSR). The picture is scikit-image's ``astronaut`` (NASA, public domain).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.cli import main  # noqa: E402
from zssr.metrics import psnr, ssim  # noqa: E402
from zssr.resize import imresize  # noqa: E402


def run() -> int:
    out = ROOT / "demo_output"
    out.mkdir(exist_ok=True)
    hr = data.astronaut()[40:232, 140:332]  # 192x192 crop: face and suit details
    lr = np.round(np.clip(imresize(hr / 255.0, 0.5), 0, 1) * 255).astype(np.uint8)
    iio.imwrite(out / "astronaut_hr.png", hr)
    iio.imwrite(out / "astronaut_lr.png", lr)
    bicubic = np.clip(imresize(lr / 255.0, 2), 0, 1)
    iio.imwrite(out / "astronaut_bicubic_x2.png", np.round(bicubic * 255).astype(np.uint8))
    print("ZSSR x2 of demo_output/astronaut_lr.png (96x96 -> 192x192), preset warm")
    code = main([str(out / "astronaut_lr.png"), "--scale", "2", "-o", str(out),
                 "--gt", str(out / "astronaut_hr.png"), "--overwrite", "--report",
                 str(out / "report.html")])
    if code != 0:
        return code
    meta = json.loads((out / "astronaut_lr_zssr_x2.json").read_text())
    m = meta["metrics"]
    print(f"bicubic: PSNR-Y {psnr(bicubic, hr, scale=2):.2f} dB, "
          f"SSIM-Y {ssim(bicubic, hr, scale=2):.4f}")
    print(f"ZSSR:    PSNR-Y {m['psnr_y']:.2f} dB, SSIM-Y {m['ssim_y']:.4f} "
          f"({meta['iterations']} iterations, {meta['seconds']:.0f} s)")
    print(f"open {out / 'report.html'} in a browser to compare; outputs in {out}/:")
    for name in ("astronaut_lr.png", "astronaut_bicubic_x2.png", "astronaut_lr_zssr_x2.png",
                 "astronaut_hr.png", "astronaut_lr_zssr_x2.json"):
        print(f"  {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
