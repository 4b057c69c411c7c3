"""stdout as the place a command's result goes: closed (``>&-``), the result is said to be lost.

A stream closed at start-up is None in Python; aekit puts os.devnull in its place (the lines for
it dropped, aekit.cli.main), marked so that a command whose result is its stdout (``evaluate``
without --output, ``datasets list``) fails saying so rather than exit 0 having written nothing.
A command that writes its result to a file, and only says so on stdout, goes on.
"""

from __future__ import annotations

import errno
import sys

CLOSED = "aekit_closed"  # the attribute that marks a stream closed at start-up


def require_stdout(what: str, fix: str = "") -> None:
    """Refuse in one line when stdout was closed at start-up: ``what`` (the result) goes there."""
    from ..errors import WriteFailure

    if getattr(sys.stdout, CLOSED, False):
        raise WriteFailure(
            f"stdout is closed: {what} goes to stdout and could not be written{fix}",
            errno=errno.EBADF,
        )
