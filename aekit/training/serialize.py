"""Splitting nested state (optimizer state dicts) into safetensors tensors and plain JSON.

Nothing here unpickles: tensors go to a safetensors file, everything else to JSON.
"""

from __future__ import annotations

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


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` to a safetensors file atomically."""
    from safetensors.torch import save

    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    _io.write_bytes(path, save(tensors, metadata=metadata))


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file; anything else (a pickle, a truncated file) is refused."""
    from safetensors.torch import load

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RunFailure(f"{path}: file not found; expected the model weights (safetensors)") from None
    # safetensors: an 8-byte little-endian header length, then that many bytes of JSON
    header = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not (0 < header <= len(data) - 8 and data[8:9] == b"{"):
        if data[:1] == b"\x80" or data[:2] == b"PK":
            raise RunFailure(f"{path}: looks like a pickle/zip (torch.save) file; aekit only loads safetensors weights")
        raise RunFailure(f"{path}: not a valid safetensors file (truncated or corrupt header)")
    try:
        return load(data)
    except Exception as exc:  # safetensors raises its own error types for truncated/corrupt headers
        raise RunFailure(f"{path}: not a valid safetensors file ({' '.join(str(exc).split())})") from None
