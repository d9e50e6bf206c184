"""The resumable training loop shared by ``zssr.baselines.train`` and ``zssr.pretrain``.

Checkpoints hold the model with its optimiser state (``last.keras``) and a JSON state with the
step, the sampler's random state and the history (``state.json``); both are written atomically,
so an interrupted run leaves the previous checkpoint intact. The best weights by validation score
go to ``best.weights.h5``, every validation to ``log.jsonl``. With ``ema`` > 0, an exponential
moving average of the weights (kept in ``ema.npz``) is what is validated and kept as best.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .signals import DeferredSignals

__all__ = ["save_checkpoint", "load_checkpoint", "has_checkpoint", "note_resume",
           "learning_rate_for", "set_learning_rate", "cosine_by_time", "fit_options",
           "split_validation", "prepare_run", "new_state", "WeightAverage", "fit", "export_best",
           "jsonable_args", "add_run_flags", "check_run_flags", "run_main", "check_improved",
           "run_record",
           "read_manifest", "write_manifest_entry"]

MODEL_FILE, STATE_FILE, EMA_FILE = "last.keras", "state.json", "ema.npz"


def has_checkpoint(folder: str | Path) -> bool:
    """Whether ``folder`` holds a checkpoint to resume from."""
    return (Path(folder) / MODEL_FILE).exists() and (Path(folder) / STATE_FILE).exists()


def save_checkpoint(folder: str | Path, model: Any, state: dict, rng: np.random.Generator,
                    average: WeightAverage | None = None) -> None:
    """Write ``model`` (``.keras``, with its optimiser) and ``state`` plus ``rng``'s state (and
    the weight ``average``, if any)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state["rng"] = rng.bit_generator.state
    if average is not None:
        average.save(folder / EMA_FILE)
    tmp = folder / ("tmp." + MODEL_FILE)
    model.save(str(tmp))
    os.replace(tmp, folder / MODEL_FILE)
    tmp_state = folder / ("tmp." + STATE_FILE)
    tmp_state.write_text(json.dumps(state, indent=1))
    os.replace(tmp_state, folder / STATE_FILE)


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
        raise FileNotFoundError(f"--resume: no checkpoint ({MODEL_FILE}, {STATE_FILE}) in {folder}")
    model = keras.saving.load_model(str(folder / MODEL_FILE))
    state = json.loads((folder / STATE_FILE).read_text())
    rng = np.random.default_rng()
    rng.bit_generator.state = state["rng"]
    return model, state, rng


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


def learning_rate_for(args: Any):
    """What a trainer's Adam gets as its learning rate: a cosine over ``args.iters`` steps, or,
    with ``args.time_budget``, the float ``args.lr`` (a variable that :func:`fit` sets before
    every step from the time spent; see :func:`cosine_by_time`)."""
    import keras

    if getattr(args, "time_budget", None):
        return float(args.lr)
    return keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=args.iters,
                                                  alpha=args.min_lr / args.lr)


def set_learning_rate(optimizer: Any, rate: Any) -> None:
    """Give a resumed run's optimiser this run's rate (:func:`learning_rate_for`).

    Raises
    ------
    ValueError
        When a run trained on a step schedule is resumed with ``--time-budget`` (its optimiser
        has no settable rate).
    """
    try:
        optimizer.learning_rate = rate
    except TypeError:
        raise ValueError("--resume --time-budget: this run was started without --time-budget, "
                         "so its rate follows the step count; resume it without "
                         "--time-budget, or start a new run with --init-from") from None


def cosine_by_time(lr: float, min_lr: float, budget: float) -> Callable[[float], float]:
    """The rate after ``t`` seconds of a ``budget``-second run: a half cosine from ``lr`` to
    ``min_lr`` over the wall-clock time instead of over the steps, for a fixed time on a
    machine whose speed is not known in advance (a lent GPU)."""
    def rate(t: float) -> float:
        frac = min(max(t / budget, 0.0), 1.0)
        return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * frac))
    return rate


def fit_options(args: Any) -> dict:
    """:func:`fit`'s schedule options from the flags every trainer shares: ``ema``, the
    ``time_budget`` with its :func:`cosine_by_time` ``rate``, and ``score_start`` for a fresh
    run from ``--init-from`` weights."""
    budget = args.time_budget
    return {"ema": args.ema, "time_budget": budget,
            "rate": cosine_by_time(args.lr, args.min_lr, budget) if budget else None,
            "score_start": bool(args.init_from) and not args.resume}


def split_validation(files: list[Path], val_files: list[Path] | None, val_count: int
                     ) -> tuple[list[Path], list[Path]]:
    """(train, validation) files: ``val_files`` if given, else the last ``val_count`` files."""
    if val_files:
        return files, val_files
    if val_count >= len(files):
        raise ValueError(f"--val-count {val_count} leaves no training images "
                         f"({len(files)} found)")
    if val_count <= 0:
        return files, []
    return files[:len(files) - val_count], files[len(files) - val_count:]


def prepare_run(args: Any) -> tuple[Path, list[Path], list[Path]]:
    """From the shared flags: the run folder (created; with ``--resume`` it must hold a
    checkpoint) and the training and validation image files."""
    from .io import list_images

    folder = Path(args.checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if args.resume and not has_checkpoint(folder):
        raise FileNotFoundError(f"--resume: no checkpoint in {folder}")
    files, val_files = split_validation(
        list_images(args.hr_dir), list_images(args.val_dir) if args.val_dir else None,
        args.val_count)
    return folder, files, val_files


def new_state(args: dict) -> dict:
    """The state of a fresh run (``args``: the run's settings, JSON-able)."""
    import keras

    return {"step": 0, "best_score": None, "best_step": None, "history": [], "seconds": 0.0,
            "args": args, "keras_backend": keras.backend.backend()}


class WeightAverage:
    """Exponential moving average of a model's weights, updated after every step:
    ``average = decay * average + (1 - decay) * weights``.

    Averaging the weights of the last few hundred steps (``decay`` 0.999 spans about 1000)
    removes part of the noise of stochastic steps, often worth a little validation PSNR at the
    end of a run. It starts from the weights the model has when it is made.

    Parameters
    ----------
    decay : float
        In (0, 1).
    weights : list of arrays
        Starting values, as from ``model.get_weights()``.
    """

    def __init__(self, decay: float, weights: list[np.ndarray]) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"--ema must be in (0, 1), got {decay}")
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
        path = Path(path)
        tmp = path.with_name("tmp." + path.name)
        with open(tmp, "wb") as f:
            np.savez(f, *self.weights)
        os.replace(tmp, path)

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


def fit(model: Any, state: dict, rng: np.random.Generator, *,
        next_batch: Callable[[], tuple[np.ndarray, np.ndarray]],
        validate: Callable[[Any], float] | None, iters: int, val_every: int,
        folder: str | Path, quiet: bool = False, ema: float = 0.0,
        time_budget: float | None = None, rate: Callable[[float], float] | None = None,
        score_start: bool = False) -> dict:
    """Train ``model`` (compiled) with ``train_on_batch`` until ``state["step"] == iters``.

    Every ``val_every`` steps and at the end: score with ``validate`` (higher is better), keep
    the best weights, append to the log, write a checkpoint. With ``ema`` > 0 the weights
    scored and kept are a :class:`WeightAverage` with that decay (the model trains on, and
    ``last.keras`` holds, its own weights). With ``time_budget`` (seconds, validation
    included, counted over resumes by ``state["seconds"]``) the run also ends once that much
    time is spent, and before every step the optimiser's rate is set to ``rate(seconds
    spent)`` (:func:`cosine_by_time`; compile with a float rate: :func:`learning_rate_for`).
    With ``score_start`` (a run from given weights), a run at step 0 first scores those
    weights and logs them as step 0, so that its best weights are never worse than its start
    (and a later best is an improvement on the same machine and precision). Returns ``state``.
    """
    from tqdm import tqdm

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    average = WeightAverage.for_run(ema, folder, model)
    clock = [time.perf_counter()]  # start of the time not yet added to state["seconds"]
    bar = tqdm(total=iters, initial=state["step"], unit="step", dynamic_ncols=True,
               disable=quiet)
    _STOP.deferring = True
    try:
        _loop(model, state, rng, next_batch, validate, iters, val_every, folder, bar, clock,
              average, time_budget, rate, score_start)
    except KeyboardInterrupt:
        # Keep everything up to the last finished step (a second signal still stops at once).
        state["seconds"] += time.perf_counter() - clock[0]
        state["history"].append({"step": state["step"], "interrupted": True})
        save_checkpoint(folder, model, state, rng, average)
        bar.close()
        raise
    finally:
        _STOP.deferring = False
    bar.close()
    return state


def _loop(model: Any, state: dict, rng: np.random.Generator, next_batch, validate, iters: int,
          val_every: int, folder: Path, bar: Any, clock: list[float],
          average: WeightAverage | None, time_budget: float | None = None,
          rate: Callable[[float], float] | None = None, score_start: bool = False) -> None:
    import keras

    def spent() -> float:
        return state["seconds"] + time.perf_counter() - clock[0]

    best_path = folder / "best.weights.h5"

    def keep_if_best(entry: dict) -> None:
        if (validate is None or state["best_score"] is None
                or entry["score"] > state["best_score"]):
            state["best_score"], state["best_step"] = entry.get("score"), entry["step"]
            model.save_weights(str(best_path))

    def append(entry: dict) -> None:
        state["history"].append(entry)
        log.write(json.dumps(entry) + "\n")
        log.flush()

    losses: list[float] = []
    with open(folder / "log.jsonl", "a") as log:
        if score_start and state["step"] == 0 and validate is not None and not state["history"]:
            # The starting weights (the average starts equal to them), scored like a step.
            start = {"step": 0, "score": validate(model), "seconds": 0.0, "start": True}
            keep_if_best(start)
            append(start)
            clock[0] = time.perf_counter()  # the run's time starts after it
        # The time is read once per step to decide whether it was the last (then it is
        # validated and checkpointed like the final step of --iters); here only for a run
        # resumed with its budget already spent.
        done = bool(time_budget and spent() >= time_budget)
        while state["step"] < iters and not done:
            _STOP.check()
            if rate is not None:
                model.optimizer.learning_rate = rate(spent())
            x, y = next_batch()
            losses.append(float(model.train_on_batch(x, y)))
            if average is not None:
                average.update(model.get_weights())
            state["step"] += 1
            bar.update(1)
            step = state["step"]
            done = step == iters or bool(time_budget and spent() >= time_budget)
            if step % val_every and not done:
                continue
            state["seconds"] += time.perf_counter() - clock[0]
            clock[0] = time.perf_counter()
            entry = {"step": step, "loss": float(np.mean(losses)),
                     "learning_rate": float(keras.ops.convert_to_numpy(
                         model.optimizer.learning_rate)),
                     "seconds": round(state["seconds"], 2)}
            losses = []
            raw = None
            if average is not None:  # score and keep the average; train on the raw weights
                raw = model.get_weights()
                model.set_weights(average.weights)
            try:
                if validate is not None:
                    entry["score"] = validate(model)
                keep_if_best(entry)
            finally:  # also when a second Ctrl-C lands here: the checkpoint gets the raw weights
                if raw is not None:
                    model.set_weights(raw)
            append(entry)
            bar.set_postfix(loss=f"{entry['loss']:.4f}", val=f"{entry.get('score', 0):.2f}")
            save_checkpoint(folder, model, state, rng, average)


def export_best(folder: str | Path, output: str | Path, build: Callable[[], Any]) -> Path:
    """Copy the best weights of a run to ``output`` (``.weights.h5``), atomically, checking that
    they load into the architecture ``build()`` makes."""
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = build()
    model.load_weights(str(Path(folder) / "best.weights.h5"))
    tmp = out.with_name(out.name.replace(".weights.h5", ".tmp.weights.h5"))
    model.save_weights(str(tmp))
    os.replace(tmp, out)
    return out


def jsonable_args(args: Any) -> dict:
    """``vars(args)`` with lists of paths turned into lists of strings."""
    return {k: (list(map(str, v)) if isinstance(v, (list, tuple)) else v)
            for k, v in vars(args).items()}


def add_run_flags(p: Any, *, iters: int, batch_size: int, lr: float, min_lr: float,
                  val_every: int, val_count: int) -> None:
    """The command-line flags every training script shares (data, budget, run folder)."""
    p.add_argument("--hr-dir", action="append", required=True,
                   help="folder of HR training images (searched recursively); repeatable")
    p.add_argument("--val-dir", action="append", default=None,
                   help="folder of validation images (default: hold out --val-count)")
    p.add_argument("--val-count", type=int, default=val_count,
                   help=f"without --val-dir, the last N training images are held out "
                        f"(default {val_count})")
    p.add_argument("--iters", type=int, default=iters,
                   help=f"training steps (default {iters}; with --time-budget an upper bound)")
    p.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                   help="train for this many seconds (validation included) instead of a fixed "
                        "number of steps: the cosine then runs from --lr to --min-lr over the "
                        "time, not the steps, and the run ends when the time is spent (for a "
                        "machine whose speed is not known, e.g. a lent GPU; the step count, and "
                        "so the result, then depend on the machine's speed)")
    p.add_argument("--batch-size", type=int, default=batch_size,
                   help=f"crops per step (default {batch_size})")
    p.add_argument("--lr", type=float, default=lr, help=f"initial learning rate (default {lr})")
    p.add_argument("--min-lr", type=float, default=min_lr,
                   help=f"final rate of the cosine schedule (default {min_lr})")
    p.add_argument("--val-every", type=int, default=val_every,
                   help=f"steps between validations and best-weight checks "
                        f"(default {val_every})")
    p.add_argument("--checkpoint-dir", required=True,
                   help="run folder: last.keras, state.json, log.jsonl, best.weights.h5 "
                        "(and ema.npz with --ema)")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir")
    p.add_argument("--output", default=None, help="write the best weights here (.weights.h5)")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the crops and the model's initial weights (default 0)")
    p.add_argument("--ema", type=float, default=0.0,
                   help="validate and keep an exponential moving average of the weights with "
                        "this decay, e.g. 0.999 (about the last 1000 steps); 0: off (default)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--precision", choices=["float32", "mixed_bfloat16", "auto"],
                   default="float32",
                   help="mixed_bfloat16 computes in bfloat16 with float32 weights: about 2x "
                        "faster on a GPU or a CPU with AVX512-BF16 or AMX, many times slower "
                        "elsewhere (emulated); auto picks it where it is native, else float32 "
                        "(default float32)")


def check_run_flags(parser: Any, args: Any, positive: tuple[str, ...]) -> None:
    """Reject an --output that is not ``.weights.h5`` and non-positive counts."""
    if args.output and not args.output.endswith(".weights.h5"):
        parser.error("--output must end in .weights.h5")
    for name in ("iters", "batch_size", "val_every", *positive):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.time_budget is not None and not args.time_budget > 0:
        parser.error(f"--time-budget must be > 0 seconds, got {args.time_budget}")
    if not (args.ema == 0 or 0 < args.ema < 1):
        parser.error(f"--ema must be 0 (off) or in (0, 1), got {args.ema}")


#: SIGTERM/SIGINT during :func:`run_main`; :func:`fit` defers them to the next step boundary,
#: since raised anywhere the interrupt could land inside TensorFlow or an HDF5 checkpoint write
#: and leave the process hung (seen about once in 15 runs). Outside :func:`fit` (loading data)
#: the first one stops at once.
_STOP = DeferredSignals(deferring=False)


def run_main(train: Callable[[Any], Any], args: Any) -> int:
    """Run a training entry point with the exit codes of the command line: 0 done, 2 bad input
    (the message on stderr), 130 interrupted by Ctrl-C or SIGTERM (a checkpoint of the last
    finished step is written; resume with ``--resume``). An ``args.precision`` of ``"auto"`` is
    resolved here, and an emulated ``"mixed_bfloat16"`` is warned about on stderr."""
    import sys

    from .network import precision_warning, resolve_precision

    if getattr(args, "precision", None) is not None:
        warning = precision_warning(args.precision)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        # resolved here, so that state.json records the precision the run really used
        args.precision = resolve_precision(args.precision)
    restore = _STOP.install()
    try:
        train(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; continue with --resume", file=sys.stderr)
        return 130
    finally:
        restore()
    return 0


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
    return {
        "training_data": [str(d) for d in run["hr_dir"]],
        "validation": run.get("val_dir") or
        f"last {run['val_count']} images of the training folders (held out)",
        "iterations": state["best_step"], "total_steps": state["step"],
        "resumes": state.get("resumes", []),
        "train_seconds": round(state["seconds"], 1), "keras_backend": state["keras_backend"],
        "validation_psnr_y": state["best_score"],
    }


def read_manifest(path: str | Path) -> dict[str, dict]:
    """Entries of the ``{"weights": [...]}`` manifest at ``path`` keyed by file name (empty if
    there is none)."""
    path = Path(path)
    if not path.exists():
        return {}
    return {e["file"]: e for e in json.loads(path.read_text())["weights"]}


def write_manifest_entry(path: str | Path, entry: dict) -> Path:
    """Put ``entry`` into the ``{"weights": [...]}`` manifest at ``path`` (replacing the entry
    for the same ``file``), sorted by file name, written atomically."""
    path = Path(path)
    entries = json.loads(path.read_text())["weights"] if path.exists() else []
    entries = [e for e in entries if e["file"] != entry["file"]] + [entry]
    entries.sort(key=lambda e: e["file"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"weights": entries}, indent=1) + "\n")
    os.replace(tmp, path)
    return path
