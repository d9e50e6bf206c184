"""Images per minute over a folder: one process (serial), ``--jobs N`` and a local Ray cluster,
each in the same run on the same machine.

    python benchmarks/folder_throughput.py [--images 16] [--crop 0] [--workers 2] [--repeats 1]
                                           [--tag TAG]

Takes the first ``--images`` BSD200 training images (``../shared/data/train/BSD200``, 481x321 or
321x481), or their central ``--crop`` x ``--crop`` squares, and upscales the folder x2 with the
default preset through the command line (``python -m zssr FOLDER -o OUT -q``), three times:
serial (all cores for each image), ``--jobs N``, and ``--cluster ray --cpus-per-image
cores/N`` (Ray started by the command, so its start-up counts). Wall time is measured around the
whole command, start-up included; per-image seconds come from the run log. With ``--repeats R``
the three modes run in turn R times (serial, jobs, Ray, serial, ...) and each row gives the
median wall time, so a slow spell of the machine does not fall on one mode. The outputs of the
two parallel runs (same threads per image) are compared bit for bit. Prints a table and writes
``benchmarks/results/folder_throughput_<size>[_TAG].{md,json}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr.io import atomic_write, write_json  # noqa: E402
from zssr.provenance import machine_description  # noqa: E402
from zssr.runlog import NAME  # noqa: E402
from zssr.workers import cpu_count  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "train" / "BSD200"
RESULTS = ROOT / "benchmarks" / "results"


def make_inputs(folder: Path, n: int, crop: int) -> list[tuple[int, int]]:
    import imageio.v3 as iio

    sources = sorted(DATA.glob("*.png"))[:n]
    if len(sources) < n:
        raise SystemExit(f"need {n} images under {DATA}, found {len(sources)}")
    shapes = []
    for src in sources:
        pixels = iio.imread(src)
        if crop:
            h, w = pixels.shape[:2]
            top, left = (h - crop) // 2, (w - crop) // 2
            pixels = pixels[top:top + crop, left:left + crop]
        iio.imwrite(folder / src.name, pixels)
        shapes.append(pixels.shape[:2])
    return shapes


def run(mode: str, flags: list[str], inputs: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "zssr", str(inputs), "-o", str(out), "-q", "--seed", "0",
           *flags]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{mode}: exit {done.returncode}\n{done.stderr[-2000:]}")
    log = [json.loads(line) for line in (out / NAME).read_text().splitlines()]
    seconds = [e["seconds"] for e in log]
    digest = hashlib.sha256()
    for png in sorted(out.glob("*.png")):
        digest.update(png.read_bytes())
    return {"mode": mode, "flags": " ".join(flags), "images": len(log),
            "wall_seconds": round(wall, 1), "images_per_minute": round(60 * len(log) / wall, 2),
            "median_image_seconds": round(statistics.median(seconds), 1),
            "outputs_sha256": digest.hexdigest()}


def median_row(runs: list[dict]) -> dict:
    """One mode's row: the run of median wall time, with every run's wall time kept."""
    ordered = sorted(runs, key=lambda r: r["wall_seconds"])
    row = dict(ordered[(len(ordered) - 1) // 2])
    row["wall_seconds_runs"] = [r["wall_seconds"] for r in runs]
    if len({r["outputs_sha256"] for r in runs}) != 1:
        raise SystemExit(f"{row['mode']}: the repeated runs gave different outputs")
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=16)
    p.add_argument("--crop", type=int, default=0, help="central square crop (0: whole images)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1, help="rounds of the three modes (median)")
    p.add_argument("--tag", default="")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    if not DATA.is_dir():
        p.error(f"no training images at {DATA}")
    cpus = max(1, cpu_count() // args.workers)
    modes = [("serial", []), (f"--jobs {args.workers}", ["--jobs", str(args.workers)]),
             (f"Ray, {args.workers} workers",
              ["--cluster", "ray", "--cpus-per-image", str(cpus)])]
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "in"
        inputs.mkdir()
        shapes = make_inputs(inputs, args.images, args.crop)
        runs: list[list[dict]] = [[] for _ in modes]
        for r in range(args.repeats):
            for i, (mode, flags) in enumerate(modes):
                runs[i].append(run(mode, flags, inputs, Path(tmp) / f"out{i}_{r}"))
                print(runs[i][-1], flush=True)
        rows = [median_row(mode_runs) for mode_runs in runs]
    base = rows[0]["images_per_minute"]
    for row in rows:
        row["vs_serial"] = round(row["images_per_minute"] / base, 2)
    identical = rows[1]["outputs_sha256"] == rows[2]["outputs_sha256"]
    size = f"crop{args.crop}" if args.crop else "bsd200"
    h, w = statistics.median(s[0] for s in shapes), statistics.median(s[1] for s in shapes)
    machine = machine_description()
    lines = [f"# Folder throughput: {args.images} images ({size}, median {h:g}x{w:g}), x2, "
             "default preset", "",
             f"Machine: {machine}; `benchmarks/folder_throughput.py"
             f"{' --crop ' + str(args.crop) if args.crop else ''}"
             f"{' --repeats ' + str(args.repeats) if args.repeats > 1 else ''}`. Wall time "
             "around the whole command, start-up included (Keras import per process; Ray's "
             "start for Ray)"
             + (f"; median of {args.repeats} rounds of the three modes" if args.repeats > 1
                else "") + ".", "",
             "| mode | images/min | vs serial | wall s | median s per image (run log) |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['mode']} | {r['images_per_minute']:.2f} | {r['vs_serial']:.2f}x | "
              f"{r['wall_seconds']:.1f} | {r['median_image_seconds']:.1f} |" for r in rows]
    lines += ["", f"Outputs of `--jobs {args.workers}` and Ray ({cpus} thread(s) per image each) "
              f"bit-identical: {'yes' if identical else 'NO'}."]
    text = "\n".join(lines) + "\n"
    print(text)
    stem = f"folder_throughput_{size}{'_' + args.tag if args.tag else ''}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write(RESULTS / f"{stem}.md", lambda tmp: Path(tmp).write_text(text), True)
    write_json(RESULTS / f"{stem}.json", {"machine": machine, "images": args.images,
                                          "crop": args.crop, "workers": args.workers,
                                          "repeats": args.repeats,
                                          "rows": rows, "parallel_identical": identical})
    return 0


if __name__ == "__main__":
    sys.exit(main())
