"""Row stores on disk: data larger than memory, read by rows with bounded resident memory.

Every source that cannot be held in memory ends up as a C-order ``.npy`` file read through
:class:`NpyRows`, a memory map that gathers rows on demand and converts them to float32 one
batch at a time. A ``.npy`` file is used in place; tables (``.csv``, ``.tsv``, ``.parquet``)
and image folders are first *spilled* to a float32 ``.npy`` chunk by chunk
(:func:`spill_table`, :func:`spill_images`, :func:`open_rows`). :class:`RowsView` selects a
subset of rows (a train/validation split) without copying them.

Only NumPy and the standard library are imported here; Pillow and pyarrow only when used.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, Sequence

import numpy as np

from .._io import atomic_path
from ..errors import DataError, UsageError, one_line
from .readers import (
    IMAGE_EXTENSIONS,
    SUPPORTED,
    TABLE_EXTENSIONS,
    _column,
    _fail,
    _image_files,
    _iter_images,
    _to_float32,
    _unit_float,
    as_labels,
    iter_table,
)

MiB = 1 << 20
DEFAULT_RESIDENT_BYTES = 64 * MiB
# A page fault in a file mapping can map far more than the page asked for: Linux maps the
# cached pages around it ("fault-around", 64 KiB) and, with large folios in the page cache
# (ext4, xfs; kernel 6.x), the whole folio: up to 2 MiB, a PMD on x86-64 and 4K-page arm64.
# One row of a few bytes was measured to make 2 MiB resident, so residency is counted in
# 2 MiB granules, not in row bytes, to stay an upper bound.
_GRANULE = max(mmap.PAGESIZE, 2 * MiB)
STREAM_EXTENSIONS = (".npy", *TABLE_EXTENSIONS, ".parquet", *IMAGE_EXTENSIONS)


class RowStore(Protocol):
    """What the training loop needs from rows on disk: :class:`NpyRows` and :class:`RowsView`."""

    sample_shape: tuple[int, ...]

    def __len__(self) -> int: ...

    def take(self, indices) -> np.ndarray: ...

    def rows(self, start: int, stop: int) -> np.ndarray: ...


# --------------------------------------------------------------------------- reading


class NpyRows:
    """A read-only, memory-mapped ``.npy`` file that gives float32 rows by index.

    Rows are gathered from the map and converted to float32 one batch at a time, never the
    whole file. The pages a process touches in a file mapping count in its resident memory
    (RSS) until they are unmapped, so a full pass over a large file would otherwise end with
    the whole file resident; before the touched part of the file passes ``resident_bytes``
    (counted in 2 MiB granules: one fault can map that much) the mapping is released with
    ``madvise(MADV_DONTNEED)``, within a batch if need be. For a read-only shared file mapping that only drops this
    process's page-table entries: the data stays in the kernel's page cache (reclaimable, and
    shared with other processes) and the next access maps it again, so nothing is lost and a
    warm file costs a minor fault per page. Where ``madvise`` is missing (Windows) memory is
    left to the operating system.

    A 3-D array ``(n, H, W)`` is served as grayscale images ``(n, 1, H, W)``, as
    :func:`~aekit.data.read_path` does. Pickling reopens the file by path on unpickling (for
    DataLoader workers and spawned processes), and refuses a file that has changed shape or
    dtype since.

    Parameters
    ----------
    path : str or PathLike
        A C-order ``.npy`` file of numbers (bool, int or float) with at least two dimensions.
    resident_bytes : int or None, default 64 MiB
        Release the mapping after this many bytes have been touched; None never releases it
        (fastest when the file fits in memory).

    Attributes
    ----------
    path : Path
    shape : tuple of int
        ``(len(self), *sample_shape)``: the shape of the rows as served.
    sample_shape : tuple of int
    dtype : numpy.dtype
        The dtype stored in the file (rows are returned as float32).
    nbytes : int
        Bytes of array data in the file.

    Examples
    --------
    >>> np.save("x.npy", np.arange(12, dtype=np.int16).reshape(4, 3))  # doctest: +SKIP
    >>> with NpyRows("x.npy") as rows:  # doctest: +SKIP
    ...     rows.take([3, 0])
    array([[ 9., 10., 11.],
           [ 0.,  1.,  2.]], dtype=float32)
    """

    def __init__(self, path: str | os.PathLike, *, resident_bytes: int | None = DEFAULT_RESIDENT_BYTES) -> None:
        self.path = Path(path)
        if resident_bytes is not None and resident_bytes <= 0:
            raise UsageError(f"resident_bytes must be a positive number of bytes or None, got {resident_bytes!r}")
        self.resident_bytes = resident_bytes
        self._mm: mmap.mmap | None = None
        self._touched = 0  # granule bytes touched since the last release
        file_shape, self.dtype, offset = _read_npy_header(self.path)
        n = self._len = file_shape[0]
        self.nbytes = int(np.prod(file_shape, dtype=np.int64)) * self.dtype.itemsize
        self._offset = offset
        self._row_nbytes = self.nbytes // n
        # Served like read_path serves it: (n, H, W) are grayscale images (n, 1, H, W).
        self.sample_shape = (1, *file_shape[1:]) if len(file_shape) == 3 else tuple(file_shape[1:])
        with open(self.path, "rb") as f:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)  # the map outlives the descriptor
        self._array = np.frombuffer(self._mm, dtype=self.dtype, count=self.nbytes // self.dtype.itemsize,
                                    offset=offset).reshape((n, *self.sample_shape))

    # ----------------------------------------------------------------------- the basics

    def __len__(self) -> int:
        return self._len

    @property
    def shape(self) -> tuple[int, ...]:
        return (self._len, *self.sample_shape)

    def __repr__(self) -> str:
        state = "closed" if self._mm is None else f"shape={self.shape}, dtype={self.dtype}"
        return f"NpyRows({str(self.path)!r}, {state})"

    def close(self) -> None:
        """Unmap the file; later reads raise ValueError. Closing twice is harmless."""
        if self._mm is not None:
            del self._array  # the map cannot close while an array still exports its buffer
            self._mm.close()
            self._mm = None

    def __enter__(self) -> "NpyRows":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __reduce__(self):
        # An mmap cannot be pickled; the receiving process maps the same file again.
        return _reopen, (str(self.path), self.resident_bytes, self.shape, self.dtype.str)

    # ----------------------------------------------------------------------- reading rows

    def take(self, indices) -> np.ndarray:
        """Rows at ``indices`` (any order, repeats allowed) as a new float32 array.

        The rows are read in increasing order for locality and returned in the order asked.

        Parameters
        ----------
        indices : array-like of int
            Row numbers; negative numbers count from the end.

        Returns
        -------
        ndarray of float32, shape ``(len(indices), *sample_shape)``

        Examples
        --------
        >>> batch = rows.take(np.random.default_rng(0).permutation(len(rows))[:256])  # doctest: +SKIP
        """
        idx = _as_indices(indices, len(self._live()))
        unique, inverse = np.unique(idx, return_inverse=True)  # sorted: file order, for locality
        out = self._gather(unique)
        return out if len(unique) == len(idx) and np.array_equal(unique, idx) else out[inverse.reshape(-1)]

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (slice semantics, clipped to the file) as a new float32 array.

        Examples
        --------
        >>> first = rows.rows(0, 1024)  # doctest: +SKIP
        """
        start, stop, _ = slice(start, stop).indices(len(self._live()))
        return self._gather(np.arange(start, max(start, stop)))

    def check_finite(self, chunk_rows: int | None = None) -> None:
        """Raise :class:`DataError` for the first row with NaN, inf or a value too large for float32.

        Reads the file chunk by chunk, so memory stays bounded whatever its size. Integer and
        bool files are always finite and return at once.

        Parameters
        ----------
        chunk_rows : int, optional
            Rows per chunk (default: about 16 MiB of rows, at most ``resident_bytes``).

        Examples
        --------
        >>> NpyRows("big.npy").check_finite()  # doctest: +SKIP
        """
        self._live()
        if self.dtype.kind != "f":
            return
        if chunk_rows is None:
            budget = min(16 * MiB, self.resident_bytes or 16 * MiB)
            chunk_rows = max(1, budget // self._row_nbytes)
        for start in range(0, len(self), int(chunk_rows)):
            self.rows(start, start + int(chunk_rows))  # converts and checks

    # ----------------------------------------------------------------------- internals

    def _live(self) -> np.ndarray:
        if self._mm is None:
            raise ValueError(f"{self!r} is closed; open the file again")
        return self._array

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """float32 copies of ``rows`` (sorted, unique), read in runs that fit the residency budget."""
        out = np.empty((len(rows), *self.sample_shape), dtype=np.float32)  # never points into the map
        if len(rows) == 0:
            return out
        # Granules each row adds to those of the rows before it (neighbours may share one).
        start = self._offset + rows * self._row_nbytes
        first, last = start // _GRANULE, (start + self._row_nbytes - 1) // _GRANULE
        new = last - first + 1
        new[1:] -= first[1:] == last[:-1]
        if self.resident_bytes is None:
            bounds = [0, len(rows)]
        else:  # cut where the running total passes a multiple of the budget
            budget = max(1, self.resident_bytes // _GRANULE)
            window = (np.cumsum(new) - 1) // budget
            bounds = [0, *(np.flatnonzero(np.diff(window)) + 1).tolist(), len(rows)]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            granules = int(new[lo:hi].sum()) + int(lo > 0 and new[lo] < last[lo] - first[lo] + 1)
            if self.resident_bytes is not None and self._touched + granules * _GRANULE > self.resident_bytes:
                self.release()
            run = rows[lo:hi]
            contiguous = run[-1] - run[0] == len(run) - 1
            block = self._array[run[0]:run[-1] + 1] if contiguous else self._array[run]
            with np.errstate(over="ignore", invalid="ignore"):
                out[lo:hi] = block  # the conversion to float32, one run at a time
            self._touched += granules * _GRANULE
            if self.dtype.kind == "f" and not np.isfinite(out[lo:hi]).all():
                raise self._bad_value(block, out[lo:hi], run)
        return out

    def _bad_value(self, block: np.ndarray, out: np.ndarray, row_ids: np.ndarray) -> DataError:
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        value, row = block[index], int(row_ids[index[0]])
        finite = bool(np.isfinite(value))
        what = "a value too large for float32" if finite else "a non-finite value"
        expected = "numbers within float32's range (3.4e38)" if finite else "finite numbers"
        return _fail(f"{self.path} has {what} ({value}) at row {row}, index {(row, *index[1:])}; expected {expected}")

    def release(self) -> None:
        """Drop the pages this process has mapped (they stay in the page cache); see the class notes."""
        self._touched = 0
        if self._mm is not None and hasattr(self._mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            self._mm.madvise(mmap.MADV_DONTNEED)


def _reopen(path: str, resident_bytes: int | None, shape: tuple[int, ...], dtype: str) -> NpyRows:
    rows = NpyRows(path, resident_bytes=resident_bytes)
    if rows.shape != tuple(shape) or rows.dtype.str != dtype:
        rows.close()
        raise _fail(f"{path} changed since it was opened: it now holds {rows.shape} {rows.dtype}, "
                    f"not {tuple(shape)} {np.dtype(dtype)}; open it again")
    return rows


def _read_npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of a ``.npy`` file, or a one-line error saying what is wrong with it."""
    fmt = np.lib.format
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if path.suffix.lower() != ".npy":
        raise _fail(f"{path}: expected a .npy file, got {path.suffix or '(no extension)'!r}")
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(f)
            else:  # 2.0 and 3.0 share the layout (3.0 only allows UTF-8 field names)
                shape, fortran, dtype = fmt.read_array_header_2_0(f)
            offset = f.tell()
    except (ValueError, OSError, EOFError, struct.error) as exc:
        raise _fail(f"{path} is not a valid .npy file: {exc}") from exc
    if dtype.hasobject:
        raise _fail(f"{path} holds Python objects, which aekit never unpickles; save a numeric array")
    if dtype.kind not in "biuf":
        raise _fail(f"{path} has dtype {dtype}; expected numbers (bool, int or float)")
    if fortran and len(shape) > 1:
        raise _fail(f"{path} is stored in Fortran order; expected C order: "
                    "re-save it with np.save(path, np.ascontiguousarray(x))")
    if len(shape) < 2:
        raise _fail(f"{path} holds an array of shape {shape}; expected (samples, features) or (n, C, H, W)")
    if 0 in shape:
        raise _fail(f"{path} holds an empty array of shape {shape}; expected at least one sample")
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size < offset + nbytes:
        raise _fail(f"{path} is truncated: its header says {shape} {dtype} ({nbytes} bytes of data) "
                    f"but it holds {max(0, size - offset)}")
    return tuple(int(s) for s in shape), dtype, offset


def _as_indices(indices, n: int) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.size == 0:
        return np.zeros(0, dtype=np.int64)
    if idx.dtype.kind not in "iu" or idx.ndim != 1:
        raise TypeError(f"row indices must be a 1-D array of integers, got {idx.dtype} of shape {idx.shape}")
    idx = idx.astype(np.int64, copy=False)
    if idx.min() < -n or idx.max() >= n:
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"row index {bad} is out of range for {n} rows")
    return np.where(idx < 0, idx + n, idx)


class RowsView:
    """The rows of another row store at ``indices``, without copying: a train/validation split.

    Parameters
    ----------
    base : NpyRows or RowsView
        The rows to select from (a view of a view selects from the first one).
    indices : array-like of int or bool
        Row numbers of ``base`` (any order, repeats allowed), or a boolean mask of ``len(base)``.

    Examples
    --------
    >>> order = np.random.default_rng(0).permutation(len(rows))  # doctest: +SKIP
    >>> train, val = RowsView(rows, order[:-1000]), RowsView(rows, order[-1000:])  # doctest: +SKIP
    """

    def __init__(self, base: RowStore, indices) -> None:
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(base),):
                raise ValueError(f"a boolean mask must have shape ({len(base)},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        idx = _as_indices(idx, len(base))
        if isinstance(base, RowsView):  # compose, so that reads go straight to the file
            base, idx = base.base, base.indices[idx]
        self.base = base
        self.indices = idx
        self.indices.setflags(write=False)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return self.base.sample_shape

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self.sample_shape)

    def __repr__(self) -> str:
        return f"RowsView({self.base!r}, {len(self)} rows)"

    def take(self, indices) -> np.ndarray:
        """Rows at ``indices`` of this view, as :meth:`NpyRows.take`."""
        return self.base.take(self.indices[_as_indices(indices, len(self))])

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of this view, as :meth:`NpyRows.rows`."""
        return self.base.take(self.indices[start:stop])


# --------------------------------------------------------------------------- spilling


@dataclass
class DiskData:
    """The on-disk counterpart of :class:`~aekit.data.Data`: rows on disk, small per-sample fields in memory.

    Parameters
    ----------
    rows : NpyRows
        The samples, served as float32.
    y, ids : ndarray of shape (n,), optional
        Labels and id-column values, as :class:`~aekit.data.Data` has them.
    feature_names, names, image_mode, source :
        As in :class:`~aekit.data.Data`.

    Examples
    --------
    >>> data = open_rows("big.csv", cache_dir="cache", label_column="label")  # doctest: +SKIP
    >>> data.rows.take([0, 1]).shape, data.y[:2]  # doctest: +SKIP
    ((2, 20), array([0, 1]))
    """

    rows: NpyRows
    y: np.ndarray | None = None
    ids: np.ndarray | None = None
    feature_names: list[str] | None = None
    names: list[str] | None = None
    image_mode: str | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.rows)


class _NpyAppender:
    """Appends float32 rows to an open file under a header that is rewritten with the final row count.

    The header is written first with room for a 20-digit row count and padded to the same
    length at the end, so the data never moves and the file is never held in memory.
    """

    def __init__(self, f, sample_shape: tuple[int, ...]) -> None:
        self.f, self.sample_shape, self.n = f, tuple(sample_shape), 0
        self.size = len(self._header(10**20 - 1))
        f.write(self._header(10**20 - 1))

    def _header(self, n: int, size: int | None = None) -> bytes:
        text = repr({"descr": "<f4", "fortran_order": False, "shape": (n, *self.sample_shape)})
        text = text[:-1] + ", }"  # the form np.save writes
        prefix = 6 + 2 + 2  # magic, version, header length (format 1.0)
        size = size or -(-(prefix + len(text) + 1) // 64) * 64  # data aligned to 64 bytes, like np.save
        if size - prefix > 65535:
            raise _fail(f"sample shape {self.sample_shape} is too large for a .npy header")
        text = text + " " * (size - prefix - len(text) - 1) + "\n"
        return np.lib.format.magic(1, 0) + struct.pack("<H", len(text)) + text.encode("latin1")

    def append(self, x: np.ndarray) -> None:
        self.f.write(memoryview(np.ascontiguousarray(x, dtype="<f4")).cast("B"))
        self.n += len(x)

    def finish(self) -> None:
        self.f.seek(0)
        self.f.write(self._header(self.n, self.size))


def _spill(out_npy: str | os.PathLike, chunks: Iterator[np.ndarray], where: Path) -> Path:
    """Write float32 ``chunks`` to ``out_npy`` atomically (a temporary name, then a rename)."""
    out = Path(out_npy)
    with atomic_path(out, suffix=".npy") as tmp, open(tmp, "wb") as f:
        writer = None
        for x in chunks:
            if writer is None:
                writer = _NpyAppender(f, x.shape[1:])
            writer.append(x)
        if writer is None:  # the readers refuse empty input; this guards a bug, not the user's data
            raise _fail(f"{where} has no samples; expected at least one")
        writer.finish()
    return out


def _join_labels(chunks: list[np.ndarray]) -> np.ndarray:
    """Labels of all chunks as :func:`~aekit.data.as_labels` gives them for the whole column.

    A chunk is int64 when its own labels are integral, so numbers are re-joined as float64 and
    narrowed again; a column with text in some chunk becomes text throughout (a number in another
    chunk is then written as parsed, e.g. ``1.0`` as ``"1"``).
    """
    if any(c.dtype.kind == "U" for c in chunks):
        return np.concatenate([c.astype(str) for c in chunks])
    y = np.concatenate(chunks)
    return as_labels(y, len(y))


def spill_table(
    path: str | os.PathLike,
    out_npy: str | os.PathLike,
    *,
    label_column: str | int | None = None,
    id_column: str | int | None = None,
    columns: Sequence[str] | None = None,
    has_header: bool | None = None,
    chunk_rows: int = 16384,
    resident_bytes: int | None = DEFAULT_RESIDENT_BYTES,
) -> DiskData:
    """Copy a ``.csv``/``.tsv``/``.parquet`` table to a float32 ``.npy`` file, chunk by chunk.

    Memory stays bounded by one chunk (plus the labels and ids, kept in memory); the ``.npy`` is
    written under a temporary name and renamed when complete. Values are checked as
    :func:`~aekit.data.read_path` checks them, with the same one-line errors.

    Parameters
    ----------
    path : str or PathLike
        The table. ``.parquet`` needs pyarrow (``pip install pyarrow``).
    out_npy : str or PathLike
        The ``.npy`` file to write (replaced if it exists).
    label_column, id_column, columns, has_header :
        As for :func:`~aekit.data.read_path` (``has_header`` is ignored for Parquet, which
        always names its columns).
    chunk_rows : int, default 16384
        Rows read and written at a time.
    resident_bytes : int or None
        Passed to the returned :class:`NpyRows`.

    Returns
    -------
    DiskData
        ``rows`` maps ``out_npy``; ``y``, ``ids`` and ``feature_names`` as ``read_path`` gives them.

    Examples
    --------
    >>> data = spill_table("big.csv", "cache/big.npy", label_column="label")  # doctest: +SKIP
    >>> len(data), data.rows.sample_shape  # doctest: +SKIP
    (1000000, (20,))
    """
    path = Path(path)
    options = dict(label_column=label_column, id_column=id_column, columns=columns)
    if path.suffix.lower() not in (*TABLE_EXTENSIONS, ".parquet"):
        raise _fail(f"{path}: expected a .csv, .tsv or .parquet table, got {path.suffix or '(no extension)'!r}")
    if path.suffix.lower() == ".parquet":
        chunks = _iter_parquet(path, chunk_rows=chunk_rows, **options)
    else:
        chunks = iter_table(path, has_header=has_header, chunk_rows=chunk_rows, **options)
    labels: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    feature_names: list[list[str] | None] = []

    def xs() -> Iterator[np.ndarray]:
        for chunk in chunks:
            feature_names[:] = [chunk.feature_names]
            if chunk.y is not None:
                labels.append(chunk.y)
            if chunk.ids is not None:
                ids.append(chunk.ids)
            yield chunk.x

    out = _spill(out_npy, xs(), path)
    return DiskData(
        rows=NpyRows(out, resident_bytes=resident_bytes),
        y=_join_labels(labels) if labels else None,
        ids=np.concatenate(ids) if ids else None,
        feature_names=feature_names[0] if feature_names else None,
        source=str(path),
    )


def _iter_parquet(path: Path, *, label_column, id_column, columns, chunk_rows: int):
    """Chunks of a Parquet file as :class:`~aekit.data.Data`, like :func:`~aekit.data.iter_table` gives them."""
    from .container import Data

    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise _fail(f"{path}: reading .parquet needs pyarrow; pip install pyarrow") from None
    try:
        pfile = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid/ArrowIOError types
        raise _fail(f"{path} is not a valid .parquet file: {one_line(exc)}") from exc
    names = list(pfile.schema_arrow.names)
    label = None if label_column is None else _column(label_column, names, True, path, "label column")
    ident = None if id_column is None else _column(id_column, names, True, path, "id column")
    if columns is not None:
        features = [_column(c, names, True, path, "column") for c in columns]
    else:
        features = [i for i in range(len(names)) if i not in (label, ident)]
    if not features:
        raise _fail(f"{path} has no feature columns left after the label and id columns")
    wanted = sorted({*features, *(i for i in (label, ident) if i is not None)})
    seen = 0
    try:
        batches = pfile.iter_batches(batch_size=chunk_rows, columns=[names[i] for i in wanted])
        for batch in batches:
            if batch.num_rows == 0:
                continue
            col = {i: batch.column(names[i]) for i in wanted}
            parts = []
            for i in features:
                values = col[i].to_numpy(zero_copy_only=False)  # nulls become NaN (or None for text)
                if values.dtype.kind not in "biuf":
                    raise _fail(f"{path}: column {names[i]!r} has type {col[i].type}; expected numbers")
                parts.append(values)
            first = seen

            def where(index, first=first) -> str:
                return f"at row {first + index[0]}, column {names[features[index[1]]]!r}"

            x = _to_float32(np.column_stack(parts), str(path), where)
            y = None
            if label is not None:
                raw = col[label].to_numpy(zero_copy_only=False)
                y = as_labels(raw.astype(str) if raw.dtype.kind == "O" else raw, len(raw),
                              name=f"{path} label column {names[label]!r}")
            chunk_ids = None if ident is None else col[ident].to_numpy(zero_copy_only=False).astype(str)
            seen += batch.num_rows
            yield Data(x=x, y=y, ids=chunk_ids, feature_names=[names[i] for i in features], source=str(path))
    except (DataError, UsageError):
        raise
    except Exception as exc:  # a corrupt page or an unreadable column type
        raise _fail(f"{path} could not be read as a .parquet table: {one_line(exc)}") from exc
    if seen == 0:
        raise _fail(f"{path} has no data rows; expected rows of numbers")


def spill_images(
    folder: str | os.PathLike,
    out_npy: str | os.PathLike,
    *,
    image_size: int | tuple[int, int] | None = None,
    resident_bytes: int | None = DEFAULT_RESIDENT_BYTES,
) -> DiskData:
    """Decode a folder of images one file at a time into a float32 ``(n, C, H, W)`` ``.npy`` in [0, 1].

    Same files, order, conversions and errors (mixed modes, mixed sizes) as
    :func:`~aekit.data.read_path` on the folder; memory stays bounded by a few images.

    Parameters
    ----------
    folder : str or PathLike
        A folder of PNG, JPEG or BMP files (searched recursively; hidden paths skipped).
    out_npy : str or PathLike
        The ``.npy`` file to write (replaced if it exists).
    image_size : int or (int, int), optional
        Resize every image to ``(height, width)``.
    resident_bytes : int or None
        Passed to the returned :class:`NpyRows`.

    Returns
    -------
    DiskData
        ``rows`` maps ``out_npy``; ``names`` (relative posix paths) and ``image_mode`` as ``read_path`` gives them.

    Examples
    --------
    >>> data = spill_images("photos/", "cache/photos.npy", image_size=64)  # doctest: +SKIP
    >>> data.rows.sample_shape  # doctest: +SKIP
    (3, 64, 64)
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"no such folder: {folder}")
    files = _image_files(folder)
    names = [p.relative_to(folder).as_posix() for p in files]
    return _spill_image_files(files, names, folder, out_npy, image_size, resident_bytes)


def _spill_image_files(files: Sequence[Path], names: list[str], where: Path, out_npy, image_size,
                       resident_bytes) -> DiskData:
    modes: list[str] = []  # the first image's mode; readers._iter_images refuses any other

    def images() -> Iterator[np.ndarray]:
        batch, batch_bytes = [], 0
        for mode, a in _iter_images(files, names, where, image_size):
            modes[:1] = [mode]
            batch.append(a)
            batch_bytes += a.size
            if batch_bytes >= 8 * MiB:  # write in batches: fewer, larger writes
                yield _unit_float(batch)
                batch, batch_bytes = [], 0
        if batch:
            yield _unit_float(batch)

    out = _spill(out_npy, images(), where)
    return DiskData(rows=NpyRows(out, resident_bytes=resident_bytes), names=list(names), image_mode=modes[0],
                    source=str(where))


# --------------------------------------------------------------------------- choosing


def open_rows(
    path: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike,
    label_column: str | int | None = None,
    id_column: str | int | None = None,
    columns: Sequence[str] | None = None,
    image_size: int | tuple[int, int] | None = None,
    has_header: bool | None = None,
    chunk_rows: int = 16384,
    resident_bytes: int | None = DEFAULT_RESIDENT_BYTES,
) -> DiskData:
    """Open the user's data for streaming: a ``.npy`` in place, anything else spilled to ``cache_dir``.

    Parameters
    ----------
    path : str or PathLike
        A ``.npy`` array, a ``.csv``/``.tsv``/``.parquet`` table, an image, or a folder of images.
    cache_dir : str or PathLike
        Where spilled copies go, named after the source, its size, time and the options, so
        a changed source or option gets a new file. A copy is written afresh on every call.
    label_column, id_column, columns, image_size, has_header :
        As for :func:`~aekit.data.read_path`.
    chunk_rows : int, default 16384
        Table rows read at a time.
    resident_bytes : int or None
        Passed to :class:`NpyRows`.

    Returns
    -------
    DiskData

    Examples
    --------
    >>> data = open_rows("big.npy", cache_dir=".aekit-cache")  # doctest: +SKIP
    >>> batch = data.rows.take([0, 5, 2])  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    ext = path.suffix.lower()
    if path.is_file() and ext == ".npz":
        raise _fail(f"{path}: an .npz archive cannot be streamed (it is compressed or zipped); "
                    "save the array as .npy, e.g. np.save('x.npy', np.load(path)['x'])")
    if path.is_file() and ext not in STREAM_EXTENSIONS:
        known = ", ".join(dict.fromkeys((*SUPPORTED, ".parquet")))
        raise _fail(f"{path}: unsupported file type {ext or '(no extension)'!r}; "
                    f"expected one of: {known} or a folder of images")
    if path.is_file() and path.stat().st_size == 0:
        raise _fail(f"{path} is empty; expected a {ext} file with data")
    if ext == ".npy" and path.is_file():
        return DiskData(rows=NpyRows(path, resident_bytes=resident_bytes), source=str(path))
    options = dict(label_column=label_column, id_column=id_column, columns=columns, has_header=has_header,
                   image_size=image_size)
    out = Path(cache_dir) / f"{path.stem or 'data'}-{_cache_key(path, options)}.npy"
    if path.is_dir():
        return spill_images(path, out, image_size=image_size, resident_bytes=resident_bytes)
    if ext in IMAGE_EXTENSIONS:
        return _spill_image_files([path], [path.name], path, out, image_size, resident_bytes)
    return spill_table(path, out, label_column=label_column, id_column=id_column, columns=columns,
                       has_header=has_header, chunk_rows=chunk_rows, resident_bytes=resident_bytes)


def _cache_key(path: Path, options: dict) -> str:
    stat = path.stat()
    text = repr((str(path.resolve()), stat.st_size, stat.st_mtime_ns, sorted(options.items(), key=str)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Bytes in memory per byte on disk while read_path reads a whole table: Python strings for every
# cell, then float64, then float32 (measured 10.8x on a 17 MiB CSV of 20 float columns).
_TABLE_EXPANSION = 12
# read_path holds a decoded folder about 10 times over (uint8 list, stack, float32, scaled copy).
_IMAGE_EXPANSION = 10


def estimate_bytes(path: str | os.PathLike) -> int:
    """Roughly the peak memory that :func:`~aekit.data.read_path` needs to read ``path`` whole.

    ``.npy``: the data plus its float32 copy and a finiteness mask, from the header. Tables:
    the file size times 12. Image folders: the decoded size of a sample of up to 16 images
    (headers only), scaled to the folder, times 10. Anything else: the size on disk.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> estimate_bytes("big.csv") > 2**30  # doctest: +SKIP
    True
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    if path.is_dir():
        try:
            files = _image_files(path)
        except DataError:
            return 0  # read_path will report the problem
        on_disk = sum(p.stat().st_size for p in files)
        return int(_decoded_per_byte(files) * on_disk * _IMAGE_EXPANSION)
    ext, size = path.suffix.lower(), path.stat().st_size
    if ext == ".npy":
        try:
            shape, dtype, _ = _read_npy_header(path)
        except DataError:
            return size  # read_path will report the problem
        n = int(np.prod(shape, dtype=np.int64))
        return n * dtype.itemsize + n * (0 if dtype == np.float32 else 4) + n  # data, float32 copy, mask
    if ext in TABLE_EXTENSIONS:
        return size * _TABLE_EXPANSION
    if ext in IMAGE_EXTENSIONS:
        return int(_decoded_per_byte([path]) * size * _IMAGE_EXPANSION)
    return size


def _decoded_per_byte(files: Sequence[Path]) -> float:
    """Decoded bytes (uint8) per byte of file, from the headers of up to 16 evenly spaced images."""
    from PIL import Image

    if not files:
        return 1.0
    step = max(1, len(files) // 16)
    decoded = on_disk = 0
    for p in list(files)[::step][:16]:
        try:
            with Image.open(p) as im:  # reads the header only
                decoded += im.width * im.height * (1 if im.mode in ("L", "LA", "1", "I", "I;16", "F") else 3)
                on_disk += p.stat().st_size
        except Exception:  # unreadable images are reported by the reader; skip them here
            continue
    return decoded / on_disk if on_disk else 1.0


def should_stream(path: str | os.PathLike, memory_cap_bytes: int | None = None) -> bool:
    """Whether ``path`` should be streamed from disk rather than read whole into memory.

    True when :func:`estimate_bytes` exceeds the cap, and always for ``.parquet``, which only
    the streaming reader reads; never for ``.npz``, which cannot be streamed.

    Parameters
    ----------
    path : str or PathLike
        A file or a folder of images.
    memory_cap_bytes : int, optional
        The cap (default: :func:`default_memory_cap`).

    Returns
    -------
    bool

    Examples
    --------
    >>> should_stream("big.npy", parse_size("2G"))  # doctest: +SKIP
    True
    """
    path = Path(path)
    cap = default_memory_cap() if memory_cap_bytes is None else int(memory_cap_bytes)
    ext = path.suffix.lower()
    if path.is_file() and ext == ".parquet":
        return True
    if path.is_file() and ext not in STREAM_EXTENSIONS:
        return False
    return estimate_bytes(path) > cap


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(?:i?b|i)?|b)?\s*$", re.IGNORECASE)


def parse_size(text: str | int, *, name: str = "size") -> int:
    """Bytes in a size such as ``"2G"``, ``"512MiB"``, ``"1.5GB"`` or ``"1048576"``.

    K, M, G and T are powers of 1024, with or without a ``B`` or ``iB`` after them (as for
    ``docker --memory``), so ``2G``, ``2GB`` and ``2GiB`` are the same.

    Parameters
    ----------
    text : str or int
        The size; an int is taken as bytes.
    name : str, default "size"
        What it is, for the error message (e.g. ``"--memory-cap"``).

    Returns
    -------
    int
        Bytes, at least 1.

    Examples
    --------
    >>> parse_size("2G"), parse_size("512MiB"), parse_size("1000")
    (2147483648, 536870912, 1000)
    """
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        value = int(text)
    else:
        match = _SIZE.match(str(text))
        if match is None:
            raise UsageError(f"{name} {text!r} is not a size; expected bytes or a number with K, M, G or T, e.g. 2G")
        number, unit = match.groups()
        scale = _UNITS[(unit or "").lower()]
        value = int(number) * scale if number.isdigit() else int(float(number) * scale)  # exact for integers
    if value < 1:
        raise UsageError(f"{name} {text!r} is not a positive size; expected e.g. 2G")
    return value


def default_memory_cap() -> int:
    """The memory cap past which data is streamed: ``$AEKIT_MEMORY_CAP``, else a quarter of memory.

    Memory is the smaller of physical memory and a cgroup (container) limit. A quarter leaves
    room for read_path's conversions, the model and the copy the training loop makes; where
    memory cannot be found the cap is 4 GiB.

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> default_memory_cap() > 0
    True
    """
    env = os.environ.get("AEKIT_MEMORY_CAP", "").strip()
    if env:
        return parse_size(env, name="AEKIT_MEMORY_CAP")
    memory = _physical_memory()
    return 4 << 30 if memory is None else max(1, memory // 4)


def _physical_memory() -> int | None:
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # not on Windows
        pass
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # "max" or a huge number means no limit
            sizes.append(int(text))
    return min(sizes) if sizes else None
