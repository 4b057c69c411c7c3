"""Run folders: everything about one training run in one place.

    RUN/config.json         what rebuilds the model and repeats the run (family, params, data, seed, versions)
    RUN/model.safetensors   the final weights
    RUN/history.csv         per epoch: train loss, validation loss, seconds
    RUN/metrics.json        final held-out figures
    RUN/figures/*.png       pictures
    RUN/checkpoint/         the last epoch's state, for --resume

A run is a transaction (:mod:`aekit._transaction`): it is built in ``.RUN.partial/`` beside RUN,
under the lock ``.RUN.lock``, and swapped in whole once complete. So a fresh run, an
``--overwrite`` and a ``--resume`` each leave, at every instant, either the previous complete
run or the new complete one. A resumed run starts from a hard-linked copy of the finished one
(its checkpoint included), which stays loadable and resumable until the continued run is
complete. An interrupted run's ``.RUN.partial/`` keeps its last checkpoint: ``--resume``
continues it; any other command starts again.

An existing run is never replaced unless asked (``overwrite``), and two processes
cannot train into the same folder at once.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import _io, _manifest
from .._removal import refuse_held_in_sticky, refuse_unwritable
from .._transaction import LEGACY_LOCK, FolderTransaction
from ..errors import RunInProgress, UsageError
from ..training.checkpoint import checkpoint_epoch


def versions() -> dict[str, str]:
    """Library versions recorded with every run."""
    import numpy
    import sklearn
    import torch

    from .. import __version__

    return {
        "aekit": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,  # its train_test_split draws the seeded split
        "platform": platform.platform(),
    }


def is_run(path: Path) -> bool:
    """A run folder or saved model that aekit made (its manifest says so, or an older aekit's layout)."""
    return path.is_dir() and _manifest.aekit_kind(path) in ("run", "model")


class RunFolder:
    """A run folder being written: ``work`` (the staging folder) now, ``path`` once :meth:`commit` ran."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._txn = FolderTransaction(self.path, kind="run")
        self.work = self._txn.staging  # where this run's files are written until the commit
        self._start_epoch = 0  # the checkpoint's epoch when the staging folder was opened
        self._reused = False  # the staging folder is an interrupted training, continued
        self.continues_finished = False  # a --resume of the finished run at ``path``

    @property
    def checkpoint_dir(self) -> Path:
        return self.work / "checkpoint"

    @property
    def figures_dir(self) -> Path:
        return self.work / "figures"

    def resume_source(self) -> Path | None:
        """The run that ``--resume`` continues: an interrupted training beside ``path``, else
        ``path`` (a killed ``calibrate``'s or ``plot``'s copy of it is dropped, not continued)."""
        from ..estimators.persistence import CONFIG

        interrupted = self._txn.resumable() and not self._txn.an_update()
        if interrupted and (self.work / CONFIG).is_file():
            return self.work
        return self.path if (self.path / CONFIG).is_file() and is_run(self.path) else None

    @classmethod
    def open(
        cls, path: str | os.PathLike, *, overwrite: bool = False, resume: bool = False
    ) -> RunFolder:
        """Lock ``path`` and prepare the folder its new run is built in, refusing to clobber an old run.

        ``resume``: continue the interrupted run beside ``path`` if there is one, else a copy of
        ``path``; otherwise a new, empty staging folder, over an interrupted one only with
        ``overwrite`` (without it, refused in one line: its epochs are not dropped unasked).
        """
        run = cls(path)
        p = run.path
        existing = cls.check_target(p, overwrite=overwrite, resume=resume)
        run._txn.acquire()
        try:
            run._refuse_interrupted(overwrite or resume)
            reuse = resume and run.resume_source() == run.work
            run._txn.begin(reuse=reuse, seed=p if resume and existing and not reuse else None)
            run._start_epoch = run._epoch()
            run._reused = reuse
            run.continues_finished = resume and existing and not reuse
        except BaseException:
            run.close()
            raise
        return run

    @staticmethod
    def check_target(path: Path, *, overwrite: bool = False, resume: bool = False) -> bool:
        """The refusals of :meth:`open` before it locks ``path`` (whether it holds anything): said
        again there, and first before the data are read (a user's folder, or a run without
        ``--overwrite``, refused after minutes of reading a large dataset)."""
        p = Path(path)
        if p.exists() and not p.is_dir():
            raise UsageError(f"{p} exists and is not a folder; pass another --out")
        existing = p.is_dir() and any(e.name != LEGACY_LOCK for e in p.iterdir())
        if existing and not resume:  # a folder of the user's: said first, not --overwrite offered
            _manifest.check_replaceable(p, "run", option="--out")
        if existing and not (overwrite or resume):
            raise UsageError(
                f"run folder {p} already exists; pass --overwrite to replace it or --resume to continue it"
            )
        # a folder inside it that could not be removed with it, another user's run in /tmp: refused
        # by the lock too, but only once the data were read (probe 61 modes #1)
        refuse_unwritable(p, f"run folder {p}", "pass a writable --out")
        if existing:
            refuse_held_in_sticky(p, f"run folder {p}", "pass another --out")
        return existing

    @classmethod
    def create(
        cls, path: str | os.PathLike, *, overwrite: bool = False, resume: bool = False
    ) -> RunFolder:
        """Same as :meth:`open` (the name of earlier versions)."""
        return cls.open(path, overwrite=overwrite, resume=resume)

    def _refuse_interrupted(self, chosen: bool) -> None:
        """An interrupted training's epochs (its staging folder) are not dropped unasked, as a
        finished run is not: one line, unless --overwrite or --resume ``chosen`` what to do."""
        done = self.interrupted_epochs()
        if done and not chosen:
            raise UsageError(
                f"run folder {self.path} has an interrupted training ({done} epoch"
                f"{'s' if done != 1 else ''} done, in {self.work}); pass --resume to continue it "
                f"or --overwrite to start again"
            )

    def _epoch(self) -> int:
        """The epoch of the checkpoint in the staging folder (0: none, or unreadable)."""
        return checkpoint_epoch(self.checkpoint_dir)

    def interrupted_epochs(self) -> int:
        """The epochs an interrupted training beside ``path`` kept for ``--resume`` (0: none, and
        a new training of the same command starts afresh without being refused)."""
        return self._epoch() if self._txn.resumable() else 0

    def epochs_kept(self) -> int:
        """The epochs of the checkpoint in the staging folder (0: none to resume)."""
        return self._epoch()

    def made_progress(self) -> bool:
        """Whether this process wrote a checkpoint beyond the one the run started from."""
        return self._epoch() > self._start_epoch

    def worth_keeping(self) -> bool:
        """Whether the staging folder holds epochs to resume that are not this process's alone
        to drop: an interrupted training it continues, or epochs it trained itself."""
        return self.made_progress() or (self._reused and self._start_epoch > 0)

    def commit(self) -> None:
        """Swap the complete new run in at ``path`` (atomic); the previous one is removed after."""
        self._txn.commit()

    def discard(self) -> None:
        """Remove the staging folder (nothing in it is worth resuming)."""
        self._txn.discard()

    def close(self) -> None:
        """Release the lock (it dies with the process too)."""
        self._txn.release()

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writers, each atomic --------------------------------------------------------------
    def write_json(self, name: str, obj: Any) -> Path:
        _io.write_json(self.work / name, obj)
        return self.work / name

    def write_history(self, history: list[dict]) -> Path:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["epoch", "train_loss", "val_loss", "seconds"])
        for r in history:
            writer.writerow(
                [
                    r["epoch"],
                    f"{r['train_loss']:.8g}",
                    "" if r.get("val_loss") is None else f"{r['val_loss']:.8g}",
                    f"{r['seconds']:.4f}",
                ]
            )
        _io.write_text(self.work / "history.csv", buf.getvalue())
        return self.work / "history.csv"


@contextlib.contextmanager
def updating(path: str | os.PathLike, since: tuple | None = None) -> Iterator[Path]:
    """A new version of the finished run ``path`` with files added or replaced (``aekit plot``'s
    figures): yields a hard-linked copy of the run to change, swapped in whole at the end (its
    manifest updated, the user's files kept), or left as it was on an error.

    ``since``: the run's :func:`~aekit.estimators.persistence.version` when the caller read it; a
    run replaced meanwhile (a ``train --overwrite`` that ended while ``calibrate`` read its data)
    is refused, not given the old run's config.json over its new weights.
    """
    from .._transaction import staged_folder
    from ..estimators.persistence import version

    path = Path(path)
    kind = _manifest.aekit_kind(path) or "run"
    with staged_folder(path, "model" if kind == "model" else "run", seed=True) as work:
        if since is not None and version(path) != since:
            raise RunInProgress(
                f"{path} was replaced while this command read it (another 'aekit train', "
                f"'calibrate' or 'plot' wrote it); run the command again"
            )
        yield work


def read_history(path: str | os.PathLike) -> list[dict]:
    """Read ``RUN/history.csv`` back into history records."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [
            {
                "epoch": int(r["epoch"]),
                "train_loss": float(r["train_loss"]),
                "val_loss": float(r["val_loss"]) if r["val_loss"] else None,
                "seconds": float(r["seconds"]),
            }
            for r in csv.DictReader(f)
        ]
