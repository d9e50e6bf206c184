"""Progress bars on the terminal, fed by the engine's and the estimator's progress events, and a
guard that keeps C++ libraries' start-up chatter off it.

Without a terminal (stderr piped into a log) there are no bars: one line per finished phase.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from .quiet import QuietStderr, quiet_native_stderr

__all__ = ["ProgressBars", "QuietStderr", "import_backend", "BackendUnavailable",
           "check_backend", "stderr_is_terminal"]

_LABELS = {"train": "train", "predict": "ensemble", "estimate": "kernel"}


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
    terminal : bool, optional
        Draw bars (a terminal) or write one line per finished phase (a log); by default
        whether stderr is a terminal.
    """

    def __init__(self, name: str, quiet: bool, position: int = 0,
                 on_event: Callable[[], None] | None = None,
                 terminal: bool | None = None) -> None:
        self.name, self.quiet, self.position = name, quiet, position
        self.on_event = on_event
        self.terminal = stderr_is_terminal() if terminal is None else terminal
        self.bar: Any = None
        self.key: Any = None
        self.last: Any = None  # without a terminal: the phase's latest event and its start
        self.started = 0.0

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
            self.bar = self._open(event, phase) if self.terminal else None
            self.started = time.perf_counter()
        self.last = (event, phase)
        if self.bar is None:
            return
        self.bar.update(event.iteration - self.bar.n)
        if event.iteration % 10 == 0:
            if phase == "train":
                self.bar.set_postfix(loss=f"{event.loss:.4f}", lr=f"{event.learning_rate:.0e}",
                                     refresh=False)
            elif phase == "estimate":
                self.bar.set_postfix(g=f"{event.g_loss:.3f}", d=f"{event.d_loss:.3f}",
                                     refresh=False)

    def _desc(self, event: Any, phase: str) -> str:
        n_steps = getattr(event, "n_steps", 1)
        step = f" step {event.step + 1}/{n_steps}" if n_steps > 1 else ""
        return f"{self.name}{step} {_LABELS[phase]}"

    def _open(self, event: Any, phase: str) -> Any:
        from tqdm import tqdm

        return tqdm(total=event.total, desc=self._desc(event, phase),
                    unit="pass" if phase == "predict" else "it",
                    leave=False, dynamic_ncols=True, file=sys.stderr, position=self.position)

    def close(self) -> None:
        """Close the current bar, or without a terminal write the phase's one line (the next
        event opens a new phase)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.last is not None and not self.quiet:
            event, phase = self.last
            unit = "passes" if phase == "predict" else "it"
            line = (f"{self._desc(event, phase)}: {event.iteration}/{event.total} {unit} in "
                    f"{time.perf_counter() - self.started:.1f} s")
            if phase == "train":
                line += f", loss {event.loss:.4f}"
            print(line, file=sys.stderr, flush=True)
        self.last = None
        self.key = None


def stderr_is_terminal() -> bool:
    """Whether ``sys.stderr`` is a terminal (bars), not a pipe or a file (a log)."""
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


class BackendUnavailable(ImportError):
    """The Keras backend that ``KERAS_BACKEND`` names cannot be imported."""


#: Test seam: seconds :func:`import_backend` waits inside the import step, so that a test can
#: interrupt it there reliably (unset in normal use).
IMPORT_DELAY_ENV = "ZSSR_TEST_IMPORT_DELAY"


#: The KERAS_BACKEND values; each needs the package of the same name.
BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")


def _unavailable(name: str, why: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"KERAS_BACKEND={name}: cannot import the Keras backend ({why}); install it "
        f"(pip install {name}) or unset KERAS_BACKEND to use tensorflow")


def check_backend() -> None:
    """Check, without importing anything, that Keras and the backend ``KERAS_BACKEND`` names
    are installed: for a process that only hands images to worker processes, which import it.

    Raises
    ------
    BackendUnavailable
        As :func:`import_backend` would.
    """
    name = os.environ.get("KERAS_BACKEND", "tensorflow")
    if name not in BACKENDS:
        raise BackendUnavailable(f"KERAS_BACKEND={name}: not a Keras backend; set it to one of "
                                 f"{', '.join(BACKENDS)}, or unset it to use tensorflow")
    for module in ("keras", name):
        if importlib.util.find_spec(module) is None:
            raise _unavailable(name, f"No module named '{module}'")


def import_backend(*, quiet: bool = True) -> None:
    """Import Keras and its backend and find the device, without the C++ log lines if ``quiet``.

    Raises
    ------
    BackendUnavailable
        If the backend cannot be imported; the message names it and the fix.
    KeyboardInterrupt
        On Ctrl-C during the import (the caller turns it into one line).
    """
    with quiet_native_stderr(enabled=quiet):
        delay = float(os.environ.get(IMPORT_DELAY_ENV) or 0)
        if delay > 0:
            time.sleep(delay)
        try:
            import keras
        except (ImportError, ValueError) as exc:
            raise _unavailable(os.environ.get("KERAS_BACKEND", "tensorflow"), str(exc)) from None

        from .network import compute_device

        keras.backend.backend()
        compute_device()
