"""A stop that a signal asked for, kept where every layer can see it.

The command line's handler (:mod:`aekit.cli.signals`) notes the signal here and raises
:class:`aekit.errors.Interrupted` in the main thread. An exception raised from a signal handler
can be lost: the handler runs wherever the main thread next checks for signals, and code that
checks and then clears the error it gets (an extension calling back into Python, a destructor)
drops it. The command would then go on and finish with every later signal ignored (the handler's
one stop), exit 0, and replace the user's run with one that was asked to stop. So the places that
make a run final ask again: the training loop before each epoch, a folder transaction before its
commit (:func:`check`). Outside the command line nothing sets it.
"""

from __future__ import annotations

_requested: int | None = None


def request(signum: int) -> None:
    """Note that signal ``signum`` asked the current command to stop."""
    global _requested
    _requested = int(signum)


def clear() -> None:
    """Forget any earlier request (a command starts)."""
    global _requested
    _requested = None


def requested() -> int | None:
    """The signal that asked the current command to stop, if one did."""
    return _requested


def check() -> None:
    """Raise :class:`aekit.errors.Interrupted` again if a stop was asked for: its first raise may have been lost."""
    if _requested is not None:
        from .errors import Interrupted

        raise Interrupted(_requested)
