"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Write to a temporary file in the same folder, flush and fsync it, then ``os.replace`` it
over the target (atomic on POSIX and Windows). An output the command found absent and may not
replace (:func:`create_only`, no ``--overwrite``) is linked into place instead, which fails if
another process wrote it meanwhile: two commands writing one output do not both "succeed".
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import math
import numbers
import os
import re
import secrets
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ._limits import soft_limit
from .errors import AekitError, ArgumentTypeError, RunFailure, UsageError, WriteFailure


def followed(path: str | os.PathLike) -> Path:
    """Where an output given as ``path`` is written.

    A symbolic link to a folder is followed: the folder it names is written (and only what aekit
    wrote in it is replaced: :mod:`aekit._manifest`). A link to a file is replaced itself, as ``mv``
    would: the file it points to was not necessarily written by aekit, so it is never written
    through. A link to nothing yet is followed: the file it names is created, nothing is replaced.
    """
    path = Path(path)
    if not path.is_symlink() or replaces_link(path):
        return path
    return Path(os.path.realpath(path))


def replaces_link(path: str | os.PathLike) -> bool:
    """``path`` is a symbolic link to something other than a folder: writing it replaces the link."""
    return os.path.islink(path) and os.path.exists(path) and not os.path.isdir(path)


_CREATE_ONLY: set[str] = set()  # outputs found absent without --overwrite: written if still absent


def _key(path: str | os.PathLike) -> str:
    """``path`` with its folder resolved (the name itself may be a link, replaced as a file)."""
    path = os.path.abspath(os.fspath(path))
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def create_only(path: str | os.PathLike, only: bool = True) -> None:
    """The next :func:`atomic_path` write of ``path`` creates it and replaces nothing: the command
    checked that it does not exist and was not given ``--overwrite`` (:func:`aekit._outputs.check_output`);
    ``only=False``: it may replace (``--overwrite``), whatever an earlier check in this process said."""
    (_CREATE_ONLY.add if only else _CREATE_ONLY.discard)(_key(path))


def _put(tmp: Path, path: Path) -> None:
    """``tmp`` renamed to ``path``: over it, or (:func:`create_only`) only where nothing is."""
    key = _key(path)
    if key not in _CREATE_ONLY:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if path exists, atomically: the check and the write are one
    except FileExistsError:
        raise UsageError(
            f"{path} was written by another process while this command ran; it is left as that "
            f"process wrote it and this output is not written (pass --overwrite to replace it)"
        ) from None
    except OSError:  # a file system without hard links: the check, then the rename
        if os.path.lexists(path):
            raise UsageError(
                f"{path} was written by another process while this command ran"
            ) from None
        os.replace(tmp, path)
    else:
        os.unlink(tmp)
    _CREATE_ONLY.discard(key)  # written: this process's own file from now on


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed over ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched; one that a
    SIGKILL or a power cut left is removed by the next write in its folder
    (:func:`remove_stale_temporaries`). ``suffix`` keeps a file ending that writers such as
    matplotlib or Pillow look at.
    """
    path = Path(path)
    if path.is_dir():  # os.replace would fail naming the temporary file
        raise UsageError(f"cannot write {path}: it is a folder; expected a file path")
    try:
        tmp_path = _new_temporary(path, suffix, _mode_of(path))
    except OSError as exc:
        raise write_failure(exc, path) from None
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:  # flush the bytes to disk before the rename
            os.fsync(f.fileno())
        _keep_mode_of(path, tmp_path)
        _put(tmp_path, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, AekitError) and _is_storage_error(exc):
            raise write_failure(exc, path) from None
        raise
    finally:
        _let_go(tmp_path)


@contextlib.contextmanager
def scratch_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a new empty file beside ``path`` that no one else names, removed on exit unless moved.

    For work files such as a download in progress: a fixed name (``NAME.part``) would be opened
    through whatever a user, or anyone sharing the folder, left at that name: a link to their file.
    :func:`_new_temporary` makes the file itself (never a link, never one already there), named as
    an atomic write's temporary file so that one a killed process left is swept
    (:func:`remove_stale_temporaries`).
    """
    tmp = _new_temporary(Path(path), suffix)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        _let_go(tmp)


def _mode_of(path: Path) -> int:
    """The mode a new version of ``path`` is made with: 0666 (the umask or the folder's ACL applies),
    no more than the file it replaces allows, so a 0600 output is not readable while it is
    written (review 1 F4); its exact bits follow at the end (:func:`_keep_mode_of`)."""
    try:
        previous = os.lstat(path)
    except OSError:
        return 0o666
    if not stat.S_ISREG(previous.st_mode):
        return 0o666
    # the owner may always read and write its own new file (a 0444 one left the writer unable to
    # fill it: review 2 R2-3); group and others get no more than the previous file gave them
    return (0o666 & stat.S_IMODE(previous.st_mode)) | stat.S_IRUSR | stat.S_IWUSR


def _new_temporary(path: Path, suffix: str, mode: int = 0o666) -> Path:
    """A new empty file beside ``path`` under a temporary name of this process (never a link, never
    a file already there), the folder's stale ones swept first.

    Made with mode 0666 as ``open(path, "w")`` makes a file, so that the kernel applies the umask,
    or the folder's default ACL where it has one (which replaces the umask): mkstemp's 0600 and a
    chmod from the umask after it kept a user named in a shared folder's ACL from reading the file
    (probe 61 modes #4).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    prefix = _temp_prefix(_temp_stem(path.name, suffix, name_max(path.parent)))
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(tempfile.TMP_MAX):
        letters = "".join(secrets.choice(_LETTERS) for _ in range(8))  # as mkstemp's
        tmp = path.parent / f"{prefix}{letters}{suffix}.tmp"
        try:
            fd = os.open(tmp, flags, mode)
        except FileExistsError:
            continue
        _hold(fd, tmp)
        return tmp
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(path.parent))


_writing: dict[Path, int] = {}  # this process's temporary files in use: their locked descriptors
# Locked at once, at most: a command staging many outputs (aekit neighbors' figure pages) held one
# descriptor each and failed past `ulimit -n` (review 64 #1); past this the pid alone tells.
HELD_MOST = 16


def _hold(fd: int, tmp: Path) -> None:
    """Keep ``fd`` of the new temporary file ``tmp`` open and locked (flock) until :func:`_let_go`:
    a sweep by a process that cannot tell this one alive by its pid (another pid namespace:
    containers sharing a hostname and a folder) leaves a locked file alone. The kernel drops the
    lock when this process dies, however it dies. Where flock is missing, or :data:`HELD_MOST`
    are held already, the pid alone tells."""
    try:
        import fcntl

        if len(_writing) < HELD_MOST:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _writing[tmp] = fd
            return
    except (ImportError, OSError):
        pass
    os.close(fd)


def _let_go_in_child() -> None:
    """A forked child closes the locks it inherited (flock belongs to the open file, shared with
    the parent): one outliving its parent kept a dead writer's file from the sweep (review 64 #5)."""
    for fd in _writing.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _writing.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_in_child)


def _let_go(tmp: Path) -> None:
    """Close the locked descriptor :func:`_hold` kept of ``tmp`` (renamed or removed by now)."""
    fd = _writing.pop(tmp, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def _keep_mode_of(path: Path, tmp: Path) -> None:
    """``tmp``, about to replace the file ``path``, takes its permission bits and (where this
    process may set it) its group, as ``open(path, "w")`` keeps them: --overwrite made a 0600 output
    0644 and dropped its group (probe 61 modes #3). A link replaced itself has no mode to keep."""
    try:
        previous = os.lstat(path)
    except OSError:
        return
    if stat.S_ISREG(previous.st_mode):
        take_mode(tmp, previous)


def take_mode(path: str | os.PathLike, like: os.stat_result) -> None:
    """Give ``path`` the group (where this process may: a group it is in) and the permission bits
    of the file or folder ``like`` was (a folder's setgid and sticky bits too); the group first,
    since changing it clears a setgid bit. Through a descriptor opened without following links:
    an entry swapped for a link after it was looked at passed the chmod on to the link's target
    (review 1 F6). One that cannot be opened so (a FIFO's peer, no read permission) is left."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        if os.fstat(fd).st_gid != like.st_gid:
            with contextlib.suppress(PermissionError):  # not a member of that group: keep ours
                os.fchown(fd, -1, like.st_gid)
        bits = 0o3777 if stat.S_ISDIR(like.st_mode) else 0o777  # never a setuid bit
        if stat.S_IMODE(os.fstat(fd).st_mode) != stat.S_IMODE(like.st_mode) & bits:
            os.fchmod(fd, stat.S_IMODE(like.st_mode) & bits)
    finally:
        os.close(fd)


def carry_modes(new: Path, previous: Path) -> None:
    """Give the folder ``new`` and each file and folder in it the permission bits and group of the
    one it replaces in ``previous`` (where one of its type is there): a new version was made with
    the default mode, and a run locked to a group (2770, files 660) came back 755 and 644, its
    group and setgid bit gone (probe 61 modes #2). Hard links of the previous files are skipped:
    they are those files."""
    _carry_mode(new, previous)
    for root, dirs, files in os.walk(new):
        rel = Path(root).relative_to(new)
        for name in (*dirs, *files):
            _carry_mode(Path(root) / name, previous / rel / name)


def _carry_mode(path: Path, was: Path) -> None:
    try:
        now, like = os.lstat(path), os.lstat(was)
    except OSError:
        return
    same_type = stat.S_IFMT(now.st_mode) == stat.S_IFMT(like.st_mode)
    linked = (now.st_dev, now.st_ino) == (like.st_dev, like.st_ino)  # the previous file itself
    if same_type and not stat.S_ISLNK(now.st_mode) and not linked:
        with contextlib.suppress(OSError):  # best effort: the mode is not worth the new version
            take_mode(path, like)


# The temporary file of an atomic write: .NAME.HOST-PID.XXXXXXXX[SUFFIX].tmp, where HOST tags the
# machine and PID the writer, so that a later write can tell a dead writer's file from a live one's
# (XXXXXXXX: mkstemp's random letters).
TEMP = re.compile(
    r"\.(?P<name>.+)\.(?P<host>[0-9a-f]{6})-(?P<pid>[1-9][0-9]{0,9})\.[a-z0-9_]{8}(?:\.[^./]+)?\.tmp"
)
_swept: set[str] = set()  # folders whose stale temporary files this process removed already


PID_DIGITS = 10  # the most digits of a pid in a helper's name (Linux's pid_max, 2**22, has 7)


# bytes a temporary name adds to its stem and suffix: ".", ".HOST-PID.", mkstemp's letters, ".tmp"
_TEMP_EXTRA = 1 + 1 + 6 + 1 + PID_DIGITS + 1 + 8 + len(".tmp")


def name_max(folder: Path) -> int:
    """The longest file name (bytes) the file system of ``folder`` (or its nearest existing
    parent) takes: 255 on most, 143 on eCryptfs (an encrypted home folder)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # not POSIX, or not asked: the common limit
        return 255


def longest_temp_name(name: str, limit: int = 255) -> int:
    """Bytes of the longest temporary file name an atomic write of ``name`` makes beside it, in a
    folder whose names may have ``limit`` bytes (the longest pid, and ``name``'s suffix kept:
    :func:`write_with`)."""
    pid, letters, suffix = "9" * PID_DIGITS, "x" * 8, Path(name).suffix
    stem = _temp_stem(name, suffix, limit)
    return len(os.fsencode(f"{_temp_prefix(stem, pid)}{letters}{suffix}.tmp"))


def _temp_stem(name: str, suffix: str, limit: int) -> str:
    """``name`` as the temporary file's name holds it: cut where the temporary name would pass the
    folder's ``limit`` while ``name`` fits (an --overlay of an input named in 222 to 255 bytes
    failed after all the work: probe 59 locale L1). mkstemp's letters keep a cut name unique."""
    room = limit - _TEMP_EXTRA - len(os.fsencode(suffix))
    while name and len(os.fsencode(name)) > room:  # whole characters: no UTF-8 sequence cut
        name = name[: -max(1, (len(os.fsencode(name)) - room) // 4)]
    return name or "_"


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def _temp_prefix(name: str, pid: int | str | None = None) -> str:
    return f".{name}.{_host_tag()}-{os.getpid() if pid is None else pid}."


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (when unsure: yes, so its file is kept)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # EPERM: another user's live process
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of atomic writes in ``folder`` that a writer killed on this machine
    left (SIGKILL, a power cut); return them.

    Only a regular file whose name is exactly aekit's pattern, tagged with this machine, whose
    writer's pid no longer runs, and whose lock no process holds (a pid says nothing across pid
    namespaces), is removed: never a user's file, nor one a live writer (or one on another machine
    sharing the folder) is still writing. Looked at once per folder and process, so
    that the writes of many files into one folder do not each list it again.
    """
    folder = Path(folder)
    key = os.path.abspath(folder)
    if key in _swept:
        return []
    _swept.add(key)
    removed = []
    for entry in _left_by_the_dead(folder, TEMP):
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and _unlocked(entry.path):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _left_by_the_dead(folder: str | os.PathLike, pattern: re.Pattern[str]) -> list[os.DirEntry]:
    """The entries of ``folder`` named exactly by ``pattern`` (its groups ``host`` and ``pid``)
    that a process of this machine made and that no longer runs (POSIX: os.kill(pid, 0) is no
    liveness probe elsewhere); none where the folder cannot be listed."""
    if os.name != "posix":
        return []
    host = _host_tag()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return [
        entry
        for entry in entries
        if (match := pattern.fullmatch(entry.name)) is not None
        and match["host"] == host
        and not _alive(int(match["pid"]))
    ]


OWNER = ".aekit-owner"  # in a temporary folder: locked (flock) by its process for its life
_held: list[int] = []  # this process's owner locks, open until it exits (the kernel drops them)


def temp_folder(prefix: str) -> str:
    """A new temporary folder ``{prefix}{host}-{pid}-XXXXXXXX``, made after removing those of
    ``prefix`` that a process killed on this machine left (SIGKILL, the OOM killer: its atexit
    removal never ran). Only a folder named exactly so, tagged with this machine, whose process
    no longer runs, and whose :data:`OWNER` lock no process holds (a pid says nothing across pid
    namespaces: containers sharing a hostname and /tmp), is removed: never a user's folder, nor
    one a live process uses. The folder is made under another name and renamed once locked, so
    that no sweep sees it unlocked."""
    import shutil

    host, tmp = _host_tag(), tempfile.gettempdir()
    pattern = re.compile(re.escape(prefix) + r"(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[a-z0-9_]{8}")
    for entry in _left_by_the_dead(tmp, pattern):
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False) and _unowned(entry.path):
                shutil.rmtree(entry.path, ignore_errors=True)
    making = tempfile.mkdtemp(prefix=f".{prefix}", dir=tmp)
    _own(making)
    folder = os.path.join(tmp, f"{prefix}{host}-{os.getpid()}-{making[-8:]}")
    os.rename(making, folder)
    return folder


def _own(folder: str) -> None:
    """Hold ``folder``'s :data:`OWNER` lock for the rest of this process (where flock exists)."""
    fd = os.open(os.path.join(folder, OWNER), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):  # no flock here: the pid alone says whether it is in use
        pass
    _held.append(fd)


def _unowned(folder: str) -> bool:
    """Whether ``folder``'s :data:`OWNER` lock is held by no process. False where there is no
    such lock."""
    return _unlocked(os.path.join(folder, OWNER))


def _unlocked(path: str) -> bool:
    """Whether the file ``path`` is locked (flock) by no process: its lock is released when its
    holder dies, however it dies. True on a file system that takes no locks (the pid alone
    tells, as where the lock was taken: :func:`_hold`); False where it cannot be opened or the
    lock cannot be tried (no fcntl; NFS's emulated lock on a file opened read-only): kept."""
    flags = (
        getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        import fcntl

        try:  # read-write where this process may: NFS emulates flock by a write lock
            fd = os.open(path, os.O_RDWR | flags)
        except PermissionError:
            fd = os.open(path, os.O_RDONLY | flags)
    except (ImportError, OSError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:  # held (EWOULDBLOCK), or not to be tried (EBADF): kept
        return exc.errno in _NO_LOCKS  # none taken here, by anyone
    finally:
        os.close(fd)


_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL}


# Errors of a write that ran out of room: no space, quota, a file-size limit (RLIMIT_FSIZE), I/O.
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def _is_storage_error(exc: OSError) -> bool:
    # numpy's tofile/np.save report a short write as "N requested and M written", without an errno
    return exc.errno in _STORAGE_ERRNOS or (exc.errno is None and "requested and" in str(exc))


def write_failure(exc: OSError, path: str | os.PathLike) -> WriteFailure:
    """A one-line error naming ``path`` for an OSError raised while writing it."""
    found = storage_reason(exc, path)
    if found is not None:
        reason, fix = found
        code = errno.EFBIG if reason.startswith("file too large") else exc.errno or errno.ENOSPC
        return WriteFailure(f"{reason} writing {path}; {fix}", errno=code, filename=str(path))
    return WriteFailure(
        f"cannot write {path}: {(exc.strerror or str(exc)).lower()}",
        errno=exc.errno,
        filename=str(path),
    )


FREE_SPACE = "free some space or write elsewhere"


def storage_reason(exc: OSError, path: str | os.PathLike | None) -> tuple[str, str] | None:
    """(what stopped the write, what to do) for a write that ran out of room; None for another
    error. A file-size limit (``ulimit -f``) is said as such: freeing space does not lift it."""
    code = exc.errno
    if code is None and "requested and" in str(exc):  # numpy's short write: no errno to go by
        code = errno.EFBIG if _over_size_limit(path) else errno.ENOSPC
    if code == errno.EFBIG:
        limit = file_size_limit()
        if limit is None:  # the file system's own largest file (FAT's 4 GiB)
            return "file too large for this file system", "write it to another file system"
        # in bytes: ulimit -f counts 1024-byte blocks in bash, 512-byte ones in sh and zsh
        return f"file too large for the file-size limit of {limit:,} bytes (ulimit -f)", (
            "raise that limit or write a smaller file"
        )
    reasons = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}
    return (reasons[code], FREE_SPACE) if code in reasons else None


def file_size_limit() -> int | None:
    """The soft RLIMIT_FSIZE (``ulimit -f``) in bytes; None where it is unlimited or unknown."""
    return soft_limit("RLIMIT_FSIZE")


def _over_size_limit(path: str | os.PathLike | None) -> bool:
    """Whether a short write without an errno hit the file-size limit rather than a full disk: the
    disk (the cut file already removed) has at least the limit's room, so it was not the disk."""
    limit = file_size_limit()
    if limit is None or path is None:  # no output to look at: a full disk, as before
        return False
    try:
        stat = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except (OSError, AttributeError):  # no statvfs (Windows)
        return False
    return stat.f_bavail * stat.f_frsize >= limit


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


# how text files aekit writes encode a file name read from a disk that is not UTF-8 (a Windows zip
# unpacked on Linux: r\xe9sum\xe9.png, which Python holds as "r\udce9sum\udce9.png"): its own bytes
TEXT_ERRORS = "surrogateescape"


def readable(text: str) -> str:
    """``text`` with the bytes of a name that is not UTF-8 (held as surrogates, :data:`TEXT_ERRORS`)
    shown as U+FFFD: for what cannot carry those bytes (a figure's text, which matplotlib's fonts
    refuse; TensorBoard's labels, written as strict UTF-8). A name read under an ASCII locale
    (its UTF-8 bytes held as surrogates) comes back as the UTF-8 text it is."""
    try:
        raw = text.encode("utf-8", TEXT_ERRORS)
    except UnicodeEncodeError:  # a surrogate no decoder made: no bytes to show
        return text.encode("utf-8", "replace").decode("utf-8")
    return raw.decode("utf-8", "replace")


class CsvRows:
    """``csv.writer``'s rows ending in "\\n", a cell holding a carriage return quoted too.

    Python's writer quotes a cell holding the delimiter, the quote or a character of its line
    ending, so with "\\n" an id ``x\\ry`` went out bare, and pandas and ``csv.reader`` split its
    row in two (every later id then beside another row's score). Each row is written with the
    line ending "\\r\\n", which makes the writer quote both, and ended in "\\n".
    """

    def __init__(self, f, delimiter: str = ","):
        self.f, self.buf = f, io.StringIO()
        self.writer = csv.writer(self.buf, delimiter=delimiter, lineterminator="\r\n")

    def writerow(self, row) -> None:
        self.buf.seek(0)
        self.buf.truncate()
        self.writer.writerow(row)
        self.f.write(self.buf.getvalue()[:-2] + "\n")

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def text_file(path: str | os.PathLike):
    """``path`` opened to write a CSV or other text: UTF-8, names not UTF-8 as their own bytes."""
    return open(path, "w", newline="", encoding="utf-8", errors=TEXT_ERRORS)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; a file name that is not UTF-8 (held as text
    with surrogates, :data:`TEXT_ERRORS`) is written as the bytes it has on disk."""
    write_bytes(path, text.encode("utf-8", TEXT_ERRORS))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (NaN and infinity are refused: not JSON)."""
    try:
        text = json.dumps(obj, indent=2, sort_keys=False, allow_nan=False)
    except ValueError as exc:
        raise RunFailure(f"cannot write {path}: a value is not a finite number ({exc})") from None
    except TypeError as exc:
        raise RunFailure(f"cannot write {path}: a value is not JSON ({exc})") from None
    write_text(path, text + "\n")


def finite_figures(figures: Any, name: str = "") -> tuple[Any, list[str]]:
    """``figures`` (numbers in dicts and lists) with each number that is not finite (the mean of
    scores of which one overflowed to inf) as None, and the names of those, ``key.sub[2]``: JSON
    has no Infinity or NaN (:func:`write_json` refuses them), and a whole training was lost to one
    such figure in its metrics.json. NumPy's floats are numbers too."""
    if isinstance(figures, dict):
        pairs = [finite_figures(v, f"{name}.{k}" if name else str(k)) for k, v in figures.items()]
        return dict(zip(figures, (v for v, _ in pairs))), [n for _, ns in pairs for n in ns]
    if isinstance(figures, (list, tuple)):
        pairs = [finite_figures(v, f"{name}[{i}]") for i, v in enumerate(figures)]
        return [v for v, _ in pairs], [n for _, ns in pairs for n in ns]
    if isinstance(figures, numbers.Real) and not math.isfinite(figures):
        return None, [f"{name} ({figures})"]
    return figures, []


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move its file to ``path`` atomically (keeps the suffix)."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:
        writer(tmp)


def as_path(path: Any, name: str, what: str = "a path") -> Path:
    """``path`` as a Path; a value that is not one (None, a number, an empty string, NUL) is refused
    in one line as aekit's ArgumentTypeError (also a TypeError), naming the argument."""
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path.strip()):
        raise ArgumentTypeError(f"{name} must be {what} (str or Path), got {path!r}")
    try:
        return Path(path)
    except (TypeError, ValueError) as exc:  # bytes paths
        raise ArgumentTypeError(f"{name} must be {what}, got {path!r} ({exc})") from None
