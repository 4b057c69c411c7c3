"""Read the user's own data into :class:`Data`, and validate in-memory input.

Supported: ``.npy`` and ``.npz`` arrays, ``.csv`` and ``.tsv`` tables, a single image or a
folder of images (PNG, JPEG, BMP). Every problem with the input is reported at this boundary
as a one-line :class:`~aekit.errors.DataError` that names the file, the problem and what was
expected, so the rest of aekit can trust what it gets.
"""

from __future__ import annotations

import csv
import logging
import operator
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..errors import DataError, UsageError, one_line
from .container import Data

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
TABLE_EXTENSIONS = {".csv": ",", ".tsv": "\t"}
SUPPORTED = (".npy", ".npz", *TABLE_EXTENSIONS, *IMAGE_EXTENSIONS)
LABEL_KEYS = ("y", "labels")  # optional label arrays in an .npz file


def _fail(message: str) -> DataError:
    return DataError(one_line(message))


# --------------------------------------------------------------------------- in-memory input


def _to_numpy(X, name: str) -> np.ndarray:
    """NumPy view of arrays, torch tensors (detached, on the CPU) and nested lists."""
    if hasattr(X, "detach") and hasattr(X, "cpu") and hasattr(X, "numpy"):  # a torch tensor
        t = X.detach().cpu()
        if t.is_floating_point():
            t = t.float()  # bfloat16 and float16 have no or poor NumPy equivalents
        return t.numpy()
    try:
        return np.asarray(X)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise _fail(f"{name} cannot be read as an array: {exc}") from exc


def _check_finite(x: np.ndarray, name: str, describe=None) -> None:
    """Raise for the first NaN or inf in ``x``; ``describe(index)`` words its position."""
    bad = ~np.isfinite(x)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = describe(index) if describe else f"at index {index}"
        raise _fail(f"{name} has a non-finite value ({x[index]}) {where}; expected finite numbers")


def _to_float32(x: np.ndarray, name: str, describe=None) -> np.ndarray:
    """Cast to C-contiguous float32, refusing NaN, inf and values too large for float32."""
    _check_finite(x, name, describe)
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(x, dtype=np.float32)
    bad = ~np.isfinite(out)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = describe(index) if describe else f"at index {index}"
        raise _fail(f"{name} has a value too large for float32 ({x[index]}) {where}")
    return out


def _check_numeric(x: np.ndarray, name: str) -> None:
    if x.dtype.kind not in "biuf":
        raise _fail(f"{name} has dtype {x.dtype}; expected numbers (bool, int or float)")


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
    x = _to_numpy(X, name)
    _check_numeric(x, name)
    if x.ndim < min_ndim:
        raise _fail(
            f"{name} has shape {x.shape}; expected at least {min_ndim} dimensions (samples, features...), "
            "e.g. reshape a single feature with X.reshape(-1, 1)"
        )
    if x.size == 0:
        raise _fail(f"{name} is empty (shape {x.shape}); expected at least one sample")
    return _to_float32(x, name)


def as_labels(y, n: int, *, name: str = "y") -> np.ndarray:
    """Validate labels for ``n`` samples: a 1-D array of numbers (int64 when integral) or strings.

    Examples
    --------
    >>> as_labels([1.0, 0.0], 2)
    array([1, 0])
    """
    arr = _to_numpy(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise _fail(f"{name} has shape {arr.shape}; expected one label per sample, shape ({n},)")
    if len(arr) != n:
        raise _fail(f"{name} has {len(arr)} labels; expected {n}, one per sample")
    if arr.dtype.kind in "US":
        return arr.astype(str)
    _check_numeric(arr, name)
    _check_finite(arr, name)
    if arr.dtype.kind == "f" and np.array_equal(arr, np.round(arr)):
        return arr.astype(np.int64)
    return arr.astype(np.int64) if arr.dtype.kind in "biu" else arr.astype(np.float64)


# --------------------------------------------------------------------------- arrays


def _array_x(x: np.ndarray, path: Path) -> np.ndarray:
    """Samples from a stored array: 2-D tables, 4-D images; 3-D ``(n, H, W)`` gains a channel axis."""
    _check_numeric(x, str(path))
    if x.ndim < 2:
        raise _fail(f"{path} holds an array of shape {x.shape}; expected (samples, features) or (n, C, H, W)")
    if x.size == 0:
        raise _fail(f"{path} holds an empty array of shape {x.shape}; expected at least one sample")
    if x.ndim == 3:
        logger.info("%s: reading shape %s as grayscale images (n, 1, H, W)", path, x.shape)
        x = x[:, None]
    return _to_float32(x, str(path))


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise _fail(f"{path} holds Python objects, which aekit never unpickles; save a numeric array") from exc
        raise _fail(f"{path} is not a valid .npy file: {exc}") from exc
    except (OSError, EOFError) as exc:
        raise _fail(f"{path} is not a valid .npy file: {exc}") from exc


def _read_npz(path: Path, key: str | None) -> Data:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if not keys:
                raise _fail(f"{path} holds no arrays; expected at least one")
            if key is None:
                candidates = [k for k in keys if k not in LABEL_KEYS] or keys
                if len(candidates) != 1:
                    raise UsageError(
                        f"{path} holds arrays {', '.join(keys) or '(none)'}; pick one with --npz-key"
                    )
                key = candidates[0]
            elif key not in keys:
                raise UsageError(f"{path} has no array {key!r}; it holds: {', '.join(keys)}")
            x = _array_x(archive[key], path)
            label_key = next((k for k in LABEL_KEYS if k in keys and k != key), None)
            y = as_labels(archive[label_key], len(x), name=f"{path}[{label_key}]") if label_key else None
    except ValueError as exc:  # object arrays, corrupt members (DataError is a ValueError too)
        if isinstance(exc, UsageError):
            raise
        if "allow_pickle" in str(exc):
            raise _fail(f"{path} holds Python objects, which aekit never unpickles; save numeric arrays") from exc
        raise _fail(f"{path} is not a valid .npz file: {exc}") from exc
    except (OSError, EOFError, KeyError) as exc:
        raise _fail(f"{path} is not a valid .npz file: {exc}") from exc
    return Data(x=x, y=y, source=str(path))


# --------------------------------------------------------------------------- tables


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
                    yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise _fail(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); expected a {path.suffix} table") from exc
    except csv.Error as exc:
        raise _fail(f"{path} is not a valid {path.suffix} table: {exc}") from exc


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
    raise _fail(f"{path} has no {what} {spec!r}; its columns are: {listed}")


def iter_table(path: str | os.PathLike, *, label_column=None, id_column=None, columns=None, has_header=None,
               chunk_rows: int = 16384) -> Iterator[Data]:
    """Read a ``.csv``/``.tsv`` table in chunks of ``chunk_rows`` rows, each a :class:`Data`.

    Memory stays bounded by the chunk, whatever the file's size: ``aekit score`` streams
    through a million rows this way. Options are those of :func:`read_path`.

    Parameters
    ----------
    path : str or PathLike
        A ``.csv`` or ``.tsv`` file.
    label_column, id_column, columns, has_header :
        As for :func:`read_path`.
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
        raise _fail(f"{path}: expected a .csv or .tsv table, got {path.suffix or '(no extension)'!r}")
    rows = _table_rows(path, TABLE_EXTENSIONS[path.suffix.lower()])
    head = [row for _, row in zip(range(2), rows)]
    if not head:
        raise _fail(f"{path} is empty; expected rows of numbers")
    first = head[0][1]
    if has_header is None:
        # A header row: some column is text in the first row and a number in the second.
        second = head[1][1] if len(head) > 1 else []
        has_header = any(not _is_number(a) and _is_number(b) for a, b in zip(first, second)) or (
            len(head) == 1 and not all(_is_number(c) for c in first)
        )
    names = [c.strip() for c in first] if has_header else [str(i) for i in range(len(first))]
    label = None if label_column is None else _column(label_column, names, has_header, path, "label column")
    ident = None if id_column is None else _column(id_column, names, has_header, path, "id column")
    if columns is not None:
        features = [_column(c, names, has_header, path, "column") for c in columns]
    else:
        features = [i for i in range(len(names)) if i not in (label, ident)]
    if not features:
        raise _fail(f"{path} has no feature columns left after the label and id columns")
    layout = dict(path=path, names=names, has_header=has_header, label=label, ident=ident, features=features)

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
        raise _fail(f"{path} has a header but no data rows; expected rows of numbers")


def _table_chunk(body, *, path, names, has_header, label, ident, features) -> Data:
    """Parse and check one chunk of a table's rows."""
    for line, row in body:
        if len(row) != len(names):
            raise _fail(f"{path}: row {line} has {len(row)} values; expected {len(names)} like the first row")
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
        x=_to_float32(x, str(path), where),
        y=y,
        feature_names=[names[i] for i in features] if has_header else None,
        ids=None if ident is None else np.array([r[ident].strip() for r in rows]),
        source=str(path),
    )


def _read_table(path: Path, **options) -> Data:
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
            raise _fail(f"{path}: row {lines[r]}, column {names[c]!r}: {str(cell)!r} is not a number") from None
    return out


# --------------------------------------------------------------------------- images


def _image_size(image_size) -> tuple[int, int] | None:
    if image_size is None:
        return None
    size = (image_size, image_size) if isinstance(image_size, (int, np.integer)) else tuple(image_size)
    size = size * 2 if len(size) == 1 else size  # a CLI list of one value: a square
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size):
        raise UsageError(f"image size must be a positive int or (height, width), got {image_size!r}")
    return int(size[0]), int(size[1])


def _open_image(path: Path):
    """A Pillow image in mode L or RGB: LA, 1 and 16-bit go to L, everything else to RGB."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):  # 16-bit grayscale: keep the top byte
                return Image.fromarray((np.asarray(im, dtype=np.uint32) >> 8).clip(0, 255).astype(np.uint8), "L")
            if im.mode in ("L", "LA", "1", "F"):
                return im.convert("L")
            if im.mode == "P" and "transparency" in im.info:
                im = im.convert("RGBA")
            return im.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise _fail(f"{path} is not a readable image ({exc}); expected PNG, JPEG or BMP") from exc


def _iter_images(files: Sequence[Path], names: list[str], where: Path, image_size) -> Iterator[tuple[str, np.ndarray]]:
    """Each image as (mode, uint8 array (C, H, W)), refusing mixed modes, and mixed sizes unless resized.

    One generator serves :func:`read_path` (all images in memory) and the streaming spill
    (:func:`aekit.data.spill_images`, a batch at a time), so both check and convert alike.
    """
    from PIL import Image

    size = _image_size(image_size)
    first = None
    for path, name in zip(files, names):
        im = _open_image(path)
        if first is None:
            first = (name, im.mode, im.size)
        elif im.mode != first[1]:
            raise _fail(
                f"{where}: images have different modes: {first[0]} is {first[1]}, {name} is {im.mode}; "
                "expected all grayscale (L) or all colour (RGB)"
            )
        if size is not None:
            im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)  # PIL takes (width, height)
        elif im.size != first[2]:
            (w0, h0), (w1, h1) = first[2], im.size
            raise _fail(
                f"{where}: images have different sizes: {first[0]} is {h0}x{w0}, {name} is {h1}x{w1} (HxW); "
                "pass --image-size to resize them all"
            )
        a = np.asarray(im, dtype=np.uint8)
        yield im.mode, (a[None] if a.ndim == 2 else a.transpose(2, 0, 1))  # (H, W[, C]) -> (C, H, W)


def _unit_float(images: Sequence[np.ndarray]) -> np.ndarray:
    """uint8 images (C, H, W) -> one float32 array (n, C, H, W) in [0, 1]."""
    return np.ascontiguousarray(np.stack(images), dtype=np.float32) / np.float32(255)


def _read_images(files: Sequence[Path], names: list[str], where: Path, image_size) -> Data:
    modes, arrays = zip(*_iter_images(files, names, where, image_size))
    return Data(x=_unit_float(arrays), names=names, image_mode=modes[0], source=str(where))


def _image_files(folder: Path) -> list[Path]:
    """The images under ``folder`` sorted by relative path (hidden paths skipped); an error if there are none."""
    files = sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
         and not any(part.startswith(".") for part in p.relative_to(folder).parts)),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    if not files:
        raise _fail(f"folder {folder} has no images; expected files ending in {', '.join(IMAGE_EXTENSIONS)}")
    return files


def _read_image_folder(folder: Path, image_size) -> Data:
    files = _image_files(folder)
    return _read_images(files, [p.relative_to(folder).as_posix() for p in files], folder, image_size)


# --------------------------------------------------------------------------- entry point


def read_path(
    path: str | os.PathLike,
    *,
    npz_key: str | None = None,
    label_column: str | int | None = None,
    id_column: str | int | None = None,
    columns: Sequence[str] | None = None,
    image_size: int | tuple[int, int] | None = None,
    has_header: bool | None = None,
) -> Data:
    """Read a file or folder of the user's data into :class:`Data`.

    Parameters
    ----------
    path : str or PathLike
        A ``.npy``/``.npz`` array, a ``.csv``/``.tsv`` table, an image, or a folder of images.
    npz_key : str, optional
        The array to use in an ``.npz`` holding several (an ``y``/``labels`` array becomes ``y``).
    label_column : str or int, optional
        A table column by header name, or by integer index ("0", "-1"); it becomes ``y``.
    id_column : str or int, optional
        A table column by name or index; its values are carried in ``ids`` as strings.
    columns : list of str, optional
        The feature columns by name, in this order (default: every other column).
    image_size : int or (int, int), optional
        ``(height, width)`` or an int: resize every image to it.
    has_header : bool, optional
        Whether a table's first row is a header (default: detected).

    Returns
    -------
    Data
        ``x`` float32: ``(n, features)`` for arrays and tables, ``(n, C, H, W)`` in [0, 1] for
        images; ``y``, ``ids``, ``feature_names`` and image ``names`` where the input has them.

    Examples
    --------
    >>> data = read_path("scores.csv", label_column="label", id_column="id")  # doctest: +SKIP
    >>> data.x.shape, data.feature_names  # doctest: +SKIP
    ((120, 2), ['a', 'b'])
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    if path.is_dir():
        return _read_image_folder(path, image_size)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise _fail(f"{path}: unsupported file type {ext or '(no extension)'!r}; expected one of: {', '.join(SUPPORTED)} or a folder of images")
    if path.stat().st_size == 0:
        raise _fail(f"{path} is empty; expected a {ext} file with data")
    if ext == ".npy":
        return Data(x=_array_x(_load_npy(path), path), source=str(path))
    if ext == ".npz":
        return _read_npz(path, npz_key)
    if ext in TABLE_EXTENSIONS:
        return _read_table(path, label_column=label_column, id_column=id_column, columns=columns,
                           has_header=has_header)
    return _read_images([path], [path.name], path, image_size)
