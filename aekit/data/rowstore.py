"""Row stores: data larger than memory, read from a ``.npy`` file by rows with bounded resident memory.

Every source that cannot be held in memory ends up as a C-order ``.npy`` file read through
:class:`NpyRows`, a memory map that gathers rows on demand and converts them to float32 one
batch at a time (tables and image folders get there through :mod:`aekit.data.spill`).
:class:`RowsView` selects a subset of rows (a train/validation split) without copying them.

Only NumPy and the standard library are imported here.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import DataError, UsageError
from .checks import fail, not_found

MiB = 1 << 20
DEFAULT_RESIDENT_BYTES = 64 * MiB
# A page fault in a file mapping can map far more than the page asked for: Linux maps the
# cached pages around it ("fault-around", 64 KiB) and, with large folios in the page cache
# (ext4, xfs; kernel 6.x), the whole folio: up to 2 MiB, a PMD on x86-64 and 4K-page arm64.
# One row of a few bytes was measured to make 2 MiB resident, so residency is counted in
# 2 MiB granules, not in row bytes, to stay an upper bound.
_GRANULE = max(mmap.PAGESIZE, 2 * MiB)


@runtime_checkable
class RowStore(Protocol):
    """What the training loop needs from rows on disk: :class:`NpyRows`, :class:`RowsView`,
    :class:`~aekit.data.sparse.SparseRows`, :class:`~aekit.data.windows.WindowRows`.

    This protocol is the one answer to "is this data on disk, read batch by batch?":
    ``isinstance(x, RowStore)`` is true for anything with all four members and false for NumPy
    arrays, torch tensors and SciPy sparse matrices (none has ``rows`` and ``sample_shape``).

    Examples
    --------
    >>> isinstance(NpyRows("big.npy"), RowStore), isinstance(np.zeros((2, 3)), RowStore)  # doctest: +SKIP
    (True, False)
    """

    sample_shape: tuple[int, ...]

    def __len__(self) -> int: ...

    def take(self, indices) -> np.ndarray: ...

    def rows(self, start: int, stop: int) -> np.ndarray: ...


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

    def __init__(
        self, path: str | os.PathLike, *, resident_bytes: int | None = DEFAULT_RESIDENT_BYTES
    ) -> None:
        self.path = Path(path)
        if resident_bytes is not None and resident_bytes <= 0:
            raise UsageError(
                f"resident_bytes must be a positive number of bytes or None, got {resident_bytes!r}"
            )
        self.resident_bytes = resident_bytes
        self._mm: mmap.mmap | None = None
        self._touched = 0  # granule bytes touched since the last release
        file_shape, fortran, self.dtype, offset = npy_layout(self.path)
        n = self._len = file_shape[0]
        self.nbytes = int(np.prod(file_shape, dtype=np.int64)) * self.dtype.itemsize
        self._offset = offset
        self._row_nbytes = self.nbytes // n
        # Served like read_path serves it: (n, H, W) are grayscale images (n, 1, H, W).
        self.sample_shape = (1, *file_shape[1:]) if len(file_shape) == 3 else tuple(file_shape[1:])
        with open(self.path, "rb") as f:
            # the map outlives the descriptor
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        flat = np.frombuffer(
            self._mm, dtype=self.dtype, count=self.nbytes // self.dtype.itemsize, offset=offset
        )
        # a Fortran-order file (what np.save of a DataFrame's to_numpy() often writes) is the
        # transpose of its reversed shape: a view still, its rows strided across the file
        array = flat.reshape(file_shape[::-1]).T if fortran else flat.reshape(file_shape)
        self._array = array[:, None] if len(file_shape) == 3 else array  # a view, never a copy

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
            with contextlib.suppress(BufferError):  # a view held elsewhere (the traceback of a
                self._mm.close()  # bad value's error): unmapped when the last view goes
            self._mm = None

    def __enter__(self) -> NpyRows:
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
        return (
            out
            if len(unique) == len(idx) and np.array_equal(unique, idx)
            else out[inverse.reshape(-1)]
        )

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
        # never points into the map
        out = np.empty((len(rows), *self.sample_shape), dtype=np.float32)
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
            if (
                self.resident_bytes is not None
                and self._touched + granules * _GRANULE > self.resident_bytes
            ):
                self.release()
            run = rows[lo:hi]
            contiguous = run[-1] - run[0] == len(run) - 1
            block = self._array[run[0] : run[-1] + 1] if contiguous else self._array[run]
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
        return fail(
            f"{self.path} has {what} ({value}) at row {row}, index {(row, *index[1:])}; expected {expected}"
        )

    def release(self) -> None:
        """Drop the pages this process has mapped (they stay in the page cache); see the class notes."""
        self._touched = 0
        if self._mm is not None and hasattr(self._mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            self._mm.madvise(mmap.MADV_DONTNEED)


def _reopen(path: str, resident_bytes: int | None, shape: tuple[int, ...], dtype: str) -> NpyRows:
    rows = NpyRows(path, resident_bytes=resident_bytes)
    if rows.shape != tuple(shape) or rows.dtype.str != dtype:
        rows.close()
        raise fail(
            f"{path} changed since it was opened: it now holds {rows.shape} {rows.dtype}, "
            f"not {tuple(shape)} {np.dtype(dtype)}; open it again"
        )
    return rows


def read_npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of a ``.npy`` file, or a one-line error saying what is wrong with it."""
    shape, _, dtype, offset = npy_layout(path)
    return shape, dtype, offset


def npy_layout(path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """:func:`read_npy_header` and whether the file is in Fortran order."""
    if not path.is_file():
        raise not_found(path)
    if path.suffix.lower() != ".npy":
        raise fail(f"{path}: expected a .npy file, got {path.suffix or '(no extension)'!r}")
    shape, fortran, dtype, offset = check_npy_file(path)
    _check_header(path, shape, dtype)
    return tuple(int(s) for s in shape), fortran, dtype, offset


def check_npy_file(path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """The header of a ``.npy`` file that ``np.load`` may be given (:func:`_header`), or one line
    for one it should not: a zip (an ``.npz`` named ``.npy``, which ``np.load`` opens as an archive
    by its bytes), Python objects, or a header claiming more data than the file holds (224 bytes
    claiming 24 TB: "out of memory")."""
    with open(path, "rb") as f:
        if f.read(2) == b"PK":
            raise fail(
                f"{path} is an .npz archive (a zip); name it .npz, or save one array as .npy"
            )
    shape, fortran, dtype, offset = _header(path)
    if dtype.hasobject:
        raise fail(
            f"{path} holds Python objects, which aekit never unpickles; save a numeric array"
        )
    size = path.stat().st_size
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if min(shape, default=0) < 0 or size < offset + nbytes:
        raise fail(
            f"{path} is truncated or damaged: its header says {shape} {dtype} ({nbytes} bytes "
            f"of data) but it holds {max(0, size - offset)}"
        )
    return shape, fortran, dtype, offset


def _header(path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """The header of a ``.npy`` file as written: (shape, Fortran order, dtype, data offset)."""
    fmt = np.lib.format
    try:
        with open(path, "rb") as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(f)
            else:  # 2.0 and 3.0 share the layout (3.0 only allows UTF-8 field names)
                shape, fortran, dtype = fmt.read_array_header_2_0(f)
            return shape, fortran, dtype, f.tell()
    except (ValueError, OSError, EOFError, struct.error) as exc:
        raise fail(f"{path} is not a valid .npy file: {exc}") from exc


def _check_header(path: Path, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """A one-line error unless the header is of an array of numbers, (samples, ...) and not empty
    (Python objects are refused by :func:`check_npy_file` before)."""
    if dtype.kind not in "biuf":
        raise fail(f"{path} has dtype {dtype}; expected numbers (bool, int or float)")
    if len(shape) < 2:
        raise fail(
            f"{path} holds an array of shape {shape}; expected (samples, features) or (n, C, H, W)"
        )
    if 0 in shape:
        raise fail(f"{path} holds an empty array of shape {shape}; expected at least one sample")


def _as_indices(indices, n: int) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.size == 0:
        return np.zeros(0, dtype=np.int64)
    if idx.dtype.kind not in "iu" or idx.ndim != 1:
        raise TypeError(
            f"row indices must be a 1-D array of integers, got {idx.dtype} of shape {idx.shape}"
        )
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
