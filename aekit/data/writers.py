"""Write results (reconstructions, latents, scores) in the form the input came in.

``.npy`` and ``.csv``/``.tsv`` files are written atomically; a folder of images is built in a
staging folder beside it and swapped into place once complete, marked as aekit's output folder
(:mod:`aekit._manifest`), so a reader never sees half an output, ``overwrite=True`` replaces
the old output only after the new one is ready and only when aekit wrote it, and files of the
user's in it are kept. A symbolic link to a folder is followed; a link to a file is replaced
itself, never written through (:func:`aekit._io.followed`).
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path, PurePosixPath

import numpy as np

from .._io import CsvRows, as_path, write_failure, write_text, write_with
from .._manifest import check_replaceable
from .._notes import note
from .._transaction import followed, staged_folder
from ..errors import UsageError
from .checks import to_numpy
from .container import Data
from .images import IMAGE_EXTENSIONS, IMAGE_FORMATS
from .tables import TABLE_EXTENSIONS

logger = logging.getLogger(__name__)


def write_output(
    path: str | os.PathLike,
    x,
    *,
    like: Data | None = None,
    overwrite: bool = False,
    columns: list[str] | None = None,
    labels: bool = False,
) -> Path:
    """Write ``x`` to ``path``: ``.npy``, ``.csv``/``.tsv``, one image, or a folder of images.

    ``like`` is the input the results belong to. A table keeps each sample's identity beside its
    result: the id column under its own name (``like.id_name``), or the image file names in a
    ``file`` column, then ``columns`` (default: the input's feature names when the widths match)
    in a header row. Images get the input's relative names, file formats and mode, and each its
    own size when the input was resized on reading (``like.sizes``). Images are ``(n, C, H, W)``
    floats, clipped to [0, 1], or, for a folder, a list of ``(C, H, W)`` images of any sizes.
    Refuses an existing file or non-empty folder unless ``overwrite``.

    Parameters
    ----------
    path : str or PathLike
        ``.npy``, ``.csv``/``.tsv``, an image file (``.png``, ...) or a folder (no extension).
    x : array-like
        The results, one per sample.
    like : Data, optional
        The input they belong to.
    overwrite : bool, default False
    columns : list of str, optional
        Names of ``x``'s columns for a table's header (e.g. ``z1 ... zk`` for latent vectors).
    labels : bool, default False
        Also write ``like.y`` in a ``label`` column of a table (the class of each latent vector).

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> data = read_path("photos/")  # doctest: +SKIP
    >>> write_output("reconstructed/", x_hat, like=data)  # same names and formats  # doctest: +SKIP
    """
    path = followed(as_path(path, "path", "a file or folder path"))
    ext = path.suffix.lower()
    is_folder = path.is_dir() or ext == ""
    if not is_folder and ext not in (".npy", *TABLE_EXTENSIONS, *IMAGE_EXTENSIONS):
        raise UsageError(
            f"cannot write {path}: unsupported extension {ext!r}; expected .npy, .csv, .tsv, "
            "an image file or a folder"
        )
    exists = path.is_file() or (path.is_dir() and any(path.iterdir()))
    if is_folder and path.is_dir():
        check_replaceable(path, "output")  # never a folder of the user's
    if exists and not overwrite:
        raise UsageError(f"{path} exists; pass --overwrite to replace it")
    if isinstance(x, (list, tuple)) and is_folder:  # images of several sizes
        x = [np.asarray(to_numpy(img, "output"), dtype=np.float32) for img in x]
    else:
        x = np.asarray(to_numpy(x, "output"), dtype=np.float32)
    if (is_folder or ext in IMAGE_EXTENSIONS) and isinstance(x, np.ndarray) and x.ndim < 3:
        # vectors (latent codes, rows): "cannot write an array of shape (64,) as an image" said
        # nothing of the output's name, which asked for images
        raise UsageError(
            f"cannot write {path}: a {'folder' if is_folder else ext + ' file'} holds images, and "
            f"these are vectors of shape {x.shape[1:]}; give a .npy, .csv or .tsv file"
        )
    if is_folder:
        _write_image_folder(path, x, like)
    elif ext == ".npy":
        write_with(path, lambda tmp: _save_npy(tmp, x))
    elif ext in TABLE_EXTENSIONS:
        write_text(path, _table_text(x, like, TABLE_EXTENSIONS[ext], columns, labels, path))
    else:
        if len(x) != 1:
            raise UsageError(
                f"cannot write {len(x)} images to the single file {path}; give a folder"
            )
        write_with(path, lambda tmp: _save_image(_to_image(x[0], like), tmp, path))
    logger.info("wrote %s", path)
    return path


def _save_npy(tmp: Path, x: np.ndarray) -> None:
    with open(tmp, "wb") as f:  # a file object: np.save would append ".npy" to a path
        np.save(f, x)


def _table_text(
    x: np.ndarray,
    like: Data | None,
    delimiter: str,
    columns: list[str] | None = None,
    labels: bool = False,
    path: Path | None = None,
) -> str:
    rows = x.reshape(len(x), -1) if x.ndim != 1 else x[:, None]
    header = (
        list(columns) if columns is not None else (like.feature_names if like is not None else None)
    )
    if header is not None and len(header) != rows.shape[1]:
        header = None  # latents or scores: not the input's columns
    lead: list[tuple[str, list]] = []  # each sample's identity, before its result
    if like is not None and like.ids is not None and len(like.ids) == len(rows):
        lead.append((like.id_name or "id", [str(v) for v in like.ids]))
    elif like is not None and like.names is not None and len(like.names) == len(rows):
        lead.append(("file", list(like.names)))
    if labels and like is not None and like.y is not None and len(like.y) == len(rows):
        lead.append(("label", [str(v) for v in np.asarray(like.y).tolist()]))
    if lead:
        header = _lead_header([name for name, _ in lead], header, rows.shape[1], path)
        refuse_shared_name(header[0], header[1:], path, like.source if like else None)
    out = io.StringIO()
    writer = CsvRows(out, delimiter=delimiter)
    if header is not None:
        writer.writerow(header)
    for i, row in enumerate(rows.tolist()):
        cells = [f"{v:.9g}" for v in row]  # 9 significant digits round-trip float32
        writer.writerow([values[i] for _, values in lead] + cells)
    return out.getvalue()


def refuse_shared_name(ident: str, added, path, source) -> None:
    """One line, before ``path`` is written, for an id column named as a column the output adds
    beside it (``added``: ``score``, ``z1``, ``label``, ...): a header naming two columns alike is
    one no table reader takes (aekit's refuses it)."""
    added = list(added)
    if ident in added:
        shown = ", ".join(added[:4]) + (", ..." if len(added) > 4 else "")
        raise UsageError(
            f"cannot write {path}: the id column {ident!r}{f' of {source}' if source else ''} has "
            f"the name of a column the output adds ({shown}); give another --id-column, or rename "
            f"the column in the input"
        )


def _lead_header(lead: list[str], names: list[str] | None, width: int, path=None) -> list[str]:
    """The header of a table whose results follow each sample's identity (``lead``): the results'
    ``names``, else ``0, 1, ..., width-1`` (positions, as pandas names an array's columns). An id
    column named by its position (a table without a header, ``--id-column 0``) would share a name
    with them (``0,0,1,...``, a header no reader takes): the id and the results are then named by
    their positions in this file (``0,1,...``; ``label`` kept), and a note says where the id went
    when that is not where it was."""
    if names is not None:
        return lead + list(names)
    if not any(name.isdecimal() for name in lead):
        return lead + [str(i) for i in range(width)]
    header = [str(i) if name.isdecimal() else name for i, name in enumerate(lead)]
    for i, name in enumerate(lead):
        if name.isdecimal() and name != str(i):
            note(
                f"{path}: the id column (column {name} of a table without a header) is column {i} "
                f"of this file: read it back with --id-column {i}"
            )
    return header + [str(len(lead) + j) for j in range(width)]


def _format(path: str | Path) -> str:
    ext = Path(path).suffix.lower()
    return IMAGE_FORMATS.get(ext, "PNG")


def _save_image(image, target, name) -> None:
    """``image`` (Pillow) into ``target`` in the format of ``name``'s extension; a JPEG at quality
    95 with full-resolution colour: Pillow's default (75, colour halved) moved pixels by up to
    13/255 from the results, and again at each pass of an output fed back."""
    fmt = _format(name)
    options = {"quality": 95, "subsampling": 0} if fmt == "JPEG" else {}
    image.save(target, format=fmt, **options)


def _to_image(img: np.ndarray, like: Data | None):
    """One ``(C, H, W)`` float image as a Pillow image (L for one channel, RGB for three)."""
    from PIL import Image

    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3 or img.shape[0] not in (1, 3):
        raise UsageError(
            f"cannot write an array of shape {img.shape} as an image; expected (C, H, W), C = 1 or 3"
        )
    pixels = np.round(np.nan_to_num(img).clip(0, 1) * 255).astype(np.uint8)
    if img.shape[0] == 1:
        return Image.fromarray(pixels[0], "L")
    return Image.fromarray(pixels.transpose(1, 2, 0), "RGB")


def _image_names(n: int, like: Data | None) -> list[str]:
    if like is not None and like.names is not None and len(like.names) == n:
        names = list(like.names)
        for name in names:
            p = PurePosixPath(name)
            if p.is_absolute() or ".." in p.parts:
                raise UsageError(f"refusing to write image {name!r} outside the output folder")
        return names
    return [f"{i:06d}.png" for i in range(n)]


def _own_size(image, i: int, like: Data | None):
    """``image`` (Pillow) at the size its input had before it was resized on reading."""
    from PIL import Image

    if like is None or like.sizes is None or len(like.sizes) <= i:
        return image
    h, w = like.sizes[i]
    return image if image.size == (w, h) else image.resize((w, h), Image.Resampling.BILINEAR)


def _write_image_folder(path: Path, x, like: Data | None) -> None:
    if isinstance(x, np.ndarray) and x.ndim == 3:
        x = x[:, None]
    names = _image_names(len(x), like)
    # the new folder is staged beside the old one and swapped in whole (aekit._transaction)
    with staged_folder(path, "output") as tmp:
        for i, (name, img) in enumerate(zip(names, x)):
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                _save_image(_own_size(_to_image(img, like), i, like), target, name)
            except OSError as exc:  # a full disk names the output, not a temporary file
                raise write_failure(exc, path) if exc.errno is not None else exc from None
