"""SIGINT, SIGTERM and SIGHUP stop a command as Ctrl-C does, unless the process was started
ignoring them (nohup's SIGHUP, a script's background job's SIGINT)."""

from __future__ import annotations

import os
import signal
import sys
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


def test_the_cpu_time_limit_unwinds_like_sigterm_and_says_so(capsys):
    """Probe 58 locked F7: ulimit -t's SIGXCPU killed train with no aekit line (exit 152), not
    unwound like SIGTERM (its checkpoint kept, and said resumable)."""
    import argparse

    from aekit.cli.main import _interrupted
    from aekit.errors import Interrupted

    with pytest.raises(Interrupted), signals.handled():
        os.kill(os.getpid(), signal.SIGXCPU)
        time.sleep(5)  # the handler raises before this ends
    code = _interrupted(argparse.Namespace(command="train", out=None), signal.SIGXCPU)
    assert code == 128 + signal.SIGXCPU
    assert capsys.readouterr().err == "aekit: CPU time limit reached\n"  # no run named: no hint


def test_openblass_own_sigint_when_ulimit_u_is_used_up_is_not_ctrl_c(monkeypatch, capsys):
    """Probe 58 locked F5: OpenBLAS raise(SIGINT) when it could not start its threads was
    reported as "aekit: interrupted; resume with --resume", exit 130."""
    import argparse

    from aekit.cli.main import _interrupted
    from aekit.training import threads

    ns = argparse.Namespace(command="train", out=None)
    monkeypatch.setattr(threads, "process_room", lambda: (3, 0))
    assert _interrupted(ns, signal.SIGINT) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ulimit -u 3" in err and "--resume" not in err, err
    monkeypatch.setattr(threads, "process_room", lambda: (30, 20))  # room left: a real Ctrl-C
    assert _interrupted(ns, signal.SIGINT) == 130
    assert capsys.readouterr().err == "aekit: interrupted\n"


def test_a_stop_raised_where_python_ignores_it_is_recorded_without_a_traceback(monkeypatch):
    """CI at 03ff703: a SIGTERM that came while the import machinery ran a weakref callback printed
    "Exception ignored in ... Interrupted: 15" above the one line (test_faults); the stop is
    recorded and raised again later, so Python's report of it is left unsaid."""
    import weakref

    class Held:
        pass

    def callback(_):
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(1000))  # the handler runs here, inside the callback

    reported = []  # what Python reports as "Exception ignored in ..."
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    with signals.handled():
        held = Held()
        ref = weakref.ref(held, callback)
        del held
        assert signals.received() == signal.SIGTERM and ref() is None
    assert reported == [] and sys.unraisablehook == reported.append  # and put back


def test_ctrl_c_of_a_command_other_than_train_is_said_under_a_leftover_launch_environment(
    monkeypatch, capsys
):
    """Stop 62's left item: `aekit score` in a shell that a torchrun job left RANK=1 in said
    nothing at Ctrl-C (only rank 0 of a training reports), as its errors once did (env #3)."""
    import argparse

    from aekit.cli.main import _interrupted

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert _interrupted(argparse.Namespace(command="score"), signal.SIGINT) == 130
    assert capsys.readouterr().err == "aekit: interrupted\n"
    ns = argparse.Namespace(command="train", out=None)  # a training's rank 1: rank 0 says it
    assert _interrupted(ns, signal.SIGINT) == 130
    assert capsys.readouterr().err == ""
