"""The IDX file format of MNIST and Fashion-MNIST: a small header of dimensions, then the values."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import RunFailure, one_line


def _read_bytes(path: Path) -> bytes:
    try:
        return (
            gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        )
    except (OSError, EOFError) as exc:
        raise RunFailure(one_line(f"cannot read {path}: {exc}")) from exc


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or not) of unsigned bytes into an array."""
    raw = _read_bytes(path)
    # Magic number: two zero bytes, the type code (0x08 = unsigned byte), the number of dims.
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or not 1 <= raw[3] <= 4:
        raise RunFailure(
            f"{path} is not an IDX file of unsigned bytes (bad magic number); delete it and download again"
        )
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">i4", ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise RunFailure(
            f"{path} is truncated or corrupt: header says shape {shape} but it holds "
            f"{len(raw) - offset} values; delete it and download again"
        )
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(shape)
