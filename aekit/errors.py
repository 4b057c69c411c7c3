"""Errors that aekit raises for the user to read.

Every message is one line: what was wrong, what was expected, and the fix where there
is one. The CLI maps :class:`UsageError` to exit code 2 and :class:`RunFailure` to exit
code 1 and prints only the message (the traceback only with ``--debug``).

Each error also subclasses the built-in exception a caller would catch for it
(``ValueError``, ``TypeError``, ``MemoryError``, ``OSError``, ``PermissionError``,
``RuntimeError``), so that ``except ValueError`` and the like keep working around aekit's calls.
"""

from __future__ import annotations

import errno


class AekitError(Exception):
    """Base class of every error aekit raises on purpose."""

    exit_code = 1


class UsageError(AekitError, ValueError):
    """Bad usage or bad input: a wrong option, a missing or malformed file (exit code 2)."""

    exit_code = 2


class DataError(UsageError):
    """Input data that cannot be used: empty, non-numeric, NaN/inf, ragged, mixed sizes."""


class DataTypeError(DataError, TypeError):
    """Input of a type that cannot be numbers (an object array holding dicts, say).

    Also a TypeError, as scikit-learn raises for it.
    """


class NotFound(UsageError, FileNotFoundError):
    """A file, folder or run to read that is not there (exit code 2).

    Also a FileNotFoundError, so ``except FileNotFoundError`` around ``aekit.load(path)`` works.
    """

    def __init__(self, message: str, *, filename: str | None = None):
        super().__init__(message)
        self.errno, self.filename = errno.ENOENT, filename  # what `except OSError` callers look at

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # pickled (a process pool, Dask) with its filename, not only its message
        return type(self), (self.args[0],), {"errno": self.errno, "filename": self.filename}


class NotWritable(UsageError, PermissionError):
    """A file or folder aekit would write or replace that this process may not (exit code 2):
    a read-only run folder, another user's, a write-protected output; refused before any work.

    Also a PermissionError, so ``except PermissionError`` (or ``OSError``) around ``save()`` works.
    """

    def __init__(self, message: str, *, filename: str | None = None):
        super().__init__(message)
        self.errno, self.filename = errno.EACCES, filename  # what `except OSError` callers look at

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # pickled with its filename, not only its message
        return type(self), (self.args[0],), {"errno": self.errno, "filename": self.filename}


class ArgumentTypeError(UsageError, TypeError):
    """An argument of the wrong type given to a public function (a number where a path belongs...)."""


class TooLarge(UsageError, MemoryError):
    """What the arguments ask for needs more memory than the machine has; refused before allocating."""


class RunFailure(AekitError, RuntimeError):
    """A failure while running: a download that failed, a corrupt model file (exit code 1)."""

    exit_code = 1


class Diverged(RunFailure):
    """Training produced a non-finite loss or non-finite weights; the last good checkpoint is kept."""


class RunInProgress(RunFailure):
    """A run folder that another process is still writing, or that was interrupted before it finished."""


class WriteFailure(AekitError, OSError):
    """A file could not be written (disk full, quota, file too large); names the path (exit code 1)."""

    exit_code = 1

    def __init__(self, message: str, *, errno: int | None = None, filename: str | None = None):
        super().__init__(message)
        self.errno, self.filename = errno, filename  # what `except OSError` callers look at

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # pickled with its errno and filename, as an OSError is
        return type(self), (self.args[0],), {"errno": self.errno, "filename": self.filename}


def __getattr__(name: str):
    """``NotFittedError`` is built on first use: it subclasses scikit-learn's, whose import is not cheap."""
    if name == "NotFittedError":
        from sklearn.exceptions import NotFittedError as SklearnNotFittedError

        cls = type(
            "NotFittedError",
            (UsageError, SklearnNotFittedError),
            {
                "__module__": __name__,
                "__doc__": "An estimator method that needs a fitted model was called before ``fit``.\n\n"
                "Also scikit-learn's ``sklearn.exceptions.NotFittedError`` (a ValueError and an "
                "AttributeError), so code written for scikit-learn catches it.",
            },
        )
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class QualityWarning(UserWarning):
    """A fitted model that is not useful, with a likely fix: a validation loss that never improved,
    overfitting, unstable training, a code as wide as its input (as scikit-learn's
    ``ConvergenceWarning`` says a fit fell short). ``aekit train`` says these and more as its own
    ``aekit: warning:`` lines and records them in ``metrics.json``."""


class Interrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C), SIGTERM or SIGHUP: the CLI stops as on Ctrl-C and exits with 128 + ``signum``."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)


def naming(err: AekitError, *params: str) -> AekitError:
    """``err``, marked with the parameters its message names in Python's form (``members=3``,
    ``method='both'``): the command line says them as the options typed (``--members 3``,
    ``--method both``; :func:`aekit.cli.main`). Notes take them too (:func:`aekit._notes.note`)."""
    err.param = params[0] if len(params) == 1 else params  # type: ignore[attr-defined]
    return err


def one_line(message: str) -> str:
    """Fold a message onto one line, so that the CLI always prints exactly one."""
    return " ".join(str(message).split())
