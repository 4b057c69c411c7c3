"""Errors that aekit raises for the user to read.

Every message is one line: what was wrong, what was expected, and the fix where there
is one. The CLI maps :class:`UsageError` to exit code 2 and :class:`RunFailure` to exit
code 1 and prints only the message (the traceback only with ``--debug``).
"""

from __future__ import annotations


class AekitError(Exception):
    """Base class of every error aekit raises on purpose."""

    exit_code = 1


class UsageError(AekitError, ValueError):
    """Bad usage or bad input: a wrong option, a missing or malformed file (exit code 2)."""

    exit_code = 2


class DataError(UsageError):
    """Input data that cannot be used: empty, non-numeric, NaN/inf, ragged, mixed sizes."""


class DataTypeError(DataError, TypeError):
    """Input of a type that cannot be numbers (an object array holding dicts, say): a TypeError, as scikit-learn raises."""


class RunFailure(AekitError, RuntimeError):
    """A failure while running: a download that failed, a corrupt model file (exit code 1)."""

    exit_code = 1


def __getattr__(name: str):
    """``NotFittedError`` is built on first use: it subclasses scikit-learn's, whose import is not cheap."""
    if name == "NotFittedError":
        from sklearn.exceptions import NotFittedError as SklearnNotFittedError

        cls = type("NotFittedError", (UsageError, SklearnNotFittedError), {
            "__module__": __name__,
            "__doc__": "An estimator method that needs a fitted model was called before ``fit``.\n\n"
                       "Also scikit-learn's ``sklearn.exceptions.NotFittedError`` (a ValueError and an "
                       "AttributeError), so code written for scikit-learn catches it.",
        })
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def one_line(message: str) -> str:
    """Fold a message onto one line, so that the CLI always prints exactly one."""
    return " ".join(str(message).split())
