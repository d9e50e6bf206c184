"""Termination signals (SIGTERM, Ctrl-C's SIGINT) acted on at safe points.

Raised wherever Python happens to be, a ``KeyboardInterrupt`` can land inside TensorFlow or an
HDF5 or image write and leave the process hung, or inside a library that swallows it. So while
:attr:`DeferredSignals.deferring` is set, the first signal is only recorded and
:meth:`DeferredSignals.check` raises it at the caller's next safe point (a training step
boundary, a progress event, the next image); a second signal raises at once. The command-line
front ends (the ``zssr`` command and the training scripts) use it; the engine never installs
handlers.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

__all__ = ["DeferredSignals"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)  # SIGINT too: background jobs ignore Ctrl-C


class DeferredSignals:
    """The first termination signal received since :meth:`install`, raised when it is safe.

    Parameters
    ----------
    deferring : bool
        Whether the first signal waits for :meth:`check` (else it raises at once, like Python's
        default Ctrl-C); may be switched around the parts that must not be interrupted.
    """

    def __init__(self, *, deferring: bool = True) -> None:
        self.received: int | None = None
        self.deferring = deferring

    def handler(self, signum: int, frame: Any) -> None:
        """The signal handler :meth:`install` sets."""
        first = self.received is None
        if first:
            self.received = signum
        if not (first and self.deferring):
            raise KeyboardInterrupt(f"signal {signum}")

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a signal was received (call it at safe points)."""
        if self.received is not None:
            raise KeyboardInterrupt(f"signal {self.received}")

    def install(self) -> Callable[[], None]:
        """Handle SIGTERM and SIGINT from now on; returns the function that puts the previous
        handlers back (and forgets the signal, so that the next run starts clean)."""
        self.received = None
        previous = {sig: signal.signal(sig, self.handler) for sig in _SIGNALS}

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)
            self.received = None

        return restore
