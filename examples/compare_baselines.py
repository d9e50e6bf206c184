"""Compare ZSSR with bicubic and EDSR-baseline from Python: the harness in a few lines.

    .venv/bin/python examples/compare_baselines.py ../shared/data/set5 2

The same as ``python -m zssr.benchmark --dataset DIR --scale S --method
bicubic,edsr-baseline,edsr-baseline-ensemble,zssr`` with a short ZSSR budget, writing the table
(md/csv/json) and the crop figure to ./comparison/. ``edsr-baseline-ensemble`` averages the
network's outputs over the 8 flips and quarter turns (EDSR's "+"; about 8x the time of one pass).
"""

import sys
import time
from pathlib import Path

from zssr import __version__
from zssr.benchmark import evaluate, load_dataset, write_comparison
from zssr.provenance import machine_description

if len(sys.argv) != 3:
    sys.exit(f"usage: {sys.argv[0]} DATASET_DIR SCALE\n{__doc__}")
dataset, scale = Path(sys.argv[1]), int(sys.argv[2])
samples = load_dataset(dataset, scale)
tables = [
    evaluate(samples, "bicubic", keep_crops=True),
    evaluate(samples, "edsr-baseline", keep_crops=True),            # shipped weights
    evaluate(samples, "edsr-baseline-ensemble", keep_crops=True),   # the same, self-ensemble
    evaluate(samples, "zssr", preset_name="ideal", overrides={"max_iters": 500},
             keep_crops=True),
]
meta = {"dataset": dataset.name, "scale": scale, "preset": "ideal",
        "overrides": {"max_iters": 500}, "machine": machine_description(), "version": __version__,
        "date": time.strftime("%Y-%m-%d")}
out = Path("comparison")
out.mkdir(exist_ok=True)
for path in write_comparison(out, f"{dataset.name}_x{scale}", meta, tables, samples):
    print("wrote", path)
