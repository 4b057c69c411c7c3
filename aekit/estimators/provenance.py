"""What an index came from: the model that encoded it and the items it holds, recorded and checked.

``aekit index`` records in ``index.json``::

    "model": {"path": RUN, "sha256": the run's model.safetensors}
    "items": {"kind": "folder", "path": DIR, "names": [...], "sizes": [...], "mtimes": [...], "sha256": [...]}
          or {"kind": "file", "path": FILE, "size": ..., "mtime": ..., "sha256": ...}

``aekit neighbors`` refuses, in one line, to answer when the run's model is not the one that
encoded the items (:func:`check_model`) or when an item has changed (:func:`check_items`: each
item's size, and its checksum where its size or time stamp moved), and draws the items the
answer names, read by name and verified (:func:`read_items`), never by position in a folder
that may have gained or lost files since.
A table indexed with its id column is the exception: its ids are stored with the vectors, so a
changed file is said in a note and the index answers by the items as indexed. ``LatentIndex.save``
with an aekit encoder records ``"model": {"path": null, "sha256": ...}`` (:func:`encoder_checksum`:
the bytes its ``model.safetensors`` would hold), and ``LatentIndex.load(..., encoder=)`` checks it
(:func:`check_encoder`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._manifest import sha256_file
from .._notes import note
from ..errors import DataError, RunFailure, UsageError

WEIGHTS = "model.safetensors"


def record_model(run: str | os.PathLike) -> dict[str, Any]:
    """The run (or saved model) folder and the checksum of its weights."""
    from .._transaction import readable

    path = Path(run).resolve()
    return {"path": str(path), "sha256": _checksum(readable(path) / WEIGHTS)}


def _checksum(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as exc:
        raise RunFailure(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None


def check_model(recorded: dict[str, Any], run: str | os.PathLike, index: str) -> None:
    """Refuse when the run's weights are not those that encoded the index's items."""
    from .._transaction import readable

    now = _checksum(readable(Path(run)) / WEIGHTS)
    if now != recorded["sha256"]:
        raise UsageError(
            f"{index}: the run {run} has changed since the index was built (its {WEIGHTS} is "
            f"not the model that encoded the items); build the index again with 'aekit index {run} "
            f"--input ... --output {index} --overwrite'"
        )


def encoder_checksum(encoder: Any) -> str | None:
    """The sha256 an aekit estimator's weights have in its saved ``model.safetensors`` (the same
    bytes :func:`record_model` reads from a run), or None for an encoder aekit cannot serialize."""
    import hashlib

    from safetensors.torch import save

    from ..training.serialize import unshared

    tensors = getattr(encoder, "_get_tensors", None)
    if tensors is None or not hasattr(encoder, "model_"):
        return None
    return hashlib.sha256(save(unshared(tensors()))).hexdigest()


def check_encoder(recorded: Any, encoder: Any, index: str) -> None:
    """Refuse an encoder whose weights are not the model the index records (an index without a
    record, or an encoder aekit cannot checksum, is taken as it is)."""
    if not (isinstance(recorded, dict) and isinstance(recorded.get("sha256"), str)):
        return
    now = encoder_checksum(encoder)
    if now is not None and now != recorded["sha256"]:
        source = f"the run {recorded['path']}" if recorded.get("path") else "another model"
        raise UsageError(
            f"{index}: the encoder ({type(encoder).__name__}, weights sha256 "
            f"{now[:12]}) is not the model that encoded the items ({source}, sha256 "
            f"{recorded['sha256'][:12]}); load the index with that model's encoder"
        )


def record_items(path: str | os.PathLike, names: Sequence[str] | None) -> dict[str, Any]:
    """Each item's identity: a folder's files by name, size, time stamp and checksum; a file's own."""
    path = Path(path).resolve()
    if path.is_dir():
        names = list(names or [])
        stats = [_stat(path / name) for name in names]
        return {
            "kind": "folder",
            "path": str(path),
            "names": names,
            "sizes": [s.st_size for s in stats],
            "mtimes": [s.st_mtime_ns for s in stats],
            "sha256": [sha256_file(path / name) for name in names],
        }
    st = _stat(path)
    return {
        "kind": "file",
        "path": str(path),
        "size": st.st_size,
        "mtime": st.st_mtime_ns,
        "sha256": sha256_file(path),
    }


def _stat(path: Path) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None


def items_gone(items: dict[str, Any]) -> bool:
    """Whether the index's input (its folder or file) is no longer there."""
    path = Path(items["path"])
    return not (path.is_dir() if items["kind"] == "folder" else path.is_file())


def _changed(path: Path, size: int, mtime: int, sha: str) -> str | None:
    """Why the item at ``path`` is not the one indexed, or None when it is."""
    try:
        st = os.stat(path)
    except OSError:
        return "is gone"
    if st.st_size != size:
        return f"has {st.st_size} bytes, not {size}"
    if st.st_mtime_ns != mtime and sha256_file(path) != sha:
        return "has other contents"
    return None


def check_items(items: dict[str, Any], index: str, ids_stored: Any = None) -> None:
    """Refuse when an item of the index's input has changed since the index was built; only say so
    for a file whose ids are stored in the index (``ids_stored``: a table's id column), whose
    answers name the items as they were indexed."""
    folder = Path(items["path"])
    if items["kind"] == "file" and ids_stored:
        why = _changed(folder, items["size"], items["mtime"], items["sha256"])
        if why is not None:
            note(
                f"{index}: its input {folder} {why} since the index was built; the answers are its "
                f"items as indexed, named by their stored ids; build the index again with 'aekit "
                f"index ... --overwrite' to search what it holds now"
            )
        return
    if items["kind"] == "file":
        entries = [(folder, items["size"], items["mtime"], items["sha256"], folder.name)]
    else:
        entries = zip(
            (folder / n for n in items["names"]),
            items["sizes"],
            items["mtimes"],
            items["sha256"],
            items["names"],
        )
    for path, size, mtime, sha, name in entries:
        why = _changed(path, size, mtime, sha)
        if why is not None:
            raise DataError(
                f"{index}: the indexed item {name} in {folder if items['kind'] == 'folder' else folder.parent} "
                f"{why} since the index was built, so its answers would name the wrong items; build "
                f"the index again with 'aekit index ... --overwrite'"
            )


def read_items(items: dict[str, Any], rows: np.ndarray, read: dict[str, Any], index: str):
    """The images of the index's ``rows`` (any shape of row numbers), read by name from the recorded
    input and checked against their checksums; an array of shape ``rows.shape + (C, H, W)``."""
    from ..data import read_path
    from ..data.images import iter_images, unit_float

    flat = np.asarray(rows).ravel()
    if items_gone(items):
        raise UsageError(
            f"{index}: its input {items['path']} is gone, so the neighbours cannot be drawn; "
            f"pass --no-figure, or build the index again"
        )
    if items["kind"] == "folder":
        folder = Path(items["path"])
        wanted = sorted(set(int(r) for r in flat))
        for r in wanted:  # the bytes drawn are the bytes indexed
            _verify(folder / items["names"][r], items["sha256"][r], items["names"][r], index)
        files = [folder / items["names"][r] for r in wanted]
        arrays = [
            a
            for _, a in iter_images(
                files, [items["names"][r] for r in wanted], folder, read.get("image_size")
            )
        ]
        images = dict(zip(wanted, unit_float(arrays)))
        picked = np.stack([images[int(r)] for r in flat])
    else:
        _verify(Path(items["path"]), items["sha256"], Path(items["path"]).name, index)
        size = read.get("image_size")
        data = read_path(
            items["path"],
            npz_key=read.get("npz_key"),
            image_size=tuple(size) if size is not None else None,
        )
        picked = data.x[flat]
    return picked.reshape(*np.shape(rows), *picked.shape[1:])


def _verify(path: Path, sha: str, name: str, index: str) -> None:
    try:
        ok = sha256_file(path) == sha
    except OSError:
        ok = False
    if not ok:
        raise DataError(
            f"{index}: the indexed item {name} has changed since the index was built; build the "
            f"index again with 'aekit index ... --overwrite'"
        )


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _str_or_int(v: Any) -> bool:
    return v is None or isinstance(v, str) or _is_int(v)


def _ints(values: Any, n: int) -> bool:
    return isinstance(values, list) and len(values) == n and all(_is_int(v) for v in values)


def _items_ok(items: Any, n: int) -> str | None:
    """What is wrong with a recorded 'items' field (None when nothing is)."""
    if not isinstance(items, dict) or items.get("kind") not in ("folder", "file"):
        return "an object with kind 'folder' or 'file'"
    if not isinstance(items.get("path"), str):
        return "an object with the input's path"
    if items["kind"] == "file":
        ok = _is_int(items.get("size")) and _is_int(items.get("mtime"))
        return None if ok and isinstance(items.get("sha256"), str) else "size, mtime and sha256"
    names = items.get("names")
    if not (isinstance(names, list) and len(names) == n and all(isinstance(v, str) for v in names)):
        return f"a name per item ({n})"
    shas = items.get("sha256")
    if not (_ints(items.get("sizes"), n) and _ints(items.get("mtimes"), n)):
        return f"a size and a time stamp per item ({n})"
    if not (isinstance(shas, list) and len(shas) == n and all(isinstance(v, str) for v in shas)):
        return f"a checksum per item ({n})"
    return None


def _read_ok(read: Any) -> bool:
    if not isinstance(read, dict):
        return False
    size = read.get("image_size")
    return all(_str_or_int(read.get(k)) for k in ("npz_key", "label_column", "id_column")) and (
        size is None or _ints(size, 2) and min(size) > 0
    )


def check_recorded(config: dict[str, Any], file: str | os.PathLike) -> dict[str, Any]:
    """The fields 'aekit index' records (run, input, read, labels, model, items), checked: one line
    naming ``file`` and the field."""
    n = len(config["ids"])
    model = config.get("model")
    checks = {
        "run": (isinstance(config.get("run"), str), "the run folder's path"),
        "input": (isinstance(config.get("input"), str), "the input's path"),
        "read": (_read_ok(config.get("read")), "the reading options (npz_key, label_column, ...)"),
        "labels": (
            config.get("labels") is None
            or isinstance(config["labels"], list)
            and len(config["labels"]) == n,
            f"null or a label per item ({n})",
        ),
        "model": (
            isinstance(model, dict)
            and isinstance(model.get("path"), str)
            and isinstance(model.get("sha256"), str),
            "the model's path and sha256",
        ),
    }
    for key, (ok, what) in checks.items():
        if key not in config:
            raise RunFailure(
                f"{file}: the field {key!r} is missing; build the index again with 'aekit index ... --overwrite'"
            )
        if not ok:
            raise RunFailure(
                f"{file}: the field {key!r} must be {what}; the index is damaged, build it again"
            )
    why = _items_ok(config.get("items"), n) if "items" in config else "present"
    if why is not None:
        raise RunFailure(
            f"{file}: the field 'items' must be {why}; the index is damaged, build it again"
        )
    return config
