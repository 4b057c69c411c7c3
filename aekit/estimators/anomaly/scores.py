"""How a reconstruction becomes an anomaly score, and the residual scale of ``error="nmse"``.

``mae`` and ``mse`` average the raw residuals ``x_hat - x`` of a sample over its features. But
some features are reconstructed worse than others even on normal data (a noisy sensor, the
jittery stretch of a signal): their residuals are large on every sample and drown out a small
but unusual residual on a feature that normal data reconstructs well. ``nmse`` divides each
feature's residual by that feature's typical residual on normal rows first, its *residual
scale* (the root of its mean squared residual), then averages the squares: the negative log
likelihood of the residual under independent Gaussians, one per feature (a diagonal Mahalanobis
distance), up to constants (how it compares with MAE and MSE: ``docs/guide/anomaly.md``).

The residual scale is learned after training, from the normal rows: the held-out ones (never
fitted, so their residuals are those of new data) together with an evenly spread sample of the
training rows (at most :data:`SAMPLE_ROWS`, read batch by batch, so a row store on disk stays
there). With few rows a feature's mean is noisy, so it is shrunk toward the mean over all
features as if :data:`PRIOR_ROWS` more rows had that mean; and it is floored at
:data:`FLOOR` times that mean, so a feature that normal data reconstructs exactly (a constant
column) cannot weigh more than 1 / FLOOR times an average one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from ..base import is_row_store

ERRORS = ("nmse", "mae", "mse")
# training rows (at most) whose residuals set the residual scale, with the held-out ones
SAMPLE_ROWS = 10_000
# the shrinkage toward the mean over features, counted in rows (matters only for tiny data)
PRIOR_ROWS = 5
# a feature's mean squared residual is at least this fraction of the mean over features
FLOOR = 0.01


def sample_scores(
    x_hat: torch.Tensor, x: torch.Tensor, error: str, residual_scale: torch.Tensor | None = None
) -> torch.Tensor:
    """Each sample's anomaly score, (B, ...) -> (B,): its mean squared or absolute residual (``mse``,
    ``mae``), or its mean squared residual in units of each feature's residual scale (``nmse``).

    An ensemble's reconstructions, (K, B, ...) with a residual scale of shape (K, ...): the mean of
    its members' scores, each member in its own units.
    """
    # the mean of :func:`feature_errors` over a sample's features: one definition of both
    parts = feature_errors(x_hat, x, error, residual_scale)  # (B, ...)
    return parts.flatten(1).mean(dim=1)  # (B, ...) -> (B,)


def overflow_as_infinite(scores: torch.Tensor) -> torch.Tensor:
    """``scores`` with NaN made +inf. The input was finite (checked), so a NaN score is an overflow
    (inf - inf in a residual, 0 * inf in a density factor): the most anomalous score there is, not
    one that no threshold flags (NaN > threshold is false: such a row was labelled normal)."""
    return torch.where(torch.isnan(scores), torch.full_like(scores, float("inf")), scores)


def feature_errors(
    x_hat: torch.Tensor, x: torch.Tensor, error: str, residual_scale: torch.Tensor | None = None
) -> torch.Tensor:
    """Each feature's part of :func:`sample_scores`, (B, ...) -> (B, ...): its squared residual
    (``mse``; ``nmse`` in units of its residual scale) or absolute residual (``mae``), an
    ensemble's (K, B, ...) averaged over its members. Its mean over a sample's features is the
    sample's score (:func:`sample_scores`)."""
    if error not in ERRORS:
        raise ValueError(f"unknown error {error!r}; expected one of {ERRORS}")
    ensemble = x_hat.dim() > x.dim()
    residual = x_hat - x  # (B, ...), or (K, B, ...): x broadcasts over the members
    if error == "nmse":
        if residual_scale is None:
            raise ValueError("error 'nmse' needs the residual scale learned at fit")
        # (K, ...) -> (K, 1, ...): each member's scale over its batch
        residual = residual / (residual_scale.unsqueeze(1) if ensemble else residual_scale)
    parts = residual.abs() if error == "mae" else residual.square()
    return parts.mean(dim=0) if ensemble else parts  # (K, B, ...) -> (B, ...)


def mean_reconstruction(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The reconstruction of ``x``: an ensemble's (K, B, ...) averaged over its members, else ``x_hat``."""
    return x_hat.mean(dim=0) if x_hat.dim() > x.dim() else x_hat


def normal_batches(train: Any, held: np.ndarray | None, batch_size: int) -> Iterator[np.ndarray]:
    """Batches of the normal rows to learn the residual scale from: an evenly spread sample of at most
    ``SAMPLE_ROWS`` training rows (an array, or a row store read batch by batch), then the held-out rows."""
    n = len(train)
    idx = (
        np.arange(n)
        if n <= SAMPLE_ROWS
        else np.linspace(0, n - 1, SAMPLE_ROWS).round().astype(np.int64)
    )
    for start in range(0, len(idx), batch_size):
        rows = idx[start : start + batch_size]
        yield train.take(rows) if is_row_store(train) else train[rows]
    for start in range(0, 0 if held is None else len(held), batch_size):
        yield held[start : start + batch_size]


@torch.inference_mode()
def residual_scale(
    residuals: Callable[[np.ndarray], torch.Tensor], parts: Iterator[np.ndarray], members: int = 1
) -> np.ndarray:
    """Each feature's residual scale, shaped as one sample (an ensemble's: (members, ...)), float32.

    ``residuals(rows)`` gives the model's residuals ``x_hat - x`` (scaled units) of a batch of raw
    rows, (B, ...) or an ensemble's (K, B, ...); ``parts`` yields the batches of normal rows to learn from.
    """
    total, n = None, 0
    for rows in parts:
        # (B, ...) -> (...); (K, B, ...) -> (K, ...)
        sq = residuals(rows).double().square().sum(dim=int(members > 1))
        total = sq if total is None else total + sq
        n += len(rows)
    if total is None:
        raise ValueError("no rows to learn the residual scale from")
    mean_sq = total.cpu().numpy() / n
    flat = mean_sq.reshape(members, -1)  # (members, features): each member on its own
    overall = flat.mean(axis=1, keepdims=True)  # (members, 1)
    shrunk = (flat * n + PRIOR_ROWS * overall) / (n + PRIOR_ROWS)
    floored = np.where(overall > 0, np.maximum(shrunk, FLOOR * overall), 1.0)
    return np.sqrt(floored).reshape(mean_sq.shape).astype(np.float32)
