"""Checkpoints written at every epoch end, crash-safe, for ``--resume``.

Layout of ``RUN/checkpoint/``:
    epoch-0007.safetensors   model weights ("model.*") and optimizer tensors ("optimizer.*")
    latest.json              epoch, history, optimizer's non-tensor state, the weights' file name

Each file is written atomically; ``latest.json`` is replaced last, so a crash at any
point leaves it pointing at a complete weights file. Older weights are removed only after.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from .. import _io
from ..errors import RunFailure
from .serialize import join_tensors, load_tensors, save_tensors, split_tensors

LATEST = "latest.json"


def save_checkpoint(folder: str | Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    epoch: int, history: list[dict], extra: dict[str, Any] | None = None) -> Path:
    """Save the state after ``epoch`` (1-based count of finished epochs) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    optim_json = split_tensors(optimizer.state_dict(), "optimizer", tensors)
    weights = folder / f"epoch-{epoch:04d}.safetensors"
    save_tensors(weights, tensors)
    _io.write_json(folder / LATEST, {
        "epoch": epoch, "weights": weights.name, "history": history,
        "optimizer": optim_json, "extra": extra or {},
    })
    for old in folder.glob("epoch-*.safetensors"):  # only now is the old one not needed
        if old.name != weights.name:
            old.unlink(missing_ok=True)
    return weights


def has_checkpoint(folder: str | Path) -> bool:
    return (Path(folder) / LATEST).is_file()


def load_checkpoint(folder: str | Path, *, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) in place; return the JSON state (epoch, history, extra)."""
    folder = Path(folder)
    try:
        state = json.loads((folder / LATEST).read_text())
        weights = folder / Path(state["weights"]).name  # a bare name: never leave the folder
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunFailure(f"{folder / LATEST}: unreadable checkpoint ({exc}); start again without --resume") from None
    tensors = load_tensors(weights)
    device = next(model.parameters()).device
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(model_state)
        if optimizer is not None:
            optim_state = join_tensors(state["optimizer"], tensors)
            # JSON made the per-parameter keys strings; torch matches them as ints (else drops them)
            optim_state["state"] = {int(k): v for k, v in optim_state["state"].items()}
            optimizer.load_state_dict(optim_state)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise RunFailure(f"{weights}: checkpoint does not match this model ({' '.join(str(exc).split())[:200]})") from None
    if optimizer is not None:  # Adam's moments must live where the parameters live
        for s in optimizer.state.values():
            for k, v in s.items():
                if isinstance(v, torch.Tensor) and k != "step":
                    s[k] = v.to(device)
    return state
