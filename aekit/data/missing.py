"""Missing values in a table: the values that fill them, learned from the training rows.

A table read by :mod:`aekit.data.tables` has NaN where a cell was empty (or ``NA``, or a typo in
a number column). ``--fill`` says what stands in for them, learned from the training rows and
recorded with the run so that every later command fills alike:

* ``median`` (the default): each column's median, which one extreme row cannot move;
* ``mean``: each column's mean;
* ``zero``: 0 (for counts where an empty cell means none);
* ``none``: no filling: a table with missing values is refused with one line that counts them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._notes import note
from .checks import fail

FILLS = ("median", "mean", "zero", "none")
DEFAULT_FILL = "median"
# What to do about missing values a run does not fill: right at training (the option) and for a
# finished run (which records its fill: it is trained again), where no command takes --fill median
UNFILLED = (
    "fill them in the file, or train with --fill median (or mean, zero) to fill them with the "
    "training rows' values"
)


def fill_values(
    x: np.ndarray, how: str, names: Sequence[str] | None = None
) -> dict[str, float] | None:
    """Per-column values that fill NaN in ``x`` (n, features), keyed by column name (or index as
    text); None for ``how="none"``. A column with no value at all is filled with 0.

    Examples
    --------
    >>> fill_values(np.array([[1.0, np.nan], [3.0, 4.0], [8.0, 6.0]]), "median", ["a", "b"])
    {'a': 3.0, 'b': 5.0}
    """
    if how not in FILLS:
        raise fail(f"fill must be one of {', '.join(FILLS)}, got {how!r}")
    if how == "none":
        return None
    x = np.asarray(x, dtype=np.float64)
    names = list(names) if names is not None else [str(i) for i in range(x.shape[1])]
    if how == "zero":
        values = np.zeros(x.shape[1])
    else:
        full = ~np.isnan(x).all(axis=0)
        values = np.zeros(x.shape[1])
        pick = np.nanmedian if how == "median" else np.nanmean
        if full.any():
            values[full] = pick(x[:, full], axis=0)
    return {n: float(v) for n, v in zip(names, values)}


def count_missing(x: np.ndarray, names: Sequence[str] | None) -> tuple[int, dict[str, int]]:
    """Rows with a missing value, and the missing cells of each column that has any."""
    gaps = np.isnan(np.asarray(x, dtype=np.float64))
    names = list(names) if names is not None else [str(i) for i in range(gaps.shape[1])]
    per = gaps.sum(axis=0)
    return int(gaps.any(axis=1).sum()), {n: int(c) for n, c in zip(names, per) if c}


def fill_missing(
    x: np.ndarray,
    values: dict[str, float] | None,
    names: Sequence[str] | None,
    source: str,
    how: str,
) -> np.ndarray:
    """``x`` with its NaN filled from ``values`` (one note says what was filled); ``values`` None
    (``how="none"``) with NaN present: a one-line DataError counting the rows and columns."""
    rows, per = count_missing(x, names)
    if not rows:
        return x
    cols = ", ".join(f"{n}: {c}" for n, c in list(per.items())[:8])
    more = f" and {len(per) - 8} more" if len(per) > 8 else ""
    plural = "s" if len(per) > 1 else ""
    what = (
        f"{rows} of {len(x)} rows have missing values, in {len(per)} column{plural} ({cols}{more})"
    )
    if values is None:
        raise fail(f"{source}: {what}, and the run fills none (--fill none); {UNFILLED}")
    x = fill_cells(x, values, names)
    note(f"{source}: {what}; filled with {_words(how)} (--fill chooses how)")
    return x


def fill_cells(x: np.ndarray, values: dict[str, float], names: Sequence[str] | None) -> np.ndarray:
    """A float32 copy of ``x`` (n, features) with each column's NaN set to its value in ``values``
    (keyed by column name, or index as text; 0 for a column without one), silently: what
    :func:`fill_missing` does after its note, and what ``aekit serve`` does to a request's rows."""
    names = list(names) if names is not None else [str(i) for i in range(x.shape[1])]
    x = np.array(x, dtype=np.float32)
    for j, n in enumerate(names):
        gaps = np.isnan(x[:, j])
        if gaps.any():
            x[gaps, j] = values.get(n, 0.0)
    return x


def refuse_missing(x: np.ndarray, names: Sequence[str] | None, source: str, first_row: int = 0):
    """One line for the first missing cell of a chunk of a table (rows ``first_row`` on) read for a
    run that fills none: ``score`` streams a file, so the counts of :func:`fill_missing` would be
    the chunk's, not the file's."""
    gaps = np.isnan(np.asarray(x, dtype=np.float64))
    if not gaps.any():
        return
    i, j = (int(k[0]) for k in np.nonzero(gaps))
    column = repr(str(names[j])) if names is not None else f"{j + 1}"
    raise fail(
        f"{source}: column {column} has a missing value (data row {first_row + i + 1}), and the "
        f"run fills none (--fill none); {UNFILLED}"
    )


def _words(how: str) -> str:
    """What the cells were filled with, said as a note says it ("the training rows' medians")."""
    own = {"median": "the training rows' medians", "mean": "the training rows' means"}
    return own.get(how, "zeros" if how == "zero" else "the training rows' recorded values")
