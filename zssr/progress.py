"""Progress bars on the terminal, fed by the engine's and the estimator's progress events, and a
guard that keeps C++ libraries' start-up chatter off it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ProgressBars", "QuietStderr", "import_backend"]


class ProgressBars:
    """tqdm bars fed by progress events: one bar per phase (and scale step) of one image.

    Parameters
    ----------
    name : str
        The image's name, shown before each bar.
    quiet : bool
        Show nothing (events still reach ``on_event``).
    position : int
        The bar's line (1 under an overall bar of several images, else 0).
    on_event : callable, optional
        Called first with every event, e.g. :meth:`zssr.signals.DeferredSignals.check` to act
        on a termination signal at this safe point.
    """

    def __init__(self, name: str, quiet: bool, position: int = 0,
                 on_event: Callable[[], None] | None = None) -> None:
        self.name, self.quiet, self.position = name, quiet, position
        self.on_event = on_event
        self.bar: Any = None
        self.key: Any = None

    def __call__(self, event: Any) -> None:
        if self.on_event is not None:
            self.on_event()
        if self.quiet:
            return
        phase = getattr(event, "phase", "estimate")
        key = (phase, getattr(event, "step", 0))
        if key != self.key:
            self.close()
            self.key = key
            self.bar = self._open(event, phase)
        self.bar.update(event.iteration - self.bar.n)
        if event.iteration % 10 == 0:
            if phase == "train":
                self.bar.set_postfix(loss=f"{event.loss:.4f}", lr=f"{event.learning_rate:.0e}",
                                     refresh=False)
            elif phase == "estimate":
                self.bar.set_postfix(g=f"{event.g_loss:.3f}", d=f"{event.d_loss:.3f}",
                                     refresh=False)

    def _open(self, event: Any, phase: str) -> Any:
        from tqdm import tqdm

        n_steps = getattr(event, "n_steps", 1)
        step = f" step {event.step + 1}/{n_steps}" if n_steps > 1 else ""
        label = {"train": "train", "predict": "ensemble", "estimate": "kernel"}[phase]
        return tqdm(total=event.total, desc=f"{self.name}{step} {label}",
                    unit="pass" if phase == "predict" else "it",
                    leave=False, dynamic_ncols=True, file=sys.stderr, position=self.position)

    def close(self) -> None:
        """Close the current bar (the next event opens a new one)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class QuietStderr:
    """Silence file descriptor 2 (C++ libraries' start-up chatter) unless ``enabled`` is false."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.saved: int | None = None

    def __enter__(self) -> QuietStderr:
        if self.enabled:
            sys.stderr.flush()
            self.saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            os.dup2(self.saved, 2)
            os.close(self.saved)
            self.saved = None


def import_backend(*, quiet: bool = True) -> None:
    """Import Keras and its backend and find the device, without the C++ log lines if ``quiet``."""
    with QuietStderr(enabled=quiet):
        import keras

        from .network import compute_device

        keras.backend.backend()
        compute_device()
