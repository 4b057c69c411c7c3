"""The model on the workers: loaded once per worker process, never sent with a task.

:func:`aekit.dask.frames.ship` saves the estimator (its ``config.json`` and ``model.safetensors``, a few hundred kB
for a table's detector) and, on a ``dask.distributed`` cluster, registers a worker plugin holding
those bytes (they travel in Dask's own messages, once per worker): each worker, and each worker
that joins later, loads the model once with :func:`aekit.load` (safetensors and JSON) into this
module's table. The tasks carry only a :class:`Shipped` (the model's key) and find the model there
(:func:`model`). Without a distributed client the tasks run in this process and the
:class:`Shipped` carries the estimator itself (never pickled: it goes where the lazy frame goes).

Memory stays bounded in a loop that retrains and scores: a worker keeps at most :data:`LOADED`
models loaded (the least recently used is dropped, and loaded again from its plugin's files if a
task still asks for it), and a plugin unregistered (``aekit score --dask`` does, at its end) frees
its model on every worker.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RunFailure
from ..estimators.persistence import CONFIG, WEIGHTS, load

# models kept loaded in one worker: those in use (a score and an encode), not every old one
LOADED = 4
REREGISTER_WAIT = 2.0  # seconds a task waits for its model's plugin being registered again

# The tables below are shared by the worker's event loop (plugins) and its task threads.
_GUARD = threading.Lock()
# key -> (the estimator, the lock of one scoring at a time with it), least recently used first
_MODELS: OrderedDict[str, tuple[Any, threading.Lock]] = OrderedDict()
# key -> (its files, the threads to load it with, how many registered plugins hold it): what a
# model dropped from _MODELS is loaded again from while a plugin still holds it
_SOURCES: dict[str, tuple[dict[str, bytes], int | None, int]] = {}
_LOADS: dict[str, int] = {}  # key -> how many times this process loaded it (once, unless dropped)


@dataclass(frozen=True)
class Shipped:
    """What a task carries of the model: its key (a hash of its files); in this process (no
    distributed client) also the estimator and its lock, which are dropped when pickled."""

    key: str
    here: tuple[Any, threading.Lock] | None = field(default=None, compare=False, repr=False)

    def __reduce__(self):
        return (Shipped, (self.key,))  # to another process: the key only, never the estimator

    def __dask_tokenize__(self):
        # the key names the model; the estimator is not hashed
        return ("aekit.dask.Shipped", self.key)


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


def held(key: str, files: dict[str, bytes], threads: int | None) -> None:
    """A worker plugin holding the model ``key`` has arrived: load it (unless it is loaded)."""
    with _GUARD:
        _, _, holders = _SOURCES.get(key, (None, None, 0))
        _SOURCES[key] = (files, threads, holders + 1)
    _loaded(key)


def let_go(key: str) -> None:
    """A plugin holding ``key`` is unregistered: once none holds it, the model is dropped here."""
    with _GUARD:
        files, threads, holders = _SOURCES.get(key, (None, None, 1))
        if holders > 1:
            _SOURCES[key] = (files, threads, holders - 1)
            return
        _SOURCES.pop(key, None)
        _MODELS.pop(key, None)
        _LOADS.pop(key, None)


def loads(key: str) -> int:
    """How many times this process has loaded the model ``key`` (0: never, or let go of)."""
    return _LOADS.get(key, 0)


def loaded() -> list[str]:
    """The keys of the models loaded in this process, least recently used first."""
    with _GUARD:
        return list(_MODELS)


def key_of(files: dict[str, bytes]) -> str:
    """The model's key: a hash of its files."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    return digest.hexdigest()[:32]


def model(shipped: Shipped) -> tuple[Any, threading.Lock]:
    """In a task: the shipped estimator and the lock to hold while using it."""
    if shipped.here is not None:
        return shipped.here
    found = _loaded(shipped.key)
    deadline = time.monotonic() + REREGISTER_WAIT
    while found is None and time.monotonic() < deadline:
        # the model's plugin sent again (a second score of the run): the worker tears the old one
        # down (let_go) just before setting the new one up (held); a task in between waits for it
        time.sleep(0.01)
        found = _loaded(shipped.key)
    if found is None:
        raise RunFailure(
            "aekit.dask: the model is not loaded in this worker process; score through a "
            "dask.distributed Client (or Dask's threaded scheduler), so that aekit can ship it"
        )
    return found


def _loaded(key: str) -> tuple[Any, threading.Lock] | None:
    """The model ``key`` (loaded from its plugin's files if it is not), the most recently used now."""
    with _GUARD:
        if key in _MODELS:
            _MODELS.move_to_end(key)
            return _MODELS[key]
        source = _SOURCES.get(key)
    if source is None:
        return None
    entry = (from_files(source[0], threads=source[1]), threading.Lock())  # outside the guard: slow
    with _GUARD:
        if key not in _SOURCES:  # let go of while it loaded
            return entry
        _LOADS[key] = _LOADS.get(key, 0) + 1
        entry = _MODELS.setdefault(key, entry)  # another thread's copy, when it was quicker
        _MODELS.move_to_end(key)
        while len(_MODELS) > LOADED:
            _MODELS.popitem(last=False)
    return entry
