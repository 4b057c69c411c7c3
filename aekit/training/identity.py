"""Which aekit checkpoint a folder holds: the id its ``latest.json``, ``threads.json`` and weights
files carry (:mod:`aekit.training.checkpoint`), so that aekit tells its own files there from a
user's. Torch-free: :mod:`aekit.training.threads` writes the id at the CLI's start.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

LATEST = "latest.json"
THREADS = "threads.json"  # the CPU threads a run chose (aekit.training.threads)
FORMAT = "aekit-checkpoint"
ID = "checkpoint_id"  # the key of the checkpoint's id in latest.json, threads.json and the weights


def new_id() -> str:
    """A new checkpoint's id."""
    return uuid.uuid4().hex


def read_json(path: Path) -> Any:
    """The JSON in ``path``; None when it is missing or not JSON."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None


def aekit_latest(folder: Path) -> dict | None:
    """``latest.json`` when aekit wrote it: with aekit's format, or (an aekit before the format)
    the fields aekit has always written. One of aekit's with a damaged field is still aekit's:
    resuming says it is damaged."""
    state = read_json(folder / LATEST)
    if not isinstance(state, dict):
        return None
    if "format" in state:
        return state if state["format"] == FORMAT else None
    return state if {"epoch", "weights", "history", "optimizer"} <= state.keys() else None


def aekit_threads(folder: Path) -> dict | None:
    """``threads.json`` when aekit wrote it (:func:`aekit.training.threads.record`)."""
    choice = read_json(folder / THREADS)
    return choice if isinstance(choice, dict) and "intra_op" in choice else None


def checkpoint_id(folder: str | os.PathLike | None, latest: dict | None = None) -> str | None:
    """The id of the aekit checkpoint in ``folder``: its latest.json's (``latest``, when the caller
    has read it already: the history in it grows with the epochs), else (before the first
    checkpoint) its threads.json's; None when it has neither."""
    if folder is None:
        return None
    for body in (latest or aekit_latest(Path(folder)), aekit_threads(Path(folder))):
        ident = body.get(ID) if body is not None else None
        if isinstance(ident, str) and ident:
            return ident
    return None
