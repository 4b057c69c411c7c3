"""Folder transactions: a folder's new contents are built beside it and swapped in whole.

    parent/NAME             the complete folder (a run, a saved model): the previous one until commit
    parent/.NAME.lock       flock'ed by the one process writing NAME (its pid inside); removed when done
    parent/.NAME.partial/   the new contents being built, marked by a ``.aekit-partial`` file inside
    parent/.NAME.old/       the previous contents on their way out, after a commit

The commit is one atomic step where the system allows it: Linux's ``renameat2(RENAME_EXCHANGE)``
swaps the two folders, so at every instant NAME is the previous complete folder or the new one,
never neither. Elsewhere (other systems, file systems without the call) NAME is renamed to
.NAME.old and the new folder into place: two renames, and a process killed between them leaves
NAME missing and .NAME.old complete, which readers read (:func:`readable`) and the next writer
puts back (:meth:`FolderTransaction.acquire`).

The lock lives beside NAME rather than in it because NAME's folder is swapped away on commit;
its inode never moves. A writer killed with SIGKILL leaves the lock file (unlocked: the kernel
drops the flock with the process) and its .NAME.partial folder, which the next writer either
continues (``--resume``) or removes; a folder there without the marker (an old NAME swapped out
just before a kill) is never continued. Readers never lock; they only ask whether the lock is held.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from . import _manifest, _stop
from ._io import PID_DIGITS, carry_modes, followed, take_mode, write_failure
from ._notes import note
from ._removal import MARKER, refuse_held_in_sticky, refuse_unwritable, remove_tree
from .errors import NotWritable, RunFailure, RunInProgress, UsageError, WriteFailure

try:  # POSIX advisory locks; elsewhere the folder is not locked (best effort)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

TRAINING = "checkpoint"  # what a training's staging folder holds, and no other writer's
# in it once an epoch is kept (aekit.training.identity.LATEST): before, nothing is there to resume
CHECKPOINTED = "latest.json"
LEGACY_LOCK = ".lock"  # the lock file inside a run folder of aekit before 0.2
_RENAME_EXCHANGE = 2
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "ppc64le": 357, "s390x": 347, "riscv64": 276}
_AT_FDCWD = -100
LOCK_TRIES = 5  # a reader probing the lock holds it for microseconds: retry before saying "in use"


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def staging_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial")


def old_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.old")


def _staging_tmp(target: Path, pid: int | str) -> Path:
    """Where the staging folder is made before it is renamed into place (marked and seeded)."""
    return target.with_name(f".{target.name}.partial.{pid}.tmp")


def longest_name_beside(name: str) -> int:
    """Bytes of the longest name a transaction on the folder ``name`` makes beside it (the longest
    pid): the staging folder while it is made; the lock, staging and old folders are shorter."""
    return len(os.fsencode(_staging_tmp(Path(name), "9" * PID_DIGITS).name))


# ---- the atomic swap -------------------------------------------------------------------------------


class SwapUnsupported(OSError):
    """renameat2(RENAME_EXCHANGE) is not available here (system, C library or file system)."""


def _renameat2():
    """The C library's renameat2, or a raw syscall where glibc is older than 2.28; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        return fn
    number = _SYS_RENAMEAT2.get(os.uname().machine)
    if number is None:
        return None
    return lambda *args: libc.syscall(ctypes.c_long(number), *args)


def exchange(a: Path, b: Path) -> None:
    """Swap the names ``a`` and ``b`` (both must exist) in one atomic step, or raise SwapUnsupported."""
    fn = _renameat2()
    if fn is None:
        raise SwapUnsupported(errno.ENOSYS, "renameat2 is not available")
    if (
        fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE))
        == 0
    ):
        return
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        raise SwapUnsupported(err, os.strerror(err))
    raise OSError(err, os.strerror(err), str(b))


def _remove_previous(previous: Path | None, target: Path) -> None:
    """Remove the previous version of ``target`` after the swap; one note where that fails: the
    new version is in place and the command did what it was asked, so it does not fail (it exited
    1 with "directory not empty" while its change was in force: probe 61 modes #1)."""
    stuck = remove_tree(previous) if previous is not None else None
    if stuck is not None:
        note(
            f"the previous version of {target} is left in {previous}: {stuck} could not be "
            f"removed; remove {previous} yourself (make its folders writable first)"
        )


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends, so a rename sequence is never cut in two.

    Blocking them (``pthread_sigmask``) holds them for this thread only: a signal sent to the
    process lands on any thread that does not block it (one of torch's), and Python then runs its
    handler in the main thread, inside the block. So in the main thread the handlers are also
    swapped for one that only notes the signal, and each noted signal is sent again once the
    block is over, to the handler it was meant for.
    """
    sigs = {signal.SIGINT, signal.SIGTERM} | (
        {signal.SIGHUP} if hasattr(signal, "SIGHUP") else set()
    )
    with _handlers_deferred(sigs):
        try:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
        except (AttributeError, OSError, ValueError):  # pragma: no cover - no pthread_sigmask
            yield
            return
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def _handlers_deferred(sigs: set[int]) -> Iterator[None]:
    """Python-level handlers that only note ``sigs`` for the block; the noted ones sent again after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread runs Python's handlers, and only it may set them
        return
    noted: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _: noted.append(signum)) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for sig in noted:
            signal.raise_signal(sig)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def link_tree(src: Path, dst: Path) -> None:
    """Copy the tree ``src`` into ``dst`` with hard links (files are only ever replaced, never
    rewritten in place, so the two trees share nothing that changes); copies where links fail."""
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        top = rel == Path(".")
        (dst / rel).mkdir(parents=True, exist_ok=True)
        dirs[:] = [d for d in dirs if not _manifest.bookkeeping(d, top)]
        for name in files:
            if _manifest.bookkeeping(name, top):  # never carried into a new version
                continue
            s, d = Path(root) / name, dst / rel / name
            if s.is_symlink():
                os.symlink(os.readlink(s), d)
                continue
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d)


def _same_file(a: Path, b: Path) -> bool:
    """``b`` is ``a`` (a hard link, or a copy with the same bytes, or the same link)."""
    import filecmp

    if a.is_symlink() or b.is_symlink():
        return a.is_symlink() and b.is_symlink() and os.readlink(a) == os.readlink(b)
    try:
        return os.path.samefile(a, b) or filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


# ---- who holds a folder ------------------------------------------------------------------------------


def holder(target: Path) -> int | None:
    """The pid writing ``target`` right now (0 when unknown), or None when nobody holds its lock."""
    lock = lock_path(Path(target))
    if fcntl is None:
        return None
    try:
        fd = os.open(lock, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return int(text) if text.isdecimal() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def readable(target: str | os.PathLike) -> Path:
    """Where ``target``'s complete contents are: ``target``, or .NAME.old in a fallback commit's window."""
    target = Path(target)
    old = old_path(target)
    if not os.path.lexists(target) and old.is_dir():
        return old
    return target


def is_mount_point(path: str | os.PathLike, mountinfo: str = "/proc/self/mountinfo") -> bool:
    """Whether ``path`` is a mount point: ``os.path.ismount`` (another device than its parent), or
    listed in the kernel's mount table, where a bind mount of a folder of the same file system (a
    Docker or Kubernetes volume) is seen, which ismount misses."""
    if os.path.ismount(path):
        return True
    return os.path.realpath(path) in _mount_table(mountinfo)


def _mount_table(mountinfo: str = "/proc/self/mountinfo") -> set[str]:
    """The mount points the kernel lists (none where there is no such table: not Linux)."""
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as f:
            # field 5 is the mount point, with space, tab, newline and backslash octal-escaped
            return {
                re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
                for line in f
                if len(line.split()) > 4
            }
    except OSError:
        return set()


def mounts_inside(folder: str | os.PathLike, mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """The mount points below ``folder`` (a USB disk or a share mounted in an output folder)."""
    root = os.path.realpath(folder)
    return sorted(p for p in _mount_table(mountinfo) if p.startswith(root.rstrip("/") + "/"))


def folder_version(target: str | os.PathLike, files: tuple[str, ...] = ()) -> tuple | None:
    """Which version of the folder ``target`` is there now (None where there is none): its device
    and inode, and the inode, time and size of each of its ``files`` (None for one not there).

    Every commit swaps in another folder, but the folder's inode number alone does not name it:
    ext4 gives a removed folder's number to the next one made, so a run replaced twice while
    ``calibrate`` read it came back with the number it had read (A-B-A). The files a version
    writes anew carry a time that the file system does not hand out again.
    """
    try:
        real = readable(target)
        st = os.stat(real)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, *(_file_identity(real / name) for name in files))


def _file_identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def check_not_in_progress(target: str | os.PathLike) -> None:
    """For a ``target`` that does not exist: say so if it is being written, or was interrupted."""
    target = Path(target)
    pid = holder(target)
    if pid is not None and staging_path(target).is_dir():
        who = f"aekit process {pid}" if pid else "another aekit process"
        raise RunInProgress(
            f"{target} is still being written ({who}: it appears when complete); "
            f"wait for it to finish"
        )
    if (staging_path(target) / MARKER).is_file():
        raise RunInProgress(
            f"{target} was interrupted before it was complete (its files are in "
            f"{staging_path(target)}); continue it with the same 'aekit train' command and "
            f"--resume, or start it again with --overwrite"
        )


# ---- the transaction ----------------------------------------------------------------------------------


def _check_not_around_cwd(target: Path) -> None:
    """One line for a target that holds the current folder: swapped out and removed, it would
    leave the shell that ran aekit in a folder that no longer exists (``--out .``)."""
    try:
        here = Path.cwd()
    except OSError:  # the current folder is gone already
        return
    where = Path(os.path.abspath(target))
    if where == here or where in here.parents:
        what = "the root folder" if not where.name else "the folder you are in"
        raise UsageError(
            f"{target} is {what}, which aekit replaces whole (a new version built beside it, "
            f"swapped in); give a folder below it, or run from its parent and give its name"
        )


# how a refusal names the folder of each kind (aekit._manifest.KINDS)
_FOLDERS = {
    "run": "run folder",
    "model": "model folder",
    "index": "index folder",
    "output": "output folder",
    "mlflow": "MLflow model folder",
}


class FolderTransaction:
    """Build a new version of ``target`` in a staging folder beside it; :meth:`commit` swaps it in.

    With a ``kind`` (:data:`aekit._manifest.KINDS`) the commit writes the folder's manifest, and
    the files of the previous version that aekit did not write (the user's) are carried into the
    new one: a new version replaces only what aekit wrote.
    """

    def __init__(self, target: str | os.PathLike, kind: str | None = None):
        self.target = followed(target)
        if self.target.name in ("", ".."):  # "." or "..": the folder by its name in its parent
            self.target = Path(os.path.abspath(self.target))
        _check_not_around_cwd(self.target)
        self.kind = kind
        self.staging = staging_path(self.target)
        self.lock = lock_path(self.target)
        self._fd: int | None = None
        self.keep: list[str] = []  # the user's files in the previous version, carried over
        self.keep_folders: list[str] = []  # and the user's empty folders
        self.seeded = False  # the staging folder began as a linked copy of the previous version

    # -- the lock --
    def _check_place(self) -> None:
        """One line, before any work, for a target aekit cannot replace whole where it is."""
        if is_mount_point(self.target):
            # a Docker volume, a bind mount: a training ran to its end, then its swap failed
            # ("device or resource busy") and the run was left outside the volume
            raise UsageError(
                f"{self.target} is a mount point, which aekit cannot replace whole (a new version "
                f"is built beside it and swapped in): give a folder inside it, e.g. "
                f"{self.target / 'run'}"
            )
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NotWritable(
                f"cannot create {self.target.parent} ({exc.strerror}); pass a writable path",
                filename=str(self.target.parent),
            ) from None

    def _check_removable(self) -> None:
        """One line, before any work, for a previous version this process could not remove after
        the swap: a run made read-only, a read-only folder in it, another user's run. calibrate and
        plot replaced such a run (the user's write protection undone, the owner locked out), and
        the previous version stayed beside it (probe 61 modes #1, #5)."""
        what = f"{_FOLDERS.get(self.kind, 'folder')} {self.target}"
        refuse_unwritable(
            self.target,
            what,
            "aekit replaces it whole and removes the previous version: make it writable, or pass "
            "another path",
        )
        refuse_held_in_sticky(self.target, what, "pass another path")

    def acquire(self) -> FolderTransaction:
        """Lock ``target`` for this process (a one-line RunFailure if another holds it), then recover."""
        self._check_place()
        if not os.access(self.target.parent, os.W_OK | os.X_OK):
            raise NotWritable(
                f"cannot write in {self.target.parent} (new versions of {self.target.name} are "
                f"built beside it); pass a writable path",
                filename=str(self.target.parent),
            )
        self._check_removable()
        busy = 0
        while self._fd is None:
            fd = self._open_lock()
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    busy += 1
                    if busy >= LOCK_TRIES:
                        pid = holder(self.target)
                        who = f"aekit process {pid}" if pid else "another aekit process"
                        raise RunFailure(
                            f"{self.target} is in use by {who} (lock {self.lock}); "
                            f"wait for it or pass another path"
                        ) from None
                    time.sleep(0.05)
                    continue
                # The previous holder removes the lock file when done: lock the file that is on disk now.
                try:
                    same = os.stat(self.lock).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
            # the pid only informs readers; a full disk must not stop us here
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            self._fd = fd
        try:
            self._recover()
        except BaseException:
            self.release()  # refused: the lock goes with the refusal
            raise
        return self

    def _open_lock(self) -> int:
        """The lock file, opened or made, never through a symbolic link: a link planted at that name
        (anyone can in a shared folder) would have aekit write its pid over the file it names."""
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.lock, flags, 0o644)
        except OSError as exc:
            if not os.path.islink(self.lock):
                raise
            raise UsageError(
                f"{self.lock} is a symbolic link, not aekit's lock file ({exc.strerror}); "
                f"remove it, or pass another path"
            ) from None
        # aekit's lock holds a pid or nothing (a killed writer's stays); a file of the user's under
        # this name would be truncated, then removed with the lock
        head = os.pread(fd, 64, 0).strip()
        if head and not head.isdigit():
            os.close(fd)
            raise UsageError(
                f"{self.lock} is not aekit's lock file (it holds something other than a process "
                f"id); move it away, or pass another path"
            )
        return fd

    def release(self) -> None:
        """Remove the lock file and drop the lock (it also dies with the process)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.lock.unlink()
            os.close(self._fd)
            self._fd = None

    def _recover(self) -> None:
        """Finish what a killed writer left: a fallback commit's window, an old folder, a stray marker."""
        old = old_path(self.target)
        if os.path.lexists(old):
            if not os.path.lexists(self.target):
                # killed between the fallback's two renames: put it back
                os.rename(old, self.target)
            else:
                self._clear(old)
        with contextlib.suppress(OSError):
            (self.target / MARKER).unlink()  # killed between a commit and the marker's removal

    def _clear(self, path: Path) -> None:
        """Remove ``path``, a folder aekit left under a name it uses (.NAME.old, .NAME.partial); one
        line where it cannot: the name is needed, and a staging folder left half removed was
        taken for a new one."""
        stuck = remove_tree(self._ours(path))
        if stuck is not None:
            raise NotWritable(
                f"{path} (left by an earlier aekit command on {self.target}) cannot be removed: "
                f"{stuck} could not be; make its folders writable, or remove it, and run again",
                filename=str(stuck),
            )

    def _ours(self, path: Path) -> Path:
        """``path`` (``.NAME.partial`` or ``.NAME.old``) when aekit made it, to be removed; else one
        line: a folder of the user's under a name aekit uses was deleted without a word (a backup
        named .run.old). Folders of a kind carry aekit's manifest or marker in every version."""
        mine = not path.is_dir() or path.is_symlink() or _manifest.aekit_kind(path) is not None
        if self.kind and not mine:
            raise UsageError(
                f"{path} is not aekit's (no marker or manifest of aekit's in it); aekit uses "
                f"that name while it writes {self.target}: move it elsewhere and run again"
            )
        return path

    # -- the staging folder --
    def resumable(self) -> bool:
        """Whether a staging folder of an earlier, interrupted writer is there to be continued."""
        return (self.staging / MARKER).is_file()

    def begin(self, *, reuse: bool = False, seed: Path | None = None, discard: bool = True) -> Path:
        """Prepare the staging folder: the interrupted one when ``reuse``, else a new one (a hard-linked
        copy of ``seed`` when given); return it. ``discard``: an interrupted training's staging
        folder may be dropped (``train --overwrite``: the caller refuses a plain ``train`` over it
        first, :meth:`aekit.recipes.folder.RunFolder.open`); else it is refused in one line
        (``plot`` or ``calibrate`` deleted the epochs a ``--resume`` would have continued)."""
        if self.kind is not None and self.target.is_dir():
            self.keep = _manifest.ownership(self.target).user_files
            self.keep_folders = _manifest.empty_folders_under(self.target)
        if os.path.lexists(self.staging) and not (reuse and self.resumable()):
            # a training's (it holds its checkpoint); a killed save, plot or output is redone
            if self.resumable() and not discard and self._a_training():
                raise RunInProgress(
                    f"{self.target} has an interrupted training in {self.staging}; continue it "
                    f"with the same 'aekit train' command and --resume (or remove that folder) first"
                )
            self._clear(self.staging)
        # continued: drop the temporary files of the writer that died
        elif os.path.lexists(self.staging):
            for stale in self.staging.rglob(".*.tmp"):
                remove_tree(stale)
        if not self.staging.is_dir():
            tmp = _staging_tmp(self.target, os.getpid())
            remove_tree(tmp)
            try:
                tmp.mkdir()
                self._take_target_mode(tmp)
                if seed is not None and seed.is_dir():
                    link_tree(seed, tmp)
                    self.seeded = True
                # "update": not a training's (save, plot, calibrate: a copy of a finished run
                # holds its checkpoint folder too)
                mark = {"target": self.target.name, "pid": os.getpid(), "update": not discard}
                (tmp / MARKER).write_text(json.dumps(mark) + "\n")
                # marked and seeded in one step: never half a staging folder
                os.rename(tmp, self.staging)
            except BaseException as exc:
                remove_tree(tmp)
                if isinstance(exc, OSError):
                    raise write_failure(exc, self.staging) from None
                raise
        return self.staging

    def _take_target_mode(self, folder: Path) -> None:
        """The new version's folder takes the previous one's mode and group from the start, so that
        what is written in it inherits a setgid folder's group (probe 61 modes #2)."""
        with contextlib.suppress(OSError):
            if self.target.is_dir():
                take_mode(folder, os.stat(self.target))

    def discard(self) -> None:
        remove_tree(self.staging)

    def _a_training(self) -> bool:
        """Whether the staging folder is a training's (its checkpoint, for ``--resume``), not a
        killed ``calibrate``'s or ``plot``'s copy of the finished run, which holds one too."""
        if not (self.staging / TRAINING / CHECKPOINTED).is_file():
            return False  # failed or killed before its first epoch was kept: nothing to --resume
        return not self.an_update()

    def an_update(self) -> bool:
        """Whether the staging folder is a killed update's (``calibrate``, ``plot``, a save): a
        linked copy of a finished run, never a training for ``--resume`` to continue (it carried
        on with the threshold of a ``calibrate`` the user saw killed)."""
        try:
            return bool(json.loads((self.staging / MARKER).read_text()).get("update", False))
        except (OSError, ValueError, AttributeError):  # an older marker: a training's, as before
            return False

    def _carry_and_mark(self) -> None:
        """Link the user's files of the previous version into the staging folder (a name the new
        version also has is refused: neither file is lost), make its empty folders there, then
        write the manifest.

        The user's files are listed again now, under the lock: a file put into the folder while
        the new version was written was deleted by the swap, and one an editor saved anew was
        refused as a clash with the new version's files.
        """
        seeded = set(self.keep) if self.seeded else set()  # the seed's links of the user's files
        self._check_still_replaceable()
        if self.target.is_dir():
            self.keep = _manifest.ownership(self.target).user_files
            self.keep_folders = _manifest.empty_folders_under(self.target)
        for rel in seeded - set(self.keep):  # deleted by the user meanwhile: not brought back
            remove_tree(self.staging / rel)
        self._carry_folders()
        for rel in self.keep:
            src, dst = self.target / rel, self.staging / rel
            if os.path.lexists(dst):
                if _same_file(src, dst):
                    continue  # seeded from the previous version already
                if rel in seeded:  # the seed's link of a file the user has saved anew since
                    remove_tree(dst)
                else:
                    raise UsageError(
                        f"{self.target / rel} is your file (aekit did not write it), and the new "
                        f"{self.kind} writes a file of that name; move it out of {self.target} and "
                        f"run again"
                    )
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst, follow_symlinks=False)
            except OSError:
                shutil.copy2(src, dst, follow_symlinks=False)
        _manifest.write_manifest(self.staging, self.kind, exclude=self.keep)

    def _check_still_replaceable(self) -> None:
        """One line, before the swap, for a target that became what aekit may not replace since the
        command looked: a file saved at its name (the swap removed it), a file system mounted inside
        it (its files copied off, then deleted from it with the previous version)."""
        if os.path.lexists(self.target) and not self.target.is_dir():
            kept = (self.staging / TRAINING).exists()  # a training's: left for its --resume
            raise UsageError(
                f"{self.target} is now a file that aekit did not write (made while the new "
                f"{self.kind} was written); move it away and run again"
                + (" with --resume: the trained run waits beside it" if kept else "")
            )
        mounted = mounts_inside(self.target) if self.target.is_dir() else []
        if mounted:
            raise UsageError(
                f"{mounted[0]} is a file system mounted inside {self.target}, which aekit replaces "
                f"whole; unmount it or move it out, then run again"
            )

    def _carry_folders(self) -> None:
        """The user's empty folders of the previous version, made in the staging folder (where the
        new version has a file of that name, refused: the folder is not lost)."""
        for rel in self.keep_folders:
            dst = self.staging / rel
            if os.path.lexists(dst) and not dst.is_dir():
                raise UsageError(
                    f"{self.target / rel} is your folder (aekit did not make it), and the new "
                    f"{self.kind} writes a file of that name; move it out of {self.target} and run again"
                )
            dst.mkdir(parents=True, exist_ok=True)

    def commit(self) -> None:
        """Swap the staging folder in as ``target``; the previous ``target`` is removed after.

        Never once a signal asked the command to stop (:mod:`aekit._stop`), even if its
        interrupt was lost on the way: the previous folder stays.
        """
        _stop.check()
        if self.kind is not None:
            self._carry_and_mark()
        if self.target.is_dir():
            carry_modes(self.staging, self.target)
        with signals_deferred():
            previous = self._swap()
            with contextlib.suppress(OSError):
                (self.target / MARKER).unlink()
            _fsync_dir(self.target.parent)
        if previous is not None:
            self._move_late_files(previous)
        _remove_previous(previous, self.target)

    def _swap(self) -> Path | None:
        """Put the staging folder at ``target``; where the previous version went (None: none was).

        Once the two are exchanged the command has done its work: the previous version is moved
        on to .NAME.old where it can be, and otherwise left under the staging folder's name to be
        removed there, never an error (a leftover .NAME.old made the command exit 1 with its
        change in force, and a marker stayed in the new version: probe 61 modes #1).
        """
        old = old_path(self.target)
        if not os.path.lexists(self.target):
            os.rename(self.staging, self.target)
            return None
        try:
            exchange(self.staging, self.target)
        except SwapUnsupported:
            # a kill here leaves .NAME.old: readers and writers use it
            os.rename(self.target, old)
            os.rename(self.staging, self.target)
            return old
        try:
            os.rename(self.staging, old)
        except OSError:
            return self.staging
        return old

    def _move_late_files(self, old: Path) -> None:
        """Move into the new version the user's files that reached the previous one after
        :meth:`_carry_and_mark` listed them (new ones, or saved anew), before the swap.

        The manifest hashes every file of the new version between the listing and the swap: on a
        run of 500 MB a file written into it every 10 ms lost about 40 of them to ``_remove``.
        A late file under a name the new version writes itself stays where it is, and is lost
        with the previous version (a clash in a window of milliseconds).
        """
        if self.kind is None or not old.is_dir():
            return
        for rel in _manifest.ownership(old).user_files:
            src, dst = old / rel, self.target / rel
            if os.path.lexists(dst) and (rel not in self.keep or _same_file(src, dst)):
                continue  # carried already, or the new version's own file of that name
            with contextlib.suppress(OSError):  # best effort: the new version is in place
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)

    def __enter__(self) -> FolderTransaction:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike, kind: str, *, seed: bool = False) -> Iterator[Path]:
    """Write a new version of the folder ``target`` (an output folder, an index, a model) in one step.

    Yields the staging folder (a hard-linked copy of the previous version when ``seed``); when the
    block ends without an error the user's files of the previous version are carried over, the
    manifest is written and the folder swapped in; on an error nothing changes at ``target``.
    """
    with FolderTransaction(target, kind=kind).acquire() as txn:
        work = txn.begin(seed=txn.target if seed and txn.target.is_dir() else None, discard=False)
        try:
            yield work
            txn.commit()
        except WriteFailure as exc:  # a full disk: named as the folder asked for
            txn.discard()
            raise named_at(exc, work, Path(target)) from None
        except BaseException:
            txn.discard()
            raise


def named_at(exc: WriteFailure, work: Path, target: Path) -> WriteFailure:
    """``exc`` naming the file at ``target`` that it was writing in the staging folder ``work``:
    "no space left on device writing idx/vectors.safetensors", not ".idx.partial/vectors...", a
    hidden folder already gone."""
    try:
        inside = Path(exc.filename or "").relative_to(work)
    except ValueError:
        return exc
    final = str(target / inside)
    return WriteFailure(str(exc).replace(str(exc.filename), final), errno=exc.errno, filename=final)
