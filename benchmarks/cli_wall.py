"""Wall-clock time of one command-line run per image, start-up included (a new process each).

    python benchmarks/cli_wall.py [--dataset set5] [--scale 2] [--preset NAME] [--tag TAG]

Runs ``python -m zssr IMAGE --scale S -q`` (the default preset unless ``--preset``) once per LR
image of the data set, the way a user meets zssr: importing Keras, building the network, reading
the warm-start weights, training, the ensemble and writing the files all count. Prints a table
and writes ``benchmarks/results/cli_wall_<set>_x<s>[_TAG].{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.io import write_json  # noqa: E402
from zssr.provenance import machine_description  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="set5")
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--preset", default=None)
    p.add_argument("--tag", default="")
    args = p.parse_args(argv)
    images = sorted((DATA / args.dataset / "LR_bicubic" / f"X{args.scale}").glob("*.png"))
    if not images:
        p.error(f"no LR images under {DATA / args.dataset}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for image in images:
            cmd = [sys.executable, "-m", "zssr", str(image), "--scale", str(args.scale), "-o",
                   tmp, "-q", "--overwrite"] + (["--preset", args.preset] if args.preset else [])
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, cwd=tmp)
            wall = time.perf_counter() - t0
            sidecar = json.loads(next(Path(tmp).glob(f"{image.stem}_zssr_*.json")).read_text())
            rows.append({"image": image.stem, "wall_seconds": round(wall, 2),
                         "run_seconds": round(sidecar["seconds"], 2),
                         "preset": sidecar["preset"]})
            print(f"{image.stem}: {wall:.1f} s wall ({sidecar['seconds']:.1f} s in the run)")
    walls = [r["wall_seconds"] for r in rows]
    machine = machine_description()
    lines = [f"# One command-line run per image: {args.dataset} x{args.scale}, preset "
             f"`{rows[0]['preset']}`", "", f"Machine: {machine}. A new process per image "
             "(start-up included).", "", "| image | wall s | of which the run s |",
             "|---|---:|---:|"]
    lines += [f"| {r['image']} | {r['wall_seconds']:.1f} | {r['run_seconds']:.1f} |" for r in rows]
    lines += [f"| **median** | **{statistics.median(walls):.1f}** | |", ""]
    text = "\n".join(lines)
    print(text)
    stem = ROOT / "benchmarks" / "results" / (
        f"cli_wall_{args.dataset}_x{args.scale}" + (f"_{args.tag}" if args.tag else ""))
    write_json(stem.with_suffix(".json"), {"machine": machine, "rows": rows,
                                           "median_wall_seconds": statistics.median(walls)})
    stem.with_suffix(".md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
