"""Command line of ``python -m zssr.benchmark`` (the package docstring is its ``--help``)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from .. import __version__
from ..config import parse_overrides, preset, preset_names
from ..io import write_json
from ..provenance import machine_description
from .datasets import load_dataset
from .methods import METHODS, get
from .runner import evaluate
from .tables import method_markdown, write_comparison, write_text

__all__ = ["build_parser", "main", "parse_sets"]


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's argument parser."""
    import zssr.benchmark as package

    parser = argparse.ArgumentParser(prog="python -m zssr.benchmark", description=package.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--dataset", required=True,
        help="folder in the EDSR or the DIV2KRK layout, or of HR images")
    add("--scale", type=int, required=True, choices=[2, 3, 4],
        help="upscaling factor (the LR files of that factor are read)")
    add("--method", default="bicubic",
        help=f"comma-separated, from {', '.join(METHODS)} (default: bicubic)")
    add("--preset", default=None, choices=preset_names(),
        help="ZSSR preset (default: ideal for zssr, kernel for zssr-gt and zssr-estimated)")
    add("--max-iters", type=int, default=None,
        help="ZSSR: cap on training iterations per scale step (default: the preset's)")
    add("--seed", type=int, default=None, help="ZSSR / KernelGAN seed (default: the preset's, 0)")
    add("--images", default=None,
        help="comma-separated image names or DIV2KRK indices (subset)")
    add("--set", action="append", default=[], metavar="FIELD=VALUE",
        help="override a ZSSRConfig field, e.g. --set scale_steps=2 (lists comma-separated); "
             "repeatable")
    add("--baseline-weights", default=None,
        help="weights file for a baseline method instead of the shipped ones")
    add("--outputs", default=None, metavar="DIR",
        help="save every output image (8-bit PNG + JSON record) under DIR")
    add("--reuse", action="store_true",
        help="with --outputs: take saved outputs of the same method and settings instead of "
             "running again (e.g. to add a method to a comparison)")
    add("--results-dir", default="benchmarks/results",
        help="where the md/json/csv/png results go (default: %(default)s)")
    add("--tag", default="", help="suffix for the result file names")
    return parser


def parse_sets(items: list[str], parser: argparse.ArgumentParser) -> dict:
    """``--set`` items (``["scale_steps=2", "max_iters=500"]``) -> typed ZSSRConfig overrides
    (:func:`zssr.config.parse_overrides`); a bad item is a usage error of ``parser``."""
    try:
        return parse_overrides(items)
    except ValueError as exc:
        parser.error(f"--set {exc}")


def _zssr_config(method: str, preset_name: str | None, overrides: dict):
    """The config a ZSSR method runs (``None`` for the others), warning of emulated bfloat16,
    whose timings would mislead."""
    from ..network import precision_warning

    name = get(method).preset(preset_name)
    if name is None:
        return None
    config = preset(name, **overrides)
    warning = precision_warning(config.precision, "--set precision={}")
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return config


def _stem(dataset: str, scale: int, method: str, preset_name: str | None, suffix: str) -> str:
    """Result file name: the preset joins it for ``zssr`` and for a preset not the method's
    default."""
    m = get(method)
    stem = f"{dataset}_x{scale}_{method}"
    name = m.preset(preset_name)
    if m.is_zssr and (method == "zssr" or name != m.default_preset):
        stem += f"_{name}"
    return stem + suffix


def _run_method(method: str, args: argparse.Namespace, samples: list, overrides: dict,
                keep_crops: bool) -> dict:
    name = get(method).preset(args.preset)
    print(f"{Path(args.dataset).name} x{args.scale} {method}"
          + (f" preset={name} {overrides}" if name else ""))
    config = _zssr_config(method, args.preset, overrides)
    table = evaluate(samples, method, preset_name=args.preset, overrides=overrides,
                     baseline_weights=args.baseline_weights, keep_crops=keep_crops,
                     outputs=args.outputs, reuse=args.reuse)
    if config is not None:
        table["config"] = config.to_dict()
    m = table["mean"]
    print(f"  mean PSNR-Y {m['psnr_y']:.3f} dB  SSIM-Y {m['ssim_y']:.4f}  "
          f"median {m['median_seconds']:.1f} s/image")
    return table


def _meta(args: argparse.Namespace, overrides: dict) -> dict:
    return {"dataset": Path(args.dataset).name, "scale": args.scale, "preset": args.preset,
            "overrides": overrides, "machine": machine_description(), "version": __version__,
            "date": time.strftime("%Y-%m-%d"), "python": sys.version.split()[0]}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code (0 ok, 2 usage or data error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    names = args.images.split(",") if args.images else None
    methods = args.method.split(",")
    for method in methods:
        if method not in METHODS:
            parser.error(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    try:
        samples = load_dataset(Path(args.dataset), args.scale, names)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: --dataset: {e}", file=sys.stderr)
        return 2
    overrides = {k: v for k, v in (("max_iters", args.max_iters), ("seed", args.seed))
                 if v is not None}
    overrides.update(parse_sets(args.set, parser))
    if args.reuse and not args.outputs:
        parser.error("--reuse needs --outputs DIR")
    if len(methods) > 1 and importlib.util.find_spec("matplotlib") is None:
        parser.error("comparing methods draws a figure with matplotlib: pip install "
                     "'zssr[bench]'")
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = _meta(args, overrides)
    suffix = ("_" + "-".join(n.replace("im_", "") for n in names) if names else "") + (
        f"_{args.tag}" if args.tag else "")
    tables = []
    for method in methods:
        try:
            table = _run_method(method, args, samples, overrides, len(methods) > 1)
        except (FileNotFoundError, ValueError) as e:
            print(f"error: {method}: {e}", file=sys.stderr)
            return 2
        tables.append(table)
        stem = _stem(meta["dataset"], args.scale, method, args.preset, suffix)
        write_json(out_dir / f"{stem}.json",
                   {"meta": meta, **{k: v for k, v in table.items() if k != "crops"}})
        write_text(out_dir / f"{stem}.md", method_markdown(meta, table))
        print(f"  wrote {out_dir / stem}.md/.json")
    if len(tables) > 1:
        stem = f"{meta['dataset']}_x{args.scale}_compare_{'+'.join(methods)}{suffix}"
        paths = write_comparison(out_dir, stem, meta, tables, samples)
        print(f"  wrote {', '.join(str(p) for p in paths)}")
    return 0
