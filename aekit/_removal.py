"""Removing what aekit wrote, and asking first whether this process may: a folder's files go
before the marks that say it is aekit's (its manifest and staging marker), so a removal cut short
is still known as aekit's, and a tree this process cannot empty is found before any work."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

from ._manifest import MANIFEST, MARKER
from .errors import NotWritable


def remove_tree(path: Path) -> Path | None:
    """Remove ``path`` (a folder with all it holds); the first path that could not be removed, or
    None when all is gone.

    A folder's manifest and marker go last: a removal cut short (a read-only subfolder) left
    .NAME.old without them, and every later writer refused it as a folder of the user's
    (probe 61 modes #1).
    """
    if not path.is_dir() or path.is_symlink():
        return _unlink(path)
    try:
        entries = list(os.scandir(path))
    except OSError:
        return path
    failed = _remove_all(path, [e for e in entries if e.name not in _MARKS])
    if not failed:
        failed = [stuck for name in _MARKS if (stuck := _unlink(path / name)) is not None]
    if not failed:
        try:
            path.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            failed.append(path)
    return failed[0] if failed else None


def _remove_all(folder: Path, entries: list[os.DirEntry]) -> list[Path]:
    """Remove ``entries`` of ``folder`` (folders with all they hold); the paths that could not be."""
    failed: list[Path] = []

    def record(_function, where, exc) -> None:
        if not _gone(exc):  # another process removed it first: removed (review 1 F3)
            failed.append(Path(where))

    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, **{_ON_ERROR: record})
        elif (stuck := _unlink(folder / entry.name)) is not None:
            failed.append(stuck)
    return failed


def _gone(exc) -> bool:
    """Whether rmtree's error (``onexc``'s exception, or ``onerror``'s exc_info before 3.12) says
    the entry was gone already: 3.11's rmtree calls back for a file another process removed."""
    error = exc[1] if isinstance(exc, tuple) else exc
    return isinstance(error, FileNotFoundError)


_MARKS = (MARKER, MANIFEST)  # what says a folder is aekit's: removed last
_ON_ERROR = "onexc" if sys.version_info >= (3, 12) else "onerror"


def _unlink(path: Path) -> Path | None:
    """Remove the file or link ``path``; ``path`` when it could not be removed, else None."""
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError:
        return path
    return None


def unwritable_folder(top: Path) -> Path | None:
    """The first folder in the tree ``top`` (``top`` included) that this process may not list,
    enter or change: one whose files it could not remove (None when there is none)."""
    failed: list[Path] = []
    for root, _dirs, _files in os.walk(top, onerror=lambda exc: failed.append(Path(exc.filename))):
        if failed:
            break
        if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
            return Path(root)
    return failed[0] if failed else None


def refuse_unwritable(top: Path, what: str, remedy: str) -> None:
    """One line (:class:`NotWritable`) for a tree ``top`` holding a folder this process may not
    change (:func:`unwritable_folder`): ``what`` names it ("run folder runs/a"), ``remedy`` says
    what to do."""
    blocked = unwritable_folder(top) if top.is_dir() else None
    if blocked is not None:
        inside = "" if blocked == top else f" ({blocked} in it is not)"
        raise NotWritable(f"{what} is not writable{inside}; {remedy}", filename=str(blocked))


def held_by_another_in_sticky(target: Path) -> bool:
    """Whether ``target`` lies in a sticky folder (``/tmp``, a shared 1777 folder) and neither it nor
    that folder is this process's: there only their owners may move it, and the swap failed with
    "operation not permitted" once the work was done (unless the process may move any file)."""
    try:
        here, parent = os.lstat(target), os.stat(target.parent)
    except OSError:
        return False
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is None or not parent.st_mode & stat.S_ISVTX or uid in (here.st_uid, parent.st_uid):
        return False
    return not _may_move_any()


def refuse_held_in_sticky(target: Path, what: str, remedy: str) -> None:
    """One line (:class:`NotWritable`) for ``target`` held by another user in a sticky folder
    (:func:`held_by_another_in_sticky`): ``what`` names it, ``remedy`` says what to do."""
    if held_by_another_in_sticky(target):
        raise NotWritable(
            f"{what} is another user's, in the sticky folder {target.parent} (only its owner may "
            f"move it, and aekit replaces it whole); {remedy}",
            filename=str(target),
        )


_CAP_FOWNER = 3  # the capability that lets a process move another user's file in a sticky folder


def _may_move_any() -> bool:
    """Whether this process holds CAP_FOWNER (root, as a rule); where the kernel does not say, root."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> _CAP_FOWNER & 1)
    except (OSError, ValueError, IndexError):
        pass
    return os.geteuid() == 0
