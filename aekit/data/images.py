"""Image files: finding them in a folder, decoding them to uint8 arrays, scaling to [0, 1].

:func:`~aekit.data.read_path` (all images in memory) and :func:`~aekit.data.spill_images`
(a batch at a time) both go through :func:`iter_images`, so they accept, convert and refuse
the same files. Pillow is imported only when an image is opened.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError
from .checks import fail

# the image files a folder is read for, and the format each is written in (Windows and Chrome save
# JPEGs as .jfif; phones and browsers WebP; scanners and microscopes TIFF, its first page read)
IMAGE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".jfif": "JPEG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}
IMAGE_EXTENSIONS = tuple(IMAGE_FORMATS)
KINDS = "PNG, JPEG, BMP, TIFF or WebP"
# folders of other programs' files beside the images: a Synology NAS's thumbnails (their sizes cut
# every image to theirs), macOS's zip resource forks
SKIPPED_FOLDERS = {"@eaDir", "__MACOSX"}
# a width-over-height ratio this many times another's is a clearly other shape (a 4:3 photo beside
# square training images: 1.33; a portrait one beside landscape ones: 1.78; 16:10 beside 16:9:
# 1.11, not noted)
STRETCH = 1.25
# the fewest pixels an image has in width and height (an image detector's map needs 2)
MIN_SIDE = 2
# k / 255 as float32 is k / 255 to 6e-8, times 255 within 1.5e-5 of k: a thousandth of a level is
# still a whole 8-bit value, and other floats (a mean, a resize's result) are rarely all so close
EIGHT_BIT_TOLERANCE = 1e-3


def parse_image_size(image_size) -> tuple[int, int] | None:
    """``(height, width)`` from an int, a pair or a CLI list of one value; None stays None.

    Inside aekit a size is ``(height, width)``, as arrays are ``(C, H, W)``; the command line takes
    WIDTHxHEIGHT as Pillow and image tools write it (``aekit.cli.types.image_size`` swaps them).
    """
    if image_size is None:
        return None
    size = (
        (image_size, image_size) if isinstance(image_size, (int, np.integer)) else tuple(image_size)
    )
    size = size * 2 if len(size) == 1 else size  # a CLI list of one value: a square
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size):
        raise UsageError(
            f"image size must be a positive int or (height, width), got {image_size!r}"
        )
    return int(size[0]), int(size[1])


WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")  # Pillow's 16-bit, 32-bit and float
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")  # Pillow's modes with an alpha channel


def open_image(
    path: Path,
    keep_depth: bool = False,
    keep_alpha: bool = False,
    transparent: list[Path] | None = None,
):
    """A Pillow image in mode L or RGB: LA, 1 and 16-bit go to L, everything else to RGB
    (``keep_depth``: 16-bit, 32-bit and float images as they are; ``keep_alpha``: an image with
    transparency as RGBA). An image with transparent pixels is read as shown over black, and
    ``path`` appended to ``transparent``; an opaque one's alpha is dropped."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            # 32-bit float or integer (microscopes, TIFF): no one scale, read by the values
            by_values = im.mode == "F" or (im.mode == "I" and _bits(im) == 32)
            im = upright(im)
            if keep_alpha and (im.mode in ALPHA_MODES or "transparency" in im.info):
                return im.convert("RGBA")
            if keep_depth and im.mode in WIDE_MODES:
                return im.copy()
            if by_values:
                return _wide_to_gray(im, path)
            if im.mode in WIDE_MODES[:-1]:  # 16-bit grayscale: keep the top byte
                return Image.fromarray(
                    (np.asarray(im, dtype=np.uint32) >> 8).clip(0, 255).astype(np.uint8), "L"
                )
            return _eight_bit(im, path, transparent)
    except DataError:  # said already (a 32-bit image's values): not "not a readable image"
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
    ) as exc:
        raise _unreadable(path, exc) from exc


# the first bytes of a TIFF: little- or big-endian, classic or BigTIFF
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _unreadable(path: Path, exc: Exception) -> DataError:
    """The line for an image Pillow cannot read: "expected PNG, JPEG, ..." told the user to give
    what they gave when the file was too large, or a TIFF of a kind Pillow does not decode."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, Image.DecompressionBombError):
        return fail(
            f"{path} is too large to read ({exc}); resize it, or cut it into tiles, below that "
            f"limit"
        )
    with contextlib.suppress(OSError), open(path, "rb") as f:
        if isinstance(exc, UnidentifiedImageError) and f.read(4) in TIFF_MAGIC:
            return fail(
                f"{path} is a TIFF of a kind that cannot be read ({exc}): floating-point colour, "
                f"or a compression or layout Pillow lacks; save it as an 8- or 16-bit TIFF or PNG"
            )
    return fail(f"{path} is not a readable image ({exc}); expected {KINDS}")


def _eight_bit(im, path: Path, transparent: list[Path] | None):
    """An 8-bit image in mode L (from L, LA, 1) or RGB, shown over black where it is transparent."""
    gray = im.mode in ("L", "LA", "1")
    if im.mode in ALPHA_MODES or "transparency" in im.info:
        shown = _over_black(im.convert("LA" if gray else "RGBA"))
        if shown is not None:
            if transparent is not None:
                transparent.append(path)
            return shown
    if im.mode == "P" and "transparency" in im.info:  # opaque: as before, by way of RGBA
        im = im.convert("RGBA")
    return im.convert("L" if gray else "RGB")


def _over_black(im):
    """An LA or RGBA image as L or RGB shown over black (each value times its alpha); None when it
    is opaque. A transparent pixel stores a colour no viewer shows: read as stored, two PNGs that
    look the same scored 0.58 and 110."""
    from PIL import Image

    a = np.asarray(im, dtype=np.uint16)
    alpha = a[..., -1:]
    if alpha.min(initial=255) == 255:
        return None
    shown = (a[..., :-1] * alpha + 127) // 255  # rounded to the nearest 8-bit value
    mode = "L" if im.mode == "LA" else "RGB"
    return Image.fromarray(
        shown.astype(np.uint8).squeeze(-1) if mode == "L" else shown.astype(np.uint8), mode
    )


def _bits(im) -> int:
    """Bits per sample the file says it holds (a TIFF's tag 258); 16 where it says none: older
    Pillows open a 16-bit PNG in mode "I" too (PNG has no 32-bit gray)."""
    bits = getattr(im, "tag_v2", {}).get(258)
    return int((bits[0] if isinstance(bits, tuple) else bits) or 16)


def _wide_to_gray(im, path: Path):
    """A float or 32-bit integer image as 8-bit gray, by its values: in [0, 1] (the float
    convention, a mask) scaled by 255, in [0, 255] as they are; others refused in one line, as no
    scale is theirs to guess (a 32-bit integer image of 100-255 read as 16-bit was black: probe 59
    locale M3; one of 16-bit values read by its top byte would be on another scale than a darker
    frame of the same folder read as it is: review 59 R2-2)."""
    from PIL import Image

    a = np.asarray(im, dtype=np.float64)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or hi > 255:
        kind = "a float" if im.mode == "F" else "a 32-bit integer"
        raise fail(
            f"{path} is {kind} image with values in [{lo:.3g}, {hi:.3g}]; expected values in "
            f"[0, 1] or [0, 255]: scale it, or save it as an 8- or 16-bit image"
        )
    scale = 255.0 if hi <= 1.0 else 1.0
    return Image.fromarray(np.round(a * scale).clip(0, 255).astype(np.uint8), "L")


# EXIF orientations that turn the image a quarter: its width and height swap when shown
QUARTER_TURNS = (5, 6, 7, 8)


def upright(im):
    """``im`` as every viewer shows it: a camera's JPEG is stored as the sensor read it, with an
    EXIF orientation (a phone held upright: 6, a quarter turn) that viewers apply; read without it,
    such photos were trained on and denoised lying on their side."""
    from PIL import ImageOps

    orientation = im.getexif().get(0x0112, 1)
    return im if orientation in (None, 1) else ImageOps.exif_transpose(im)


def shown_size(im) -> tuple[int, int]:
    """(width, height) as :func:`upright` gives the image, from its header alone."""
    w, h = im.size
    return (h, w) if im.getexif().get(0x0112, 1) in QUARTER_TURNS else (w, h)


def iter_images(
    files: Sequence[Path],
    names: list[str],
    where: Path,
    image_size,
    sizes: list | None = None,
    crop: tuple[int, int] | None = None,
    transparent: list[str] | None = None,
) -> Iterator[tuple[str, np.ndarray]]:
    """Each image as (mode, uint8 array (C, H, W)), refusing mixed modes, and mixed sizes unless resized
    (``sizes``, a list, then receives each image's own ``(height, width)``) or cut to their central
    ``crop`` ``(height, width)``.

    Images with transparent pixels are read over black (:func:`open_image`), with one note at the
    end; with ``transparent``, a list, their names are added to it instead, for the caller's note.

    One generator serves :func:`~aekit.data.read_path` (all images in memory) and the streaming
    spill (:func:`aekit.data.spill_images`, a batch at a time), so both check and convert alike.
    """
    from PIL import Image

    size = parse_image_size(image_size)
    first = None
    shown: list[Path] = []  # the files read over black (open_image adds them)
    named = [] if transparent is None else transparent
    for path, name in zip(files, names):
        before = len(shown)
        im = open_image(path, transparent=shown)
        if len(shown) > before:
            named.append(name)
        if first is None:
            first = (name, im.mode, im.size)
        elif im.mode != first[1]:
            raise fail(
                f"{where}: images have different modes: {first[0]} is {first[1]}, {name} is {im.mode}; "
                "expected all grayscale (L) or all colour (RGB)"
            )
        if sizes is not None:
            sizes.append((im.size[1], im.size[0]))
        if size is not None:
            # PIL takes (width, height)
            im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        elif crop is not None:
            left, top = (im.size[0] - crop[1]) // 2, (im.size[1] - crop[0]) // 2
            im = im.crop((left, top, left + crop[1], top + crop[0]))
        elif im.size != first[2]:
            (w0, h0), (w1, h1) = first[2], im.size
            raise fail(
                f"{where}: images have different sizes: {first[0]} is {w0}x{h0}, {name} is {w1}x{h1} "
                f"(width x height); pass --image-size WIDTHxHEIGHT (e.g. {w0}x{h0}) to resize them all"
            )
        a = np.asarray(im, dtype=np.uint8)
        yield (
            im.mode,
            (a[None] if a.ndim == 2 else a.transpose(2, 0, 1)),
        )  # (H, W[, C]) -> (C, H, W)
    if transparent is None:
        note_transparent(where, named, len(files))


def note_transparent(where: Path, names: Sequence[str], total: int) -> None:
    """One note for the images ``names`` of the ``total`` at ``where`` read over black."""
    if names:
        from .._notes import note

        note(
            f"{where}: {len(names)} of the {total} images have transparent pixels (such as "
            f"{names[0]}); read as shown over black, as a mask's transparent pixels are"
        )


def resize_images(x: np.ndarray, image_size, *, eight_bit: bool = False) -> np.ndarray:
    """``(n, C, H, W)`` float images at ``image_size`` (``(height, width)`` or an int), each channel
    resized as :func:`iter_images` resizes an image file (Pillow's bilinear, here on the floats
    rather than 8-bit pixels; with ``eight_bit``, images of 8-bit values (:func:`eight_bit_values`)
    resized as their 8-bit pixels, then scaled to [0, 1]: the numbers an image file gives); ``x``
    itself when it already has that size.

    A run trained with ``--image-size`` resizes every later image to its size: image files on
    reading, arrays (a ``.npy``, a served request) with this function, so both see the same size.

    Parameters
    ----------
    x : ndarray
        ``(n, C, H, W)`` images.
    image_size : int or (int, int)
        ``(height, width)``, or an int for a square.
    eight_bit : bool, default False
        Resize as 8-bit pixels (``x`` in [0, 1], each value a whole number of 1/255).

    Returns
    -------
    ndarray
        ``(n, C, height, width)`` float32.

    Examples
    --------
    >>> import numpy as np
    >>> resize_images(np.zeros((2, 1, 28, 28), np.float32), (20, 16)).shape
    (2, 1, 20, 16)
    """
    from PIL import Image

    h, w = parse_image_size(image_size)
    if tuple(x.shape[2:]) == (h, w):
        return x
    out = np.empty((*x.shape[:2], h, w), np.float32)
    for i, j in np.ndindex(*x.shape[:2]):
        if eight_bit:  # Pillow rounds an 8-bit resize: the floats' resize differs by up to 1/255
            im = Image.fromarray(np.round(x[i, j] * 255).astype(np.uint8), "L")
        else:
            im = Image.fromarray(np.ascontiguousarray(x[i, j], np.float32), "F")
        out[i, j] = np.asarray(im.resize((w, h), Image.Resampling.BILINEAR))
    return out / np.float32(255) if eight_bit else out


def eight_bit_values(x: np.ndarray) -> bool:
    """Whether the float images ``x`` hold 8-bit pixels scaled to [0, 1] (each value a whole number
    of 1/255, to float32's rounding), as an image file read by :func:`read_image` gives them."""
    scaled = np.asarray(x, np.float64) * 255
    return bool(
        scaled.size
        and np.all((scaled >= 0) & (scaled <= 255))
        and np.abs(scaled - np.round(scaled)).max() <= EIGHT_BIT_TOLERANCE
    )


def size_groups(files: Sequence[Path]) -> list[list[int]]:
    """Indices of ``files`` in groups of one image size each (read from the headers only), in the
    order their first image comes; one group when all share a size."""
    from PIL import Image

    groups: dict[tuple[int, int], list[int]] = {}
    for i, path in enumerate(files):
        try:
            with Image.open(path) as im:
                size = shown_size(im)
        except Exception:  # decoded (and refused with one line) when the group is read
            size = (-1, -1)
        groups.setdefault(size, []).append(i)
    return list(groups.values())


def _shown_sizes(files: Sequence[Path]) -> Iterator[tuple[Path, tuple[int, int]]]:
    """Each readable image's (width, height) as shown upright, from its header alone."""
    from PIL import Image

    for file in files:
        try:
            with Image.open(file) as im:
                yield file, shown_size(im)
        except Exception:  # decoded (and refused with one line) when it is read
            continue


def median_aspect(path: Path) -> float | None:
    """The median width over height of the images at ``path`` (a folder or one image), as shown
    upright, from their headers alone; None when there are none to read (a folder gone)."""
    try:
        files = image_files(path) if path.is_dir() else [path] if path.is_file() else []
    except (OSError, DataError):
        return None
    aspects = [w / h for _, (w, h) in _shown_sizes(files)]
    return float(np.median(aspects)) if aspects else None


def note_stretched(path: Path, trained: float, image_size, run: str) -> None:
    """One note for the images at ``path`` (a folder or one image) whose shape (width over height,
    upright, from the headers alone) differs from ``trained``, the run's training images' median,
    by more than :data:`STRETCH`: resized to ``image_size`` they are stretched unlike those, and
    a portrait photo squashed into a run of landscape ones scored 1.3 to 1.7 times a landscape one
    of the same good texture. (Compared with the size's own shape, every photo of a run of 4:3
    photos at a square size was noted, its own training images too: review 60.)"""
    from .._notes import note

    size = parse_image_size(image_size)
    files = image_files(path) if path.is_dir() else [path]
    odd = [
        (file, (w, h))
        for file, (w, h) in _shown_sizes(files)
        if max(w / h / trained, trained * h / w) > STRETCH
    ]
    if odd and size is not None:
        (first, (w, h)), each = odd[0], "it is" if len(odd) == 1 else "they are"
        note(
            f"{len(odd)} of the {len(files)} images at {path} are not of the shape of the images "
            f"{run} was trained on (such as {first.name}, {w}x{h}; those were {trained:.3g} times "
            f"as wide as high): resized to {size[1]}x{size[0]} {each} stretched unlike them, "
            f"and a good image stretched so scores higher; turn or crop them to that shape"
        )


def common_crop(files: Sequence[Path], where: Path) -> tuple[int, int] | None:
    """``(height, width)`` every image of ``files`` can be cut to (the smallest of each), with one
    note; None when they all share one size."""
    from PIL import Image

    from .._notes import note

    seen: dict[tuple[int, int], int] = {}
    first: dict[tuple[int, int], Path] = {}  # a file of each size, to name
    for path in files:
        try:
            with Image.open(path) as im:
                size = shown_size(im)
                seen[size] = seen.get(size, 0) + 1
                first.setdefault(size, path)
        except Exception:  # decoded (and refused with one line) when read
            continue
    if len(seen) < 2:
        return None
    w, h = min(s[0] for s in seen), min(s[1] for s in seen)
    thin = [s for s in seen if min(s) < MIN_SIDE]
    if thin:  # cut to it, every image lost its other rows (a 5000x1 one among 32x32 ones)
        raise fail(
            f"{first[thin[0]]} is {thin[0][0]}x{thin[0][1]} pixels; expected at least {MIN_SIDE} "
            f"pixels in width and height (images of several sizes are cut to the smallest): "
            f"remove it from {where}"
        )
    listed = ", ".join(f"{a}x{b}: {n}" for (a, b), n in list(seen.items())[:6])
    note(
        f"{where}: images of {len(seen)} sizes ({listed}); training on their central {w}x{h} "
        f"(pixels at their own scale; --image-size WxH resizes them instead); the model then takes "
        f"images of any size"
    )
    return h, w


def unit_float(images: Sequence[np.ndarray]) -> np.ndarray:
    """uint8 images (C, H, W) -> one float32 array (n, C, H, W) in [0, 1]."""
    return np.ascontiguousarray(np.stack(images), dtype=np.float32) / np.float32(255)


def image_files(folder: Path) -> list[Path]:
    """The images under ``folder`` sorted by relative path (hidden paths and other programs'
    folders skipped, linked folders followed, other files named in a note); an error if there
    are none."""
    files, others = find_images(folder)
    if not files:
        raise fail(
            f"folder {folder} has no images; expected files ending in {', '.join(IMAGE_EXTENSIONS)}"
        )
    if others:
        from .._notes import note

        shown = sorted(p.relative_to(folder).as_posix() for p in others)
        more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
        what = "1 file that is not a" if len(shown) == 1 else f"{len(shown)} files that are not"
        plural = "s" if len(shown) > 1 else ""
        note(f"{folder}: left out {what} {KINDS} image{plural}: {', '.join(shown[:3])}{more}")
    return files


def find_images(folder: Path) -> tuple[list[Path], list[Path]]:
    """The image files under ``folder`` sorted by relative path, and the other files (a link that
    points nowhere among them), hidden paths and :data:`SKIPPED_FOLDERS` aside.

    A linked sub-folder is walked as a folder (``Path.rglob`` skipped it: a linked ``good/`` left
    its defective siblings trained on as good), each real folder once, so a loop of links ends."""
    top = folder.resolve()
    walked, files, others = {top}, [], []
    pending = [folder]
    while pending:
        for p in _entries(pending.pop(), others):
            if p.name.startswith(".") or p.name in SKIPPED_FOLDERS:
                continue
            if p.is_dir():
                if _follow(p, top, walked):
                    pending.append(p)
            elif p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file():
                files.append(p)
            else:
                others.append(p)
    order = lambda p: p.relative_to(folder).as_posix()  # noqa: E731
    return sorted(files, key=order), sorted(others, key=order)


def _follow(folder: Path, top: Path, walked: set[Path]) -> bool:
    """Whether to walk the sub-folder ``folder`` of ``top``: a real one always, a linked one when
    its folder lies outside ``top`` (inside, it is walked under its own name) and holds no folder
    walked already (a link to ``..`` would walk ``top`` again, and a loop of links forever)."""
    real = folder.resolve()
    if folder.is_symlink() and (
        real.is_relative_to(top) or any(w.is_relative_to(real) for w in walked)
    ):
        return False
    walked.add(real)
    return True


def _entries(folder: Path, others: list[Path]) -> list[Path]:
    """The entries of ``folder``; none, with the folder among ``others``, when it cannot be
    listed (no permission)."""
    try:
        return sorted(folder.iterdir())
    except OSError:
        others.append(folder)
        return []


def relative_names(files: Sequence[Path], folder: Path) -> list[str]:
    """The posix paths of ``files`` relative to ``folder``: the names outputs are written under."""
    return [p.relative_to(folder).as_posix() for p in files]


def folder_labels(names: Sequence[str]) -> np.ndarray | None:
    """Class labels from class sub-folders: ``digits/3/a.png`` is class 3, as in torchvision's ImageFolder.

    Labels exist when every image lies in a sub-folder and there are at least two of them; folder
    names that are all whole numbers become integers, others stay text.

    Examples
    --------
    >>> folder_labels(["0/a.png", "1/b.png", "1/c.png"])
    array([0, 1, 1])
    >>> folder_labels(["cat/a.png", "dog/b.png"]).tolist(), folder_labels(["a.png", "dog/b.png"])
    (['cat', 'dog'], None)
    """
    parts = [name.split("/") for name in names]
    if not parts or any(len(p) < 2 for p in parts):
        return None
    classes = [p[0] for p in parts]
    if len(set(classes)) < 2:
        return None
    if all(c.isdecimal() for c in classes):
        return np.array([int(c) for c in classes], dtype=np.int64)
    return np.array(classes)


# ---- crops of large images (--patch) ----------------------------------------------------------------

PATCH_COVER = 4  # default crops per image: about this many times its area
PATCH_BUDGET = 1024  # default crops in all, at most (the training set of a --patch run)


def crop_count(sizes: Sequence[tuple[int, int]], patch: int) -> int:
    """The default crops per image: enough to cover the largest image about :data:`PATCH_COVER` times,
    at most :data:`PATCH_BUDGET` crops in all (at least one per image).

    Examples
    --------
    >>> crop_count([(512, 512)], 64), crop_count([(512, 512)] * 100, 64)
    (256, 10)
    """
    area = max(h * w for h, w in sizes)
    cover = -(-PATCH_COVER * area // (patch * patch))
    return max(1, min(cover, PATCH_BUDGET // len(sizes)))


def random_patches(
    images: Sequence[np.ndarray], names: Sequence[str], patch: int, per_image: int, seed: int
) -> np.ndarray:
    """``per_image`` random ``patch`` x ``patch`` crops of each (C, H, W) image, drawn with ``seed``:
    one array (n * per_image, C, patch, patch); an image smaller than a crop is one line."""
    rng = np.random.default_rng(seed)
    crops = []
    for image, name in zip(images, names):
        h, w = image.shape[-2:]
        if h < patch or w < patch:
            raise fail(
                f"{name} is {w}x{h} pixels, smaller than a --patch {patch} crop; give a smaller "
                f"--patch, or larger images (--image-size resizes them first)"
            )
        ys = rng.integers(0, h - patch + 1, per_image)
        xs = rng.integers(0, w - patch + 1, per_image)
        crops += [image[:, y : y + patch, x : x + patch] for y, x in zip(ys, xs)]
    return np.stack(crops)


# ---- defect masks ---------------------------------------------------------------------------------


def mask_file(folder: Path, name: str) -> Path | None:
    """The mask of the image ``name`` (a relative path) in ``folder``: a file of the same relative
    name with any image extension in any case (``b3.Png``, as the images are read), or MVTec AD's
    ``NAME_mask``; None when there is none."""
    stem = Path(name).with_suffix("")
    parent = folder / stem.parent
    for base in (stem.name, stem.name + "_mask"):
        for ext in IMAGE_EXTENSIONS:  # the usual spellings first, without listing the folder
            for candidate in (parent / (base + ext), parent / (base + ext.upper())):
                if candidate.is_file():
                    return candidate
    return _mask_in_any_case(parent, stem.name)


def _mask_in_any_case(parent: Path, stem: str) -> Path | None:
    """A mask in ``parent`` named ``stem`` or ``stem_mask`` with an image extension in mixed case
    (``.Png``), the first by name; None when there is none."""
    try:
        found = sorted(
            p
            for p in parent.iterdir()
            if p.stem in (stem, stem + "_mask")
            and p.suffix.lower() in IMAGE_EXTENSIONS
            and p.is_file()
        )
    except OSError:  # no such folder: the image has no mask
        return None
    return min(found, key=lambda p: p.stem != stem) if found else None


# a mask of at most this many non-zero values is exact (a label map's classes: every one a defect)
LABEL_VALUES = 8


def read_mask(
    path: Path,
    name: str,
    shape: tuple[int, int],
    image_size=None,
    graded: list[Path] | None = None,
) -> np.ndarray:
    """The bool (H, W) defect mask in ``path`` of the image ``name`` of ``shape`` (its own
    (height, width)), resized to ``image_size`` (nearest) when given.

    A pixel's value is its largest over the colour channels, at the file's own depth. In an exact
    mask (at most :data:`LABEL_VALUES` non-zero values: 0/255, 0/1 at any depth, a label map of a
    few classes) any non-zero pixel is a defect; in one of many intermediate values (a JPEG's
    ringing and chroma bleed, anti-aliased edges) a pixel is a defect where its value is at least
    half the mask's largest, and ``path`` is appended to ``graded``.
    With an alpha channel (a defect painted on a transparent layer), only opaque pixels count.
    """
    from PIL import Image

    values = _mask_values(path)  # (H, W[, 3 or 4])
    value = values if values.ndim == 2 else values[..., :3].max(axis=-1)
    if values.ndim == 3 and values.shape[-1] == 4:
        value = np.where(values[..., 3] > 0, value, 0)
    top = value.max(initial=0)
    mask = value > 0
    # lossy: JPEG ringing read 166 pixels for 100 painted. A label map (0 background, 1, 2, 3 the
    # defects' classes) holds a few values, a JPEG's or an anti-aliased edge's many
    if len(np.unique(value[mask])) > LABEL_VALUES:
        mask = value.astype(np.float64) * 2 >= float(top)
        if graded is not None:
            graded.append(path)
    if mask.shape != tuple(shape):
        raise fail(
            f"{path} is {mask.shape[1]}x{mask.shape[0]} pixels, but its image {name} is "
            f"{shape[1]}x{shape[0]}; expected a mask of the image's own size"
        )
    size = parse_image_size(image_size)
    if size is None:
        return mask
    im = Image.fromarray(mask.astype(np.uint8) * 255, "L")
    return np.asarray(im.resize((size[1], size[0]), Image.Resampling.NEAREST)) > 0


# the low byte of a 16-bit sample: Pillow's 8-bit colour modes keep a 16-bit one's top byte, and
# reading the bytes in the other order keeps the low one
_OTHER_ORDER = {
    ";16B": ";16L",
    ";16L": ";16B",
    ";16N": ";16B" if sys.byteorder == "little" else ";16L",
}


def _mask_values(path: Path) -> np.ndarray:
    """A mask's values at the file's own depth: a 16-bit colour mask (a 48-bit PNG, a 16-bit RGB
    TIFF) as uint16, which Pillow opens at its top byte (a mask of 0 and 1 read empty)."""
    from PIL import Image

    wide = False
    with contextlib.suppress(Exception), Image.open(path) as im:  # else refused as an image below
        raw = [_rawmode(t.args) for t in im.tile]
        wide = im.mode in ("RGB", "RGBA") and bool(raw) and all(r[-4:] in _OTHER_ORDER for r in raw)
    if wide:
        return _sixteen_bit(path)
    return np.asarray(open_image(path, keep_depth=True, keep_alpha=True))


def _rawmode(args) -> str:
    return str(args if isinstance(args, str) else args[0] if args else "")


def _sixteen_bit(path: Path) -> np.ndarray:
    """The uint16 samples of a 16-bit colour image: its top bytes as Pillow reads them, its low
    bytes read with the bytes of each sample taken in the other order."""
    from PIL import Image

    def read(low: bool) -> np.ndarray:
        with Image.open(path) as im:
            if low:
                im.tile = [t._replace(args=_swapped(t.args)) for t in im.tile]
            im.load()
            return np.asarray(upright(im), dtype=np.uint16)

    try:
        return read(False) << 8 | read(True)
    except (OSError, ValueError, SyntaxError) as exc:  # a 16-bit gray-and-alpha PNG: no such order
        raise fail(
            f"{path} is a 16-bit mask whose values could not be read at that depth ({exc}); save "
            f"it as an 8-bit image, or as 16-bit grayscale"
        ) from exc


def _swapped(args):
    raw = _rawmode(args)
    other = raw[:-4] + _OTHER_ORDER[raw[-4:]]
    return other if isinstance(args, str) else (other, *args[1:])


def read_image(path: Path) -> np.ndarray:
    """One image file as a float32 (C, H, W) array in [0, 1], at its own size."""
    a = np.asarray(open_image(path), dtype=np.uint8)
    return unit_float([a[None] if a.ndim == 2 else a.transpose(2, 0, 1)])[0]
