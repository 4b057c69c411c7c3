"""What a series must be before the series detector reads it: finite numbers, steps by channels,
the channels it was trained on (by name for a DataFrame), and a training stretch that varies."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ...data.checks import check_numeric, column_numbers, fail, to_numpy
from ...errors import ArgumentTypeError, DataError, DataTypeError
from ..validation import as_text


def as_series(X: Any, name: str = "X", start: int = 0) -> np.ndarray:
    """A series as C-contiguous float32 (steps, channels); a 1-D array is one channel. ``start``:
    the series' step at the first row, for the steps a message names (a chunk's place).

    Examples
    --------
    >>> as_series([1, 2, 3]).shape
    (3, 1)
    """
    import scipy.sparse as sp

    if sp.issparse(X):  # as scikit-learn says it, a TypeError as there (to_numpy: "dtype object")
        raise DataTypeError(
            f"Sparse data was passed for {name}, but dense data is required. Use '.toarray()' to "
            f"convert to a dense numpy array."
        )
    x = _pandas_numbers(X, name)
    x = _object_numbers(to_numpy(X, name), name) if x is None else x
    check_numeric(x, name)
    if x.ndim == 1:
        x = x[:, None]  # (steps,) -> (steps, 1)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise fail(f"{name} has shape {x.shape}; expected a series (steps,) or (steps, channels)")
    _check_finite(x, name, start)
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(x, dtype=np.float32)
    if out.dtype != x.dtype and not np.isfinite(out).all():  # past float32's range: inf there
        step, channel = (int(i) for i in np.argwhere(~np.isfinite(out))[0])
        raise fail(
            f"{name} has {x[step, channel]:g} at step {start + step}, channel {channel}: too large "
            f"for float32, in which aekit computes (up to 3.4e38); rescale the series"
        )
    return out


def _check_finite(x: np.ndarray, name: str, start: int) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        step, channel = (int(i) for i in np.argwhere(bad)[0])
        what = (
            "a gap (NaN)"
            if np.isnan(x[step, channel])
            else f"an infinite value ({x[step, channel]})"
        )
        raise fail(
            f"{name} has {what} at step {start + step}, channel {channel}; expected finite numbers "
            f"(fill gaps first, e.g. aekit.data.series.fill_gaps(x, 'linear'))"
        )


def _pandas_numbers(X: Any, name: str) -> np.ndarray | None:
    """A pandas frame or Series as float64, missing values NaN, as the table estimators read it:
    pandas' own dtypes (nullable Int64 / Float64 / boolean, pyarrow, numbers held as objects) and
    NumPy's mixed (bool beside float: NumPy alone makes objects of both). None for anything else and
    for one NumPy number dtype (read as it is); a column of no numbers is refused by name."""
    if not (hasattr(X, "to_numpy") and hasattr(X, "index")) or hasattr(X, "detach"):
        return None
    columns = list(X.items()) if hasattr(X, "columns") else [(None, X)]
    dtypes = [values.dtype for _, values in columns]
    if len(set(dtypes)) <= 1 and all(_numpy_number(d) for d in dtypes):
        return None
    read = [column_numbers(values, name, column) for column, values in columns]
    return np.column_stack(read) if hasattr(X, "columns") else read[0]  # (steps, channels)


def _numpy_number(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "biuf"


def _object_numbers(x: np.ndarray, name: str) -> np.ndarray:
    """An object array of numbers (a mixed frame's ``to_numpy()``) as float64, as the table
    estimators take it; what holds no array (a generator: NumPy makes one object of it) refused by
    type. Anything else as it is, for :func:`check_numeric`'s line."""
    if x.dtype.kind != "O":
        return x
    if x.ndim == 0:
        raise DataTypeError(
            f"{name} is a {type(x.item()).__name__}; expected a series: an array of shape (steps,) "
            f"or (steps, channels)"
        )
    try:
        return x.astype(np.float64)
    except (TypeError, ValueError):
        return x


def numbered_chunks(chunks: Iterable[Any], name: str) -> Iterator[tuple[Any, np.ndarray]]:
    """Each chunk of a series and its steps as :func:`as_series` makes them, a message's step
    counted from the series' start; empty chunks (``np.array_split`` past the length) skipped."""
    if not isinstance(chunks, Iterable) or isinstance(chunks, (str, bytes)) or _one_array(chunks):
        raise ArgumentTypeError(
            f"chunks must be an iterable of arrays (steps, channels), got {_shown(chunks)}; "
            f"e.g. np.array_split(x, 10), or score_samples(x) for one array"
        )
    start = 0
    for chunk in chunks:
        if _length(chunk) == 0:
            continue
        x = as_series(chunk, name, start)
        start += len(x)
        yield chunk, x


def _one_array(chunks: Any) -> bool:
    """A whole series given as its chunks: iterating it would give its rows, each taken as a chunk."""
    return hasattr(chunks, "shape") or hasattr(chunks, "columns")


def _shown(chunks: Any) -> str:
    return f"an array of shape {tuple(chunks.shape)}" if hasattr(chunks, "shape") else repr(chunks)


def _length(chunk: Any) -> int | None:
    try:
        return len(chunk)
    except TypeError:  # a 0-d array or tensor: as_series says what it is
        return None


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


def check_steps_by_channels(x: np.ndarray, names: Sequence[Any] | None) -> None:
    """A training stretch ``x`` of more channels than steps: a recording held as (channels, steps),
    as MNE and ``np.stack(channels)`` give it, was fitted as a few steps of thousands of channels
    and scored with one score per channel. Channel ``names`` (a DataFrame's columns, a file's
    header) say which axis the channels are, so such a stretch is taken as it is."""
    steps, channels = x.shape
    if channels > steps and names is None:
        raise DataError(
            f"X has shape ({steps}, {channels}): {steps} steps of {channels} channels, more channels "
            f"than steps; a series is (steps, channels): if yours is (channels, steps), pass X.T "
            f"(if not, name the channels: channel_names=...)"
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


def record_feature_names(det: Any) -> None:
    """``feature_names_in_``, as scikit-learn's tools read it: the channels' names where there are
    some (a DataFrame's columns), and none after a fit on an array."""
    if det.channel_names_ is not None:
        det.feature_names_in_ = np.asarray(det.channel_names_, dtype=object)
    elif hasattr(det, "feature_names_in_"):
        del det.feature_names_in_


def check_columns(X: Any, trained: list[str] | None, name: str) -> None:
    """A DataFrame's columns are the channels trained on, by name and in order (as scikit-learn
    refuses reordered or renamed feature names), and a named pandas Series is the one channel; arrays
    and a Series without a name are taken in the training order."""
    if _named_series(X) and trained is not None:
        X = X.to_frame()  # its name is its column's: the same check
    if not hasattr(X, "columns"):
        return
    if trained is None:  # scikit-learn's warning for a frame given to a model fitted on an array
        warnings.warn(
            f"{name} has channel names, but the detector was fitted without channel names: its "
            f"columns are taken in the order given",
            UserWarning,
            stacklevel=4,
        )
        return
    given = [as_text(c) for c in X.columns]
    if trained in (given, [str(c) for c in X.columns]):  # str: a model saved before as_text
        return
    raise DataError(
        f"{name}'s columns ({_names(given)}) are not the channels the model was trained on "
        f"({_names(trained)}): {_difference(given, trained)}; select them by name, e.g. "
        f"X[det.channel_names_]"
    )


def _named_series(X: Any) -> bool:
    """A pandas Series with a name (``df["v"]``): a one-channel frame by another name."""
    return hasattr(X, "to_frame") and not hasattr(X, "columns") and X.name is not None
