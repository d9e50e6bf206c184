"""A run's files: checkpoint (model with optimiser, state), weight average, best weights.

Checkpoints hold the model with its optimiser state (``last.keras``) and a JSON state with the
step, the sampler's random state and the history (``state.json``). Every file is written through
:func:`zssr.io.atomic_write`, so an interrupted run leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write

__all__ = ["MODEL_FILE", "STATE_FILE", "EMA_FILE", "BEST_FILE", "has_checkpoint",
           "save_checkpoint", "load_checkpoint", "new_state", "note_resume", "save_weights",
           "export_best", "WeightAverage"]

MODEL_FILE, STATE_FILE, EMA_FILE, BEST_FILE = ("last.keras", "state.json", "ema.npz",
                                               "best.weights.h5")


def has_checkpoint(folder: str | Path) -> bool:
    """Whether ``folder`` holds a checkpoint to resume from."""
    return (Path(folder) / MODEL_FILE).exists() and (Path(folder) / STATE_FILE).exists()


def save_weights(model: Any, path: str | Path) -> Path:
    """Write ``model``'s weights (no optimiser) to ``path`` (``.weights.h5``) atomically."""
    path = Path(path)

    def write(tmp: str) -> None:
        # Keras only writes weights to a name that ends in .weights.h5.
        named = tmp + ".weights.h5"
        try:
            model.save_weights(named)
            os.replace(named, tmp)
        finally:
            if os.path.exists(named):
                os.unlink(named)

    atomic_write(path, write, overwrite=True)
    return path


def export_best(folder: str | Path, output: str | Path, build: Any) -> Path:
    """Copy the best weights of the run in ``folder`` to ``output`` (``.weights.h5``) through a
    fresh model from ``build()``: the weights alone, checked to fit that architecture."""
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = build()
    model.load_weights(str(Path(folder) / BEST_FILE))
    return save_weights(model, out)


def save_checkpoint(folder: str | Path, model: Any, state: dict, rng: np.random.Generator,
                    average: WeightAverage | None = None) -> None:
    """Write ``model`` (``.keras``, with its optimiser) and ``state`` plus ``rng``'s state (and
    the weight ``average``, if any)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state["rng"] = rng.bit_generator.state
    if average is not None:
        average.save(folder / EMA_FILE)
    atomic_write(folder / MODEL_FILE, model.save, overwrite=True)
    text = json.dumps(state, indent=1)
    atomic_write(folder / STATE_FILE, lambda tmp: Path(tmp).write_text(text), overwrite=True)


def load_checkpoint(folder: str | Path) -> tuple[Any, dict, np.random.Generator]:
    """Read what :func:`save_checkpoint` wrote: (model, state, rng).

    Raises
    ------
    FileNotFoundError
        If there is no checkpoint in ``folder``.
    """
    import keras

    folder = Path(folder)
    if not has_checkpoint(folder):
        raise FileNotFoundError(f"no checkpoint ({MODEL_FILE}, {STATE_FILE}) in {folder}")
    model = keras.saving.load_model(str(folder / MODEL_FILE))
    state = json.loads((folder / STATE_FILE).read_text())
    rng = np.random.default_rng()
    rng.bit_generator.state = state["rng"]
    return model, state, rng


def new_state(args: dict) -> dict:
    """The state of a fresh run (``args``: the run's settings, JSON-able)."""
    import keras

    return {"step": 0, "best_score": None, "best_step": None, "history": [], "seconds": 0.0,
            "args": args, "keras_backend": keras.backend.backend()}


def note_resume(state: dict, iters: int, ema: float = 0.0,
                time_budget: float | None = None) -> None:
    """Record in ``state`` that a run resumed at its current step with a (possibly new) total of
    ``iters`` steps, weight-average decay ``ema`` and ``time_budget``, so the recipe written
    next to the weights says what the schedule became."""
    entry = {"step": state["step"], "iters": int(iters)}
    if ema or state["args"].get("ema"):  # only runs that average say so
        entry["ema"] = float(ema)
    if time_budget or state["args"].get("time_budget"):
        entry["time_budget"] = time_budget
    state.setdefault("resumes", []).append(entry)
    state["args"]["iters"], state["args"]["ema"] = int(iters), float(ema)
    state["args"]["time_budget"] = time_budget


class WeightAverage:
    """Exponential moving average of a model's weights, updated after every step:
    ``average = decay * average + (1 - decay) * weights``.

    Averaging the weights of the last steps (``decay`` 0.999 spans about 1000) removes part of
    the noise of stochastic steps. It starts from the weights the model has when it is made.

    Parameters
    ----------
    decay : float
        In (0, 1).
    weights : list of arrays
        Starting values, as from ``model.get_weights()``.
    """

    def __init__(self, decay: float, weights: list[np.ndarray]) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.weights = [np.array(w, dtype=np.float32, copy=True) for w in weights]

    def update(self, weights: list[np.ndarray]) -> None:
        """Move the average towards ``weights`` (same order and shapes as at the start)."""
        d = np.float32(self.decay)
        for a, w in zip(self.weights, weights, strict=True):
            a *= d
            a += (np.float32(1.0) - d) * np.asarray(w, dtype=np.float32)

    def save(self, path: str | Path) -> None:
        """Write the average to ``path`` (``.npz``) atomically."""
        def write(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, *self.weights)

        atomic_write(Path(path), write, overwrite=True)

    @classmethod
    def for_run(cls, decay: float, folder: str | Path, model: Any) -> WeightAverage | None:
        """The average of a run: ``None`` if ``decay`` is 0, else the one saved in ``folder``
        (a resumed run) or a new one that starts from ``model``'s weights."""
        if decay == 0:
            return None
        current = model.get_weights()
        path = Path(folder) / EMA_FILE
        if not path.exists():
            return cls(decay, current)
        with np.load(path) as saved:
            kept = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        if [a.shape for a in kept] != [np.shape(w) for w in current]:
            raise ValueError(f"{path} does not match the model's weights; delete it to "
                             f"start a new average")
        return cls(decay, kept)
