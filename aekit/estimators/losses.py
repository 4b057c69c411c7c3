"""Reconstruction errors: batch losses for training and per-sample errors for scoring."""

from __future__ import annotations

import torch


def per_sample_error(x_hat: torch.Tensor, x: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Mean squared ("mse") or absolute ("mae") error of each sample: (B, ...) -> (B,)."""
    diff = (x_hat - x).flatten(1)  # (B, ...) -> (B, D)
    if kind == "mse":
        return diff.square().mean(dim=1)
    if kind == "mae":
        return diff.abs().mean(dim=1)
    raise ValueError(f"unknown error {kind!r}; expected 'mse' or 'mae'")


def reconstruction_loss(kind: str = "mse"):
    """A training loss for the shared loop: mean error per value of ``model(x)`` against the target
    (an ensemble's (K, B, ...) against the (B, ...) target: the mean of its members' losses)."""
    if kind not in ("mse", "mae"):
        raise ValueError(f"unknown loss {kind!r}; expected 'mse' or 'mae'")
    fn = torch.nn.functional.mse_loss if kind == "mse" else torch.nn.functional.l1_loss

    def loss(
        model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor, generator=None
    ) -> torch.Tensor:
        out = model(x)
        return fn(out, target.expand_as(out))

    return loss
