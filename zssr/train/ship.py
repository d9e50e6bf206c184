"""Put a run's best weights into the package with their manifest entry.

:func:`ship_warm` ships a :class:`~zssr.train.warm_start.WarmStart` run as the warm-start
weights (``zssr/weights/warm_x2.weights.h5``), :func:`ship_edsr` an
:class:`~zssr.train.edsr.EDSR` run as ``zssr/baselines/weights/<name>_x<scale>.weights.h5``
(scored on Set5 first). Both export the weights without optimiser state and write their entry of
the folder's ``manifest.json`` (sha256, size, training data and recipe, iterations, hardware,
seconds, validation score) through :func:`zssr.weights.write_manifest_entry`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..warm import NAMES
from ..weights import BASELINES_DIR, WARM_DIR, sha256_file, write_manifest_entry
from .checkpoint import STATE_FILE, export_best

__all__ = ["WARM_FILE", "read_state", "check_improved", "run_record", "ship_warm", "ship_edsr",
           "set5_scores"]

#: The file name of the shipped warm-start weights.
WARM_FILE = NAMES["warm"]
#: The run settings an EDSR manifest entry repeats as its recipe.
EDSR_RECIPE = ("batch_size", "patch", "lr", "min_lr", "schedule", "loss", "iters", "time_budget",
               "ema", "seed", "init_from", "init_from_sha256")
#: The run settings a warm-start manifest entry repeats as its recipe.
WARM_RECIPE = ("scale", "crop", "batch_size", "lr", "min_lr", "iters", "time_budget",
               "kernel_mix", "noise_std", "noise_mix", "noise_max_std", "jpeg_mix",
               "jpeg_min_quality", "jpeg_max_quality", "precision", "seed", "init_from",
               "init_from_sha256")


def read_state(checkpoint_dir: str | Path) -> dict:
    """The state of the run in ``checkpoint_dir``, checked to have beaten its start.

    Raises
    ------
    FileNotFoundError
        If the folder holds no ``state.json``.
    ValueError
        See :func:`check_improved`.
    """
    path = Path(checkpoint_dir) / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {STATE_FILE} in {checkpoint_dir}: not a training run")
    state = json.loads(path.read_text())
    check_improved(state, checkpoint_dir)
    return state


def check_improved(state: dict, folder: str | Path) -> None:
    """Refuse to ship a run whose best weights are the ones it started from (best step 0,
    scored by ``fit(..., score_start=True)``): there is nothing new to ship.

    Raises
    ------
    ValueError
    """
    if state.get("best_step") == 0:
        raise ValueError(f"{folder}: no step beat the weights the run started from (its best "
                         "is step 0); nothing to ship")


def run_record(state: dict) -> dict:
    """What a manifest entry says about the run behind shipped weights: data, validation,
    best and total steps, resumes, seconds, backend, validation score."""
    run = state["args"]
    hr_dirs = run.get("hr_dirs", run.get("hr_dir"))  # runs of older versions: hr_dir
    val_dirs = run.get("val_dirs", run.get("val_dir"))
    return {
        "training_data": [str(d) for d in hr_dirs],
        "validation": val_dirs or
        f"last {run['val_count']} images of the training folders (held out)",
        "iterations": state["best_step"], "total_steps": state["step"],
        "resumes": state.get("resumes", []),
        "train_seconds": round(state["seconds"], 1), "keras_backend": state["keras_backend"],
        "validation_psnr_y": state["best_score"],
    }


def _entry(target: Path, state: dict, recipe: tuple[str, ...], hardware: str, note: str,
           **fields: Any) -> dict:
    run = state["args"]
    return {"file": target.name, "sha256": sha256_file(target), "bytes": target.stat().st_size,
            **fields, "recipe": {k: run.get(k) for k in recipe if k in run},
            **run_record(state), "hardware": hardware, "date": time.strftime("%Y-%m-%d"),
            "note": note}


def ship_warm(checkpoint_dir: str | Path, *, hardware: str, note: str = "",
              folder: str | Path = WARM_DIR, name: str = "warm") -> dict:
    """Export the best weights of a warm-start run to ``folder`` (by default the package's) as
    the file of the shipped name ``name`` (:data:`zssr.warm.NAMES`: :data:`WARM_FILE` for
    ``warm``) and write their manifest entry; returns the entry.

    Parameters
    ----------
    checkpoint_dir : path
        The run folder.
    name : str
        ``"warm"``, or ``"warm-real"`` for the start of degraded (JPEG, noisy) inputs.
    hardware : str
        Where the training ran, in words.
    note : str
        Free text for the entry.
    folder : path
        Where shipped warm-start weights live.
    """
    from ..network import build_network

    state = read_state(checkpoint_dir)
    run = state["args"]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def build() -> Any:
        return build_network(3, depth=run["depth"], width=run["width"])

    if name not in NAMES:
        raise ValueError(f"name must be one of {sorted(NAMES)}, got {name!r}")
    target = export_best(checkpoint_dir, folder / NAMES[name], build)
    entry = _entry(target, state, WARM_RECIPE, hardware, note,
                   params=int(build().count_params()), depth=run["depth"], width=run["width"])
    write_manifest_entry(folder / "manifest.json", entry)
    return entry


def ship_edsr(checkpoint_dir: str | Path, *, scale: int, set5: str | Path, hardware: str,
              name: str = "edsr-baseline", note: str = "",
              folder: str | Path = BASELINES_DIR) -> dict:
    """Export the best weights of an EDSR run to ``folder`` (by default the package's), score
    them on Set5 (the EDSR layout) and write their manifest entry; returns the entry.

    Parameters
    ----------
    checkpoint_dir : path
        The run folder.
    scale : int
        The scale the run was trained for.
    set5 : path
        Set5 in the EDSR layout (``HR/``, ``LR_bicubic/X<scale>/``).
    hardware, note : str
        Where the training ran, in words; free text for the entry.
    name : str
        Model name.
    folder : path
        Where shipped baseline weights live.
    """
    from ..baselines import build, load, weights_path
    from ..benchmark import load_edsr_layout

    state = read_state(checkpoint_dir)
    samples = load_edsr_layout(Path(set5), scale)  # a bad set5 fails before the export
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / weights_path(name, scale).name
    export_best(checkpoint_dir, target, lambda: build(name, scale))
    model = load(name, scale, weights=target)
    entry = _entry(target, state, EDSR_RECIPE, hardware, note, name=name, scale=scale,
                   params=int(model.count_params()), **_scores(model, samples, scale))
    write_manifest_entry(folder / "manifest.json", entry)
    return entry


def set5_scores(model: Any, set5: Path, scale: int) -> dict:
    """Mean PSNR-Y / SSIM-Y of a baseline model on Set5 at ``scale`` (papers' protocol)."""
    from ..benchmark import load_edsr_layout

    return _scores(model, load_edsr_layout(set5, scale), scale)


def _scores(model: Any, samples: list, scale: int) -> dict:
    from ..baselines import upscale
    from ..metrics import psnr, ssim

    rows = []
    for sample in samples:
        sr = upscale(model, sample.lr)
        rows.append((psnr(sr, sample.hr, scale=scale), ssim(sr, sample.hr, scale=scale)))
    return {"set5_psnr_y": float(np.mean([r[0] for r in rows])),
            "set5_ssim_y": float(np.mean([r[1] for r in rows]))}
