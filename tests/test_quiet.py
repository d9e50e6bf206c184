"""The fd-level stderr silencer: C-level writes vanish, Python exceptions pass, fd 2 comes back."""

import os

import pytest

from zssr.quiet import QuietStderr, native_logs_wanted, quiet_native_stderr


def test_writes_to_fd_2_vanish_inside_and_come_back_after(capfd):
    with QuietStderr():
        os.write(2, b"chatter\n")
        with quiet_native_stderr():  # nested use keeps fd 2 silenced until the outer exit
            os.write(2, b"inner\n")
        os.write(2, b"still quiet\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_exceptions_propagate_and_fd_2_is_restored(capfd):
    with pytest.raises(KeyError, match="missing"):
        with QuietStderr():
            raise KeyError("missing")
    os.write(2, b"back\n")
    assert capfd.readouterr().err == "back\n"


def test_disabled_or_asked_for_logs_it_stays_out_of_the_way(capfd, monkeypatch):
    with QuietStderr(enabled=False):
        os.write(2, b"shown\n")
    monkeypatch.setenv("ZSSR_DEBUG", "1")
    assert native_logs_wanted()
    with quiet_native_stderr():
        os.write(2, b"debug\n")
    monkeypatch.setenv("ZSSR_DEBUG", "0")
    assert not native_logs_wanted()
    assert capfd.readouterr().err == "shown\ndebug\n"
