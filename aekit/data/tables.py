"""Tables: ``.csv``/``.tsv`` (and ``.parquet`` for streaming) read in chunks of rows as :class:`Data`.

Both formats pick their label, id and feature columns the same way and check every value
as :mod:`aekit.data.checks` does, so a chunk of a table is a :class:`Data` like any other.
Reading stays lazy: memory is bounded by one chunk whatever the file's size. pyarrow is
imported only to read Parquet.
"""

from __future__ import annotations

import csv
import operator
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError, one_line
from .checks import as_labels, fail, to_float32
from .container import Data

TABLE_EXTENSIONS = {".csv": ",", ".tsv": "\t"}


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _table_rows(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with their line numbers, read lazily."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            for row in reader:
                if any(cell.strip() for cell in row):
                    # numpy would drop a trailing NUL from "4\0" silently
                    if "\0" in delimiter.join(row):
                        raise fail(
                            f"{path}: row {reader.line_num} holds a NUL byte; expected a text table"
                        )
                    yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise fail(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); expected a {path.suffix} table"
        ) from exc
    except csv.Error as exc:
        raise fail(f"{path} is not a valid {path.suffix} table: {exc}") from exc


def _column(spec: str | int, names: list[str], header: bool, path: Path, what: str) -> int:
    """Index of the column ``spec``: a header name, or an integer index (negative from the end)."""
    spec = str(spec)
    if header and spec in names:
        return names.index(spec)
    try:
        index = int(spec)
    except ValueError:
        index = None
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    listed = ", ".join(names) if header else f"indices 0..{len(names) - 1} (no header row)"
    raise fail(f"{path} has no {what} {spec!r}; its columns are: {listed}")


def _pick_columns(
    names: list[str], header: bool, path: Path, *, label_column, id_column, columns
) -> tuple[int | None, int | None, list[int]]:
    """Indices of the label column, the id column and the feature columns (default: all the others)."""
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
                f"are: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}; give a table with the "
                f"columns the model was trained on (extra columns are ignored)"
            )
        features = [_column(c, names, header, path, "column") for c in columns]
    else:
        features = [i for i in range(len(names)) if i not in (label, ident)]
    if not features:
        raise fail(f"{path} has no feature columns left after the label and id columns")
    return label, ident, features


def iter_table(
    path: str | os.PathLike,
    *,
    label_column=None,
    id_column=None,
    columns=None,
    has_header=None,
    chunk_rows: int = 16384,
) -> Iterator[Data]:
    """Read a ``.csv``/``.tsv`` table in chunks of ``chunk_rows`` rows, each a :class:`Data`.

    Memory stays bounded by the chunk, whatever the file's size: ``aekit score`` streams
    through a million rows this way. Options are those of :func:`~aekit.data.read_path`.

    Parameters
    ----------
    path : str or PathLike
        A ``.csv`` or ``.tsv`` file.
    label_column, id_column, columns, has_header :
        As for :func:`~aekit.data.read_path`.
    chunk_rows : int, default 16384
        Rows per chunk.

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
        raise UsageError(f"no such file: {path}")
    if path.suffix.lower() not in TABLE_EXTENSIONS:
        raise fail(
            f"{path}: expected a .csv or .tsv table, got {path.suffix or '(no extension)'!r}"
        )
    rows = _table_rows(path, TABLE_EXTENSIONS[path.suffix.lower()])
    head = [row for _, row in zip(range(2), rows)]
    if not head:
        raise fail(f"{path} is empty; expected rows of numbers")
    first = head[0][1]
    if has_header is None:
        has_header = _has_header([row for _, row in head])
    names = [c.strip() for c in first] if has_header else [str(i) for i in range(len(first))]
    label, ident, features = _pick_columns(
        names, has_header, path, label_column=label_column, id_column=id_column, columns=columns
    )
    layout = dict(
        path=path, names=names, has_header=has_header, label=label, ident=ident, features=features
    )

    body = head[1:] if has_header else head
    empty = True
    for item in rows:
        body.append(item)
        if len(body) >= chunk_rows:
            yield _table_chunk(body, **layout)
            body, empty = [], False
    if body:
        yield _table_chunk(body, **layout)
    elif empty:
        raise fail(f"{path} has a header but no data rows; expected rows of numbers")


def _table_chunk(body, *, path, names, has_header, label, ident, features) -> Data:
    """Parse and check one chunk of a table's rows."""
    for line, row in body:
        if len(row) != len(names):
            raise fail(
                f"{path}: row {line} has {len(row)} values; expected {len(names)} like the first row"
            )
    rows = [row for _, row in body]
    lines = [line for line, _ in body]
    if features != list(range(len(names))):
        pick = operator.itemgetter(*features)
        rows_x = [pick(r) for r in rows] if len(features) > 1 else [(pick(r),) for r in rows]
    else:
        rows_x = rows
    try:  # fast path: numpy parses the strings itself (surrounding blanks allowed)
        x = np.array(rows_x, dtype=np.float64)
    except ValueError:  # slow path: finds and names the first cell that is not a number
        x = _parse_numbers(np.array(rows_x, dtype=str), path, lines, [names[i] for i in features])

    def where(index) -> str:
        return f"at row {lines[index[0]]}, column {names[features[index[1]]]!r}"

    y = None
    if label is not None:
        raw = np.array([r[label].strip() for r in rows])
        if all(_is_number(v) for v in raw):
            raw = _parse_numbers(raw[:, None], path, lines, [names[label]])[:, 0]
        y = as_labels(raw, len(raw), name=f"{path} label column {names[label]!r}")
    return Data(
        x=to_float32(x, str(path), where),
        y=y,
        feature_names=[names[i] for i in features] if has_header else None,
        ids=None if ident is None else np.array([r[ident].strip() for r in rows]),
        id_name=None if ident is None else names[ident],
        source=str(path),
    )


def table_columns(path: str | os.PathLike) -> list[str] | None:
    """The header names of a ``.csv``/``.tsv`` table, or None (no header, or not a table)."""
    path = Path(path)
    if path.suffix.lower() not in TABLE_EXTENSIONS or not path.is_file():
        return None
    head = [
        row
        for _, (_, row) in zip(range(2), _table_rows(path, TABLE_EXTENSIONS[path.suffix.lower()]))
    ]
    return [c.strip() for c in head[0]] if head and _has_header(head) else None


def _has_header(head: list[list[str]]) -> bool:
    """Whether the first of a table's first two rows is a header: some column is text in the first
    row and a number in the second (or a lone row is not all numbers)."""
    first, second = head[0], head[1] if len(head) > 1 else []
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, second)) or (
        len(head) == 1 and not all(_is_number(c) for c in first)
    )


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


# --------------------------------------------------------------------------- Parquet


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


def iter_parquet(
    path: Path, *, label_column, id_column, columns, chunk_rows: int
) -> Iterator[Data]:
    """Chunks of a Parquet file as :class:`Data`, like :func:`iter_table` gives them."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    pfile = open_parquet(path)
    names = list(pfile.schema_arrow.names)
    label, ident, features = _pick_columns(
        names, True, path, label_column=label_column, id_column=id_column, columns=columns
    )
    wanted = sorted({*features, *(i for i in (label, ident) if i is not None)})
    seen = 0
    try:
        batches = pfile.iter_batches(batch_size=chunk_rows, columns=[names[i] for i in wanted])
        for batch in batches:
            if batch.num_rows == 0:
                continue
            col = {i: batch.column(names[i]) for i in wanted}
            chunk = _parquet_chunk(col, path, names, label, ident, features, first=seen)
            seen += batch.num_rows
            yield chunk
    except (DataError, UsageError):
        raise
    except Exception as exc:  # a corrupt page or an unreadable column type
        raise fail(f"{path} could not be read as a .parquet table: {one_line(exc)}") from exc
    if seen == 0:
        raise fail(f"{path} has no data rows; expected rows of numbers")


def _parquet_chunk(
    col: dict, path: Path, names: list[str], label, ident, features, *, first: int
) -> Data:
    """Check and convert one batch of Parquet columns (``col``: index -> pyarrow array)."""
    parts = []
    for i in features:
        values = col[i].to_numpy(zero_copy_only=False)  # nulls become NaN (or None for text)
        if values.dtype.kind not in "biuf":
            raise fail(f"{path}: column {names[i]!r} has type {col[i].type}; expected numbers")
        parts.append(values)

    def where(index) -> str:
        return f"at row {first + index[0]}, column {names[features[index[1]]]!r}"

    x = to_float32(np.column_stack(parts), str(path), where)
    y = None
    if label is not None:
        raw = col[label].to_numpy(zero_copy_only=False)
        y = as_labels(
            raw.astype(str) if raw.dtype.kind == "O" else raw,
            len(raw),
            name=f"{path} label column {names[label]!r}",
        )
    ids = None if ident is None else col[ident].to_numpy(zero_copy_only=False).astype(str)
    return Data(
        x=x,
        y=y,
        ids=ids,
        feature_names=[names[i] for i in features],
        source=str(path),
        id_name=None if ident is None else names[ident],
    )
