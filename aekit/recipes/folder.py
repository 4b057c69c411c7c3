"""Run folders: everything about one training run in one place.

    RUN/config.json         what rebuilds the model and repeats the run (family, params, data, seed, versions)
    RUN/model.safetensors   the final weights
    RUN/history.csv         per epoch: train loss, validation loss, seconds
    RUN/metrics.json        final held-out figures
    RUN/figures/*.png       pictures
    RUN/checkpoint/         the last epoch's state, for --resume
    RUN/.lock               held while a process trains into the folder

An existing run is never replaced unless asked (``overwrite``), and two processes
cannot train into the same folder at once.
"""

from __future__ import annotations

import csv
import io
import os
import platform
import shutil
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import RunFailure, UsageError

try:  # POSIX advisory locks; elsewhere the lock file alone (O_EXCL) guards the folder
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK = ".lock"


def versions() -> dict[str, str]:
    """Library versions recorded with every run."""
    import numpy
    import torch

    from .. import __version__

    return {"aekit": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__, "platform": platform.platform()}


class RunFolder:
    """A run folder, locked for writing by this process while open."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock_fd: int | None = None

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoint"

    @property
    def figures_dir(self) -> Path:
        return self.path / "figures"

    @classmethod
    def create(cls, path: str | os.PathLike, *, overwrite: bool = False, resume: bool = False) -> "RunFolder":
        """Open ``path`` for a new run (or to resume one), refusing to clobber an old run."""
        run = cls(path)
        p = run.path
        if p.exists() and not p.is_dir():
            raise UsageError(f"{p} exists and is not a folder; pass another --out")
        existing = p.is_dir() and any(e.name != LOCK for e in p.iterdir())
        if existing and not (overwrite or resume):
            raise UsageError(f"run folder {p} already exists; pass --overwrite to replace it or --resume to continue it")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create run folder {p} ({exc.strerror}); pass a writable --out") from None
        if not os.access(p, os.W_OK):
            raise UsageError(f"run folder {p} is not writable; pass a writable --out")
        run._acquire()
        for stale in p.rglob(".*.tmp"):  # temp files of a writer that died (we hold the lock now)
            if stale.is_file():
                stale.unlink(missing_ok=True)
        if existing and overwrite and not resume:
            run.clear()
        return run

    def clear(self) -> None:
        """Remove everything in the folder but the lock (call it only while holding the lock)."""
        for entry in self.path.iterdir():
            if entry.name != LOCK:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()

    def _acquire(self) -> None:
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RunFailure(f"run folder {self.path} is in use by another aekit process "
                                 f"(lock {self.path / LOCK}); wait for it or pass another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def close(self) -> None:
        """Release the lock (the lock file stays; the lock itself dies with the process too)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "RunFolder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writers, each atomic --------------------------------------------------------------
    def write_json(self, name: str, obj: Any) -> Path:
        _io.write_json(self.path / name, obj)
        return self.path / name

    def write_history(self, history: list[dict]) -> Path:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["epoch", "train_loss", "val_loss", "seconds"])
        for r in history:
            writer.writerow([r["epoch"], f"{r['train_loss']:.8g}",
                             "" if r.get("val_loss") is None else f"{r['val_loss']:.8g}", f"{r['seconds']:.4f}"])
        _io.write_text(self.path / "history.csv", buf.getvalue())
        return self.path / "history.csv"


def read_history(path: str | os.PathLike) -> list[dict]:
    """Read ``RUN/history.csv`` back into history records."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [{"epoch": int(r["epoch"]), "train_loss": float(r["train_loss"]),
                 "val_loss": float(r["val_loss"]) if r["val_loss"] else None, "seconds": float(r["seconds"])}
                for r in csv.DictReader(f)]
