"""A long series from a file: rows are time steps, value columns are channels.

:func:`iter_series` reads ``.csv``/``.tsv``/``.parquet``/``.npy`` in chunks of steps (memory bounded
by one chunk, whatever the file's length); :func:`read_series` reads it whole. Each chunk is a
:class:`~aekit.data.Data` whose ``x`` is ``(steps, channels)`` float32, ``ids`` the values of the
optional time column (as text), ``y`` the optional per-step labels (1 = anomalous, 0 = normal)
and ``feature_names`` the channel names.

Gaps (empty cells, ``nan``, ``NA``, Parquet nulls) are refused with a one-line error naming the
step and the channel, unless a ``fill`` is asked for: ``"linear"`` draws a straight line between the
values on either side of the gap, ``"previous"`` repeats the last value before it (a gap at the
start takes the first value, one at the end the last). Filling works across chunk boundaries:
steps whose gap is not closed yet are held back until a later chunk closes it.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from .._notes import note
from ..errors import UsageError, one_line
from .checks import binary_mask, fail, missing_label, not_found
from .container import Data
from .csvrows import bodies, table_rows
from .encoding import is_number, not_numbers
from .parquet import open_parquet, pandas_index
from .tables import (
    HEAD_ROWS,
    TABLE_EXTENSIONS,
    _check_unique,
    _column,
    _pick_columns,
    _row_numbers,
    check_delimiter,
    first_row_is_header,
)
from .times import checked_times

SERIES_EXTENSIONS = (".csv", ".tsv", ".parquet", ".npy")
FILLS = ("linear", "previous")
CHUNK_STEPS = 65_536  # steps per chunk when streaming a series
GAP_CELLS = {
    "",
    "nan",
    "na",
    "n/a",
    "null",
    "none",
}  # a missing value in a table cell (case ignored)


# --------------------------------------------------------------------------- entry points


def iter_series(
    path: str | os.PathLike,
    *,
    time_column: str | int | None = None,
    label_column: str | int | None = None,
    columns: Sequence[str] | None = None,
    fill: str | None = None,
    chunk_steps: int = CHUNK_STEPS,
) -> Iterator[Data]:
    """Read a series in chunks of ``chunk_steps`` steps, each a :class:`~aekit.data.Data`.

    Parameters
    ----------
    path : str or PathLike
        ``.csv``/``.tsv`` (a header row names the columns), ``.parquet``, or ``.npy`` of shape
        ``(steps,)`` or ``(steps, channels)``.
    time_column : str or int, optional
        The column (name or index) holding each step's time; carried through as ``ids``.
    label_column : str or int, optional
        The column holding per-step labels, 0 (normal) or 1 (anomalous); becomes ``y``.
    columns : sequence of str, optional
        The value columns by name, in this order (default: every column but time and label).
    fill : {"linear", "previous"}, optional
        Fill gaps instead of refusing them.
    chunk_steps : int
        Steps per chunk.

    Examples
    --------
    >>> for chunk in iter_series("plant.csv", time_column="timestamp"):   # doctest: +SKIP
    ...     chunk.x.shape, chunk.ids[0]
    """
    path = Path(path)
    if fill is not None and fill not in FILLS:
        raise UsageError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
    if not path.is_file():
        raise not_found(path)
    ext = path.suffix.lower()
    if ext not in SERIES_EXTENSIONS:
        raise fail(
            f"{path}: unsupported series file {ext or '(no extension)'!r}; expected one of: "
            f"{', '.join(SERIES_EXTENSIONS)} (rows are time steps, columns are channels)"
        )
    if path.stat().st_size == 0:
        raise fail(f"{path} is empty; expected a {ext} series")
    if ext == ".npy":
        if time_column is not None or label_column is not None:
            raise UsageError(
                f"{path}: a .npy series holds values only; --time-column and --label-column need "
                f"a .csv, .tsv or .parquet table"
            )
        raw = _npy_chunks(path, chunk_steps)
    elif ext == ".parquet":
        raw = _parquet_chunks(path, time_column, label_column, columns, chunk_steps)
    else:
        raw = _table_chunks(path, time_column, label_column, columns, chunk_steps)
    if time_column is not None:
        raw = checked_times(raw, path, str(time_column))
    yield from _without_gaps(raw, fill, path)


def read_series(path: str | os.PathLike, **options) -> Data:
    """The whole series as one :class:`~aekit.data.Data`; options as for :func:`iter_series`.

    Examples
    --------
    >>> s = read_series("135_UCR_Anomaly_InternalBleeding16_TEST.csv", time_column="timestamp",
    ...                 label_column="is_anomaly")                    # doctest: +SKIP
    >>> s.x.shape, int(s.y.sum())                                     # doctest: +SKIP
    ((7501, 1), 12)
    """
    chunks = list(iter_series(path, **options))
    if not chunks:
        raise fail(f"{path} has no steps; expected rows of numbers")
    return concat(chunks)


def concat(chunks: Sequence[Data]) -> Data:
    """Consecutive chunks of one series as one :class:`~aekit.data.Data`."""
    first = chunks[0]
    if len(chunks) == 1:
        return first

    def joined(field: str):
        parts = [getattr(c, field) for c in chunks]
        return None if parts[0] is None else np.concatenate(parts)

    return replace(first, x=np.concatenate([c.x for c in chunks]), y=joined("y"), ids=joined("ids"))


# --------------------------------------------------------------------------- labels and gaps


def check_labels(y: np.ndarray, where: str, first_step: int = 0) -> np.ndarray:
    """Per-step labels as int64 0/1, or a one-line error naming the first other value."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        # text read from a file ("1", "1.0"), or numbers and bools in an object array (a pandas
        # column of object or nullable dtype, where a missing label is pd.NA)
        text = np.fromiter((str(v).strip() in ("0", "1", "0.0", "1.0") for v in y), bool, len(y))
        ok = text | binary_mask(y)
        if ok.all():
            return np.array([float(v) for v in y]).astype(np.int64)
        bad = int(np.flatnonzero(~ok)[0])
        value = y[bad]
        what = f"a missing label ({value!r})" if missing_label(value) else repr(str(value))
        raise fail(
            f"{where} holds {what} at step {first_step + bad}; expected labels 0 (normal) or "
            f"1 (anomalous)"
        )
    ok = (y == 0) | (y == 1)
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise fail(
            f"{where} holds {y[bad].item()!r} at step {first_step + bad}; expected labels 0 "
            f"(normal) or "
            f"1 (anomalous)"
        )
    return y.astype(np.int64)


def fill_gaps(x: np.ndarray, fill: str) -> np.ndarray:
    """Fill the NaNs of a whole series ``x`` (steps, channels) in memory; see the module notes.

    Examples
    --------
    >>> fill_gaps(np.array([[1.0], [np.nan], [3.0]]), "linear").ravel().tolist()
    [1.0, 2.0, 3.0]
    """
    filler = _GapFiller(fill, "x")
    parts = [filler.push(Data(x=np.asarray(x, np.float64))), filler.finish()]
    return concat([p for p in parts if p is not None]).x


def _without_gaps(chunks: Iterator[Data], fill: str | None, path: Path) -> Iterator[Data]:
    """Chunks with no NaN: refused (``fill=None``) or filled across chunk boundaries."""
    step = 0
    names = None
    if fill is None:
        for chunk in chunks:
            names = chunk.feature_names
            bad = np.isnan(chunk.x)
            if bad.any():
                r, c = (int(i) for i in np.argwhere(bad)[0])
                name = names[c] if names else str(c)
                raise fail(
                    f"{path} has a gap (no value) at step {step + r}, channel {name!r}; expected a value at "
                    f"every step: pass --fill linear or --fill previous (fill='linear') to fill gaps"
                )
            step += len(chunk)
            yield _float32(chunk, path)
        return
    filler = _GapFiller(fill, str(path))
    for chunk in chunks:
        out = filler.push(chunk)
        if out is not None:
            yield _float32(out, path)
    out = filler.finish()
    if out is not None:
        yield _float32(out, path)


def _float32(chunk: Data, path: Path) -> Data:
    with np.errstate(over="ignore"):
        x = np.ascontiguousarray(chunk.x, dtype=np.float32)
    if not np.isfinite(x).all():
        r, c = (int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise fail(
            f"{path} has a value too large for float32 ({chunk.x[r, c]}) in channel {c}; expected "
            f"finite numbers"
        )
    return replace(chunk, x=x)


class _GapFiller:
    """Fills NaNs chunk by chunk; the steps after the last value of some channel wait for the next chunk."""

    def __init__(self, fill: str, where: str):
        self.fill, self.where = fill, where
        self.held: Data | None = None  # steps not emitted yet (raw, with their gaps)
        # the last emitted step, filled: the left side of a gap
        self.anchor: np.ndarray | None = None

    def push(self, chunk: Data) -> Data | None:
        block = chunk if self.held is None else concat([self.held, chunk])
        seen = ~np.isnan(np.asarray(block.x))
        if self.fill == "previous" and self.anchor is not None:
            cut = len(block)  # a previous value is known for every channel: nothing to wait for
        else:
            # Emit up to the last step that every channel has a value at or after: a gap after
            # that may still be closed by a later chunk.
            last = np.where(seen.any(axis=0), len(block) - 1 - np.argmax(seen[::-1], axis=0), -1)
            cut = int(last.min()) + 1
        if cut <= 0:
            self.held = block
            return None
        x = self._filled(block)  # the whole block: a gap before the cut may be closed after it
        self.held = None if cut == len(block) else block.subset(slice(cut, None))
        self.anchor = x[cut - 1].copy()
        return replace(block.subset(slice(0, cut)), x=x[:cut])

    def finish(self) -> Data | None:
        """The steps still held back, their last gaps filled with the last value."""
        if self.held is None:
            return None
        held, self.held = self.held, None
        return replace(held, x=self._filled(held))

    def _filled(self, part: Data) -> np.ndarray:
        """``part.x`` (steps, C) with its gaps filled, the last emitted step as the left side of a first gap."""
        x = np.array(part.x, np.float64)
        ctx = x if self.anchor is None else np.vstack([self.anchor[None], x])  # (1 + steps, C)
        for c in range(ctx.shape[1]):
            col = ctx[:, c]  # a view: filled in place
            known = np.flatnonzero(~np.isnan(col))
            if len(known) == 0:
                name = part.feature_names[c] if part.feature_names else str(c)
                raise fail(f"{self.where}: channel {name!r} has no value at all; expected numbers")
            if len(known) == len(col):
                continue
            gaps = np.flatnonzero(np.isnan(col))
            if self.fill == "linear":  # np.interp repeats the end values outside the known steps
                col[gaps] = np.interp(gaps, known, col[known])
            else:  # previous: the last known step before each gap; before the first, the first value
                before = np.searchsorted(known, gaps) - 1
                col[gaps] = col[known[np.maximum(before, 0)]]
        return ctx[1:] if self.anchor is not None else ctx


# --------------------------------------------------------------------------- formats


def _npy_chunks(path: Path, chunk_steps: int) -> Iterator[Data]:
    """A ``.npy`` of shape (steps,) or (steps, channels), memory-mapped and copied a chunk at a time."""
    from .rowstore import check_npy_file

    check_npy_file(path)  # an .npz named .npy, a header claiming more than the file holds
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "object" in str(exc):
            raise fail(
                f"{path} holds Python objects, which aekit never unpickles; save a numeric array"
            ) from exc
        raise fail(f"{path} is not a valid .npy file: {one_line(exc)}") from exc
    except (OSError, EOFError) as exc:
        raise fail(f"{path} is not a valid .npy file: {one_line(exc)}") from exc
    if arr.dtype.kind not in "biuf":
        raise fail(f"{path} has dtype {arr.dtype}; expected numbers (a series of floats)")
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise fail(
            f"{path} holds an array of shape {arr.shape}; expected a series (steps,) or (steps, channels)"
        )
    for start in range(0, arr.shape[0], chunk_steps):
        # a copy: the map's pages can go
        part = np.array(arr[start : start + chunk_steps], dtype=np.float64)
        if not np.isfinite(part[~np.isnan(part)]).all():
            raise fail(f"{path} has an infinite value near step {start}; expected finite numbers")
        # values only: no channel names, so a run trained on it reads a table's channels by position
        yield Data(x=part.reshape(len(part), -1), feature_names=None, source=str(path))


def _pick(names: list[str], header: bool, path: Path, time_column, label_column, columns, index=()):
    """Indices of the time column, the label column and the value columns (default: all the
    others but pandas' ``index``: row numbers or keys are no channel, a straight line in time)."""
    if time_column is not None:  # named as what it is (it is picked as a table's id column)
        _column(time_column, names, header, path, "time column")
    skip = {names.index(c) for c in index if c in names}
    label, time, values = _pick_columns(
        names,
        header,
        path,
        label_column=label_column,
        id_column=time_column,  # the time column is picked as a table's id column
        columns=columns,
        skip=skip,
    )
    _not_a_channel(names, values, path, ("time column", time_column, time))
    if columns is None and (left := sorted(skip - {time, label})):
        shown = ", ".join(repr(names[i]) for i in left)
        note(f"{path}: left out {shown}: pandas' index, as pandas reads it back (index=False)")
    return time, label, values


def _not_a_channel(names: list[str], values: list[int], path: Path, given) -> None:
    """One line for a time column given by its index (``--time-column 1``) that is one of the
    channels named (``columns``): it was read as both, time and channel, where by name the CLI
    refuses it against the run (probe 60 clock L6). Named as a channel too by its own name, it is
    read so as before (review 60 F4)."""
    what, spec, index = given
    if index in values and str(spec) != names[index]:
        raise UsageError(
            f"{path}: the {what} {spec} is {names[index]!r}, one of the channels read; name "
            f"another column as the {what}, or none"
        )


def _cells_to_float(
    cells: np.ndarray, path: Path, first_step: int, names: list[str], columns: list[int]
) -> np.ndarray:
    """Text cells (steps, k) of the ``columns`` (their indices among ``names``) as float64, gaps as
    NaN; a one-line error for a cell that is not a number."""
    if not not_numbers(cells).any():  # "2023_51" is not 202351, as pandas reads it
        try:
            return cells.astype(np.float64)  # fast path: numbers and "nan" only
        except ValueError:
            pass
    out = np.empty(cells.shape, np.float64)
    for (r, c), cell in np.ndenumerate(cells):
        text = str(cell).strip()
        if text.lower() in GAP_CELLS:
            out[r, c] = np.nan
            continue
        try:
            if not is_number(text):
                raise ValueError(text)
            out[r, c] = float(text)
        except ValueError:
            name, option = _column_words(names, columns[c])
            raise fail(
                f"{path}: step {first_step + r}, column {name}: {text!r} is not a number; expected "
                f"numbers (an empty cell or NaN is a gap): a column of text or times is no channel "
                f"(--time-column {option}, or --columns naming the channels)"
            ) from None
    return out


def _column_words(names: list[str], index: int) -> tuple[str, str]:
    """A column as a message names it, and as ``--time-column`` takes it: an unnamed one (a
    time-indexed pandas frame's index, written by ``df.to_csv()``) by its index, which the
    option takes too (``--time-column ,`` was the advice: probe 60 clock M4)."""
    name = names[index]
    if not name.strip():
        return f"{index} (unnamed, as pandas writes a frame's index)", str(index)
    return repr(name), shlex.quote(name)


def _table_chunks(
    path: Path, time_column, label_column, columns, chunk_steps: int
) -> Iterator[Data]:
    rows = table_rows(path, TABLE_EXTENSIONS[path.suffix.lower()])
    head = [row for _, row in zip(range(HEAD_ROWS), rows)]
    if not head:
        raise fail(f"{path} is empty; expected rows of numbers")
    check_delimiter(head[:2], path)
    first = head[0][1]
    header = first_row_is_header([row for _, row in head], path)
    names = [c.strip() for c in first] if header else [str(i) for i in range(len(first))]
    body = head[1:] if header else head
    index = [names[0]] if body and _row_numbers(names[0], np.array([r[0] for _, r in body])) else []
    time, label, values = _pick(names, header, path, time_column, label_column, columns, index)
    step = 0

    def chunk(body) -> Data:
        for line, row in body:
            if len(row) != len(names):
                raise fail(
                    f"{path}: row {line} has {len(row)} values; expected {len(names)} like the first row"
                )
        cells = np.array([[row[i] for i in values] for _, row in body], dtype=str)
        x = _cells_to_float(cells, path, step, names, values)
        y = None
        if label is not None:
            raw = np.array([row[label].strip() for _, row in body])
            y = check_labels(raw, f"{path} label column {names[label]!r}", step)
        ids = None if time is None else np.array([row[time].strip() for _, row in body])
        _check_infinite(x, path, step, [names[i] for i in values])
        time_name = None if time is None else names[time]
        return Data(
            x=x,
            y=y,
            ids=ids,
            feature_names=[names[i] for i in values],
            source=str(path),
            id_name=time_name,
        )

    for part in bodies(body, rows, chunk_steps):
        yield chunk(part)
        step += len(part)
    if step == 0:
        raise fail(f"{path} has a header but no data rows; expected rows of numbers")


UTC_NAMES = ("UTC", "utc", "Etc/UTC", "Z", "+00:00")  # zones whose times NumPy writes in UTC


def _time_text(col) -> np.ndarray:
    """A Parquet time column as text: a zoned timestamp in its own zone with its offset
    (``2024-07-02 17:20:00.000000+0200``, as pandas shows it; NumPy's text drops the zone and
    writes UTC, the scores' times then hours off), one in UTC as NumPy writes it with a ``Z`` (the
    text written before zones were kept, now with its zone: a reader took it for local time,
    probe 60 clock L7), a duration as seconds, any other as NumPy writes it."""
    import pyarrow as pa

    if pa.types.is_timestamp(col.type) and col.type.tz not in (None, *UTC_NAMES):
        return col.cast(pa.string()).to_numpy(zero_copy_only=False).astype(str)
    if pa.types.is_timestamp(col.type) and col.type.tz is not None:
        text = col.to_numpy(zero_copy_only=False).astype(str)
        return np.where(text == "NaT", text, np.char.add(text, "Z"))
    if pa.types.is_duration(col.type):
        return _seconds_text(col)
    return col.to_numpy(zero_copy_only=False).astype(str)


def _seconds_text(col) -> np.ndarray:
    """A duration column (elapsed time) as exact seconds (``119940``, ``0.000100``; a null empty):
    numbers, checked as such. NumPy's text of timedelta64 is cut short (``119940000000 microsec``,
    its width taken from the first value), so neither read back nor checked (probe 60 clock M3)."""
    import pyarrow as pa

    digits = {"s": 0, "ms": 3, "us": 6, "ns": 9}[col.type.unit]
    counts = col.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    valid = col.is_valid().to_numpy(zero_copy_only=False)
    scale = 10**digits
    return np.array(
        [
            _decimal(int(n), scale, digits) if ok else ""
            for n, ok in zip(counts.tolist(), valid.tolist())
        ],
        dtype=str,
    )


def _decimal(count: int, scale: int, digits: int) -> str:
    """``count / scale`` written exactly, in as few decimals as it takes (``60``, ``0.0001``)."""
    whole, part = divmod(abs(count), scale)
    sign = "-" if count < 0 else ""
    return f"{sign}{whole}" + (f".{part:0{digits}d}".rstrip("0") if part else "")


def _check_infinite(x: np.ndarray, path: Path, first_step: int, names: list[str]) -> None:
    bad = np.isinf(x)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise fail(
            f"{path}: step {first_step + r}, column {names[c]!r} is infinite; expected finite numbers"
        )


def _parquet_chunks(
    path: Path, time_column, label_column, columns, chunk_steps: int
) -> Iterator[Data]:
    pfile = open_parquet(path)
    names = list(pfile.schema_arrow.names)
    _check_unique(names, path)
    index = pandas_index(pfile)
    time, label, values = _pick(names, True, path, time_column, label_column, columns, index)
    wanted = sorted({*values, *(i for i in (time, label) if i is not None)})
    step = 0
    try:
        for batch in pfile.iter_batches(batch_size=chunk_steps, columns=[names[i] for i in wanted]):
            if batch.num_rows == 0:
                continue
            parts = []
            for i in values:
                col = batch.column(names[i])
                v = col.to_numpy(zero_copy_only=False)  # nulls become NaN: gaps
                if v.dtype.kind not in "biuf":
                    raise fail(f"{path}: column {names[i]!r} has type {col.type}; expected numbers")
                parts.append(v.astype(np.float64))
            x = np.column_stack(parts)
            _check_infinite(x, path, step, [names[i] for i in values])
            y = None
            if label is not None:
                raw = batch.column(names[label]).to_numpy(zero_copy_only=False)
                y = check_labels(raw, f"{path} label column {names[label]!r}", step)
            ids = None if time is None else _time_text(batch.column(names[time]))
            yield Data(
                x=x,
                y=y,
                ids=ids,
                feature_names=[names[i] for i in values],
                source=str(path),
                id_name=None if time is None else names[time],
            )
            step += batch.num_rows
    except UsageError:
        raise
    except Exception as exc:  # a corrupt page or an unreadable column type
        raise fail(f"{path} could not be read as a .parquet series: {one_line(exc)}") from exc
    if step == 0:
        raise fail(f"{path} has no data rows; expected rows of numbers")
