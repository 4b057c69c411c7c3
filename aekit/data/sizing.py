"""Sizing: how much memory reading a path whole would take, and whether to stream it instead.

:func:`should_stream` compares :func:`estimate_bytes` with a cap (:func:`default_memory_cap`,
or a size the user gives, read by :func:`parse_size`). Estimates come from file headers and
sizes only; nothing is decoded.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import _cgroup
from ..errors import DataError, UsageError
from .checks import check_exists
from .images import IMAGE_EXTENSIONS, image_files
from .rowstore import read_npy_header
from .spill import STREAM_EXTENSIONS
from .tables import TABLE_EXTENSIONS

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
    check_exists(path)
    if path.is_dir():
        try:
            files = image_files(path)
        except DataError:
            return 0  # read_path will report the problem
        on_disk = sum(p.stat().st_size for p in files)
        return int(_decoded_per_byte(files) * on_disk * _IMAGE_EXPANSION)
    ext, size = path.suffix.lower(), path.stat().st_size
    if ext == ".npy":
        try:
            shape, dtype, _ = read_npy_header(path)
        except DataError:
            return size  # read_path will report the problem
        n = int(np.prod(shape, dtype=np.int64))
        # data, float32 copy, mask
        return n * dtype.itemsize + n * (0 if dtype == np.float32 else 4) + n
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
                decoded += (
                    im.width
                    * im.height
                    * (1 if im.mode in ("L", "LA", "1", "I", "I;16", "F") else 3)
                )
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
            raise UsageError(
                f"{name} {text!r} is not a size; expected bytes or a number with K, M, G or T, e.g. 2G"
            )
        number, unit = match.groups()
        scale = _UNITS[(unit or "").lower()]
        # exact for integers
        value = int(number) * scale if number.isdecimal() else int(float(number) * scale)
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
    """The machine's memory, or less where a cgroup (this process's own, a parent's) limits it."""
    sizes = []
    with contextlib.suppress(AttributeError, ValueError, OSError):  # not on Windows
        sizes.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    sizes += [cap for cap, _ in _cgroup.memory_limits()]
    return min(sizes) if sizes else None
