"""Checkpoints written at every epoch end, crash-safe, for ``--resume``.

Layout of ``RUN/checkpoint/``:
    epoch-0007.safetensors   model weights ("model.*"), optimizer tensors ("optimizer.*") and
                             the run's own tensors ("extra.*": early stopping's best weights)
    latest.json              epoch, history, optimizer's non-tensor state, the weights' file name,
                             the run's own state ("extra": early stopping's best loss and wait)
    threads.json             the CPU threads the run chose (:mod:`aekit.training.threads`)

Each file is written atomically; ``latest.json`` is replaced last, so a crash at any
point leaves it pointing at a complete weights file. Older weights are removed only after.

A checkpoint folder may also be one of the user's (``fit(X, checkpoint_dir=...)``), so aekit tells
its own files there from the user's: ``latest.json`` and every weights file carry the checkpoint's
id (``threads.json`` too, written first, so that a weights file left by a kill before the first
``latest.json`` is known), and only weights files with that id, or the one ``latest.json`` names,
are ever removed. A folder holding a ``latest.json``, ``threads.json`` or ``epoch-*.safetensors``
that is not its aekit checkpoint's is refused (:func:`check_checkpoint_folder`), never written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from .. import _io
from .._manifest import MARKER, name_files
from .._outputs import enclosing_run
from ..errors import RunFailure, UsageError
from .identity import (
    FORMAT,
    ID,
    LATEST,
    THREADS,
    aekit_latest,
    aekit_threads,
    checkpoint_id,
    new_id,
)
from .serialize import check_finite, join_tensors, load_tensors, save_tensors, split_tensors

WEIGHTS = "epoch-*.safetensors"


def checkpoint_unit(folder: str | Path) -> dict | None:
    """The unit of an epoch of the checkpoint in ``folder`` (``{"passes", "min_epochs"}``, which a
    resume trains on in: :func:`aekit.training.loop.train`), or None (none, or unreadable)."""
    extra = (aekit_latest(Path(folder)) or {}).get("extra")
    unit = extra.get("unit") if isinstance(extra, dict) else None
    return unit if isinstance(unit, dict) else None


def save_checkpoint(
    folder: str | Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    history: list[dict],
    extra: dict[str, Any] | None = None,
    extra_tensors: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Save the state after ``epoch`` (1-based count of finished epochs) into ``folder``; ``extra``
    (JSON) and ``extra_tensors`` are the run's own state, handed back by :func:`load_checkpoint`.

    Then the checkpoint's earlier weights files are removed, and no other file: a ``latest.json``
    or weights file of the user's under the name this one writes is refused in one line."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    previous = aekit_latest(folder)
    ident = own_id(folder, previous) or new_id()
    weights = folder / f"epoch-{epoch:04d}.safetensors"
    owned = is_run_checkpoint(folder)  # a run's: every file in it is aekit's, ids or not
    # a file of the user's put there since the run began is refused, not replaced (a run's own
    # folder is not looked through: this runs at every epoch's end)
    if not owned:
        clash = [n for n in _foreign(folder, ident, previous) if n in (LATEST, weights.name)]
        if clash:
            raise _refusal(folder, clash)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"extra.{k}": v for k, v in (extra_tensors or {}).items()})
    optim_json = split_tensors(optimizer.state_dict(), "optimizer", tensors)
    save_tensors(weights, tensors, metadata={"format": FORMAT, ID: ident})
    _io.write_json(
        folder / LATEST,
        {
            "format": FORMAT,
            ID: ident,
            "epoch": epoch,
            "weights": weights.name,
            "history": history,
            "optimizer": optim_json,
            "extra": extra or {},
        },
    )
    for old in folder.glob(WEIGHTS):  # only now is the old one not needed; never the user's
        if old.name != weights.name and (owned or _ours(old, ident, previous)):
            old.unlink(missing_ok=True)
    return weights


def _weights_id(path: Path) -> Any:
    """The checkpoint id in a weights file's safetensors header (None: not an aekit checkpoint's)."""
    try:
        with open(path, "rb") as f:
            size = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(size)) if size <= 1 << 24 else None
    except (OSError, ValueError, RecursionError):
        return None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta.get(ID) if isinstance(meta, dict) else None


def _ours(path: Path, ident: str | None, latest: dict | None) -> bool:
    """A weights file of this checkpoint: it carries its id, or its latest.json names it (the only
    one an aekit before ids left)."""
    if ident is not None and _weights_id(path) == ident:
        return True
    return latest is not None and path.name == latest.get("weights")


def _foreign(folder: Path, ident: str | None, latest: dict | None) -> list[str]:
    """The files in ``folder`` under the names aekit's checkpoint writes that are not its own."""
    names = []
    damaged = ident is not None and any(_weights_id(p) == ident for p in folder.glob(WEIGHTS))
    if (folder / LATEST).exists() and latest is None and not damaged:  # else aekit's, damaged
        names.append(LATEST)
    if (folder / THREADS).exists() and aekit_threads(folder) is None:
        names.append(THREADS)
    names += [p.name for p in sorted(folder.glob(WEIGHTS)) if not _ours(p, ident, latest)]
    return names


def own_id(folder: Path, latest: dict | None) -> str | None:
    """The id of the aekit checkpoint in ``folder`` (:func:`checkpoint_id`); when its latest.json
    is there but damaged (not JSON, cut short), the one id its weights files carry: aekit wrote
    that latest.json, and resuming says it is damaged."""
    ident = checkpoint_id(folder, latest)
    if ident is None and latest is None and (folder / LATEST).exists():
        ids = {_weights_id(p) for p in folder.glob(WEIGHTS)} - {None}
        ident = next(iter(ids)) if len(ids) == 1 and isinstance(next(iter(ids)), str) else None
    return ident


def start_again(folder: Path) -> str:
    """How to start again over a damaged checkpoint: a run's (``aekit train``; its trained epochs
    are not dropped unasked) with --overwrite, a ``checkpoint_dir`` without ``resume=True``."""
    if is_run_checkpoint(folder):
        return "start again with --overwrite"
    return "start again without resume=True"


def _refusal(folder: Path, names: list[str]) -> UsageError:
    return UsageError(
        f"checkpoint_dir {folder} holds {name_files(names)}, which aekit did not write (not its "
        f"checkpoint in that folder); aekit never replaces or deletes them: pass another "
        f"checkpoint_dir (a new or empty folder, or one aekit's checkpoints went to)"
    )


def is_run_checkpoint(folder: Path) -> bool:
    """``folder`` is the ``checkpoint/`` of a run that aekit is building (``.RUN.partial/``), whose
    transaction owns every file in it."""
    return folder.name == "checkpoint" and (folder.parent / MARKER).is_file()


def check_checkpoint_folder(folder: str | os.PathLike) -> None:
    """Refuse, in one line, a ``checkpoint_dir`` whose files aekit would replace or delete, or that
    would put aekit's files into a folder of aekit's.

    A new or empty folder, a folder of the user's files under other names, and a folder of an
    earlier aekit checkpoint (to resume, or to start again) are accepted. A ``latest.json``,
    ``threads.json`` or ``epoch-*.safetensors`` that is not that checkpoint's is the user's: refused.
    So is a folder that is, or lies inside, an aekit folder (a run, a saved model, an index...):
    its files are aekit's own. A run's own checkpoint folder is not checked: its transaction
    owns it.
    """
    folder = Path(folder)
    if is_run_checkpoint(folder):
        return
    inside = enclosing_run(folder)
    if inside is not None:
        how = "is" if inside == Path(os.path.realpath(folder)) else "lies inside"
        raise UsageError(
            f"checkpoint_dir {folder} {how} the aekit folder {inside}, which holds aekit's own "
            f"files; pass a folder outside aekit's folders"
        )
    if os.path.lexists(folder) and not folder.is_dir():
        raise UsageError(f"checkpoint_dir {folder} is a file; pass a folder")
    if folder.is_dir():
        latest = aekit_latest(folder)
        foreign = _foreign(folder, own_id(folder, latest), latest)
        if foreign:
            raise _refusal(folder, foreign)


def has_checkpoint(folder: str | Path) -> bool:
    return (Path(folder) / LATEST).is_file()


def checkpoint_epoch(folder: str | Path) -> int:
    """The epochs trained in the checkpoint in ``folder`` (0: none, or unreadable)."""
    try:
        epoch = json.loads((Path(folder) / LATEST).read_text())["epoch"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return 0
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch > 0 else 0


def _check_state(state: Any, where: Path) -> None:
    """Each field of latest.json within its meaning, or a one-line RunFailure naming it."""

    def bad(what: str) -> RunFailure:
        return RunFailure(
            f"{where}: {what}; the checkpoint is damaged: {start_again(where.parent)}"
        )

    if not isinstance(state, dict):
        raise bad(f"holds a JSON {type(state).__name__}, expected an object")
    epoch = state.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise bad(f"'epoch' must be a whole number >= 0, got {epoch!r}")
    if not isinstance(state.get("weights"), str) or not state["weights"].strip():
        raise bad(f"'weights' must name the weights file, got {state.get('weights')!r}")
    problem = _history_problem(state.get("history"), epoch)
    if problem is not None:
        raise bad(problem)
    if not isinstance(state.get("optimizer"), dict):
        raise bad("'optimizer' must be an object")
    if not isinstance(state.get("extra", {}), dict):
        raise bad("'extra' must be an object")


def _history_problem(history: Any, epoch: int) -> str | None:
    """What is wrong with a checkpoint's history of ``epoch`` finished epochs, or None."""
    if (
        not isinstance(history, list)
        or len(history) > epoch
        or not all(isinstance(r, dict) for r in history)
    ):
        return f"'history' must list a record per finished epoch, at most {epoch}"
    for r in history:
        for key in ("train_loss", "seconds"):
            v = r.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                return f"history: {key!r} of epoch {r.get('epoch')!r} must be a finite number, got {v!r}"
    return None


def load_checkpoint(
    folder: str | Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) in place; return the JSON state (epoch, history, extra),
    the run's own tensors under ``"extra_tensors"``."""
    folder = Path(folder)
    try:
        state = json.loads((folder / LATEST).read_text())
    except RecursionError:
        raise RunFailure(
            f"{folder / LATEST}: unreadable checkpoint (JSON nested too deeply); "
            f"{start_again(folder)}"
        ) from None
    except (OSError, ValueError) as exc:
        raise RunFailure(
            f"{folder / LATEST}: unreadable checkpoint ({exc}); {start_again(folder)}"
        ) from None
    _check_state(state, folder / LATEST)
    weights = folder / Path(state["weights"]).name  # a bare name: never leave the folder
    tensors = load_tensors(weights)
    check_finite(tensors, str(weights))
    device = next(model.parameters()).device
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(model_state)
        if optimizer is not None:
            optim_state = join_tensors(state["optimizer"], tensors)
            # JSON made the per-parameter keys strings; torch matches them as ints (else drops them)
            optim_state["state"] = {int(k): v for k, v in optim_state["state"].items()}
            optimizer.load_state_dict(optim_state)
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise RunFailure(
            f"{weights}: checkpoint does not match this model ({' '.join(str(exc).split())[:200]})"
        ) from None
    if optimizer is not None:
        _moments_like_parameters(optimizer, device)
    state["extra_tensors"] = {
        k[len("extra.") :]: v.to(device) for k, v in tensors.items() if k.startswith("extra.")
    }
    return state


def _moments_like_parameters(optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    """Adam's moments where and as the parameters live: on their device, and in their memory
    format. A checkpoint's tensors load contiguous; a convolution's weight trained channels-last
    is not, and fused Adam pairs a weight with its moments by storage order: each element took
    another's moments, and a resumed denoiser or VAE drifted from the uninterrupted run."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            moments = optimizer.state.get(param, {})
            for k, v in moments.items():
                if not isinstance(v, torch.Tensor) or k == "step":
                    continue
                if v.shape == param.shape:  # empty_like keeps the parameter's strides
                    moments[k] = torch.empty_like(param, dtype=v.dtype).copy_(v)
                else:
                    moments[k] = v.to(device)
