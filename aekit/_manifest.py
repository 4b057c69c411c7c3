"""Which files of a folder aekit wrote: the manifest of aekit's own folders.

Every folder aekit makes (a run, a saved model, an index, an output folder of images, an MLflow
model) holds ``.aekit-manifest.json``::

    {"format": "aekit-manifest", "version": 1, "kind": "run",
     "files": {"config.json": {"size": 812, "sha256": "..."}, ...},
     "digest": "..."}   # sha256 of the canonical JSON of kind and files

written last, when the folder is complete (:meth:`aekit._transaction.FolderTransaction.commit`).
``--overwrite`` and ``save(overwrite=True)`` read it to tell aekit's files from the user's: a
listed file is aekit's (whatever it holds now: a hand-edited config.json is still the run's),
any other file is the user's and is carried into the new version, never deleted. A folder
without a manifest whose digest checks out is not aekit's to replace (:func:`ownership`), except
a run or model of an aekit from before manifests whose every file lies in a run's layout.

The checksums let aekit verify the files it wrote: an index refuses to answer when its
``index.json`` and vectors are not the pair written together (:func:`changed_files`).
This module sits below every layer; it imports only :mod:`aekit.families` and :mod:`aekit.errors`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ._io import TEMP
from .errors import UsageError

MANIFEST = ".aekit-manifest.json"
FORMAT = "aekit-manifest"
VERSION = 1
MARKER = ".aekit-partial"  # aekit._transaction.MARKER: a folder being built
KINDS = ("run", "model", "index", "output", "mlflow")
# What each kind may replace with --overwrite: a run and a saved model are the same kind of folder.
REPLACES = {
    "run": {"run", "model"},
    "model": {"run", "model"},
    "index": {"index"},
    "output": {"output"},
    "mlflow": {"mlflow"},
}
# A run or saved model of an aekit from before manifests: its files lie in this layout.
_LEGACY_RUN_FILES = {"config.json", "model.safetensors", "history.csv", "metrics.json", ".lock"}
_LEGACY_RUN_FOLDERS = {"checkpoint", "figures", "tensorboard"}
_LEGACY_INDEX_FILES = {"index.json", "vectors.safetensors"}
# An MLflow model of aekit.mlflow.save_model from before manifests: MLflow's files and the run's.
_LEGACY_MLFLOW_FILES = {
    "MLmodel",
    "model_code.py",
    "requirements.txt",
    "python_env.yaml",
    "conda.yaml",
}
_LEGACY_MLFLOW_RUN = "artifacts/run/"
_SHOWN = 5  # user's files named in a message
_NAMES = {
    "run": "run",
    "model": "model folder",
    "index": "index",
    "output": "output folder",
    "mlflow": "MLflow model",
}


def bookkeeping(name: str, top: bool = True) -> bool:
    """aekit's own transient files: never listed, never the user's, never carried into a new version.

    The manifest and the marker of a folder being built, at the folder's ``top``; an atomic write's
    temporary file (exactly :data:`aekit._io.TEMP`'s name, which no user picks) anywhere. A user's
    own ``.notes.tmp`` or ``.lock`` is the user's: a looser pattern had ``--overwrite`` delete them.
    """
    return (top and name in (MANIFEST, MARKER)) or TEMP.fullmatch(name) is not None


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_under(folder: Path) -> list[str]:
    """Relative posix paths of the files (and links) under ``folder``, aekit's bookkeeping left out."""
    out = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        dirs[:] = sorted(d for d in dirs if not bookkeeping(d, rel == Path(".")))
        for name in files + [d for d in dirs if os.path.islink(Path(root) / d)]:
            if not bookkeeping(name, rel == Path(".")):
                out.append((rel / name).as_posix())
    return sorted(out)


def empty_folders_under(folder: Path) -> list[str]:
    """Relative posix paths of the folders under ``folder`` that hold nothing at all (aekit writes
    files, so these are the user's: a new version of ``folder`` keeps them as the user's files)."""
    out = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        dirs[:] = sorted(d for d in dirs if not bookkeeping(d, rel == Path(".")))
        if rel != Path(".") and not dirs and not files:
            out.append(rel.as_posix())
    return sorted(out)


def _digest(kind: str, files: dict) -> str:
    text = json.dumps({"kind": kind, "files": files}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entry(path: Path) -> dict:
    if path.is_symlink() or not path.is_file():
        return {"size": 0, "sha256": None}
    return {"size": path.stat().st_size, "sha256": sha256_file(path)}


def write_manifest(folder: str | os.PathLike, kind: str, *, exclude=()) -> Path:
    """List every file in ``folder`` but ``exclude`` (the user's) in its manifest; written atomically."""
    from ._io import write_text

    if kind not in KINDS:
        raise ValueError(f"manifest kind must be one of {KINDS}, got {kind!r}")
    folder = Path(folder)
    skip = set(exclude)
    files = {rel: _entry(folder / rel) for rel in files_under(folder) if rel not in skip}
    body = {"format": FORMAT, "version": VERSION, "kind": kind, "files": files}
    body["digest"] = _digest(kind, files)
    write_text(folder / MANIFEST, json.dumps(body, indent=1, sort_keys=True) + "\n")
    return folder / MANIFEST


@dataclass
class Manifest:
    kind: str
    files: dict = field(default_factory=dict)


def read_manifest(folder: str | os.PathLike) -> Manifest | None:
    """The folder's manifest when it is there and verifies (its digest matches); else None."""
    path = Path(folder) / MANIFEST
    try:
        body = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        return None
    kind, files = body.get("kind"), body.get("files")
    if kind not in KINDS or not isinstance(files, dict):
        return None
    if body.get("digest") != _digest(kind, files):
        return None
    return Manifest(kind=kind, files=files)


def changed_files(folder: str | os.PathLike, names=None) -> list[str]:
    """Listed files (of ``names``, default all) that are missing or whose bytes differ from the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return []
    changed = []
    for rel in names if names is not None else manifest.files:
        entry = manifest.files.get(rel)
        if entry is None:
            continue
        path = folder / rel
        if not path.is_file() or _entry(path) != entry:
            changed.append(rel)
    return changed


@dataclass
class Ownership:
    """Who wrote a folder's files: ``kind`` None when aekit did not make the folder."""

    kind: str | None
    user_files: list[str]  # files aekit did not write (all of them when kind is None)


def _json_head(path: Path):
    try:
        return json.loads(path.read_bytes()[: 1 << 22].decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def legacy_kind(folder: str | os.PathLike) -> str | None:
    """ "run", "index" or "mlflow" for a folder that an aekit before manifests wrote (by its config),
    else None."""
    from .families import ESTIMATORS

    folder = Path(folder)
    config = _json_head(folder / "config.json")
    if (
        isinstance(config, dict)
        and config.get("estimator") in ESTIMATORS
        and isinstance(config.get("params"), dict)
    ):
        return "run"
    index = _json_head(folder / "index.json")
    if isinstance(index, dict) and index.get("format") == "aekit-latent-index":
        return "index"
    if _legacy_mlflow(folder):
        return "mlflow"
    return None


def _legacy_mlflow(folder: Path) -> bool:
    """An MLflow model that aekit wrote: its MLmodel's metadata names aekit's version and it carries
    an aekit run (an MLflow model of another library has neither)."""
    try:
        with open(folder / "MLmodel", "rb") as f:
            text = f.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return False
    return "\n  aekit_version: " in text and legacy_kind(folder / "artifacts" / "run") == "run"


def _in_legacy_layout(kind: str, rel: str) -> bool:
    if kind == "index":
        return rel in _LEGACY_INDEX_FILES
    if kind == "mlflow":
        return rel in _LEGACY_MLFLOW_FILES or rel.startswith(_LEGACY_MLFLOW_RUN)
    return rel in _LEGACY_RUN_FILES or rel.split("/", 1)[0] in _LEGACY_RUN_FOLDERS


def ownership(folder: str | os.PathLike) -> Ownership:
    """What aekit wrote in ``folder``: its kind and the files that are the user's."""
    folder = Path(folder)
    files = files_under(folder)
    manifest = read_manifest(folder)
    if manifest is not None:
        return Ownership(manifest.kind, [f for f in files if f not in manifest.files])
    if (folder / MARKER).is_file():  # a folder aekit is building (or was, before a kill)
        return Ownership("run", [])
    kind = legacy_kind(folder)
    if kind is None:
        return Ownership(None, files)
    odd = [rel for rel in files if not _in_legacy_layout(kind, rel)]
    if not odd:
        return Ownership(kind, [])
    # Not provably aekit's: every file is the user's, those outside a run's layout named first.
    return Ownership(None, odd + [rel for rel in files if rel not in odd])


def is_aekit_folder(folder: str | os.PathLike) -> bool:
    """A folder aekit made (a run, a saved model, an index, an output folder, or one being built),
    told from its manifest or its config without walking it."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    if (folder / MARKER).is_file() or read_manifest(folder) is not None:
        return True
    return legacy_kind(folder) is not None


def aekit_kind(folder: str | os.PathLike) -> str | None:
    """The kind of an aekit folder (:func:`is_aekit_folder`), or None."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    manifest = read_manifest(folder)
    if manifest is not None:
        return manifest.kind
    if (folder / MARKER).is_file():
        return "run"
    return legacy_kind(folder)


def name_files(files: list[str]) -> str:
    """Up to a few file names for a message, with the count of the rest."""
    shown = ", ".join(files[:_SHOWN])
    return shown + (f" and {len(files) - _SHOWN} more" if len(files) > _SHOWN else "")


def check_replaceable(
    folder: str | os.PathLike, kind: str, *, option: str = "--output", shown: str | None = None
) -> list[str]:
    """Refuse, in one line, to replace a non-empty ``folder`` that aekit did not make as a ``kind``
    (or one it may replace); return the user's files in it, which the new version keeps."""
    folder = Path(folder)
    shown = shown or str(folder)
    if not folder.is_dir():
        return []
    owner = ownership(folder)
    if owner.kind is None:
        if not owner.user_files:
            return []
        raise UsageError(
            f"{option} {shown} is not an aekit {_NAMES[kind]} (aekit did not make it: no manifest) and "
            f"holds your files {name_files(owner.user_files)}, which aekit never deletes; "
            f"pass another {_target(option)}"
        )
    if owner.kind not in REPLACES[kind]:
        raise UsageError(
            f"{option} {shown} is an aekit {_NAMES[owner.kind]}, not {_article(_NAMES[kind])}; "
            f"pass another {_target(option)}"
        )
    return owner.user_files


def _target(option: str) -> str:
    return option if option.startswith("--") else "folder"


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiouM" else f"a {kind}"  # M: "an MLflow model"
