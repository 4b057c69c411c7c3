"""Rows of training data, wherever they are: a tensor on the training device, or a row store read
from disk (``--stream``): one batch, a slice, the device batches go to."""

from __future__ import annotations

import hashlib
from typing import Any

import torch

FINGERPRINT_ROWS = 16  # rows read for a data fingerprint: evenly spread, first and last included


def take(data: Any, idx: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The rows ``idx`` of a device tensor (an index op on the device) or of a row store (read from disk)."""
    if isinstance(data, torch.Tensor):
        # index_select copies whole rows in one pass: a fraction of data[idx]'s time (advanced
        # indexing), which was a tenth of a small model's step (benchmarks/README.md); same values.
        return torch.index_select(data, 0, idx)
    return torch.from_numpy(data.take(idx.cpu().numpy())).to(device, non_blocking=True)


def slice_rows(data: Any, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """The rows ``start`` to ``stop`` of a tensor (a view) or of a row store (read from disk)."""
    if isinstance(data, torch.Tensor):
        return data[start:stop]
    return torch.from_numpy(data.rows(start, stop)).to(device, non_blocking=True)


def data_device(data: Any, model: torch.nn.Module) -> torch.device:
    """Where batches go: the tensor's device, or the model's for a row store."""
    if isinstance(data, torch.Tensor):
        return data.device
    return next(model.parameters()).device


def is_images(data: Any) -> bool:
    """(N, C, H, W) data, for which channels-last memory pays."""
    return (data.dim() if isinstance(data, torch.Tensor) else len(data.sample_shape) + 1) == 4


def fingerprint(data: Any) -> str:
    """A short id of training data: its shape and the bytes of a few evenly spread rows. Cheap at
    any size (16 rows, from disk for a row store), and enough to tell a checkpoint's data from other
    data of the same shape, which a resume would otherwise train on without a word."""
    n = len(data)
    shape = data.shape[1:] if isinstance(data, torch.Tensor) else data.sample_shape
    digest = hashlib.sha256(repr((n, tuple(shape))).encode())
    at = sorted({round(i * (n - 1) / (FINGERPRINT_ROWS - 1)) for i in range(FINGERPRINT_ROWS)})
    for i in at if n else ():
        row = slice_rows(data, i, i + 1, torch.device("cpu"))  # (1, ...)
        digest.update(row.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
