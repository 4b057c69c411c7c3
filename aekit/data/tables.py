"""Tables: ``.csv``/``.tsv`` read in chunks of rows as :class:`Data` (``.parquet`` the same way in
:mod:`aekit.data.parquet`, which builds on this module).

Both formats pick their label, id and feature columns the same way and check every value
as :mod:`aekit.data.checks` does, so a chunk of a table is a :class:`Data` like any other.
Reading stays lazy: memory is bounded by one chunk whatever the file's size. pyarrow is
imported only to read Parquet.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._notes import note
from ..errors import UsageError, one_line
from .cells import LONGEST, Cells
from .checks import (
    as_labels,
    fail,
    listed,
    not_found,
    to_float32,
    unicode_forms,
)
from .container import Data
from .csvrows import cell_chunks, table_rows
from .encoding import (
    MISSING,
    SEPARATOR,
    TEXT_SHARE,
    as_seen,
    categories,
    comma_grouped,
    decimal_commas,
    describe_text,
    grouped,
    is_number,
    kind_of,
    missing_mask,
    one_hot,
    parse_dates,
    parse_numbers,
)

TABLE_EXTENSIONS = {".csv": ",", ".tsv": "\t"}


HEAD_ROWS = 20  # the first rows, read to decide whether the first is a header
# Cells per chunk, at most: a chunk's rows are Python lists of strings (about 60 bytes a cell), so a
# fixed 16,384 rows of 1,000 columns held 2.7 GB; 2**20 cells are about 64 MB, at most 16,384 rows
CHUNK_CELLS = 1 << 20
CHUNK_ROWS = 16384


def chunk_rows_for(width: int) -> int:
    """Rows read at a time from a table of ``width`` columns: :data:`CHUNK_CELLS` cells' worth."""
    return max(1, min(CHUNK_ROWS, CHUNK_CELLS // max(width, 1)))


def _column(spec: str | int, names: list[str], header: bool, path: Path, what: str) -> int:
    """Index of the column ``spec``: a header name, or an integer index (negative from the end)."""
    spec = str(spec)
    if header and spec in names:
        return names.index(spec)
    # a header cell with a line break (Excel's Alt+Enter) is written in one line by every message:
    # the name as shown finds it
    squeezed = [" ".join(n.split()) for n in names]
    if header and squeezed.count(" ".join(spec.split())) == 1:
        return squeezed.index(" ".join(spec.split()))
    try:
        index = int(spec)
    except ValueError:
        index = None
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    # an unnamed column (pandas' index, df.to_csv()) shown by its index: its name shows nothing,
    # and the option takes the index (probe 60 clock M4, review 1 F7)
    unnamed = [i for i, n in enumerate(names) if not n.strip()] if header else []
    shown = column_labels(names)
    listed = ", ".join(shown) if header else f"indices 0..{len(names) - 1} (no header row)"
    hint = f" (an unnamed column by its index: {_option(what)} {unnamed[0]})" if unnamed else ""
    raise fail(
        f"{path} has no {what} {spec!r}; its columns are: {listed}{hint}"
        f"{unicode_forms([spec], names)}"
    )


def column_labels(names: list[str]) -> list[str]:
    """A table's column names as messages list them: an unnamed one (pandas' index, written by
    ``df.to_csv()``) by its index, where its name would show nothing."""
    return [n if n.strip() else f"(unnamed column {i})" for i, n in enumerate(names)]


def _option(what: str) -> str:
    """The option that names a column of the kind ``what`` ("time column", "--categorical column")."""
    if what.startswith("--"):
        return what.split()[0]
    return "--columns" if what == "column" else f"--{what.replace(' ', '-')}"


def _pick_columns(
    names: list[str], header: bool, path: Path, *, label_column, id_column, columns, skip=()
) -> tuple[int | None, int | None, list[int]]:
    """Indices of the label column, the id column and the feature columns (default: all the others
    but ``skip``)."""
    label = (
        None if label_column is None else _column(label_column, names, header, path, "label column")
    )
    ident = None if id_column is None else _column(id_column, names, header, path, "id column")
    if columns is not None:
        missing = [str(c) for c in columns if not (header and str(c) in names)]
        if header and missing:  # name them all: a new file for an old model usually lacks several
            more = f" (and {len(missing) - 8} more)" if len(missing) > 8 else ""
            raise fail(
                f"{path} lacks the model's columns {', '.join(map(repr, missing[:8]))}{more}; its columns "
                f"are: {listed(names)}; give a table with the "
                f"columns the model was trained on (extra columns are ignored)"
                f"{unicode_forms(missing, names)}"
            )
        features = [_column(c, names, header, path, "column") for c in columns]
    else:
        features = [i for i in range(len(names)) if i not in (label, ident) and i not in skip]
    if not features:
        raise fail(f"{path} has no feature columns left after the label and id columns")
    return label, ident, features


@dataclass
class _Layout:
    """How a table's columns become samples, decided once from its first chunk of rows."""

    path: Path
    names: list[str]
    has_header: bool
    label: int | None
    ident: int | None
    # the features in order: (name, raw column index, how): None a number, "date" days, else a
    # category value (one-hot)
    features: list[tuple[str, int, str | None]] = field(default_factory=list)
    unreadable: dict[str, list] = field(default_factory=dict)  # name -> [count, first cell, row]
    filled: dict[str, int] = field(default_factory=dict)  # name -> missing cells filled
    unseen: dict[str, list] = field(default_factory=dict)  # name -> [count, cell, row, values]
    grouped: dict[str, list] = field(default_factory=dict)  # name -> [count, cell, row]: 1,092.5
    rows_filled: int = 0
    index: set[int] = field(default_factory=set)  # a Parquet file's pandas index columns
    nested: dict[int, str] = field(default_factory=dict)  # its list/struct columns: their types


def iter_table(
    path: str | os.PathLike,
    *,
    label_column=None,
    id_column=None,
    columns=None,
    drop_columns=None,
    categorical=None,
    fill_values=None,
    has_header=None,
    chunk_rows: int | None = None,
) -> Iterator[Data]:
    """Read a ``.csv``/``.tsv`` table in chunks of ``chunk_rows`` rows, each a :class:`Data`.

    Memory stays bounded by the chunk, whatever the file's size: ``aekit score`` streams
    through a million rows this way. Which columns are features is decided from the first chunk
    (see :func:`~aekit.data.read_path`); missing cells are NaN unless ``fill_values`` fills them.

    Parameters
    ----------
    path : str or PathLike
        A ``.csv`` or ``.tsv`` file.
    label_column, id_column, columns, drop_columns, categorical, fill_values, has_header :
        As for :func:`~aekit.data.read_path`.
    chunk_rows : int, optional
        Rows per chunk; by default :func:`chunk_rows_for` the table's width (16,384 rows of up to
        64 columns, fewer of more).

    Yields
    ------
    Data
        One chunk of rows, with the table's ``feature_names``.

    Examples
    --------
    >>> for chunk in iter_table("big.csv", columns=["a", "b"]):  # doctest: +SKIP
    ...     scores = detector.decision_function(chunk.x)
    """
    path = Path(path)
    if not path.is_file():
        raise not_found(path)
    if path.suffix.lower() not in TABLE_EXTENSIONS:
        raise fail(
            f"{path}: expected a .csv or .tsv table, got {path.suffix or '(no extension)'!r}"
        )
    rows = table_rows(path, TABLE_EXTENSIONS[path.suffix.lower()])
    head = [row for _, row in zip(range(HEAD_ROWS), rows)]
    if not head:
        raise fail(f"{path} is empty; expected rows of numbers")
    check_delimiter(head[:2], path)
    first = head[0][1]
    if has_header is None:
        has_header = first_row_is_header([row for _, row in head], path)
    names = [c.strip() for c in first] if has_header else [str(i) for i in range(len(first))]
    _check_unique(names, path)
    label, ident = _roles(names, has_header, path, label_column, id_column)
    layout = _Layout(path, names, has_header, label, ident)
    choice = dict(columns=columns, drop=drop_columns, categorical=categorical)
    fill = None if fill_values is None else dict(fill_values)
    seen, join = False, chunk_rows == sys.maxsize  # read_table's: one chunk, read a bounded step
    step = chunk_rows_for(len(names)) if join or not chunk_rows else chunk_rows
    body = head[1:] if has_header else head
    for lines, cells in cell_chunks(body, rows, path, names, _whole(layout), step, join):
        if not seen:
            _decide_features(layout, cells, **choice)
            seen = True
        yield _table_chunk(lines, cells, layout, fill)
    if not seen:
        raise fail(f"{path} has a header but no data rows; expected rows of numbers")
    _say_cells(layout, fill is not None)


def check_delimiter(head: list[tuple[int, list[str]]], path: Path) -> None:
    """One line for a table whose first rows are one cell each, all holding another separator
    (a ';' CSV, as spreadsheets write them in many locales): its cells would be read as text."""
    cells = [row for _, row in head]
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        # the header alone may be one cell: decimal commas split the rows below it ("14,23;1,71")
        if (
            cells
            and len(cells[0]) == 1
            and cells[0][0].count(sep) >= 1
            and (all(len(row) == 1 for row in cells) or all(sep in ",".join(row) for row in cells))
        ):
            expected = "commas" if path.suffix.lower() == ".csv" else "tabs"
            decimals = any(len(row) > 1 for row in cells)
            raise fail(
                f"{path}: its rows are separated by {name}"
                f"{' with decimal commas' if decimals else ''}; aekit reads a {path.suffix} file "
                f"separated by {expected}{' with decimal points' if decimals else ''} (save it "
                f"with commas as .csv, or with tabs as .tsv{', and points for decimals' if decimals else ''})"
            )


def _check_unique(names: list[str], path: Path) -> None:
    """One line for a header that names two columns alike: columns are picked by name at scoring,
    so both would read the first (a normal row then scored 1e17)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise fail(
                f"{path}: the header names columns {seen[name]} and {i} both {name!r}; give each "
                f"column its own name"
            )
        seen[name] = i


def _whole(layout: _Layout) -> set[int]:
    """The columns whose cells are read whole, however long (:mod:`aekit.data.cells`): the id."""
    return set() if layout.ident is None else {layout.ident}


def _short(layout: _Layout, cells: Cells, i: int, what: str) -> None:
    """One line for a label or category column with a cell longer than :data:`LONGEST` characters
    (read cut to that length, two would be one value)."""
    if cells.longest(i) > LONGEST:
        raise fail(
            f"{layout.path}: column {layout.names[i]!r} holds a cell of {cells.longest(i):,} "
            f"characters; {what} of at most {LONGEST} characters are expected (give it as "
            f"--id-column if it names each row, or leave it out)"
        )


def _roles(names, has_header, path, label_column, id_column) -> tuple[int | None, int | None]:
    """Indices of the label and id columns (None: not given)."""
    label = (
        None
        if label_column is None
        else _column(label_column, names, has_header, path, "label column")
    )
    ident = None if id_column is None else _column(id_column, names, has_header, path, "id column")
    return label, ident


def _named(spec, names: list[str], header: bool, path: Path, what: str) -> list[int]:
    """Indices of a list of columns (names or indices); None is no columns."""
    if spec is None:
        return []
    specs = [spec] if isinstance(spec, (str, int)) else list(spec)
    return [_column(c, names, header, path, what) for c in specs]


def _decide_features(layout: _Layout, cells: Cells, *, columns, drop, categorical) -> None:
    """Pick the feature columns from the first chunk's ``cells`` (rows, columns): the numbers (text
    columns left out with one note), the ``categorical`` ones encoded, or exactly ``columns``."""
    names, path, header = layout.names, layout.path, layout.has_header
    encode = set(_named(categorical, names, header, path, "--categorical column"))
    _refuse_roles(layout, None if columns is None else [str(c) for c in columns], encode)
    if columns is not None:
        _check_chosen(layout, [str(c) for c in columns], drop, encode)
        _requested(layout, [str(c) for c in columns], cells, encode)
        return
    dropped = set(_named(drop, names, header, path, "--drop-columns column"))
    left_out = []
    for i in range(len(names)):
        if i in (layout.label, layout.ident) or i in dropped:
            continue
        if i in encode:
            _short(layout, cells, i, "--categorical columns hold values")
            _encode(layout, i, cells[:, i])
            continue
        why = _decide_column(layout, cells, i)
        if why is not None:
            left_out.append(why)
    if not layout.features:  # one line: what was left out is why nothing is left
        found = f" (left out, not numbers: {'; '.join(left_out)})" if left_out else ""
        raise fail(
            f"{path} has no numeric columns to learn from (after the label, id and dropped ones)"
            f"{found}; name text columns of a few values with --categorical to encode them"
        )
    if left_out:
        note(
            f"{path}: left out {len(left_out)} column{'s' if len(left_out) > 1 else ''} that "
            f"{'do' if len(left_out) > 1 else 'does'} not hold numbers: {'; '.join(left_out)}"
        )


# the columns aekit writes beside its results, and the option that reads one as what it is
OUTPUT_COLUMNS = {
    "id": "--id-column",
    "file": "--id-column",
    "label": "--label-column",  # a detector's with --normal-label
    **dict.fromkeys(("score", "is_anomaly", "p_value"), "--drop-columns"),
}


def say_output_columns(source: str, feature_names: list[str] | None) -> None:
    """One note for features named as aekit names what it writes beside its results (an encode's
    ids and labels, a score's columns), said where a model is about to learn them: read as features
    by the rule (every number column is one), an output fed back would learn its own ids and scores
    without a word."""
    named = [n for n in feature_names or () if n in OUTPUT_COLUMNS]
    if not named:
        return
    first: dict[str, str] = {}  # one column per option: --id-column takes one (id or file)
    for n in named:
        first.setdefault(OUTPUT_COLUMNS[n], n)
    options = [f"{option} {n}" for option, n in first.items() if option != "--drop-columns"]
    if "label" in first.values():  # a detector's label column needs its normal value too
        options[options.index("--label-column label")] += " (a detector: with --normal-label)"
    dropped = [n for n in named if OUTPUT_COLUMNS[n] == "--drop-columns"]
    options += [f"--drop-columns {','.join(dropped)}"] * bool(dropped)
    note(
        f"{source}: read column{'s' if len(named) > 1 else ''} {', '.join(named)} as "
        f"{'features' if len(named) > 1 else 'a feature'} "
        f"(every number column is one), named as aekit names the ids, labels and scores it "
        f"writes beside its results; if not features, give {'; '.join(options)}"
    )


def _decide_column(layout: _Layout, cells: Cells, i: int) -> str | None:
    """Take column ``i`` as a feature if it holds numbers; else why it is left out (None: said in
    a note of its own, or taken)."""
    name = layout.names[i]
    if i in layout.nested:
        return f"{name} (a {layout.nested[i]} column, not one number per row)"
    if i in layout.index or (i == 0 and _row_numbers(name, cells[:, i])):
        note(
            f"{layout.path}: left out column {name or '(unnamed)'}: pandas' index, as pandas "
            f"reads it back (written unless index=False)"
        )
        return None
    kind = "number" if cells.numbers(i) is not None else kind_of(cells[:, i])
    if kind == "text":
        _refuse_decimal_commas(layout.path, name, cells[:, i])
    if kind != "number":
        return describe_text(name, cells[:, i], kind)
    layout.features.append((name, i, None))
    return None


def _refuse_decimal_commas(path: Path, name: str, cells: np.ndarray) -> None:
    """One line for a column of numbers written with decimal commas (``14,23``, as spreadsheets
    write them in much of Europe): left out as text, the run would train on what is left."""
    shown = decimal_commas(cells)
    if shown is not None:
        raise fail(
            f"{path}: column {name!r} holds numbers with decimal commas ({shown!r}); aekit reads "
            f"decimal points: save the table with '.' for decimals"
        )


def _row_numbers(name: str, cells: np.ndarray) -> bool:
    """Whether a first column is the row numbers pandas writes unless told ``index=False``: unnamed
    (or ``Unnamed: 0``, read back and written again; R's ``write.csv`` names it ``""`` too),
    holding distinct whole numbers >= 0 in any order: a split, a filter or a sample of a frame
    keeps its rows' numbers, and read as a feature they made the same rows normal or not by
    where they stood in the log."""
    if name not in ("", "Unnamed: 0"):
        return False
    # digits only: whole numbers >= 0 as pandas writes them (not 3000.0, not a missing cell)
    digits = np.char.strip(np.asarray(cells, dtype=str))
    if digits.size == 0 or not np.char.isdigit(digits).all():
        return False
    values, bad = parse_numbers(digits)  # bad: digits of other scripts, which pandas reads as text
    return not bad.any() and len(np.unique(values)) == len(values)


def _check_chosen(layout: _Layout, columns: list[str], drop, encode: set[int]) -> None:
    """One line for ``--drop-columns`` or a ``--categorical`` column beside ``--columns``, which
    names the features already (the one would be ignored, the other never encoded)."""
    dropped = ", ".join(map(str, [drop] if isinstance(drop, (str, int)) else drop or ()))
    if dropped:
        raise UsageError(
            f"--drop-columns {dropped} with --columns: --columns names every feature already; "
            f"leave the columns out of --columns, or give --drop-columns alone"
        )
    chosen = _chosen(layout, columns)
    outside = [layout.names[i] for i in sorted(encode) if i not in chosen]
    if outside:
        raise UsageError(
            f"--categorical {', '.join(outside)} with --columns {', '.join(columns[:8])}: "
            f"not among the features, so never encoded; take {'them' if len(outside) > 1 else 'it'} "
            f"out of --categorical, or give "
            f"--drop-columns (the columns to leave out) instead of --columns"
        )


def _chosen(layout: _Layout, columns: list[str]) -> set[int]:
    """Indices of the table's columns that ``columns`` names (an encoded ``plan=pro`` names
    ``plan``); a name it lacks is said where the features are read."""
    chosen = {c.partition(SEPARATOR)[0] for c in columns} | set(columns)
    n = len(layout.names)
    if layout.has_header:
        return {i for i, name in enumerate(layout.names) if name in chosen}
    # indices, negative ones from the end
    return {int(c) % n for c in chosen if c.lstrip("-").isdecimal() and -n <= int(c) < n}


def _refuse_roles(layout: _Layout, columns: list[str] | None, encode: set[int]) -> None:
    """One line for the label or id column named a feature too (in ``--columns`` or
    ``--categorical``), and for one column named both label and id: a label learned as a feature
    made a detector's metrics perfect on noise, and its own scoring refused the model."""
    names, label, ident = layout.names, layout.label, layout.ident
    if label is not None and label == ident:
        raise UsageError(
            f"--label-column {names[label]} and --id-column {names[ident]} name one column; a "
            f"column is the labels or the ids, not both: name another for one of them"
        )
    chosen = set() if columns is None else _chosen(layout, columns)
    for option, i in (("--label-column", label), ("--id-column", ident)):
        for among in ("--columns", "--categorical"):
            if i is not None and i in (chosen if among == "--columns" else encode):
                role = "labels" if option == "--label-column" else "ids"
                raise UsageError(
                    f"{option} {names[i]} is among {among}, the features; a column is a feature "
                    f"or the {role}, not both: take it out of {among}, or drop {option}"
                )


def _encode(layout: _Layout, i: int, cells: np.ndarray) -> None:
    """The features of a ``--categorical`` column at training: its days (dates) or one column per
    value (text, or numbers: a store id or a class 0-9 named a category is one)."""
    name = layout.names[i]
    if kind_of(cells) == "date":
        layout.features.append((name, i, "date"))
        return
    for value in categories(cells, name, str(layout.path)):
        layout.features.append((f"{name}{SEPARATOR}{value}", i, value))


def _requested(layout: _Layout, columns: list[str], cells: Cells, encode: set[int]) -> None:
    """The features named by ``columns`` (a model's): raw columns, or ``NAME=VALUE`` of an encoded one."""
    names, header, missing = layout.names, layout.has_header, []
    for c in columns:
        base, _, value = c.partition(SEPARATOR)
        if header and c in names or not header and c.lstrip("-").isdecimal():
            i = _column(c, names, header, layout.path, "column")
            if i in layout.nested:
                raise fail(
                    f"{layout.path}: column {c!r} is a {layout.nested[i]} column; expected a "
                    f"column of numbers (one per row)"
                )
            # an encoded column the model has whole: a date's days (or numbers, as runs read a
            # --categorical column of numbers before they were one-hot); never re-typed from the
            # new file's cells, which may hold dates in another form, or none yet
            whole = i in encode and kind_of(cells[:, i]) != "number"
            layout.features.append((names[i], i, "date" if whole else None))
        elif header and value and base in names and names.index(base) in encode:
            layout.features.append((c, names.index(base), value))
        else:
            missing.append(c)
    if missing:  # name them all: a new file for an old model usually lacks several
        more = f" (and {len(missing) - 8} more)" if len(missing) > 8 else ""
        raise fail(
            f"{layout.path} lacks the model's columns {', '.join(map(repr, missing[:8]))}{more}; its "
            f"columns are: {listed(names)}; give a table "
            f"with the columns the model was trained on (extra columns are ignored)"
            f"{unicode_forms(missing, names)}"
        )


def _table_chunk(lines: list[int], cells: Cells, layout: _Layout, fill: dict | None) -> Data:
    """Parse and check one chunk of a table's rows: ``cells`` (rows, columns) of text, read on
    ``lines`` of the file."""
    names, path = layout.names, layout.path
    x = np.empty((len(cells), len(layout.features)), dtype=np.float64)
    parsed: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for j, (name, i, how) in enumerate(layout.features):
        if how is None or how == "date":
            x[:, j] = _read_column(layout, (name, i, how), cells, lines, parsed)
            continue
        if i not in parsed:  # the column's cells spelled as its values were in training
            values = [v for _, k, v in layout.features if k == i]
            parsed[i] = as_seen(cells[:, i], values)
            _tally_unseen(layout, names[i], parsed[i][1], cells[:, i], lines, values)
        x[:, j] = one_hot(parsed[i][0], [how])[:, 0]
    if fill is not None:
        x = _fill(layout, x, fill)

    def where(index) -> str:
        return f"at row {lines[index[0]]}, column {layout.features[index[1]][0]!r}"

    y = None
    if layout.label is not None:
        _short(layout, cells, layout.label, "labels")
        raw = np.char.strip(cells[:, layout.label])
        if all(is_number(v) for v in raw):
            raw = _parse_numbers(raw[:, None], path, lines, [names[layout.label]])[:, 0]
        y = as_labels(raw, len(raw), name=f"{path} label column {names[layout.label]!r}")
    ident = layout.ident
    return Data(
        x=to_float32(x, str(path), where, allow_nan=True),
        y=y,
        feature_names=[f[0] for f in layout.features] if layout.has_header else None,
        ids=None if ident is None else np.char.strip(cells[:, ident]),
        id_name=None if ident is None else names[ident],
        source=str(path),
    )


def _read_column(layout: _Layout, feature: tuple, cells: Cells, lines, parsed: dict) -> np.ndarray:
    """A number or date feature's values; its unreadable cells and thousands separators counted."""
    name, i, how = feature
    if how is None and cells.numbers(i) is not None:  # plain numbers: nothing to count
        return cells.numbers(i)
    if i not in parsed:
        parsed[i] = (parse_dates if how == "date" else parse_numbers)(cells[:, i])
    values, bad = parsed[i]
    _tally(layout, name, bad, cells[:, i], lines, how)
    if how is None:
        _tally_grouped(layout, name, cells[:, i], lines)
    return values


def _tally(layout: _Layout, name: str, bad: np.ndarray, cells: np.ndarray, lines, how) -> None:
    """Count a feature's unreadable cells (text in a number column); refuse a column of text."""
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    readable = int((~missing_mask(np.char.strip(cells))).sum())
    if bad.sum() > max(1, TEXT_SHARE * readable) and bad.sum() * 2 > readable:
        what = "an ISO date (2024-03-01)" if how == "date" else "a number"
        raise fail(
            f"{layout.path}: row {lines[first]}, column {name!r}: {str(cells[first]).strip()!r} is "
            f"not {what}, nor are most of the column's cells; expected "
            f"{'ISO dates' if how == 'date' else 'numbers'} in this column, as in training"
        )
    count = layout.unreadable.setdefault(name, [0, str(cells[first]).strip(), lines[first]])
    count[0] += int(bad.sum())


def _tally_grouped(layout: _Layout, name: str, cells: np.ndarray, lines) -> None:
    """Count a number column's cells written with thousands separators (read as numbers)."""
    found = grouped(cells)
    if found.any():
        first = int(np.flatnonzero(found)[0])
        count = layout.grouped.setdefault(name, [0, str(cells[first]).strip(), lines[first]])
        count[0] += int(found.sum())


def _tally_unseen(layout: _Layout, name: str, unseen: np.ndarray, cells, lines, values) -> None:
    """Count a category column's cells that hold a value not seen in training (all zeros)."""
    if unseen.any():
        first = int(np.flatnonzero(unseen)[0])
        count = layout.unseen.setdefault(name, [0, str(cells[first]).strip(), lines[first], values])
        count[0] += int(unseen.sum())


def _fill(layout: _Layout, x: np.ndarray, fill: dict) -> np.ndarray:
    """Missing cells filled with the values recorded at training (counted for the note)."""
    gaps = np.isnan(x)
    if not gaps.any():
        return x
    layout.rows_filled += int(gaps.any(axis=1).sum())
    for j, (name, _, _) in enumerate(layout.features):
        if gaps[:, j].any():
            layout.filled[name] = layout.filled.get(name, 0) + int(gaps[:, j].sum())
            x[gaps[:, j], j] = fill.get(name, np.nan)
    return x


def _say_cells(layout: _Layout, filled: bool) -> None:
    """One note for the unreadable cells, one for the filled ones."""
    if layout.unreadable:
        dates = {n for n, _, how in layout.features if how == "date"}
        parts = [
            f"{n} ({c} cell{'s' if c > 1 else ''}, e.g. {v!r} at row {r}"
            f"{', not an ISO date' if n in dates else ''})"
            for n, (c, v, r) in layout.unreadable.items()
        ]
        note(f"{layout.path}: cells that are not numbers read as missing: {', '.join(parts)}")
    if layout.grouped:
        parts = [
            f"{n} ({c} cell{'s' if c > 1 else ''}, e.g. {v!r} at row {r})"
            for n, (c, v, r) in layout.grouped.items()
        ]
        note(
            f"{layout.path}: read numbers written with thousands separators as numbers: "
            f"{', '.join(parts)}"
        )
    for n, (c, v, r, seen) in layout.unseen.items():
        shown = ", ".join(seen[:8]) + (" ..." if len(seen) > 8 else "")
        note(
            f"{layout.path}: {n}: {c} cell{'s' if c > 1 else ''} held a value not seen in training "
            f"(e.g. {v!r} at row {r}), read as none of its values (seen: {shown})"
        )
    if filled and layout.filled:
        cols = ", ".join(f"{n}: {c}" for n, c in layout.filled.items())
        note(
            f"{layout.path}: filled the missing values of {layout.rows_filled} row"
            f"{'s' if layout.rows_filled > 1 else ''} ({cols}) with the model's recorded values"
        )


def open_parquet(path: Path):
    """``pyarrow.parquet.ParquetFile`` of ``path``, or one line: pyarrow missing, or not a parquet file."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise fail(f"{path}: reading .parquet needs pyarrow; pip install pyarrow") from None
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid/ArrowIOError types
        raise fail(f"{path} is not a valid .parquet file: {one_line(exc)}") from exc


def table_columns(path: str | os.PathLike) -> list[str] | None:
    """The header names of a ``.csv``/``.tsv`` table or the column names of a ``.parquet`` file
    (from its schema, no rows read), or None (no header, or not a table)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet" and path.is_file():
        pfile = open_parquet(path)
        try:
            return [str(n) for n in pfile.schema_arrow.names]
        finally:
            pfile.close()
    if path.suffix.lower() not in TABLE_EXTENSIONS or not path.is_file():
        return None
    rows = table_rows(path, TABLE_EXTENSIONS[path.suffix.lower()])
    head = [row for _, (_, row) in zip(range(HEAD_ROWS), rows)]
    return [c.strip() for c in head[0]] if head and first_row_is_header(head) else None


def first_row_is_header(head: list[list[str]], path: Path | None = None) -> bool:
    """Whether the first of a table's first rows (:data:`HEAD_ROWS` of them) is a header.

    It is when some column holds text in the first row and a number below (a missing-value marker,
    ``NA`` or an empty cell, is neither: a first data row with a missing cell stays data, and a
    header above a first row of missing values is still a header), or when the first row is
    distinct integers above columns of numbers written with a decimal point (``0,1,2``: pandas'
    names of an array's columns; years), or exactly ``0,1,...,k-1`` (k >= 3) above anything, or
    cells above text then ``0,1,...,k-1`` above numbers (aekit's own header of results without
    column names beside their file names or ids), with a note; a lone row is one when it is not
    all numbers.
    """
    first, rest = [c.strip() for c in head[0]], [[c.strip() for c in row] for row in head[1:]]
    if not rest:
        return not all(is_number(c) or _kind(c) == "missing" for c in first)
    below = [[row[j] for row in rest if j < len(row)] for j in range(len(first))]
    if any(_kind(c) == "text" and any(_kind(b) in ("int", "real") for b in under)
           for c, under in zip(first, below)):  # fmt: skip
        return True
    if _named_by_aekit(first, below):
        _say_names(path, first, "the names aekit writes for a table without column names")
        return True
    numbered = len(set(first)) == len(first) and all(_kind(c) == "int" for c in first)
    if not numbered:  # the cells below are read only for a first row of integers
        return False
    # pandas' names of an array's columns, exactly 0, 1, ..., k-1, above integers too
    counted = len(first) >= 3 and first == [str(i) for i in range(len(first))]
    kinds = [] if counted else [{_kind(b) for b in under} - {"missing"} for under in below]
    if counted or all(k <= {"real"} for k in kinds) and any(kinds):
        why = "pandas' names of columns" if counted else "integers above numbers with decimals"
        _say_names(path, first, why)
        return True
    return False


# the names aekit writes before results without column names: an image's file, an id, a label
AEKIT_LEADS = frozenset({"file", "id", "label"})


def _named_by_aekit(first: list[str], below: list[list[str]]) -> bool:
    """Whether ``first`` is the header aekit writes for results without column names beside each
    sample's identity (``file,0,1,...,783``: a reconstruction of images): lead cells named as aekit
    names them (:data:`AEKIT_LEADS`; a user's first row ``alice,0,1,2`` is data) above text only
    (the file names or ids; text above numbers is a header already), then exactly ``0, 1, ...,
    n-1`` (n >= 3, as pandas' names) above numbers."""
    lead = len(first) - 1 - first[::-1].index("0") if "0" in first else 0
    counted = first[lead:] == [str(i) for i in range(len(first) - lead)]
    # ``0,0,1,...``: a table without a header, its id column 0, as aekit wrote it before (refused
    # then for its two '0's, never read as a sample)
    named = set(first[:lead]) <= AEKIT_LEADS or first[:lead] == ["0"]
    if not lead or len(first) - lead < 3 or not counted or not named:
        return False
    ids = [_kind(b) for under in below[:lead] for b in under]
    numbers = all(_kind(b) != "text" for under in below[lead:] for b in under)
    return numbers and "text" in ids and set(ids) <= {"text", "missing"}


def _say_names(path: Path | None, first: list[str], why: str) -> None:
    """The note for a first row of numbers read as the column names (``why``); none without a path."""
    if path is not None:
        shown = f"{', '.join(first[:5])}{', ...' if len(first) > 5 else ''}"
        note(f"{path}: read its first row ({shown}) as the column names: {why}")


def _kind(cell: str) -> str:
    """One cell as :func:`first_row_is_header` sees it: missing, int (``12``), real (``1.5``, ``1e3``) or text."""
    if cell.lower() in MISSING:  # as missing_mask reads a stripped cell, without an array each
        return "missing"
    if not is_number(cell):  # 1,092.77 (thousands separators) is a number to tell a header by
        return "real" if comma_grouped(cell) else "text"
    return "int" if cell.lstrip("+-").isdecimal() else "real"


def read_table(path: Path, **options) -> Data:
    """The whole table as one :class:`Data`; options as for :func:`iter_table`."""
    (data,) = iter_table(path, chunk_rows=sys.maxsize, **options)  # the whole table as one chunk
    return data


def _parse_numbers(cells: np.ndarray, path: Path, lines: list[int], names: list[str]) -> np.ndarray:
    """float64 array of string ``cells``, or a DataError naming the first cell that is not a number."""
    try:
        return np.char.strip(cells).astype(np.float64)
    except ValueError:
        pass
    # Slow path: Python's float() is the reference; it also finds the cell to report.
    out = np.empty(cells.shape, dtype=np.float64)
    for (r, c), cell in np.ndenumerate(cells):
        try:
            out[r, c] = float(cell)
        except ValueError:
            raise fail(
                f"{path}: row {lines[r]}, column {names[c]!r}: {str(cell)!r} is not a number"
            ) from None
    return out
