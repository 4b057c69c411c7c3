"""Parquet tables, read as a CSV is (:mod:`aekit.data.tables`): each batch's columns as text cells
(numbers exactly, nulls missing, dates in ISO 8601, durations in seconds), the same choice of
features, the same notes; pandas' stored index and nested columns left out by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError, one_line
from .cells import Cells
from .checks import fail, not_found
from .container import Data
from .tables import (
    _check_unique,
    _decide_features,
    _Layout,
    _roles,
    _say_cells,
    _table_chunk,
    _whole,
    chunk_rows_for,
    open_parquet,
)

TICKS_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}  # Parquet's duration units


def pandas_index(pfile) -> list[str]:
    """The columns a Parquet file holds pandas' index in (``__index_level_0__``, or the named
    index of ``df.set_index("id")``), which ``pd.read_parquet`` makes the index, not columns."""
    try:
        meta = pfile.schema_arrow.pandas_metadata or {}
    except (ValueError, TypeError):  # metadata that is not JSON: not pandas'
        return []
    names = set(pfile.schema_arrow.names)
    return [c for c in meta.get("index_columns", []) if isinstance(c, str) and c in names]


def iter_parquet(
    path: Path,
    *,
    label_column=None,
    id_column=None,
    columns=None,
    drop_columns=None,
    categorical=None,
    fill_values=None,
    chunk_rows: int | None = None,
) -> Iterator[Data]:
    """Chunks of a Parquet file as :class:`Data`, read as :func:`iter_table` reads a CSV: each
    batch's columns as text cells (numbers exactly, nulls missing, dates in ISO 8601)."""
    path = Path(path)
    if not path.is_file():
        raise not_found(path)
    pfile = open_parquet(path)
    names = list(pfile.schema_arrow.names)
    _check_unique(names, path)
    label, ident = _roles(names, True, path, label_column, id_column)
    layout = _Layout(path, names, True, label, ident)
    layout.index = {names.index(c) for c in pandas_index(pfile)}
    layout.nested = nested_columns(pfile.schema_arrow)
    fill = None if fill_values is None else dict(fill_values)
    seen = 0
    try:
        for batch in pfile.iter_batches(batch_size=chunk_rows or chunk_rows_for(len(names))):
            if batch.num_rows == 0:
                continue
            cells = _batch_cells(batch, _whole(layout))
            if seen == 0:
                _decide_features(
                    layout, cells, columns=columns, drop=drop_columns, categorical=categorical
                )
            lines = list(range(seen + 1, seen + 1 + batch.num_rows))
            seen += batch.num_rows
            yield _table_chunk(lines, cells, layout, fill)
    except (DataError, UsageError):
        raise
    except Exception as exc:  # a corrupt page or an unreadable column type
        raise fail(f"{path} could not be read as a .parquet table: {one_line(exc)}") from exc
    if seen == 0:
        raise fail(f"{path} has no data rows; expected rows of numbers")
    _say_cells(layout, fill is not None)


def read_frame(
    frame,
    *,
    source: str,
    columns=None,
    categorical=None,
    fill_values=None,
    first_row: int = 1,
) -> Data:
    """A pandas DataFrame (a Dask partition, a batch of a Parquet file) read as one chunk of a table,
    as :func:`iter_parquet` reads a batch: its columns picked (``columns``, by name), the
    ``categorical`` ones encoded and missing cells filled with ``fill_values`` (one note), its rows
    numbered from ``first_row`` in messages. No label or id column: the caller keeps its own.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1.0, None], "plan": ["pro", "free"]})          # doctest: +SKIP
    >>> read_frame(df, source="part", columns=["a", "plan=pro"], categorical=["plan"],
    ...            fill_values={"a": 0.5}).x                                   # doctest: +SKIP
    array([[1. , 1. ], [0.5, 0. ]], dtype=float32)
    """
    try:
        import pyarrow as pa

        batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
    except ImportError:
        raise fail(
            f"{source}: reading a DataFrame as a table needs pyarrow; pip install pyarrow"
        ) from None
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise fail(f"{source} could not be read as a table: {one_line(exc)}") from None
    names = [str(n) for n in batch.schema.names]
    read = dict(columns=columns, categorical=categorical, fill_values=fill_values)
    nested = nested_columns(batch.schema)
    return read_cells(names, _batch_cells(batch, set()), source, first_row, nested, **read)


def read_cells(
    names: list[str],
    cells: Cells,
    source: str,
    first_row: int = 1,
    nested: dict[int, str] | None = None,
    *,
    columns=None,
    categorical=None,
    fill_values=None,
) -> Data:
    """Text cells of named columns (``cells[:, i]`` the column ``names[i]``: numbers as text, a
    missing cell ``""``) read as one chunk of a table, as :func:`read_frame` reads a DataFrame: with
    no pandas nor pyarrow (the scoring service's columns posted by name)."""
    layout = _Layout(Path(source), names, True, None, None)
    _check_unique(layout.names, layout.path)
    layout.nested = nested or {}
    _decide_features(layout, cells, columns=columns, drop=None, categorical=categorical)
    fill = None if fill_values is None else dict(fill_values)
    lines = list(range(first_row, first_row + len(cells)))
    data = _table_chunk(lines, cells, layout, fill)
    _say_cells(layout, fill is not None)
    return data


def _batch_cells(batch, whole: set[int]) -> Cells:
    """(rows, columns) text of a pyarrow record batch: numbers as their shortest exact text
    (integers as integers: an id 7 is "7", not "7.0", and a 64-bit key past 2**53 stays exact),
    booleans as a CSV writes them ("true", "false": numbers 1 and 0, or a category's values)."""
    import pyarrow as pa

    out = []
    for col in batch.columns:
        if pa.types.is_floating(col.type):
            values = col.cast(pa.float64()).to_numpy(zero_copy_only=False)  # nulls: NaN
            out.append(values.astype(str))
        elif pa.types.is_duration(col.type):
            # in seconds: as integers in their stored unit, pandas 3's microseconds and pandas 2's
            # (or Spark's) nanoseconds of one duration were 1000x apart
            ticks = col.cast(pa.int64()).cast(pa.float64()).to_numpy(zero_copy_only=False)
            out.append((ticks / TICKS_PER_SECOND[col.type.unit]).astype(str))
        elif pa.types.is_nested(col.type):  # a list, a struct, a map: no text; named by its type
            out.append(np.full(batch.num_rows, "", dtype=object))
        else:
            # Python strings, each column made an array of its own width by Cells
            out.append(col.cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False))
    return Cells(out, batch.num_rows, whole)


def nested_columns(schema) -> dict[int, str]:
    """Index -> type of a schema's nested columns (lists such as embeddings, structs, maps), which
    hold no one number per row: left out by name, and the others read."""
    import pyarrow as pa

    return {i: str(f.type) for i, f in enumerate(schema) if pa.types.is_nested(f.type)}


def read_parquet(path: Path, **options) -> Data:
    """The whole Parquet table as one :class:`Data` (its row groups joined); options as for
    :func:`iter_parquet`."""
    parts = list(iter_parquet(path, chunk_rows=1 << 20, **options))
    if len(parts) == 1:
        return parts[0]

    def join(field: str):
        values = [getattr(d, field) for d in parts]
        return None if values[0] is None else np.concatenate(values)

    return replace(parts[0], x=join("x"), y=join("y"), ids=join("ids"))
