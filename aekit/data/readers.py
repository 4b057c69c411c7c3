"""Read the user's own data into :class:`Data`: :func:`read_path` and a reader per format.

Supported: ``.npy`` and ``.npz`` arrays, ``.csv`` and ``.tsv`` tables, a single image or a
folder of images (PNG, JPEG, BMP, TIFF, WebP). Every problem with the input is reported at this boundary
as a one-line :class:`~aekit.errors.DataError` that names the file, the problem and what was
expected, so the rest of aekit can trust what it gets. The checks live in
:mod:`aekit.data.checks`, tables in :mod:`aekit.data.tables`, images in :mod:`aekit.data.images`.
"""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import UsageError
from .checks import (
    as_labels,
    check_exists,
    check_numeric,
    fail,
    refuse_channels_last,
    to_float32,
)
from .container import Data
from .images import (
    IMAGE_EXTENSIONS,
    common_crop,
    folder_labels,
    image_files,
    iter_images,
    note_transparent,
    parse_image_size,
    relative_names,
    resize_images,
    size_groups,
    unit_float,
)
from .parquet import read_parquet
from .tables import TABLE_EXTENSIONS, read_table

logger = logging.getLogger(__name__)

SUPPORTED = (".npy", ".npz", *TABLE_EXTENSIONS, ".parquet", *IMAGE_EXTENSIONS)
LABEL_KEYS = ("y", "labels")  # optional label arrays in an .npz file


# --------------------------------------------------------------------------- arrays


def _array_x(x: np.ndarray, path: Path) -> np.ndarray:
    """Samples from a stored array: 2-D tables, 4-D images; 3-D ``(n, H, W)`` gains a channel axis."""
    check_numeric(x, str(path))
    if x.ndim < 2:
        raise fail(
            f"{path} holds an array of shape {x.shape}; expected (samples, features) or (n, C, H, W)"
        )
    if x.size == 0:
        raise fail(f"{path} holds an empty array of shape {x.shape}; expected at least one sample")
    refuse_channels_last(x.shape, str(path))
    if x.ndim == 3:
        logger.info("%s: reading shape %s as grayscale images (n, 1, H, W)", path, x.shape)
        x = x[:, None]
    return to_float32(x, str(path))


def _at_size(data: Data, image_size) -> Data:
    """An array of images resized to ``image_size`` as image files are (a run's ``--image-size``),
    each image's own size kept in ``sizes`` so outputs can go back to it; a table as it is."""
    if image_size is None or data.x.ndim != 4:
        return data
    own = tuple(data.x.shape[2:])
    data.x = resize_images(data.x, image_size)
    if own != tuple(data.x.shape[2:]):
        data.sizes = [own] * len(data.x)
    return data


def _load_npy(path: Path) -> np.ndarray:
    from .rowstore import check_npy_file

    check_npy_file(path)
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise fail(
                f"{path} holds Python objects, which aekit never unpickles; save a numeric array"
            ) from exc
        raise fail(f"{path} is not a valid .npy file: {exc}") from exc
    except (OSError, EOFError) as exc:
        raise fail(f"{path} is not a valid .npy file: {exc}") from exc


def _read_npz(path: Path, key: str | None) -> Data:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if not keys:
                raise fail(f"{path} holds no arrays; expected at least one")
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
            y = (
                as_labels(archive[label_key], len(x), name=f"{path}[{label_key}]")
                if label_key
                else None
            )
    except ValueError as exc:  # object arrays, corrupt members (DataError is a ValueError too)
        if isinstance(exc, UsageError):
            raise
        if "allow_pickle" in str(exc):
            raise fail(
                f"{path} holds Python objects, which aekit never unpickles; save numeric arrays"
            ) from exc
        raise fail(f"{path} is not a valid .npz file: {exc}") from exc
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:  # truncated, not a zip
        raise fail(f"{path} is not a valid .npz file: {exc}") from exc
    return Data(x=x, y=y, source=str(path))


# --------------------------------------------------------------------------- images


def _read_images(
    files: Sequence[Path], names: list[str], where: Path, image_size, crop=None, transparent=None
) -> Data:
    sizes: list[tuple[int, int]] = []
    modes, arrays = zip(*iter_images(files, names, where, image_size, sizes, crop, transparent))
    return Data(
        x=unit_float(arrays),
        names=names,
        image_mode=modes[0],
        source=str(where),
        sizes=sizes if image_size is not None else None,
    )


def read_image_groups(path: str | os.PathLike, image_size=None) -> list[Data]:
    """Images of any sizes, read in groups of one size each (one group with ``image_size``): for
    a model that takes any size (the denoiser), image by image size.

    Parameters
    ----------
    path : str or PathLike
        A folder of images (class sub-folders are labels) or one image.
    image_size : int or (int, int), optional
        As for :func:`read_path`: every image resized to it (each one's own size in ``sizes``).

    Returns
    -------
    list of Data
        One per image size, each with the ``names`` of its images; together they hold every image.
    """
    path = Path(path)
    files, names, groups = _image_groups(path, image_size)
    out, transparent = [], []  # one note for the folder, not one a size
    for group in groups:
        chosen = [names[i] for i in group]
        data = _read_images([files[i] for i in group], chosen, path, image_size, None, transparent)
        data.y = folder_labels(data.names) if path.is_dir() else None
        out.append(data)
    note_transparent(path, transparent, len(files))
    return out


BATCH_PIXELS = 2**22  # pixels (per channel) of one batch of iter_image_batches


def iter_image_batches(
    path: str | os.PathLike, image_size=None, pixels: int = BATCH_PIXELS
) -> Iterator[Data]:
    """Images of any sizes, a batch of one size at a time, so that memory holds one batch.

    Parameters
    ----------
    path : str or PathLike
        A folder of images (class sub-folders are labels) or one image.
    image_size : int or (int, int), optional
        As for :func:`read_path`: every image resized to it (each one's own size in ``sizes``).
    pixels : int
        Pixels per channel in a batch, at most (one image at least).

    Yields
    ------
    Data
        Images of one size with their ``names``, ``y`` (class sub-folders) and own ``sizes``; the
        batches of one size come together, the sizes in the order their first image comes.
    """
    path = Path(path)
    files, names, groups = _image_groups(path, image_size)
    labels = folder_labels(names) if path.is_dir() else None
    transparent: list[str] = []  # one note for the folder, not one a batch
    for group in groups:
        step = _batch_images(files[group[0]], image_size, pixels)
        for start in range(0, len(group), step):
            part = group[start : start + step]
            sizes: list[tuple[int, int]] = []
            chosen = [names[i] for i in part]
            modes, arrays = zip(
                *iter_images(
                    [files[i] for i in part], chosen, path, image_size, sizes, None, transparent
                )
            )
            y = None if labels is None else labels[part]
            yield Data(
                x=unit_float(arrays),
                y=y,
                names=chosen,
                image_mode=modes[0],
                source=str(path),
                sizes=sizes,
            )
    note_transparent(path, transparent, len(files))


def _image_groups(path: Path, image_size) -> tuple[list[Path], list[str], list[list[int]]]:
    """The image files at ``path`` (a folder or one image), their relative names, and their indices
    grouped by size (one group when ``image_size`` resizes them all)."""
    check_exists(path)
    files = image_files(path) if path.is_dir() else [path]
    names = relative_names(files, path) if path.is_dir() else [path.name]
    groups = [list(range(len(files)))] if image_size is not None else size_groups(files)
    return files, names, groups


def _batch_images(first: Path, image_size, pixels: int) -> int:
    """Images per batch: ``pixels`` over one image's (its header's size, or ``image_size``)."""
    from PIL import Image

    size = parse_image_size(image_size)
    if size is None:
        try:
            with Image.open(first) as im:
                size = (im.size[1], im.size[0])
        except Exception:  # decoded (and refused with one line) when the batch is read
            return 1
    return max(1, pixels // (size[0] * size[1]))


def read_image_files(files: Sequence[Path], folder: Path, image_size=None, crop=None) -> Data:
    """Some of the images of ``folder`` (``files``), named and labelled by their class sub-folders
    as :func:`read_path` reads the whole folder (a folder holding its masks: the images alone)."""
    if not files:
        raise UsageError(f"{folder}: no images to read; expected image files (PNG, JPEG, ...)")
    data = _read_images(files, relative_names(files, folder), folder, image_size, crop)
    data.y = folder_labels(data.names)  # class sub-folders are labels
    return data


def _read_image_folder(folder: Path, image_size, crop_mixed: bool = False) -> Data:
    files = image_files(folder)
    crop = common_crop(files, folder) if crop_mixed and image_size is None else None
    return read_image_files(files, folder, image_size, crop)


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
    drop_columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    fill_values: dict[str, float] | None = None,
    crop_mixed: bool = False,
) -> Data:
    """Read a file or folder of the user's data into :class:`Data`.

    Parameters
    ----------
    path : str or PathLike
        A ``.npy``/``.npz`` array, a ``.csv``/``.tsv``/``.parquet`` table (Parquet needs pyarrow:
        ``pip install 'aekit[parquet]'``), an image, or a folder of images.
    npz_key : str, optional
        The array to use in an ``.npz`` holding several (an ``y``/``labels`` array becomes ``y``).
    label_column : str or int, optional
        A table column by header name, or by integer index ("0", "-1"); it becomes ``y``.
    id_column : str or int, optional
        A table column by name or index; its values are carried in ``ids`` as strings.
    columns : list of str, optional
        The feature columns by name, in this order (default: every other column that holds
        numbers; text columns are left out, with one note naming them). A model's columns may
        name encoded ones: ``plan=pro`` (a category column) or a date column.
    drop_columns : list of str, optional
        Columns to leave out of the features.
    categorical : list of str, optional
        Text columns to encode: dates as days since 1970-01-01, other text one-hot (a column
        ``NAME=VALUE`` per value; :mod:`aekit.data.encoding`).
    fill_values : dict, optional
        Values for missing cells, by feature name (:func:`aekit.data.fill_values`); without them
        missing cells (empty, ``NA``, a typo in a number column) are NaN.
    crop_mixed : bool, default False
        A folder of images of several sizes (and no ``image_size``): each cut to its central part
        of the smallest width and height, rather than refused (for a model of any image size).
    image_size : int or (int, int), optional
        ``(height, width)`` or an int: resize every image to it, image files and ``.npy``/``.npz``
        arrays of images alike (:func:`~aekit.data.resize_images`; the CLI's ``--image-size``
        takes WIDTHxHEIGHT, as Pillow does).
    has_header : bool, optional
        Whether a table's first row is a header (default: detected).

    Returns
    -------
    Data
        ``x`` float32: ``(n, features)`` for arrays and tables, ``(n, C, H, W)`` in [0, 1] for
        images; ``y``, ``ids``, ``feature_names`` and image ``names`` where the input has them. A folder
        whose images all lie in class sub-folders (``digits/0/``, ``digits/1/``, ...) gets those as ``y``.

    Examples
    --------
    >>> data = read_path("scores.csv", label_column="label", id_column="id")  # doctest: +SKIP
    >>> data.x.shape, data.feature_names  # doctest: +SKIP
    ((120, 2), ['a', 'b'])
    """
    path = Path(path)
    check_exists(path)
    if path.is_dir():
        return _read_image_folder(path, image_size, crop_mixed)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise fail(
            f"{path}: unsupported file type {ext or '(no extension)'!r}; expected one of: "
            f"{', '.join(SUPPORTED)} or a folder of images"
        )
    if path.stat().st_size == 0:
        raise fail(f"{path} is empty; expected a {ext} file with data")
    if ext in (".npy", ".npz"):
        data = (
            Data(x=_array_x(_load_npy(path), path), source=str(path))
            if ext == ".npy"
            else _read_npz(path, npz_key)
        )
        return _at_size(data, image_size)
    table = dict(
        label_column=label_column,
        id_column=id_column,
        columns=columns,
        drop_columns=drop_columns,
        categorical=categorical,
        fill_values=fill_values,
    )
    if ext in TABLE_EXTENSIONS:
        return read_table(path, has_header=has_header, **table)
    if ext == ".parquet":
        return read_parquet(path, **table)
    return _read_images([path], [path.name], path, image_size)
