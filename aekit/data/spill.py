"""Spilling: tables and image folders copied chunk by chunk to a float32 ``.npy`` read as rows.

Data larger than memory is served from a ``.npy`` file through :class:`~aekit.data.NpyRows`.
A ``.npy`` is used in place; a table (``.csv``, ``.tsv``, ``.parquet``) or a folder of images
is first *spilled*: read a chunk at a time with the same checks as
:func:`~aekit.data.read_path` and appended to a new ``.npy`` (:func:`spill_table`,
:func:`spill_images`). :func:`open_rows` picks the way for a path; the result is a
:class:`DiskData`, the on-disk counterpart of :class:`~aekit.data.Data`.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_path
from ..errors import NotFound
from .checks import as_labels, check_exists, fail, refuse_channels_last
from .images import (
    IMAGE_EXTENSIONS,
    common_crop,
    folder_labels,
    image_files,
    iter_images,
    relative_names,
    unit_float,
)
from .parquet import iter_parquet
from .readers import SUPPORTED
from .rowstore import DEFAULT_RESIDENT_BYTES, MiB, NpyRows
from .tables import TABLE_EXTENSIONS, iter_table

STREAM_EXTENSIONS = (".npy", *TABLE_EXTENSIONS, ".parquet", *IMAGE_EXTENSIONS)


@dataclass
class DiskData:
    """The on-disk counterpart of :class:`~aekit.data.Data`: rows on disk, small per-sample fields in memory.

    Parameters
    ----------
    rows : NpyRows
        The samples, served as float32.
    y, ids : ndarray of shape (n,), optional
        Labels and id-column values, as :class:`~aekit.data.Data` has them.
    feature_names, names, image_mode, source, id_name :
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
    id_name: str | None = None  # the id column's name, as the table has it

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
        # data aligned to 64 bytes, like np.save
        size = size or -(-(prefix + len(text) + 1) // 64) * 64
        if size - prefix > 65535:
            raise fail(f"sample shape {self.sample_shape} is too large for a .npy header")
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
            raise fail(f"{where} has no samples; expected at least one")
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
    chunk_rows: int | None = None,
    resident_bytes: int | None = DEFAULT_RESIDENT_BYTES,
    **table: Any,
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
    **table :
        ``drop_columns``, ``categorical``, ``fill_values``, as for :func:`~aekit.data.read_path`.
        Without ``fill_values``, a missing cell is refused (a streamed table is not held in
        memory to learn the values that would fill it).
    chunk_rows : int, optional
        Rows read and written at a time (by default as many as :func:`~aekit.data.iter_table`
        reads: 16,384 of up to 64 columns, fewer of more).
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
    options = dict(label_column=label_column, id_column=id_column, columns=columns, **table)
    if path.suffix.lower() not in (*TABLE_EXTENSIONS, ".parquet"):
        raise fail(
            f"{path}: expected a .csv, .tsv or .parquet table, got {path.suffix or '(no extension)'!r}"
        )
    if path.suffix.lower() == ".parquet":
        chunks = iter_parquet(path, chunk_rows=chunk_rows, **options)
    else:
        chunks = iter_table(path, has_header=has_header, chunk_rows=chunk_rows, **options)
    labels: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    feature_names: list[list[str] | None] = []
    id_name: list[str | None] = [None]
    rows = [0]  # data rows read so far

    def xs() -> Iterator[np.ndarray]:
        for chunk in chunks:
            feature_names[:] = [chunk.feature_names]
            id_name[0] = chunk.id_name
            if chunk.y is not None:
                labels.append(chunk.y)
            if chunk.ids is not None:
                ids.append(chunk.ids)
            if table.get("fill_values") is None and np.isnan(chunk.x).any():
                row = rows[0] + int(np.flatnonzero(np.isnan(chunk.x).any(axis=1))[0]) + 1
                raise fail(
                    f"{path}: data row {row} has a missing value (an empty cell, NA, or text in a "
                    f"column of numbers); a streamed table must be complete: fill it in the file, or "
                    f"read it into memory (--no-stream), where --fill fills it"
                )
            rows[0] += len(chunk.x)
            yield chunk.x

    out = _spill(out_npy, xs(), path)
    return DiskData(
        rows=NpyRows(out, resident_bytes=resident_bytes),
        y=_join_labels(labels) if labels else None,
        ids=np.concatenate(ids) if ids else None,
        feature_names=feature_names[0] if feature_names else None,
        source=str(path),
        id_name=id_name[0],
    )


def spill_images(
    folder: str | os.PathLike,
    out_npy: str | os.PathLike,
    *,
    image_size: int | tuple[int, int] | None = None,
    resident_bytes: int | None = DEFAULT_RESIDENT_BYTES,
    crop_mixed: bool = False,
) -> DiskData:
    """Decode a folder of images one file at a time into a float32 ``(n, C, H, W)`` ``.npy`` in [0, 1].

    Same files, order, conversions and errors (mixed modes, mixed sizes) as
    :func:`~aekit.data.read_path` on the folder; memory stays bounded by a few images.

    Parameters
    ----------
    folder : str or PathLike
        A folder of PNG, JPEG, BMP, TIFF or WebP files (searched recursively; hidden paths skipped).
    out_npy : str or PathLike
        The ``.npy`` file to write (replaced if it exists).
    image_size : int or (int, int), optional
        Resize every image to ``(height, width)``.
    resident_bytes : int or None
        Passed to the returned :class:`NpyRows`.
    crop_mixed : bool, default False
        As for :func:`~aekit.data.read_path`: images of several sizes (and no ``image_size``) each
        cut to their central part of the smallest width and height, rather than refused.

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
        raise NotFound(f"no such folder: {folder}", filename=str(folder))
    files = image_files(folder)
    names = relative_names(files, folder)
    # cut as read_path cuts them: streamed, `train denoise` refused the folder it trains on in memory
    crop = common_crop(files, folder) if crop_mixed and image_size is None else None
    return _spill_image_files(files, names, folder, out_npy, image_size, resident_bytes, crop)


def _spill_image_files(
    files: Sequence[Path],
    names: list[str],
    where: Path,
    out_npy,
    image_size,
    resident_bytes,
    crop: tuple[int, int] | None = None,
) -> DiskData:
    modes: list[str] = []  # the first image's mode; images.iter_images refuses any other

    def images() -> Iterator[np.ndarray]:
        batch, batch_bytes = [], 0
        for mode, a in iter_images(files, names, where, image_size, crop=crop):
            modes[:1] = [mode]
            batch.append(a)
            batch_bytes += a.size
            if batch_bytes >= 8 * MiB:  # write in batches: fewer, larger writes
                yield unit_float(batch)
                batch, batch_bytes = [], 0
        if batch:
            yield unit_float(batch)

    out = _spill(out_npy, images(), where)
    return DiskData(
        rows=NpyRows(out, resident_bytes=resident_bytes),
        names=list(names),
        image_mode=modes[0],
        y=folder_labels(names) if where.is_dir() else None,
        source=str(where),
    )


def open_rows(
    path: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike,
    label_column: str | int | None = None,
    id_column: str | int | None = None,
    columns: Sequence[str] | None = None,
    image_size: int | tuple[int, int] | None = None,
    has_header: bool | None = None,
    chunk_rows: int | None = None,
    resident_bytes: int | None = DEFAULT_RESIDENT_BYTES,
    crop_mixed: bool = False,
    **table: Any,
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
    chunk_rows : int, optional
        Table rows read at a time (by default by the table's width, :func:`spill_table`).
    **table :
        A table's ``drop_columns``, ``categorical`` and ``fill_values`` (:func:`spill_table`).
    resident_bytes : int or None
        Passed to :class:`NpyRows`.
    crop_mixed : bool, default False
        A folder of images of several sizes cut to their central common size (:func:`spill_images`).

    Returns
    -------
    DiskData

    Examples
    --------
    >>> data = open_rows("big.npy", cache_dir=".aekit-cache")  # doctest: +SKIP
    >>> batch = data.rows.take([0, 5, 2])  # doctest: +SKIP
    """
    path = Path(path)
    check_exists(path)
    ext = path.suffix.lower()
    if path.is_file() and ext == ".npz":
        raise fail(
            f"{path}: an .npz archive cannot be streamed (it is compressed or zipped); "
            "save the array as .npy, e.g. np.save('x.npy', np.load(path)['x'])"
        )
    if path.is_file() and ext not in STREAM_EXTENSIONS:
        known = ", ".join(dict.fromkeys((*SUPPORTED, ".parquet")))
        raise fail(
            f"{path}: unsupported file type {ext or '(no extension)'!r}; "
            f"expected one of: {known} or a folder of images"
        )
    if path.is_file() and path.stat().st_size == 0:
        raise fail(f"{path} is empty; expected a {ext} file with data")
    if ext == ".npy" and path.is_file():
        rows = NpyRows(path, resident_bytes=resident_bytes)
        refuse_channels_last(rows.shape, str(path))
        return DiskData(rows=rows, source=str(path))
    options = dict(
        label_column=label_column,
        id_column=id_column,
        columns=columns,
        has_header=has_header,
        image_size=image_size,
        crop_mixed=crop_mixed,
        **table,
    )
    out = Path(cache_dir) / f"{path.stem or 'data'}-{_cache_key(path, options)}.npy"
    if path.is_dir():
        return spill_images(
            path, out, image_size=image_size, resident_bytes=resident_bytes, crop_mixed=crop_mixed
        )
    if ext in IMAGE_EXTENSIONS:
        return _spill_image_files([path], [path.name], path, out, image_size, resident_bytes)
    return spill_table(
        path,
        out,
        label_column=label_column,
        id_column=id_column,
        columns=columns,
        has_header=has_header,
        chunk_rows=chunk_rows,
        resident_bytes=resident_bytes,
        **table,
    )


def _cache_key(path: Path, options: dict) -> str:
    stat = path.stat()
    text = repr(
        (str(path.resolve()), stat.st_size, stat.st_mtime_ns, sorted(options.items(), key=str))
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]
