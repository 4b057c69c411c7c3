"""What a series must be before the series detector reads it: finite numbers, steps by channels,
the channels it was trained on (by name for a DataFrame), and a training stretch that varies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...data.checks import check_numeric, fail, to_numpy
from ...errors import DataError


def as_series(X: Any, name: str = "X") -> np.ndarray:
    """A series as C-contiguous float32 (steps, channels); a 1-D array is one channel.

    Examples
    --------
    >>> as_series([1, 2, 3]).shape
    (3, 1)
    """
    import scipy.sparse as sp

    if sp.issparse(X):  # as scikit-learn says it (to_numpy made it one object: "dtype object")
        raise fail(
            f"Sparse data was passed for {name}, but dense data is required. Use '.toarray()' to "
            f"convert to a dense numpy array"
        )
    x = to_numpy(X, name)
    check_numeric(x, name)
    if x.ndim == 1:
        x = x[:, None]  # (steps,) -> (steps, 1)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise fail(f"{name} has shape {x.shape}; expected a series (steps,) or (steps, channels)")
    bad = ~np.isfinite(x)
    if bad.any():
        step, channel = (int(i) for i in np.argwhere(bad)[0])
        what = (
            "a gap (NaN)"
            if np.isnan(x[step, channel])
            else f"an infinite value ({x[step, channel]})"
        )
        raise fail(
            f"{name} has {what} at step {step}, channel {channel}; expected finite numbers (fill gaps "
            f"first, e.g. aekit.data.series.fill_gaps(x, 'linear'))"
        )
    return np.ascontiguousarray(x, dtype=np.float32)


def _names(names: Sequence[str], shown: int = 6) -> str:
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def _difference(given: Sequence[str], trained: Sequence[str]) -> str:
    """How the columns differ from the channels: duplicated, missing, unknown, or reordered."""
    twice = sorted({c for c in given if given.count(c) > 1})
    missing = [c for c in trained if c not in given]
    unknown = [c for c in given if c not in trained]
    if twice:
        return f"{twice[0]!r} appears more than once"
    if missing:
        return f"{missing[0]!r} is missing" + (
            f" ({unknown[0]!r} is not a channel)" if unknown else ""
        )
    if unknown:
        return f"{unknown[0]!r} is not a channel"
    return "the same names in another order"


def check_not_constant(x: np.ndarray, channel_names: Sequence[str] | None) -> None:
    """A training stretch in which every channel holds one value teaches nothing: its scores are all
    0, so the threshold is 0 and every step of a new series that moves at all would be flagged."""
    if len(x) > 1 and bool(np.all(x == x[:1])):
        which = "the channel" if x.shape[1] == 1 else f"each of the {x.shape[1]} channels"
        raise DataError(
            f"the training stretch is constant ({which} holds one value over its {len(x)} steps): "
            f"nothing normal can be learned from it, and every step of a new series that varies "
            f"would be flagged; train on a stretch of the signal that varies"
        )


def check_channel_names(names: Sequence[Any] | None, channels: int) -> None:
    """Channel names given at ``fit``: one per channel, none twice (one line otherwise)."""
    if names is None:
        return
    if len(names) != channels:
        raise DataError(f"channel_names has {len(names)} names but X has {channels} channels")
    text = [str(c) for c in names]
    if len(set(text)) != len(text):
        twice = sorted({c for c in text if text.count(c) > 1})
        raise DataError(
            f"X has the channel name {twice[0]!r} more than once; give each channel its own name"
        )


def check_columns(X: Any, trained: list[str] | None, name: str) -> None:
    """A DataFrame's columns are the channels trained on, by name and in order (as scikit-learn
    refuses reordered or renamed feature names); arrays are taken in the training order."""
    if not hasattr(X, "columns") or trained is None:
        return
    given = [str(c) for c in X.columns]
    if given == trained:
        return
    raise DataError(
        f"{name}'s columns ({_names(given)}) are not the channels the model was trained on "
        f"({_names(trained)}): {_difference(given, trained)}; select them by name, e.g. "
        f"X[det.channel_names_]"
    )
