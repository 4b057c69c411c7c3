"""SIGINT, SIGTERM and SIGHUP stop a command as Ctrl-C does, unless the process was started
ignoring them (nohup's SIGHUP, a script's background job's SIGINT)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from aekit.cli import signals


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_a_signal_the_process_was_started_ignoring_stays_ignored():
    """Probe 52 sh 2: `nohup aekit train ...` stopped at the hang-up it was asked to ignore."""
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with signals.handled():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN  # still handled
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.05)
            assert signals.received() is None
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        with signals.handled():  # not ignored: aekit's handler, the stop as Ctrl-C
            assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_IGN, signal.SIG_DFL)
    finally:
        signal.signal(signal.SIGHUP, old)
