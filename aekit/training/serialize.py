"""Splitting nested state (optimizer state dicts) into safetensors tensors and plain JSON.

Nothing here unpickles: tensors go to a safetensors file, everything else to JSON.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import torch

from .. import _io
from ..errors import RunFailure

_TENSOR = "__tensor__"


def split_tensors(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Replace each tensor in ``obj`` by a reference and collect it into ``tensors``."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().contiguous().cpu()
        return {_TENSOR: prefix}
    if isinstance(obj, dict):
        return {str(k): split_tensors(v, f"{prefix}.{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [split_tensors(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    return obj


def join_tensors(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`split_tensors`."""
    if isinstance(obj, dict):
        if set(obj) == {_TENSOR}:
            return tensors[obj[_TENSOR]]
        return {k: join_tensors(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_tensors(v, tensors) for v in obj]
    return obj


def save_tensors(
    path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    """Write ``tensors`` to a safetensors file atomically.

    Tensors that share memory (a layer registered under two names, tied weights) are each written
    whole under every name: safetensors refuses shared memory, and loading copies each name's values
    into the same parameter again.
    """
    from safetensors.torch import save

    _io.write_bytes(path, save(unshared(tensors), metadata=metadata))


def unshared(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``tensors`` contiguous on the CPU, a copy of each one whose memory an earlier one uses."""
    out, seen = {}, set()
    for name, value in tensors.items():
        t = value.detach().contiguous().cpu()
        storage = t.untyped_storage().data_ptr() if t.numel() else None
        if storage in seen:
            t = t.clone()
        elif storage is not None:
            seen.add(storage)
        out[name] = t
    return out


def check_finite(tensors: dict[str, Any], where: str) -> None:
    """Refuse weights holding NaN or infinity (a training that diverged), naming the first such tensor."""
    for name, t in tensors.items():
        if (
            isinstance(t, torch.Tensor)
            and t.is_floating_point()
            and not bool(torch.isfinite(t).all())
        ):
            kind = "NaN" if bool(torch.isnan(t).any()) else "infinite"
            raise RunFailure(
                f"{where}: {kind} values in the weights ({name}); the training diverged: "
                f"train again with a lower learning rate (--lr)"
            )


MAX_HEADER = 100 * 2**20  # safetensors' own limit on the JSON header


def not_a_file(mode: int) -> str:
    """What a path of ``mode`` (``os.stat``'s, the link followed) is that is not a regular file,
    in the words of a line that refuses it: a folder opens for reading too, and was called a pipe."""
    if stat.S_ISDIR(mode):
        return "is a folder"
    kind = (
        "a pipe (FIFO)" if stat.S_ISFIFO(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "not a file"
    )  # fmt: skip
    return f"not a regular file but {kind}"


def _read_regular(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file whose size agrees with its safetensors header.

    A FIFO, a device or a link to one (``/dev/zero``) is refused before a byte is read, so nothing
    hangs or reads until memory runs out; so is a file longer or shorter than its header says.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO with no writer returns at once
    except FileNotFoundError:
        raise RunFailure(
            f"{path}: file not found; expected the model weights (safetensors)"
        ) from None
    except IsADirectoryError:
        raise RunFailure(
            f"{path}: is a folder; expected the model weights (a safetensors file)"
        ) from None
    except OSError as exc:
        raise RunFailure(f"{path}: cannot open it ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RunFailure(
                f"{path}: {not_a_file(st.st_mode)}; expected the model weights (a safetensors file)"
            )
        head = os.pread(fd, 8, 0)
        header = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 0 < header <= min(MAX_HEADER, st.st_size - 8):
            return head  # too short or a bad length: the checks below say what it looks like
        meta = os.pread(fd, header, 8)
        end = _data_end(meta)
        if end is not None and 8 + header + end != st.st_size:
            raise RunFailure(
                f"{path}: the file has {st.st_size} bytes but its safetensors header describes "
                f"{8 + header + end}; the file is truncated or damaged"
            )
        chunks, read = [], 0
        while read < st.st_size:  # never past the size the header agreed with
            chunk = os.pread(fd, min(st.st_size - read, 1 << 26), read)
            if not chunk:
                break
            chunks.append(chunk)
            read += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _data_end(meta: bytes) -> int | None:
    """The end offset of the tensors' data that a safetensors JSON header declares (None: unreadable)."""
    import json

    try:
        entries = json.loads(meta.decode("utf-8"))
        ends = [int(v["data_offsets"][1]) for k, v in entries.items() if k != "__metadata__"]
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        UnicodeDecodeError,
        RecursionError,
    ):
        return None  # safetensors itself reports the damage
    return max(ends, default=0)


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file; anything else (a pickle, a truncated file, a pipe) is refused."""
    from safetensors.torch import load

    path = Path(path)
    data = _read_regular(path)
    # safetensors: an 8-byte little-endian header length, then that many bytes of JSON
    header = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not (0 < header <= len(data) - 8 and data[8:9] == b"{"):
        if data[:1] == b"\x80" or data[:2] == b"PK":
            raise RunFailure(
                f"{path}: looks like a pickle/zip (torch.save) file; aekit only loads safetensors weights"
            )
        raise RunFailure(f"{path}: not a valid safetensors file (truncated or corrupt header)")
    try:
        return load(data)
    except Exception as exc:  # safetensors raises its own error types for truncated/corrupt headers
        raise RunFailure(
            f"{path}: not a valid safetensors file ({' '.join(str(exc).split())})"
        ) from None
