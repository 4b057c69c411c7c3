"""stdout and stderr in a shell's corners: closed (``>&-``), full (``>/dev/full``), failing.

A stream closed at start-up is None in Python; aekit puts os.devnull in its place (the lines for
it dropped, aekit.cli.main), marked so that a command whose result is its stdout (``evaluate``
without --output, ``datasets list``) fails saying so rather than exit 0 having written nothing.
A command that writes its result to a file, and only says so on stdout, goes on.

A stream that fails when written (a full log disk, a device error, a log pipe gone) follows the
same policy (:func:`lines_may_fail`): stderr holds diagnostics only (progress, notes, warnings,
the error line), so a failure drops them and the training or scoring goes on to its result and
its exit code; stdout fails the command only where it holds the result.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

CLOSED = "aekit_closed"  # the attribute that marks a stream closed at start-up


def require_stdout(what: str, fix: str = "") -> None:
    """Refuse in one line when stdout was closed at start-up: ``what`` (the result) goes there.

    Under :func:`lines_may_fail`, stdout failing later is then said too (it holds the result)."""
    from ..errors import WriteFailure

    if getattr(sys.stdout, CLOSED, False):
        raise WriteFailure(
            f"stdout is closed: {what} goes to stdout and could not be written{fix}",
            errno=errno.EBADF,
        )
    holds_result(what, fix)


def holds_result(what: str, fix: str = "") -> None:
    """Mark stdout as holding the result, ``what``: under :func:`lines_may_fail`, stdout failing
    is then said in one line naming stdout, not dropped as a note."""
    if isinstance(sys.stdout, _Lines):
        sys.stdout.result = (what, fix)


@contextlib.contextmanager
def lines_may_fail() -> Iterator[None]:
    """Within: sys.stderr and sys.stdout whose failing writes follow this module's policy (a
    training stopped at its first progress line on a full log disk, run left unfinished, and its
    error line went to the same disk: exit 1, nothing said); as they were after."""
    before = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Lines(sys.stdout, "stdout"), _Lines(sys.stderr, "stderr")
    try:
        yield
    finally:
        if isinstance(sys.stdout, _Lines):  # not replaced meanwhile (a test's own capture)
            sys.stdout = before[0]
        if isinstance(sys.stderr, _Lines):
            sys.stderr = before[1]


class _Lines:
    """``stream`` with its failures handled: on stderr, or on a stdout that holds only notes
    ("wrote z.csv" after z.csv was written), the line is dropped and so are the later ones.

    For stdout this is the closed-stdout policy rather than an error naming stdout: the result is
    in its file and the exit code says so, where exit 1 told a script (cron) that the output's
    disk was full and its retry then met "z.csv already exists". A stdout that holds the result
    (:func:`require_stdout`) fails the command in one line naming stdout; a reader gone
    (EPIPE, ``| head``) is still the pipe's silence and exit code (aekit.cli.main)."""

    def __init__(self, stream: IO[str], name: str):
        self._stream, self._name = stream, name
        self.result: tuple[str, str] | None = None  # what goes to stdout, and the fix
        self._failed = False

    def write(self, text: str) -> int:
        if not self._failed:
            with self._handled():
                return self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        if not self._failed:
            with self._handled():
                self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding, ... as the stream's
        return getattr(self._stream, name)

    @contextlib.contextmanager
    def _handled(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            if self._name == "stdout" and exc.errno == errno.EPIPE:
                raise  # the reader went away: the pipe's silence and exit code
            self._discard()
            if self._name == "stdout" and self.result is not None:
                raise self._said(exc, *self.result) from exc
            self._failed = True

    @staticmethod
    def _said(exc: OSError, what: str, fix: str) -> OSError:
        """The one line of a failing stdout that holds the result, ``what``."""
        from ..errors import WriteFailure, one_line

        reason = one_line(exc.strerror or exc).lower()
        return WriteFailure(
            f"cannot write to stdout ({reason}): {what} goes to stdout and could not be "
            f"written{fix}",
            errno=exc.errno,
        )

    def _discard(self) -> None:
        """os.devnull under the stream's descriptor: the bytes left in its buffer then go there at
        the exit's flush, which otherwise failed again (exit 120)."""
        with contextlib.suppress(OSError, ValueError, AttributeError):  # no descriptor (a test's)
            fd = self._stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
