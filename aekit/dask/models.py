"""The model on the workers: loaded once per worker process, never sent with a task.

:func:`aekit.dask.frames.ship` saves the estimator (its ``config.json`` and ``model.safetensors``, a few hundred kB
for a table's detector) and, on a ``dask.distributed`` cluster, registers a worker plugin holding
those bytes (they travel in Dask's own messages, once per worker): each worker, and each worker
that joins later, loads the model once with :func:`aekit.load` (safetensors and JSON) into this
module's table. The tasks carry only a :class:`Shipped` (the model's key) and find the model there
(:func:`model`). Without a distributed client the tasks run in this process, where the model is put
in the table directly.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RunFailure
from ..estimators.persistence import CONFIG, WEIGHTS, load

_MODELS: dict[str, Any] = {}  # key -> the estimator, in this process
_LOCKS: dict[str, threading.Lock] = {}  # key -> one scoring at a time (a worker's threads share it)
_LOADS: dict[
    str, int
] = {}  # key -> how many times this process loaded it (once, unless re-registered)


@dataclass(frozen=True)
class Shipped:
    """What a task carries of the model: its key (a hash of its files)."""

    key: str


def model_files(est: Any) -> dict[str, bytes]:
    """The files of ``est`` that :func:`aekit.load` reads, as bytes."""
    with tempfile.TemporaryDirectory(prefix="aekit-dask-") as tmp:
        est.save(Path(tmp) / "model")
        return {name: (Path(tmp) / "model" / name).read_bytes() for name in (CONFIG, WEIGHTS)}


def from_files(files: dict[str, bytes], threads: int | None = None) -> Any:
    """The estimator in ``files`` (loaded by :func:`aekit.load` from a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="aekit-dask-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        est = load(tmp)
    if threads is not None:
        est.set_params(threads=int(threads))  # the worker's share of the machine's cores
    return est


def install(key: str, est: Any) -> None:
    """Put ``est`` in this process's table under ``key``."""
    _LOCKS.setdefault(key, threading.Lock())
    _MODELS[key] = est
    _LOADS[key] = _LOADS.get(key, 0) + 1


def loads(key: str) -> int:
    """How many times this process has loaded the model ``key`` (0: never)."""
    return _LOADS.get(key, 0)


def key_of(files: dict[str, bytes]) -> str:
    """The model's key: a hash of its files."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    return digest.hexdigest()[:32]


def model(shipped: Shipped) -> tuple[Any, threading.Lock]:
    """In a task: the shipped estimator and the lock to hold while using it."""
    est = _MODELS.get(shipped.key)
    if est is None:
        raise RunFailure(
            "aekit.dask: the model is not loaded in this worker process; score through a "
            "dask.distributed Client (or Dask's threaded scheduler), so that aekit can ship it"
        )
    return est, _LOCKS[shipped.key]
