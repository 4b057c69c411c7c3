"""Validation of arrays at the data boundary: numbers only, finite, float32, one-line errors.

Every reader, the streaming spill and the writers check arrays through these functions, so a
problem reads the same whichever path the data took. Only NumPy is imported here.
"""

from __future__ import annotations

import codecs
import os
import unicodedata
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, DataTypeError, NotFound, UsageError, one_line


def fail(message: str) -> DataError:
    """A :class:`~aekit.errors.DataError` with ``message`` on one line, for the caller to raise."""
    return DataError(one_line(message))


def listed(names: list[str], most: int = 12) -> str:
    """The first ``most`` of ``names`` for a message ("a, b, c ..."): a table may have thousands."""
    return ", ".join(names[:most]) + (" ..." if len(names) > most else "")


def unicode_forms(given: Iterable[Any], names: Iterable[Any]) -> str:
    """A message's last words for a name ``given`` that is one of ``names`` only in another Unicode
    normalization: macOS file names and exports write "é" as e and a combining accent (NFD), typed
    text as one character (NFC), and a message prints both alike (probe 59 locale M4); "" if none."""
    forms = {unicodedata.normalize("NFC", str(n)): str(n) for n in names}
    for g in map(str, given):
        other = forms.get(unicodedata.normalize("NFC", g))
        if other is not None and other != g:
            return (
                f" (given {ascii(g)}, found {ascii(other)}: the same text in two Unicode forms, "
                f"composed (NFC) and decomposed (NFD, as macOS writes names); write both in one form)"
            )
    return ""


def first_not_utf8(path: Path, chunk: int = 1 << 20) -> tuple[int, int, bytes] | None:
    """(line, byte offset, the bytes from there) of the first byte of ``path`` that is not UTF-8;
    None if it is all UTF-8 (or can no longer be read). Read a chunk at a time: tables may be large."""
    decoder, offset, lines = codecs.getincrementaldecoder("utf-8")(), 0, 1
    try:
        with open(path, "rb") as f:
            while True:
                data = f.read(chunk)
                held = len(decoder.getstate()[0])  # a character's first bytes, from the last chunk
                try:
                    decoder.decode(data, final=not data)
                except UnicodeDecodeError as exc:
                    bad = offset - held + exc.start
                    before = data[: max(0, bad - offset)]
                    return lines + _line_ends(before), bad, exc.object[exc.start :][:4]
                if not data:
                    return None
                offset, lines = offset + len(data), lines + _line_ends(data)
    except OSError:
        return None


def _line_ends(data: bytes) -> int:
    """Line ends in ``data``: LF, CR LF, and a bare CR (old Mac and Excel tables, which aekit
    reads). A CR LF split between two chunks counts twice: a line off, in a message only."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def not_found(path: str | os.PathLike, what: str = "file") -> UsageError:
    """The one line for an input that is not there to read: a named pipe or a device said to be one
    (aekit reads an input more than once; it was "no such file"), a ``~`` the shell did not
    expand (``--input=~/x.csv``), or no such ``what``."""
    p = Path(path)
    if p.exists() and not p.is_file() and not p.is_dir():
        return UsageError(
            f"{path} is not a regular file (a named pipe, a device or a socket); aekit reads its "
            f"input more than once: save it to a file first"
        )
    if p.parts[:1] == ("~",):
        return NotFound(
            f"no such {what}: {path} (the shell did not expand '~' after '=': write the option "
            f"and ~/... apart, or $HOME/...)",
            filename=str(path),
        )
    return NotFound(f"no such {what}: {path}", filename=str(path))


def check_exists(path: str | os.PathLike) -> None:
    """A file or folder to read is there: else :func:`not_found`'s line (a named pipe said to be
    one, not "no such file")."""
    if not (Path(path).is_file() or Path(path).is_dir()):
        raise not_found(path, "file or folder")


def to_numpy(X, name: str) -> np.ndarray:
    """NumPy view of arrays, torch tensors (detached, on the CPU) and nested lists; a masked
    array's masked entries as NaN (missing values, refused or named as any NaN is)."""
    if hasattr(X, "detach") and hasattr(X, "cpu") and hasattr(X, "numpy"):  # a torch tensor
        return _tensor_numpy(X, name)
    if np.ma.isMaskedArray(X):
        return masked_as_nan(X)
    try:
        return np.asarray(X)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise fail(f"{name} cannot be read as an array: {exc}") from exc


def _tensor_numpy(X, name: str) -> np.ndarray:
    """A torch tensor as NumPy; what holds no array of values (sparse, nested, on the 'meta'
    device) is one line, not torch's own error."""
    if "sparse" in str(X.layout):  # as SciPy sparse is where dense data is required
        raise DataTypeError(
            f"Sparse data was passed for {name}, but dense data is required: use {name}.to_dense()"
        )
    if X.is_nested:
        raise fail(
            f"{name} is a nested tensor (samples of different shapes); expected one array of "
            f"shape (n_samples, n_features): pad it first (torch.nested.to_padded_tensor)"
        )
    if X.is_meta:
        raise fail(
            f"{name} is a tensor on the 'meta' device, which holds no values; give a tensor "
            f"with data (on the CPU or a GPU)"
        )
    # a conjugate's .imag is a lazily negated view, which .numpy() refuses
    t = X.detach().cpu().resolve_conj().resolve_neg()
    if t.is_floating_point() and t.dtype.itemsize < 4:
        t = t.float()  # bfloat16 and float16 have no or poor NumPy equivalents; float64 stays
    return t.numpy()


def column_numbers(values: Any, name: str, column: Any = None) -> np.ndarray:
    """One DataFrame column (or a Series) as float64, missing values NaN: pandas' own dtypes
    (nullable Int64 / Float64 / boolean, pyarrow, numbers held as objects) read as the table
    estimators read them. A column of no numbers is refused by its name and dtype: text,
    categories, and dates and durations (pandas would give their nanoseconds as numbers)."""
    try:
        if getattr(values.dtype, "kind", "O") in "mM":
            raise TypeError("dates are not numbers")
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataTypeError(no_numbers(name, column, values.dtype)) from None


def no_numbers(name: str, column: Any, dtype: Any) -> str:
    """The line for a column (or a Series, ``column`` None) that holds no numbers."""
    where = name if column is None else f"{name}: column {column!r}"
    return (
        f"{where} has dtype {dtype}; expected numbers (bool, int or float): encode it as numbers "
        f"or leave it out"
    )


def masked_as_nan(X: np.ma.MaskedArray) -> np.ndarray:
    """A NumPy masked array as a plain one, its masked entries NaN: a mask marks missing values
    (a logger's -999 masked), and its stored values must not be read as numbers. Without masked
    entries, its values as they are.

    Examples
    --------
    >>> masked_as_nan(np.ma.masked_values([1.0, -999.0], -999.0)).tolist()
    [1.0, nan]
    """
    if not np.ma.getmaskarray(X).any() or X.dtype.kind not in "biufc":
        return np.asarray(np.ma.getdata(X))
    values = X if X.dtype.kind in "fc" else X.astype(np.float64)
    return np.asarray(values.filled(np.nan))


def refuse_channels_last(shape: tuple[int, ...], name: str) -> None:
    """One line for images laid out (n, H, W, C) with C = 1 or 3 (Keras's layout,
    ``x[..., np.newaxis]``), or C = 2 or 4 with H and W larger than any channel count (PIL's "LA"
    and "RGBA", ``np.asarray(image)``): aekit's images are (n, C, H, W), and such an array would be
    taken as H-channel images of W x C pixels. Never transposed silently: the caller's array is
    ambiguous."""
    shape = tuple(int(d) for d in shape)
    if len(shape) != 4:
        return
    if shape[-1] in (1, 3):
        last = shape[1] not in (1, 3)
    else:  # with alpha (LA, RGBA): only where H and W cannot be channels, (n, C, H, 4) stays taken
        last = shape[-1] in (2, 4) and min(shape[1], shape[2]) > 4
    if last:
        raise fail(
            f"{name} has shape {shape}: images with their channels last (n, H, W, C); aekit takes "
            f"images as (n, C, H, W): use x.transpose(0, 3, 1, 2)"
        )


def _first_bad(bad: np.ndarray, describe) -> tuple[tuple[int, ...], str]:
    """Index of the first True in ``bad``, and its position in words (``describe(index)`` if given)."""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return index, describe(index) if describe else f"at index {index}"


def check_finite(x: np.ndarray, name: str, describe=None, allow_nan: bool = False) -> None:
    """Raise for the first NaN or inf in ``x`` (inf only: ``allow_nan``); ``describe(index)`` words its position."""
    bad = np.isinf(x) if allow_nan else ~np.isfinite(x)
    if bad.any():
        index, where = _first_bad(bad, describe)
        # a text file's 1e400 arrives here as inf: say it may be that, or the user looks for an
        # "inf" in vain (a binary array's inf is one: a possibility, not a claim)
        value = x[index]
        past = f" ({value}, or in a text file a number past float64's ±1.8e308, which reads as {value})"
        past = past if np.isinf(value) else ""
        raise fail(
            f"{name} has a non-finite value ({x[index]}) {where}; expected finite numbers{past}"
        )


def to_float32(x: np.ndarray, name: str, describe=None, allow_nan: bool = False) -> np.ndarray:
    """Cast to C-contiguous float32, refusing NaN (unless ``allow_nan``: missing values), inf and
    values too large for float32."""
    check_finite(x, name, describe, allow_nan)
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(x, dtype=np.float32)
    bad = np.isinf(out) if allow_nan else ~np.isfinite(out)
    if bad.any():
        index, where = _first_bad(bad, describe)
        raise fail(f"{name} has a value too large for float32 ({x[index]}) {where}")
    if x.dtype.kind == "f" and x.dtype.itemsize > 4 and x.ndim >= 1 and x.size:
        check_underflow(x, out, name, describe)
    check_precision(x, out, name, describe)
    return out


def check_underflow(x: np.ndarray, out: np.ndarray, name: str, describe) -> None:
    """Refuse a feature whose every non-zero value is too small for float32 (below 1.2e-38: read
    as 0, or as a subnormal of a few digits): a column of p-values of 1e-60 would be a column of
    zeros, silently; a few such values beside ordinary ones are read as 0 and counted in a note."""
    tiny = (np.abs(out) < np.finfo(np.float32).tiny) & (x != 0) & ~np.isnan(x)
    if not tiny.any():
        return
    flat = tiny.reshape(len(x), -1)  # (n, ...) -> (n, features)
    kept = ((x != 0) & ~tiny & ~np.isnan(x)).reshape(len(x), -1).any(axis=0)
    lost = flat.any(axis=0) & ~kept
    if lost.any():
        index, where = _first_bad(
            tiny & np.broadcast_to(lost.reshape(x.shape[1:]), x.shape), describe
        )
        raise fail(
            f"{name} has values too small for float32 ({x[index]:.3g}) {where}, and nothing larger "
            f"in that column; aekit computes in float32 (down to 1.2e-38): give the column's "
            f"logarithm, or rescale it"
        )
    from .._notes import note

    index, where = _first_bad(tiny, describe)
    note(
        f"{name}: {int(tiny.sum())} value{'s' if tiny.sum() > 1 else ''} too small for float32 "
        f"(e.g. {x[index]:.3g} {where}) read as 0 or nearly"
    )


def check_precision(x: np.ndarray, out: np.ndarray, name: str, describe=None) -> bool:
    """A note for a feature whose values differ in ``x`` but are one value in its float32 ``out``:
    float32 keeps 7 digits, so ids, nanosecond times or 2**60 + small counts all become one number
    and the feature silently stops mattering (an anomaly in it is never seen), as
    :func:`check_underflow`'s zeros would. A feature constant in ``x`` says nothing new. Whether
    it said one."""
    if x.ndim < 2 or not x.size or x.dtype.kind not in "iuf" or np.can_cast(x.dtype, np.float32):
        return False
    flat, cast = x.reshape(len(x), -1), out.reshape(len(out), -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a feature of missing values only
        top, low = np.nanmax(flat, axis=0), np.nanmin(flat, axis=0)
        # floats vary beyond round-off only: shares summed to 1 +- an ulp are a constant, and the
        # note's advice (subtract the minimum) would make that ulp a feature (review 2 R2-1)
        noise = 2 * np.spacing(np.maximum(abs(top), abs(low))) if x.dtype.kind == "f" else 0
        varied = top - low > noise
        lost = varied & ~(np.nanmax(cast, axis=0) > np.nanmin(cast, axis=0))
    if not lost.any():
        return False
    from .._notes import note

    j = int(np.flatnonzero(lost)[0])
    column = flat[:, j]
    known = ~np.isnan(column) if x.dtype.kind == "f" else np.ones(len(column), bool)
    first = int(np.flatnonzero(known)[0])
    other = int(np.flatnonzero(known & (column != column[first]))[0])
    index = np.unravel_index(other * flat.shape[1] + j, x.shape)
    where = describe(index) if describe else f"at index {tuple(int(i) for i in index)}"
    more = f" (and {int(lost.sum()) - 1} more such)" if lost.sum() > 1 else ""
    note(
        f"{name}: a feature's values differ ({column[other].item()!r} {where}, "
        f"{column[first].item()!r} before it) but are all one value in float32 "
        f"({float(cast[first, j]):.7g}){more}; aekit computes in float32 (7 significant digits), "
        f"so the feature's variation is lost: subtract an offset (such as its minimum) or drop it"
    )
    return True


def check_numeric(x: np.ndarray, name: str) -> None:
    """Raise unless ``x`` holds numbers (bool, int or float)."""
    if x.dtype.kind not in "biuf":
        raise fail(f"{name} has dtype {x.dtype}; expected numbers (bool, int or float)")


def as_array(X, *, name: str = "X", min_ndim: int = 2) -> np.ndarray:
    """Validate in-memory input and return it as a C-contiguous float32 array.

    Accepts NumPy arrays, torch tensors and (nested) lists. Raises :class:`DataError` for
    empty input, a non-numeric dtype, NaN or inf, and fewer than ``min_ndim`` dimensions.

    Parameters
    ----------
    X : array-like
        NumPy array, torch tensor or nested lists of numbers.
    name : str, default "X"
        The name used in error messages.
    min_ndim : int, default 2
        The fewest dimensions accepted (samples first).

    Returns
    -------
    ndarray of float32

    Examples
    --------
    >>> as_array([[1, 2], [3, 4]]).dtype
    dtype('float32')
    """
    x = to_numpy(X, name)
    check_numeric(x, name)
    if x.ndim < min_ndim:
        raise fail(
            f"{name} has shape {x.shape}; expected at least {min_ndim} dimensions (samples, features...), "
            "e.g. reshape a single feature with X.reshape(-1, 1)"
        )
    if x.size == 0:
        raise fail(f"{name} is empty (shape {x.shape}); expected at least one sample")
    return to_float32(x, name)


def as_labels(y, n: int, *, name: str = "y") -> np.ndarray:
    """Validate labels for ``n`` samples: a 1-D array of numbers (int64 when integral) or strings.

    Parameters
    ----------
    y : array-like of shape (n,) or (n, 1)
        The labels.
    n : int
        How many samples they label.
    name : str, default "y"
        What the message of a refusal calls them.

    Examples
    --------
    >>> as_labels([1.0, 0.0], 2)
    array([1, 0])
    """
    arr = to_numpy(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise fail(f"{name} has shape {arr.shape}; expected one label per sample, shape ({n},)")
    if len(arr) != n:
        raise fail(f"{name} has {len(arr)} labels; expected {n}, one per sample")
    if arr.dtype.kind in "US":
        return arr.astype(str)
    check_numeric(arr, name)
    check_finite(arr, name)
    if arr.dtype.kind == "f" and np.array_equal(arr, np.round(arr)):
        return arr.astype(np.int64)
    return arr.astype(np.int64) if arr.dtype.kind in "biu" else arr.astype(np.float64)


def binary_mask(y: np.ndarray) -> np.ndarray:
    """Which entries of the flat labels ``y`` are 0 or 1. Numbers and bools count in an object array
    too (a pandas column of object or nullable dtype: a label column with a stray value or a
    missing one), as in a numeric one; text does not (numbers were asked for).

    Examples
    --------
    >>> binary_mask(np.array([0, True, None, "1"], dtype=object)).tolist()
    [True, True, False, False]
    """
    if y.dtype.kind in "biuf":
        return (y == 0) | (y == 1)
    if y.dtype.kind == "O":
        return np.fromiter((_is_binary(v) for v in y), bool, len(y))
    return np.zeros(len(y), bool)


def _is_binary(v) -> bool:
    return isinstance(v, (int, float, np.number, np.bool_)) and v in (0, 1)


def missing_label(v) -> bool:
    """None, NaN, or pandas' NA or NaT (known by their type's name: this module imports no pandas)."""
    if isinstance(v, (float, np.floating)):
        return bool(np.isnan(v))
    return v is None or type(v).__name__ in ("NAType", "NaTType")


def first_bad_label(y: np.ndarray) -> str | None:
    """The first entry of the flat labels ``y`` that is not 0 or 1 (:func:`binary_mask`) in words:
    "a missing label (<NA>) at position 3" for None, NaN or pandas' NA (which the eye cannot find
    in a column), numbers written as text ("0"/"1" of a column read as text: "the label '1'" read
    as if 1 were not allowed) as that, else "the label 2"; None when every one is 0 or 1.

    Examples
    --------
    >>> first_bad_label(np.array([0, True, None, 2], dtype=object))
    'a missing label (None) at position 2'
    >>> first_bad_label(np.array(["1", "0", "1"]))
    "text labels ('1', '0'), not numbers (convert them first: .astype(float))"
    """
    ok = binary_mask(y)
    if ok.all():
        return None
    i = int(np.flatnonzero(~ok)[0])
    value = y[i].item() if isinstance(y[i], np.generic) else y[i]
    if missing_label(value):
        return f"a missing label ({value!r}) at position {i}"
    if isinstance(value, str) and _is_number(value):
        values = (v.item() if isinstance(v, np.generic) else v for v in y[~ok])
        texts = dict.fromkeys(v for v in values if isinstance(v, str))
        shown = ", ".join(repr(t) for t in list(texts)[:3]) + (", ..." if len(texts) > 3 else "")
        return f"text labels ({shown}), not numbers (convert them first: .astype(float))"
    return f"the label {value!r}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
