"""The one training runner: data, model, resume, the step loop, validation, best weights.

>>> from zssr.train import run, WarmStart
>>> task = WarmStart(scale=2)
>>> state = run(task, task.config(hr_dirs=["data/train"],           # doctest: +SKIP
...                               checkpoint_dir="runs/warm_x2", output="warm.weights.h5"))

Every ``val_every`` steps and at the end the model is scored with the task's validation (higher
is better); the best weights go to ``best.weights.h5``, every validation to ``log.jsonl``, and a
checkpoint is written (:mod:`zssr.train.checkpoint`). With ``ema`` the weights scored and kept
are a :class:`~zssr.train.checkpoint.WeightAverage`; the model trains on its own weights.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..signals import DeferredSignals
from .checkpoint import (
    BEST_FILE,
    MODEL_FILE,
    STATE_FILE,
    WeightAverage,
    export_best,
    has_checkpoint,
    load_checkpoint,
    new_state,
    note_resume,
    save_checkpoint,
    save_weights,
)
from .config import Task, TrainConfig, TrainConfigError
from .data import split_validation

__all__ = ["run", "fit", "STOP"]

#: SIGTERM/SIGINT while a command line trains (it calls ``STOP.install()``): :func:`fit` defers
#: them to the next step boundary, since raised anywhere the interrupt could land inside the
#: backend or an HDF5 checkpoint write and leave the process hung. Outside :func:`fit` (loading
#: data) the first one stops at once.
STOP = DeferredSignals(deferring=False)


def run(task: Task, config: TrainConfig, *, log: Callable[[str], None] = print) -> dict:
    """Train ``task`` as ``config`` says; returns the run's final state.

    A ``precision`` of ``"auto"`` is resolved first, so that the state records the precision
    the run really used. With ``config.output`` the best weights are written there at the end.

    Raises
    ------
    TrainConfigError
        If an option does not fit the task or the run folder (e.g. ``resume`` without a
        checkpoint, ``val_count`` that leaves no training images).
    FileNotFoundError
        If a data folder is missing or holds no images.
    """
    from ..network import resolve_precision

    task.check(config)
    config = config.replace(precision=resolve_precision(config.precision))
    task.setup(config)
    folder, files, val_files = _files(config)
    t0 = time.perf_counter()
    data, val_pairs = task.load(files, val_files)
    log(f"{len(files)} training images, {len(val_files)} validation images "
        f"({time.perf_counter() - t0:.1f} s to load)")
    model, state, rng = _start(task, config, folder, log)
    batch = task.batches(data, rng)
    state = fit(model, state, rng, next_batch=lambda: batch(config.batch_size),
                validate=(lambda m: task.validate(m, val_pairs)) if val_pairs else None,
                iters=config.iters, val_every=config.val_every, folder=folder,
                quiet=config.quiet, ema=config.ema, time_budget=config.time_budget,
                rate=lambda step, seconds: task.learning_rate(config, step, seconds),
                score_start=bool(config.init_from) and not config.resume)
    if config.output:
        out = export_best(folder, config.output, task.export_model)
        log(f"wrote {out} (step {state['best_step']}, validation score {state['best_score']})")
    return state


def _files(config: TrainConfig) -> tuple[Path, list[Path], list[Path]]:
    """The run folder (created; with ``resume`` it must hold a checkpoint) and the training and
    validation image files."""
    from ..io import list_images

    folder = Path(config.checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if config.resume and not has_checkpoint(folder):
        raise TrainConfigError("resume", f"is set but there is no checkpoint ({MODEL_FILE}, "
                               f"{STATE_FILE}) in {folder}")
    files, val_files = split_validation(
        list_images(config.hr_dirs), list_images(config.val_dirs) if config.val_dirs else None,
        config.val_count)
    return folder, files, val_files


def _start(task: Task, config: TrainConfig, folder: Path, log: Callable[[str], None]
           ) -> tuple[Any, dict, np.random.Generator]:
    """(model, state, rng): resumed from ``folder``, or new (from ``init_from`` if given)."""
    import keras

    from ..weights import sha256_file

    if config.resume:
        model, state, rng = load_checkpoint(folder)
        task.check_resume(state)
        try:  # every rate is set before its step, so the optimiser holds a plain number
            model.optimizer.learning_rate = float(config.lr)
        except TypeError:
            raise TrainConfigError("resume", f"cannot continue {folder}: its optimiser follows "
                                   "a schedule fixed when the run began (an older zssr); start "
                                   "a new run with init_from set to its best weights") from None
        note_resume(state, config.iters, config.ema, config.time_budget)
        log(f"resumed at step {state['step']} from {folder}")
        return model, state, rng
    model = task.build(config)
    state = new_state({**dataclasses.asdict(config), **task.record()})
    if config.init_from:
        path = task.init_from(model, config.init_from)
        # The file may later be replaced (a shipped file by this run's result): keep which it was.
        state["args"]["init_from_sha256"] = sha256_file(path)
        log(f"initialised from {path}")
    model.compile(optimizer=keras.optimizers.Adam(float(config.lr)), loss=task.loss_name)
    return model, state, np.random.default_rng(config.seed)


def fit(model: Any, state: dict, rng: np.random.Generator, *,
        next_batch: Callable[[], tuple[np.ndarray, np.ndarray]],
        validate: Callable[[Any], float] | None, iters: int, val_every: int,
        folder: str | Path, quiet: bool = False, ema: float = 0.0,
        time_budget: float | None = None, rate: Callable[[int, float], float] | None = None,
        score_start: bool = False, clock: Callable[[], float] = time.perf_counter) -> dict:
    """Train ``model`` (compiled) with ``train_on_batch`` until ``state["step"] == iters``.

    Parameters
    ----------
    next_batch : callable
        Returns the next (input, target) batch.
    validate : callable or None
        The model's score, higher is better; ``None``: every validation keeps the weights.
    iters, val_every : int
        Steps in all (counted over resumes by ``state["step"]``), and between validations.
    folder : path
        The run folder.
    ema : float
        0 or the decay of the :class:`WeightAverage` that is scored and kept.
    time_budget : float, optional
        Seconds (validation included, counted over resumes by ``state["seconds"]``) after
        which the run also ends; the step that spends them is validated and checkpointed.
    rate : callable, optional
        ``rate(steps done, seconds spent)``: the optimiser's rate, set before every step.
    score_start : bool
        A run at step 0 first scores the weights it starts from and logs them as step 0, so
        that its best weights are never worse than its start.
    clock : callable
        Seconds from an arbitrary origin.

    Returns
    -------
    dict
        ``state``, updated.
    """
    from tqdm import tqdm

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    loop = _Loop(model, state, rng, folder, validate, WeightAverage.for_run(ema, folder, model),
                 clock)
    bar = tqdm(total=iters, initial=state["step"], unit="step", dynamic_ncols=True,
               disable=quiet)
    STOP.deferring = True
    try:
        with open(folder / "log.jsonl", "a") as log:
            loop.log = log
            if score_start and state["step"] == 0 and validate is not None and not state["history"]:
                loop.score_start()
            loop.train(next_batch, iters, val_every, time_budget, rate, bar)
    except KeyboardInterrupt:
        loop.interrupted()  # keeps everything up to the last finished step
        raise
    finally:
        STOP.deferring = False
        bar.close()
    return state


class _Loop:
    """The state of one :func:`fit` call."""

    def __init__(self, model: Any, state: dict, rng: np.random.Generator, folder: Path,
                 validate: Callable[[Any], float] | None, average: WeightAverage | None,
                 clock: Callable[[], float]) -> None:
        self.model, self.state, self.rng, self.folder = model, state, rng, folder
        self.validate, self.average, self.clock = validate, average, clock
        self.mark = clock()  # start of the time not yet added to state["seconds"]
        self.log: Any = None

    def spent(self) -> float:
        return self.state["seconds"] + self.clock() - self.mark

    def train(self, next_batch: Callable[[], tuple], iters: int, val_every: int,
              time_budget: float | None, rate: Callable[[int, float], float] | None,
              bar: Any) -> None:
        state, model = self.state, self.model
        # The time is read once per step to decide whether it was the last (then it is
        # validated and checkpointed like the final step); here only for a run resumed with
        # its budget already spent.
        done = bool(time_budget and self.spent() >= time_budget)
        losses: list[float] = []
        while state["step"] < iters and not done:
            STOP.check()
            if rate is not None:
                model.optimizer.learning_rate = rate(state["step"], self.spent())
            x, y = next_batch()
            losses.append(float(model.train_on_batch(x, y)))
            if self.average is not None:
                self.average.update(model.get_weights())
            state["step"] += 1
            bar.update(1)
            done = state["step"] == iters or bool(time_budget and self.spent() >= time_budget)
            if state["step"] % val_every == 0 or done:
                entry = self.checkpoint(losses)
                losses = []
                bar.set_postfix(loss=f"{entry['loss']:.4f}", val=f"{entry.get('score', 0):.2f}")

    def score_start(self) -> None:
        """The starting weights (the average starts equal to them), scored like a step."""
        start = {"step": 0, "score": self.validate(self.model), "seconds": 0.0, "start": True}
        self.keep_if_best(start)
        self.append(start)
        self.mark = self.clock()  # the run's time starts after it

    def checkpoint(self, losses: list[float]) -> dict:
        """Validate, keep the best weights, log and write a checkpoint; returns the log entry."""
        import keras

        model, state = self.model, self.state
        state["seconds"] += self.clock() - self.mark
        self.mark = self.clock()
        entry = {"step": state["step"], "loss": float(np.mean(losses)),
                 "learning_rate": float(keras.ops.convert_to_numpy(
                     model.optimizer.learning_rate)),
                 "seconds": round(state["seconds"], 2)}
        raw = None
        if self.average is not None:  # score and keep the average; train on the raw weights
            raw = model.get_weights()
            model.set_weights(self.average.weights)
        try:
            if self.validate is not None:
                entry["score"] = self.validate(model)
            self.keep_if_best(entry)
        finally:  # also when a second Ctrl-C lands here: the checkpoint gets the raw weights
            if raw is not None:
                model.set_weights(raw)
        self.append(entry)
        save_checkpoint(self.folder, model, state, self.rng, self.average)
        return entry

    def keep_if_best(self, entry: dict) -> None:
        state = self.state
        if self.validate is None or state["best_score"] is None or entry["score"] > state[
                "best_score"]:
            state["best_score"], state["best_step"] = entry.get("score"), entry["step"]
            save_weights(self.model, self.folder / BEST_FILE)

    def append(self, entry: dict) -> None:
        self.state["history"].append(entry)
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()

    def interrupted(self) -> None:
        self.state["seconds"] += self.clock() - self.mark
        self.state["history"].append({"step": self.state["step"], "interrupted": True})
        save_checkpoint(self.folder, self.model, self.state, self.rng, self.average)
