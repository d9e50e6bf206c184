"""Benchmark: dataset x method x scale -> per-image PSNR-Y / SSIM-Y / seconds, md + json.

Three layouts are read:

* EDSR (Set5, Set14, BSD100): ``HR/<name>.png`` and ``LR_bicubic/X<s>/<name>x<s>.png``; each HR is
  mod-cropped to a multiple of the scale.
* DIV2KRK: ``gt/im_N.png``, ``lr_x<s>/im_N.png`` and the ground-truth kernels
  ``gt_k_x<s>/kernel_N.mat``.
* Any other folder of HR images (e.g. your own photos): each is mod-cropped and its LR made with
  our MATLAB-compatible bicubic, rounded to 8 bits.

Methods: ``bicubic`` (interpolation), ``zssr`` (ZSSR assuming the bicubic kernel, ``--preset``),
``zssr-gt`` (ZSSR with the ground-truth kernel) and ``zssr-estimated`` (KernelGAN estimate, then
ZSSR; both run preset ``kernel`` unless ``--preset`` names another; the estimate also reports its
kernel error and how well it re-synthesises the LR image from the ground truth), and the
supervised baselines of :mod:`zssr.baselines` by name (``edsr-baseline``, shipped weights or
``--baseline-weights``; ``edsr-baseline-ensemble`` is the same network with the geometric
self-ensemble, EDSR's "+": the mean of its outputs for the 8 flips and quarter turns).
Scores follow the SR papers' protocol (Y of MATLAB's rgb2ycbcr, shave = scale, outputs rounded to
8 bits first; SSIM with an 11x11 Gaussian, sigma 1.5). Examples::

    python -m zssr.benchmark --dataset ../shared/data/set5 --scale 2 --method bicubic,zssr
    python -m zssr.benchmark --dataset ../shared/data/div2krk --scale 2 \\
        --method bicubic,zssr,zssr-gt,zssr-estimated --images 2,3,6

Each method's table is written as ``<set>_x<s>_<method>.md/.json``; with several methods, one
comparison table (``..._compare_<methods>.md/.csv/.json``) and a figure (``.png``: the same zoomed
crop of every image from each method beside the ground truth) are written too.
"""

from .datasets import Sample, load_dataset, load_div2krk_layout, load_edsr_layout, load_hr_folder
from .methods import (
    BASELINES,
    ENSEMBLE,
    METHODS,
    REGISTRY,
    Method,
    get,
    method_key,
    preset_for,
    register,
    resynthesis_psnr,
)
from .runner import evaluate
from .tables import (
    compare_markdown,
    comparison_table,
    figure_box,
    method_markdown,
    write_comparison,
    write_figure,
)

__all__ = ["Sample", "load_dataset", "load_edsr_layout", "load_div2krk_layout", "load_hr_folder",
           "Method", "REGISTRY", "METHODS", "BASELINES", "ENSEMBLE", "register", "get",
           "preset_for", "method_key", "resynthesis_psnr", "evaluate", "figure_box",
           "comparison_table", "compare_markdown", "method_markdown", "write_figure",
           "write_comparison", "main"]


def main(argv: list[str] | None = None) -> int:
    """``python -m zssr.benchmark``: see :func:`zssr.benchmark.cli.main`."""
    from .cli import main as run

    return run(argv)
