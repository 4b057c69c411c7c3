"""A table's cells as numbers: missing cells, typos, text columns, dates and categories.

A real export holds more than numbers: an id, a date, a few text columns, empty cells and the odd
typo. This module reads one column of cells at a time and says what it is, so that
:mod:`aekit.data.tables` can keep the numeric columns, leave the others out with one line naming
them, and encode the ones the user names (``--categorical``):

* **missing**: an empty cell, or one of :data:`MISSING` (``NA``, ``n/a``, ``NaN``, ``null``, ...),
  reads as NaN (:mod:`aekit.data.missing` fills them);
* **a number column** is one whose readable cells are mostly numbers: at most :data:`TEXT_SHARE`
  of them may be text, and those cells (``4O`` for ``40``) are read as missing and named;
* **a date column**: every readable cell an ISO 8601 date or date-time (``2024-03-01``,
  ``2024-03-01 12:30``, ``2024/03/01``); encoded as days since 1970-01-01 (fractions for times);
* **a category column**: any other text; encoded one-hot, one column ``NAME=VALUE`` per value
  seen in training (:data:`MAX_CATEGORIES` at most); a value not seen in training, or a missing
  cell, is all zeros.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

# cells read as missing values (compared stripped and lower-cased)
MISSING = ("", "na", "n/a", "nan", "null", "none", "?", "-")
TEXT_SHARE = 0.1  # a column with more of its readable cells not numbers than this is text
# a number with thousands separators: groups of three digits after commas, then a decimal point
GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]*)?")
# the same in India's grouping (lakh, crore: 1,09,987.99, 1,23,45,678): groups of two digits before
# the last three. 12,345 is both; 123,456 and 1,234,567 are neither, so a column is read in one
INDIAN_GROUPED = re.compile(r"[+-]?[1-9][0-9]?(?:,[0-9]{2})*,[0-9]{3}(?:\.[0-9]*)?")
# the other thousands separators of spreadsheets (one per number): an apostrophe (Swiss Excel,
# 1'092.77, also typeset as U+2019), a no-break space (U+00A0; U+202F, French): none is a decimal
# mark or a separator between values, so a number grouped by them is one number wherever it
# stands. A plain space is one between values too ("864 672 559" in a file of spaces, "640 480" a
# resolution): a number grouped by spaces is taken only with its decimals (1 092.77)
OTHER_MARKS = ("'", "\u2019", " ", "\u00a0", "\u202f")
OTHER_GROUPED = re.compile(
    r"[+-]?[1-9][0-9]{0,2}(?:(['\u2019\u00a0\u202f])[0-9]{3}(?:\1[0-9]{3})*(?:\.[0-9]*)?"
    r"|( )[0-9]{3}(?:\2[0-9]{3})*\.[0-9]+)"
)
ANY_MARK = re.compile("[" + "".join(OTHER_MARKS) + "]")
GROUP_MARKS = re.compile("[," + "".join(OTHER_MARKS) + "]")  # all of them, the comma's too
# a number with a decimal comma: digits (grouped by points, or not), a comma, digits
DECIMAL_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+")
BOOLEANS = {"true": 1.0, "false": 0.0}  # cells read as numbers, as pandas and NumPy read bools
MAX_CATEGORIES = 50  # one-hot: at most this many values (a column of more is an id or free text)
SEPARATOR = "="  # one-hot feature names: COLUMN=VALUE
_EPOCH = datetime(1970, 1, 1)


def missing_mask(cells: np.ndarray) -> np.ndarray:
    """Which of the (stripped) string ``cells`` are missing values."""
    return np.isin(np.char.lower(cells), MISSING)


def not_numbers(cells: np.ndarray) -> np.ndarray:
    """Which string ``cells`` Python's ``float()`` (and NumPy) read as numbers but pandas reads as
    text: digits grouped by ``_`` (PEP 515: ``2023_51``, a year-week, is not 202351; ``3_1``, a
    lot, not 31) and digits of other scripts (``１２``, ``٣``). A column of such codes is text."""
    cells = np.asarray(cells, dtype=str)
    odd = np.char.find(cells, "_") >= 0
    try:
        cells.astype("S")  # ASCII only: the common case, one pass in C
    except UnicodeEncodeError:
        odd |= np.array([not c.isascii() for c in cells.ravel()], bool).reshape(cells.shape)
    return odd


def is_number(cell: str) -> bool:
    """Whether one cell is a number as pandas reads one (see :func:`not_numbers`)."""
    try:
        float(cell)
    except ValueError:
        return False
    return "_" not in cell and cell.isascii()


def parse_numbers(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 values of a column of string ``cells`` (NaN where missing or unreadable), and the
    mask of the unreadable ones (text in a number column, :func:`not_numbers` included)."""
    cells = np.char.strip(np.asarray(cells, dtype=str))
    odd = not_numbers(cells)
    if not odd.any():
        try:  # fast path: numpy parses every cell
            return cells.astype(np.float64), odd
        except ValueError:
            pass
        cells = np.where(missing_mask(cells), "nan", cells)
        try:
            return cells.astype(np.float64), odd
        except ValueError:
            pass
    out = np.full(cells.shape, np.nan)
    bad = odd.copy()
    for i in np.flatnonzero(~odd & ~missing_mask(cells)):
        try:
            out[i] = float(cells[i])
        except ValueError:
            # true/false (what pandas writes for a bool column, Parquet's booleans): 1 and 0
            out[i] = BOOLEANS.get(str(cells[i]).lower(), np.nan)
            bad[i] = np.isnan(out[i])
    # 1,092.77: what spreadsheets write for large numbers (unless the column's commas are decimal)
    fixed = np.flatnonzero(grouped(cells) & bad)
    out[fixed] = [float(GROUP_MARKS.sub("", str(c))) for c in cells[fixed]]
    bad[fixed] = False
    return out, bad


def decimal_commas(cells: np.ndarray) -> str | None:
    """The first cell of a column whose readable cells are mostly numbers written with a decimal
    comma (``14,23``, ``-0,5``, ``1.234,5``), or None."""
    cells = np.char.strip(np.asarray(cells, dtype=str))
    readable = cells[~missing_mask(cells)]
    if readable.size == 0:
        return None
    hits = [c for c in readable.tolist() if DECIMAL_COMMA.fullmatch(c)]
    return hits[0] if len(hits) * 2 > readable.size else None


def grouped(cells: np.ndarray) -> np.ndarray:
    """Which string ``cells`` are numbers written with thousands separators (``1,092.77``,
    ``-25,000``, ``1'092.77``, ``1 092``): :func:`parse_numbers` reads them as numbers, and a note
    says so."""
    cells = np.char.strip(np.asarray(cells, dtype=str))
    out = np.zeros(cells.shape, bool)
    # most columns hold none of the marks: one search over the column's text says so (five
    # passes of np.char.find made this 3x slower on every chunk of every number column)
    if ANY_MARK.search("\x00".join(cells.ravel().tolist())):
        marked = np.logical_or.reduce([np.char.find(cells, m) >= 0 for m in OTHER_MARKS])
        for i in np.flatnonzero(marked):  # few cells: the regular expression on those alone
            out.flat[i] = bool(OTHER_GROUPED.fullmatch(str(cells.flat[i])))
    has_comma = np.char.find(cells, ",") >= 0
    commas = np.flatnonzero(has_comma)
    texts = [str(c) for c in cells[commas]]
    if any(DECIMAL_COMMA.fullmatch(c) and not GROUPED.fullmatch(c) for c in texts):
        return out  # 14,23 beside 1,456: the commas are decimal, and 1,456 is not 1456
    found = _comma_grouped(texts)
    if not any(found):  # most columns: no comma at all, nothing more to read
        return out
    # "5,606" alone could be 5.606 with a decimal comma: the column must show its separators are
    # thousands', by a decimal point beside them (1,092.77) or numbers below 1,000 without one
    point = any(f and "." in c for f, c in zip(found, texts))
    if point or any(is_number(str(c)) for c in cells[~has_comma][:1000]):
        out[commas] = found
    return out


def comma_grouped(cell: str) -> bool:
    """Whether one cell is a number grouped by commas, in thousands or in India's grouping."""
    return bool(GROUPED.fullmatch(cell) or INDIAN_GROUPED.fullmatch(cell))


def _comma_grouped(texts: list[str]) -> list[bool]:
    """Which ``texts`` are numbers grouped by commas in the column's one grouping: India's where
    more cells are grouped that way alone (1,09,987.99: en-IN spreadsheets) than in thousands
    alone, else thousands'. A stray cell of the other grouping is one odd cell (read as missing,
    and named), not the column read the other way (which dropped it as text, or failed a later
    chunk of a long file); a cell of both (12,345) reads the same either way."""
    western = [bool(GROUPED.fullmatch(c)) for c in texts]
    indian = [bool(INDIAN_GROUPED.fullmatch(c)) for c in texts]
    alone = sum(i and not w for i, w in zip(indian, western)) - sum(
        w and not i for i, w in zip(indian, western)
    )  # cells in India's grouping alone, less those in thousands' alone
    return indian if alone > 0 else western


def _date(cell: str) -> float | None:
    """Days since 1970-01-01 of an ISO 8601 date or date-time (``/`` as a separator too), else None."""
    try:
        when = from_iso(cell.replace("/", "-"))
    except ValueError:
        return None
    # the offset taken off a timedelta, not the datetime: 0001-01-01T00:00:00+01:00 (.NET's
    # DateTime.MinValue in a UTC+1 zone) is in year 0 in UTC, which datetime cannot hold
    offset = when.utcoffset() or timedelta(0)
    return (when.replace(tzinfo=None) - _EPOCH - offset).total_seconds() / 86400.0


# ISO 8601 as Python 3.11's fromisoformat reads it, for Python 3.10's, which reads only what
# isoformat() writes: the basic form (20240131, 20240131T101500), a Z or +0100 offset, 1 to 9
# digits of a second's fraction (pandas writes 9), the hour alone; each of the date and the time
# extended (with - and :) or basic (without), as 3.11 takes them
_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}|\d{8})(?:[T ](?P<time>\d{2}(?::\d{2}(?::\d{2})?)?|\d{2}(?:\d{2}"
    r"(?:\d{2})?)?)(?:[.,](?P<f>\d+))?)?(?P<tz>Z|[+-]\d{2}(?::\d{2}|\d{2})?)?"
)


def from_iso(text: str) -> datetime:
    """``datetime.fromisoformat(text)`` as Python 3.11 and later read it, on 3.10 too for the forms
    :data:`_ISO` holds (probe 64 floor #1: on 3.10 a column of ``2024-01-01T09:59:00Z`` was no
    times, and the series' checks of times going back and rows missing were skipped); ValueError
    where it is no ISO time. Week dates (``2024-W01-1``) are read on 3.11 only."""
    if sys.version_info >= (3, 11):
        return datetime.fromisoformat(text)
    match = _ISO.fullmatch(text)
    if match is None:
        return datetime.fromisoformat(text)  # what 3.10 reads beyond this (or its ValueError)
    day = match["date"].replace("-", "")
    out = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    if match["time"] is not None:
        clock = match["time"].replace(":", "")
        out += f"T{clock[:2]}:{clock[2:4] or '00'}:{clock[4:6] or '00'}"
        out += f".{(match['f'] + '00000')[:6]}" if match["f"] else ""
    zone = (match["tz"] or "").replace(":", "")
    if zone:
        out += "+00:00" if zone == "Z" else f"{zone[:3]}:{zone[3:5] or '00'}"
    return datetime.fromisoformat(out)


def parse_dates(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of a column of date cells (NaN where missing or unreadable), and the
    mask of the unreadable ones."""
    cells = np.char.strip(np.asarray(cells, dtype=str))
    missing = missing_mask(cells)
    out = np.full(cells.shape, np.nan)
    bad = np.zeros(cells.shape, dtype=bool)
    for i in np.flatnonzero(~missing):
        day = _date(str(cells[i]))
        if day is None:
            bad[i] = True
        else:
            out[i] = day
    return out, bad


def one_hot(cells: np.ndarray, values: Sequence[str]) -> np.ndarray:
    """(n, len(values)) float64: 1 where a cell equals the value, else 0 (unseen and missing: all 0)."""
    cells = np.char.strip(np.asarray(cells, dtype=str))
    return (cells[:, None] == np.asarray(values, dtype=str)[None, :]).astype(np.float64)


def as_seen(cells: np.ndarray, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """A category column's ``cells`` spelled as the ``values`` seen in training, and the mask of
    the cells that match none (missing cells aside).

    A cell matches a value spelled alike, else one that differs in case only (pandas reads ``true``
    as a boolean and writes it back ``True``) or, for codes that are numbers, one of equal value
    (``3.0``: an integer column with a missing cell, as pandas writes it). A match must be unique.
    """
    cells = np.char.strip(np.asarray(cells, dtype=str))
    distinct, inverse = np.unique(cells, return_inverse=True)
    by_case: dict[str, list[str]] = {}
    by_value: dict[float, list[str]] = {}
    for v in values:
        by_case.setdefault(v.lower(), []).append(v)
        if is_number(v):
            by_value.setdefault(float(v), []).append(v)
    spelled, unseen = [], []
    for cell in distinct.tolist():
        match = [cell] if cell in values else by_case.get(cell.lower(), [])
        if not match and is_number(cell):
            match = by_value.get(float(cell), [])
        spelled.append(match[0] if len(match) == 1 else cell)
        unseen.append(len(match) != 1 and not missing_mask(np.array([cell]))[0])
    return (
        np.asarray(spelled, dtype=str)[inverse].reshape(cells.shape),
        np.asarray(unseen, dtype=bool)[inverse].reshape(cells.shape),
    )


def kind_of(cells: np.ndarray) -> str:
    """What a column of string cells holds: ``"number"``, ``"date"``, ``"text"`` or ``"empty"``.

    Examples
    --------
    >>> kind_of(np.array(["1", "2", "", "4O"] + ["5"] * 10)), kind_of(np.array(["2024-01-02", ""]))
    ('number', 'date')
    >>> kind_of(np.array(["basic", "pro"])), kind_of(np.array(["", "NA"]))
    ('text', 'empty')
    """
    cells = np.char.strip(np.asarray(cells, dtype=str))
    readable = cells[~missing_mask(cells)]
    if readable.size == 0:
        return "empty"
    _, bad = parse_numbers(readable)
    if bad.sum() <= TEXT_SHARE * readable.size:
        return "number"
    _, bad_dates = parse_dates(readable)
    return "date" if not bad_dates.any() else "text"


def categories(cells: np.ndarray, column: str, where: str) -> list[str]:
    """The sorted distinct values of a text column (missing cells aside), for :func:`one_hot`; a
    one-line DataError when there are more than :data:`MAX_CATEGORIES` of them."""
    from .checks import fail

    cells = np.char.strip(np.asarray(cells, dtype=str))
    values = sorted({str(c) for c in cells[~missing_mask(cells)]})
    if len(values) > MAX_CATEGORIES:
        raise fail(
            f"{where}: column {column!r} has {len(values)} distinct values; --categorical encodes "
            f"columns of at most {MAX_CATEGORIES} values (one column each): leave it out, or give "
            f"it as --id-column if it names each row"
        )
    return values


def describe_text(name: str, cells: np.ndarray, kind: str) -> str:
    """A text column in a few words, with what to do with it (for the note of left-out columns)."""
    cells = np.char.strip(np.asarray(cells, dtype=str))
    readable = cells[~missing_mask(cells)]
    name = name or "an unnamed column"  # a trailing delimiter (a,b,c,) names its last column ""
    if kind == "empty":
        return f"{name} (empty)"
    if kind == "date":
        return f"{name} (dates: --categorical {name} reads them as numbers)"
    distinct = len(set(readable.tolist()))
    if distinct == readable.size and readable.size > 1:
        return f"{name} (one value per row: --id-column {name} carries it to the outputs)"
    if distinct <= MAX_CATEGORIES:
        return f"{name} ({distinct} values: --categorical {name} encodes them)"
    return f"{name} (text)"
