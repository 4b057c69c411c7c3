"""Signals: SIGTERM and SIGHUP stop a command the way Ctrl-C does.

Each raises :class:`aekit.errors.Interrupted` (a ``KeyboardInterrupt``) in the main thread, so
every ``finally`` and atomic write unwinds as on Ctrl-C: the run's checkpoint stays intact, and
the CLI prints one line and exits with 128 + the signal's number. The first signal wins: later
ones are ignored while the command unwinds, so the unwinding is never cut short by a second one.
A signal the process was started ignoring (``nohup``'s SIGHUP, a script's background job's SIGINT)
stays ignored.

Under ``aekit train --nproc N`` the launcher reports the interrupt and its workers stay silent;
under an outside torchrun, rank 0 reports. Workers started by aekit's launcher also die with it
(``PR_SET_PDEATHSIG``): even a launcher killed with SIGKILL leaves no worker behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

from .. import _stop

# SIGXCPU: the soft CPU-time limit (ulimit -t), sent before the hard limit's SIGKILL: time to unwind
SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGXCPU")
    if hasattr(signal, name)
)
CPU_LIMIT = getattr(signal, "SIGXCPU", None)
_PR_SET_PDEATHSIG = 1


def received() -> int | None:
    """The signal that stopped the current command, if one did."""
    return _stop.requested()


def _handler(signum: int, frame) -> None:
    from ..errors import Interrupted

    _stop.request(signum)  # asked again before a run is made final, should this raise be lost
    for sig in SIGNALS:  # one stop: later signals would cut the unwinding short
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Handle SIGINT, SIGTERM and SIGHUP as Ctrl-C for the block (main thread only), then restore.

    The stop a signal asked for (:func:`received`) is forgotten after the block: what runs after
    the command in the same process (a test, a notebook) is not stopped by it.
    """
    _stop.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    unraisable = sys.unraisablehook
    sys.unraisablehook = _quiet_interrupt(unraisable)
    for sig in SIGNALS:
        # one the process was started ignoring stays ignored: nohup's SIGHUP, the SIGINT of a
        # script's background job (a Ctrl-C at the terminal is not for it), as Python keeps it
        if previous[sig] is not signal.SIG_IGN:
            signal.signal(sig, _handler)
    _die_with_launcher()
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
        sys.unraisablehook = unraisable
        _stop.clear()


def _quiet_interrupt(hook):
    """``sys.unraisablehook`` that says nothing of the stop raised where Python ignores what is
    raised (a signal that came while the import machinery ran a weakref callback printed
    "Exception ignored in ... Interrupted: 15" above the one line): the stop is recorded
    (:func:`received`) and raised again before the run is made final."""
    from ..errors import Interrupted

    def unraisable(info) -> None:
        if not isinstance(info.exc_value, Interrupted):
            hook(info)

    return unraisable


def _launched_by_aekit() -> bool:
    """A worker of ``aekit train --nproc N`` (rather than of an outside torchrun, or alone)."""
    from ..training.distributed import LAUNCHER_ENV

    return bool(os.environ.get(LAUNCHER_ENV)) and os.environ.get("WORLD_SIZE", "1") != "1"


def reports_interrupts() -> bool:
    """Whether this process prints the interrupt line: not a worker of aekit's launcher, and rank 0."""
    from ..errors import UsageError
    from ..training.distributed import is_main_process

    if _launched_by_aekit():
        return False  # the launcher says it, once
    try:
        return is_main_process()
    except UsageError:  # a malformed RANK: every process says so
        return True


def _die_with_launcher() -> None:
    """In a worker of aekit's launcher: be killed when the launcher dies, however it dies (Linux)."""
    from ..training.distributed import LAUNCHER_ENV

    if not _launched_by_aekit() or not os.sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        return
    launcher = os.environ.get(LAUNCHER_ENV, "")
    if launcher.isdecimal() and os.getppid() != int(launcher):
        _not_the_launchers(int(launcher))


def _not_the_launchers(pid: int) -> None:
    """Exit: this process is not a worker of the launcher that ``AEKIT_LAUNCHER_PID`` names, which
    ended before prctl took effect (128 + SIGKILL, as it would have been killed) or, still running
    and not the parent, is no launcher of it: the variable was set by hand or left over (exit 2)."""
    from ..training.distributed import LAUNCHER_ENV

    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    except OSError:  # another user's process: running
        alive = True
    except OverflowError:  # no pid can be that large
        alive = False
    line = (
        f"{LAUNCHER_ENV}={pid} is not this process's parent (the variable is aekit's own, for the "
        "processes that 'aekit train --nproc' starts; set by hand, unset it)"
        if alive
        else f"the launcher of this process ({LAUNCHER_ENV}={pid}) has ended: start the training "
        "again ('aekit train --nproc'), or unset the variable if it was set by hand"
    )
    sys.stderr.write(f"aekit: error: {line}\n")
    sys.stderr.flush()
    os._exit(2 if alive else 128 + signal.SIGKILL)
