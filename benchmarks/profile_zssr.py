"""Where one ZSSR run spends its time: sampler, son generation, the step, tests, prediction.

    python benchmarks/profile_zssr.py [--image PATH] [--scale 2] [--preset ideal] [--set F=V]

Wraps the engine's building blocks with timers (no profiler overhead on the rest) and runs one
image: the HR-father sampler, the son (downscale + noise), its interpolation, the training step
(``train_on_batch``), the periodic reconstruction test, and prediction (its forward passes and
back-projections separately). The default image is Set5 ``baby`` x2 LR from the shared data, or
scikit-image's ``astronaut`` halved when the shared data is absent. Prints a table and writes
``benchmarks/results/profile_<preset>[_TAG].{md,json}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zssr import ZSSR, engine, ensemble, pool  # noqa: E402
from zssr.benchmark.cli import parse_sets  # noqa: E402
from zssr.config import preset, preset_names  # noqa: E402
from zssr.io import read_image, write_json  # noqa: E402
from zssr.provenance import machine_description  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "set5" / "LR_bicubic" / "X2" / "babyx2.png"


def _default_image() -> tuple[np.ndarray, str]:
    if DEFAULT.is_file():
        return read_image(DEFAULT).pixels, "set5/babyx2"
    from skimage import data

    from zssr.resize import imresize

    return imresize(data.astronaut().astype(np.float32) / 255, 0.5), "astronaut/2"


class Timers:
    """Accumulated wall seconds and call counts per label; nested labels subtract nothing."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.depth = 0

    def wrap(self, label: str, fn, top_only: bool = False):
        def timed(*args, **kwargs):
            if top_only and self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0
                self.calls[label] += 1
                self.depth -= 1
        return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", default=None)
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--preset", default="ideal", choices=preset_names())
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--tag", default="")
    args = parser.parse_args(argv)
    overrides = parse_sets(args.set, parser)
    cfg = preset(args.preset, **overrides)
    if args.image:
        image, name = read_image(args.image).pixels, args.image
    else:
        image, name = _default_image()

    timers = Timers()
    # The module-level names the engine's loop calls are wrapped where they are looked up.
    patches = {(engine, "sample_hr_father"): "sampler",
               (engine, "father_to_son"): "son (downscale)",
               (engine, "interpolate_son"): "son interpolation",
               (engine, "back_projection"): "back-projection",
               (ensemble, "back_projection"): "back-projection"}
    saved = {key: getattr(*key) for key in patches}
    Engine = engine.Engine
    saved_fit, saved_predict, saved_forward = Engine.fit, Engine.predict, Engine._forward
    saved_compile = pool.compile_network

    def compile_and_wrap(net, lr):
        model = saved_compile(net, lr)
        model.train_on_batch = timers.wrap("train step", model.train_on_batch)
        return model

    try:
        for (module, attr), label in patches.items():
            setattr(module, attr, timers.wrap(label, saved[(module, attr)]))
        pool.compile_network = compile_and_wrap
        Engine.fit = timers.wrap("training (total)", saved_fit)

        def forward(self, *a):
            label = "prediction forward" if timers.seconds.get("_in_predict") else "test forward"
            return timers.wrap(label, saved_forward)(self, *a)

        Engine._forward = forward

        def predict(self, *a, **k):
            timers.seconds["_in_predict"] = 1.0
            try:
                return saved_predict(self, *a, **k)
            finally:
                timers.seconds["_in_predict"] = 0.0

        Engine.predict = timers.wrap("prediction (total)", predict)
        t0 = time.perf_counter()
        result = ZSSR(cfg).run(image, args.scale)
        total = time.perf_counter() - t0
    finally:
        for (module, attr), value in saved.items():
            setattr(module, attr, value)
        Engine.fit, Engine.predict, Engine._forward = saved_fit, saved_predict, saved_forward
        pool.compile_network = saved_compile

    timers.seconds.pop("_in_predict", None)
    train_total = timers.seconds["training (total)"]
    inside = sum(timers.seconds[k] for k in ("sampler", "son (downscale)", "son interpolation",
                                             "train step", "test forward"))
    # Sons and interpolations made inside the test are counted under their own labels too.
    timers.seconds["training: rest (Python, schedule)"] = max(train_total - inside, 0.0)
    rows = sorted(timers.seconds.items(), key=lambda kv: -kv[1])
    iters = result.iterations
    lines = [f"# Where ZSSR's time goes: `{args.preset}` on {name} x{args.scale:g}", "",
             f"Machine: {machine_description()}. Precision {cfg.precision}, {iters} iterations, "
             f"total {total:.1f} s.", "",
             "| part | seconds | share | calls | ms per call |", "|---|---:|---:|---:|---:|"]
    for label, sec in rows:
        calls = timers.calls.get(label, 0)
        per = f"{1000 * sec / calls:.2f}" if calls else ""
        lines.append(f"| {label} | {sec:.2f} | {100 * sec / total:.0f}% | {calls or ''} | "
                     f"{per} |")
    text = "\n".join(lines) + "\n"
    print(text)
    tag = f"_{args.tag}" if args.tag else ""
    out = ROOT / "benchmarks" / "results" / f"profile_{args.preset}{tag}"
    write_json(str(out) + ".json", {"machine": machine_description(), "image": name,
                                    "scale": args.scale,
                                    "config": cfg.to_dict(), "total_seconds": total,
                                    "iterations": iters, "seconds": dict(timers.seconds),
                                    "calls": dict(timers.calls)})
    Path(str(out) + ".md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
