"""Where a command may write: outputs never clobber what they were not asked to.

:func:`check_output` is the one check every command with an output path calls before it reads
or computes anything: the path is not empty, its folder is writable, it does not resolve to one
of the command's inputs (nor inside or around one), nor into a folder aekit made (a run, a saved
model, an index, an output folder: :mod:`aekit._manifest`) other than the one being replaced, a
file is not a folder (nor a folder a file), and it exists only with ``overwrite``; a folder is
replaced only when aekit made it as that kind of folder (a user's folder is refused, naming the
user's files). :func:`output_path` is where to write: a symbolic link to a folder is followed, a
link to a file is replaced itself (as ``mv`` would), never written through; a link is still judged
by where it points, so one into an input or a run folder is refused.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from . import _manifest
from ._io import create_only, followed, longest_temp_name, name_max, replaces_link
from ._transaction import longest_name_beside
from .errors import NotWritable, UsageError

CONFIG = "config.json"
_MARKER = _manifest.MARKER
_SCAN_LIMIT = 10_000  # entries looked at inside a folder that --overwrite would replace
# What an output is: one file, or a folder aekit makes (its manifest's kind).
FOLDER_KINDS = ("run", "model", "index", "output", "mlflow")


def is_run_folder(path: str | os.PathLike) -> bool:
    """A folder that aekit wrote: a run, a saved model, an index, an output folder, or one being built."""
    return _manifest.is_aekit_folder(path)


def _kind_name(kind: str | None) -> str:
    if kind == "mlflow":
        return "MLflow model"
    return "run" if kind in (None, "run", "model") else kind


def resolved(path: str | os.PathLike, shown: str | None = None) -> Path:
    """``path`` with its links resolved; a symbolic link loop (``ln -s a a``) is one UsageError
    naming ``shown`` (Python 3.11 raises RuntimeError for it, later ones OSError ELOOP)."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.ELOOP:
            raise
        raise UsageError(
            f"{shown or os.fspath(path)} is a symbolic link loop (a link that leads back to itself); "
            f"give the path of a file or folder"
        ) from None


def enclosing_run(path: str | os.PathLike) -> Path | None:
    """The aekit folder (a run, model, index or output folder) that ``path`` is or lies inside,
    resolved; None if there is none."""
    p = resolved(path)
    for folder in (p, *p.parents):
        if folder.is_dir() and is_run_folder(folder):
            return folder
    return None


def output_path(path: str | os.PathLike) -> Path:
    """Where an output given as ``path`` is written (:func:`aekit._io.followed`): a symbolic link
    to a folder is followed, a link to a file is replaced itself, never written through."""
    return followed(path)


def same_place(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two outputs would be written to one place (``./s.csv`` and ``s.csv``, a folder and
    a link to it): the second write would replace the first."""

    def place(path: str | os.PathLike) -> Path:
        where = output_path(path)
        return Path(os.path.realpath(where.parent)) / where.name

    return place(a) == place(b)


def _resolve(path: str | os.PathLike, option: str) -> Path:
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text.strip():
        raise UsageError(f"{option} is empty; give a file or folder path")
    if "\0" in text:
        raise UsageError(f"{option} {text!r} holds a NUL character; give a plain path")
    if Path(text).parts[:1] == ("~",) and not os.path.lexists("~"):
        # the shell expands ~ at the start of a word only, not in --output=~/x: a folder named ~
        # would be made here (and `rm -rf ~` is what a user types to clean it up)
        raise UsageError(
            f"{option} {text}: the path starts with '~', which the shell did not expand (it does "
            f"not after '='); write '{option} ~/...' with a space, or $HOME/..."
        )
    return resolved(text, f"{option} {text}")


def _elsewhere(option: str) -> str:
    return "write the output elsewhere" if option == "--output" else f"pass another {option}"


def _within(a: Path, b: Path) -> bool:
    """``a`` is ``b`` or lies inside it (both resolved)."""
    return a == b or b in a.parents


def _holds_a_run(folder: Path) -> Path | None:
    """A run folder somewhere inside ``folder`` (looking at up to _SCAN_LIMIT entries), or None."""
    seen = 0
    for root, dirs, files in os.walk(folder):
        if Path(root) == folder:
            continue
        if (
            CONFIG in files
            or _MARKER in files
            or _manifest.MANIFEST in files
            or "index.json" in files
        ) and is_run_folder(root):
            return Path(root)
        seen += len(dirs) + len(files)
        if seen > _SCAN_LIMIT:
            break
    return None


def check_output(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike | None] = (),
    option: str = "--output",
    run: str | os.PathLike | None = None,
    kind: str = "file",
) -> Path:
    """Refuse, in one line, an output path that would clobber what the command was not asked to.

    Parameters
    ----------
    path : str or PathLike
        The output path as given.
    overwrite : bool
        Whether an existing output may be replaced.
    inputs : paths
        What the command reads (``None`` entries are ignored): the output may not be one of
        them, lie inside one (an input folder), or hold one.
    option : str
        How the user named the path, for the message ("--output", "--out").
    run : path, optional
        The run folder being created (``aekit train --out``): the one run folder the path may be.
    kind : {"file", "run", "model", "index", "output"}
        A file, or the kind of folder aekit writes there (an output folder of images, an index).

    Returns
    -------
    Path
        Where to write: ``path`` resolved, but a symbolic link to a file is itself the output
        (:func:`output_path`).
    """
    target = _resolve(path, option)
    shown = os.fspath(path)
    _check_name_fits(target, shown, option, kind)  # before any stat of it: "file name too long"
    _check_not_an_input(target, shown, inputs, option)
    _check_no_other_run(target, shown, overwrite, option, run, kind)
    _check_writable(target, shown)
    _check_file_or_folder(target, shown, option, kind)
    if kind != "file" and target.is_dir() and (run is None or target != resolved(run)):
        _manifest.check_replaceable(target, kind, option=option, shown=shown)
    written = _link_itself(path) if replaces_link(path) else target
    _check_name_fits(written, shown, option, kind)
    if kind == "file":
        _check_not_write_protected(written, shown)
    if overwrite:
        create_only(written, only=False)
        return written
    if not os.path.lexists(target):
        if kind == "file":  # written only if still absent: not over another command's output
            create_only(written)
        return written
    if target.is_dir() and not any(target.iterdir()):
        return written
    raise UsageError(f"{shown} already exists; pass --overwrite to replace it")


def _link_itself(path: str | os.PathLike) -> Path:
    """A symbolic link given as an output, its folder resolved but not the link itself."""
    link = Path(os.fsdecode(os.fspath(path)))
    return resolved(link.parent) / link.name


def _check_file_or_folder(target: Path, shown: str, option: str, kind: str) -> None:
    """A file output is not an existing folder, a folder output not an existing file."""
    if kind == "file" and target.is_dir():
        raise UsageError(
            f"{option} {shown} is a folder; expected a file path (a folder is never replaced by a file)"
        )
    if kind != "file" and os.path.lexists(target) and not target.is_dir():
        raise UsageError(f"{option} {shown} is a file, not a folder; pass a folder path")


def _check_not_an_input(
    target: Path, shown: str, inputs: Iterable[str | os.PathLike | None], option: str
) -> None:
    """The output is none of the inputs, lies inside none, and holds none."""
    for given in inputs:
        if given is None or not os.fspath(given):
            continue
        source = resolved(given, f"the input {os.fspath(given)}")
        if _within(target, source) or _within(source, target):
            how = (
                "is"
                if target == source
                else ("lies inside" if _within(target, source) else "holds")
            )
            raise UsageError(f"{option} {shown} {how} the input {given}; {_elsewhere(option)}")


def _check_no_other_run(
    target: Path,
    shown: str,
    overwrite: bool,
    option: str,
    run: str | os.PathLike | None,
    kind: str = "file",
) -> None:
    """The output is not inside an aekit folder other than ``run`` (or, for a folder output, the
    folder it replaces), nor (to be replaced) holds one."""
    own = resolved(run) if run is not None else None
    inside = enclosing_run(target if target.is_dir() else target.parent)
    replaced = (
        kind != "file"
        and inside == target
        and _manifest.aekit_kind(inside) in _manifest.REPLACES[kind]
    )
    if inside is not None and inside != own and not replaced:
        what = _kind_name(_manifest.aekit_kind(inside))
        raise UsageError(
            f"{option} {shown} is inside the {what} folder {inside}, which holds aekit's own files; "
            f"{_elsewhere(option)}, outside {what} folders"
        )
    if target.is_dir() and overwrite and target != own:
        held = _holds_a_run(target)
        if held is not None:
            raise UsageError(
                f"{option} {shown} holds the {_kind_name(_manifest.aekit_kind(held))} folder {held}; "
                f"--overwrite replaces only an output, so pass another path"
            )


def _check_name_fits(written: Path, shown: str, option: str, kind: str) -> None:
    """The output's own name fits the file system's limit on a name, and so do the names aekit
    writes beside it while it is made: a folder's staging folder (a file's temporary name is cut to
    fit, :func:`aekit._io.longest_temp_name`)."""
    name = written.name
    limit = name_max(written.parent)
    if len(os.fsencode(name)) > limit:
        raise UsageError(
            f"{option} {shown}: the name is too long: names here are limited to {limit} bytes; "
            f"give a name of at most {limit} bytes"
        )
    longest = longest_temp_name(name, limit) if kind == "file" else longest_name_beside(name)
    if longest > limit:
        most = limit - (longest - len(os.fsencode(name)))
        raise UsageError(
            f"{option} {shown}: the name is too long: aekit writes a temporary "
            f"{'file' if kind == 'file' else 'folder'} beside it under a longer name, and names "
            f"here are limited to {limit} bytes; give a name of at most {most} bytes"
        )


def _check_writable(target: Path, shown: str) -> None:
    """The nearest existing folder above the output is a writable folder."""
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise NotWritable(
            f"cannot write {shown}: {parent} is not a writable folder; pass another output path",
            filename=str(parent),
        )


def _check_not_write_protected(written: Path, shown: str) -> None:
    """An existing output file that its owner may not write (no write bit: ``chmod a-w``) is
    refused, even with --overwrite and for root too (the missing bit says keep it): only the
    folder's write bit matters to the rename that replaces it, and a 0444 file was replaced
    without a word (probe 61 modes #3). A link replaced itself is judged as a link (it has no mode
    of its own)."""
    try:
        st = os.lstat(written)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode) and not st.st_mode & stat.S_IWUSR:
        raise NotWritable(
            f"{shown} is write-protected (mode {stat.S_IMODE(st.st_mode):04o}); make it writable "
            f"or choose another output",
            filename=str(written),
        )


def refuse_existing(
    path: str | os.PathLike,
    overwrite: bool,
    inputs: Iterable[str | os.PathLike | None] = (),
    *,
    kind: str = "file",
    option: str = "--output",
) -> Path:
    """Raise a one-line UsageError if writing ``path`` would clobber something (see
    :func:`check_output`): it exists (a file, or a non-empty folder) and ``overwrite``
    is off, it is one of ``inputs``, it lies in a folder aekit made, a file would replace a folder
    (or a folder a file), or a folder aekit did not make would be replaced. ``kind`` "auto": a
    folder of images when ``path`` is a folder or has no extension (:func:`aekit.data.write_output`).

    Returns the path to write (:func:`output_path`): ``path``, or the folder a symbolic link to a
    folder names."""
    if kind == "auto":
        kind = "output" if Path(path).is_dir() or not Path(path).suffix else "file"
    check_output(path, overwrite=overwrite, inputs=inputs, kind=kind, option=option)
    return output_path(path)


def check_save_target(path: Path, overwrite: Any, what: str) -> None:
    """The Python API's ``save(path, overwrite=...)``: ``overwrite`` is a bool, and ``path`` does not
    lie inside a folder aekit made (a run, a saved model, an index, an output folder), whose files
    are aekit's own; the folder itself is judged by :func:`aekit._manifest.check_replaceable`."""
    from .errors import ArgumentTypeError

    if not isinstance(overwrite, (bool, np.bool_)):
        raise ArgumentTypeError(f"overwrite must be True or False, got {overwrite!r}")
    inside = enclosing_run(path.parent)
    if inside is not None:
        kind = _kind_name(_manifest.aekit_kind(inside))
        raise UsageError(
            f"cannot save {what} to {path}: it is inside the {kind} folder {inside}, which holds "
            f"aekit's own files; save it elsewhere"
        )
