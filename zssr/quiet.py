"""Keep C++ libraries' start-up lines (TensorFlow's, XLA's, CUDA's: "All log messages before
absl::InitializeLog()", a failed ``cuInit`` on a machine without a GPU) off the user's terminal.

Those lines are written by native code straight to file descriptor 2, past ``sys.stderr``, so
Python's logging and warnings filters cannot stop them. :class:`QuietStderr` points descriptor 2
at the null device for the duration of a ``with`` block (the import of Keras and its backend and
the first device query) and restores it afterwards, exceptions included.

Set the environment variable ``ZSSR_DEBUG=1`` to see those lines (the CLI's ``--debug`` does the
same for one command).
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["QuietStderr", "quiet_native_stderr", "native_logs_wanted"]

_LOCK = threading.RLock()
_depth = 0
_saved: int | None = None


def native_logs_wanted() -> bool:
    """Whether ``ZSSR_DEBUG`` asks for the native libraries' log lines (set and not 0/empty)."""
    return os.environ.get("ZSSR_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


class QuietStderr:
    """Silence file descriptor 2 inside a ``with`` block unless ``enabled`` is false.

    Nested and concurrent blocks share one silencing: descriptor 2 comes back when the last of
    them exits. Python exceptions raised inside propagate unchanged.

    Parameters
    ----------
    enabled : bool
        False makes the block do nothing (e.g. ``enabled=not debug``).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.active = False

    def __enter__(self) -> QuietStderr:
        global _depth, _saved
        if self.enabled:
            with _LOCK:
                if _depth == 0:
                    sys.stderr.flush()
                    _saved = os.dup(2)
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, 2)
                    os.close(devnull)
                _depth += 1
                self.active = True
        return self

    def __exit__(self, *exc: object) -> None:
        global _depth, _saved
        if not self.active:
            return
        with _LOCK:
            self.active = False
            _depth -= 1
            if _depth == 0 and _saved is not None:
                os.dup2(_saved, 2)
                os.close(_saved)
                _saved = None


def quiet_native_stderr(enabled: bool = True) -> QuietStderr:
    """A :class:`QuietStderr` that is on when ``enabled`` unless :func:`native_logs_wanted`
    (``ZSSR_DEBUG=1``)."""
    return QuietStderr(enabled=enabled and not native_logs_wanted())
