import os
import signal

import pytest

from zssr.signals import DeferredSignals


def test_first_signal_waits_for_check_and_a_second_raises_at_once():
    stop = DeferredSignals()
    before = signal.getsignal(signal.SIGTERM)
    restore = stop.install()
    try:
        assert signal.getsignal(signal.SIGTERM) == stop.handler
        stop.check()  # nothing received: no-op
        os.kill(os.getpid(), signal.SIGTERM)  # recorded, not raised here
        assert stop.received == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt, match="signal"):
            stop.check()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
        assert stop.received == signal.SIGTERM  # the first one is what is reported
    finally:
        restore()
    assert signal.getsignal(signal.SIGTERM) == before
    assert stop.received is None  # the next run starts clean
    stop.check()


def test_without_deferring_the_first_signal_raises_at_once():
    stop = DeferredSignals(deferring=False)
    restore = stop.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        restore()
