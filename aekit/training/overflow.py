"""A loss that is not finite because of the data, not the learning rate: one value whose square
overflows float32 (a missing reading written as 3.4e38 or 1e20) makes any squared error infinite,
whatever the weights. Told apart from a divergence once a loss has failed, and said as the data's
fault (probe 60 training #5)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ..errors import DataError
from .rows import slice_rows

# A value past this squares to near float32's largest number (3.4e38) or past it: a squared error
# over data holding one overflows whatever the weights and the learning rate (a missing reading
# written as 3.4e38 or 1e20), so a loss that is not finite then is the data's, not a divergence.
SQUARE_OVERFLOWS = math.sqrt(torch.finfo(torch.float32).max) / 4


def overflowing_data(
    data: tuple[Any, Any], device: torch.device, first: float | None, at: tuple[int, float, str]
) -> DataError | None:
    """The one-line error of a ``split`` ("training" or "validation") loss that is not finite
    in ``epoch`` (``at``: the epoch, the loss, the split) because its ``data`` (inputs, targets)
    hold a value whose square overflows float32; None when they hold none (a divergence).
    ``first``: the untrained network's loss (no update, no learning rate made it). Looked for only
    once a loss failed: one pass over the data, as a validation is."""
    epoch, loss, split = at
    inputs, targets = data
    value = _extreme_value(inputs, device)
    if value is None and targets is not inputs:
        value = _extreme_value(targets, device)
    if value is None and split == "training" and first is not None and not math.isfinite(first):
        return DataError(
            f"the training loss was already {first} at the first step, before any update: the "
            f"data as the network takes them (scaled, where the model scales its input) are too "
            f"large for its float32 arithmetic, whatever the learning rate; scale the data to a "
            f"smaller range (standardise the columns)"
        )
    if value is None:
        return None
    # no row number: the loop holds the rows shuffled into splits (and encoded), so its row 1 was
    # nowhere in the user's file (review 1 F5); the value, as scaled, is what to look for
    what = (
        f"a value of {value:.4g} in the {split} rows (after scaling) squares to near or past"
        if math.isfinite(value)
        else f"the {split} rows hold a value that scaling took past"
    )
    return DataError(
        f"the {split} loss became {loss} in epoch {epoch + 1} because of the data, not the "
        f"learning rate: {what} float32's largest number, 3.4e38; remove or replace such values "
        f"(a sentinel for a missing reading?), or scale the data to a smaller range"
    )


def _extreme_value(data: Any, device: torch.device) -> float | None:
    """The first value of ``data`` past :data:`SQUARE_OVERFLOWS` in size, read in chunks of rows (a
    row store from disk); None if no row holds one."""
    n, chunk = len(data), 1024
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        rows = slice_rows(data, start, stop, device).reshape(stop - start, -1).float()  # (B, F)
        big = rows.abs().amax(dim=1) > SQUARE_OVERFLOWS  # (B,)
        if bool(big.any()):
            row = int(big.nonzero()[0])
            return float(rows[row, rows[row].abs().argmax()])
    return None
