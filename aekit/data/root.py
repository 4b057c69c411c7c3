"""Where the built-in datasets live on disk.

Each dataset has its own folder under the data root, for example
``ROOT/mnist/train-images-idx3-ubyte.gz`` or ``ROOT/ecg5000/ECG5000_TRAIN.tsv.gz``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "AEKIT_DATA"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Return the data root: ``root`` if given, else ``$AEKIT_DATA``, else a per-user cache folder.

    The cache folder is ``$XDG_CACHE_HOME/aekit`` (default ``~/.cache/aekit``; a relative
    ``XDG_CACHE_HOME`` is ignored, as the XDG Base Directory spec says), on macOS
    ``~/Library/Caches/aekit`` and on Windows ``%LOCALAPPDATA%/aekit``. Nothing is created here.

    Parameters
    ----------
    root : str or PathLike, optional

    Returns
    -------
    Path

    Examples
    --------
    >>> data_root("/data") / "mnist"
    PosixPath('/data/mnist')
    """
    if root is not None and str(root) != "":
        return _folder(Path(root).expanduser(), "--data-dir")
    env = os.environ.get(ENV_VAR)
    if env:
        return _folder(Path(env).expanduser(), ENV_VAR)
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no $HOME and no entry in the password database
        from ..errors import UsageError

        raise UsageError(
            "no home folder to hold the built-in datasets (HOME is not set); pass --data-dir or "
            f"set {ENV_VAR}"
        ) from None
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "aekit"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "aekit"
    return _xdg_cache() or home / ".cache" / "aekit"


def _xdg_cache() -> Path | None:
    """``$XDG_CACHE_HOME/aekit``, None when unset or relative: the spec calls a relative path
    invalid, to be ignored (it was taken from the working folder, a cache in each folder run from)."""
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or "")
    return xdg / "aekit" if xdg.is_absolute() else None


def data_origin(root: str | os.PathLike | None = None) -> str:
    """Where :func:`data_root` took the data root from, as said to the user (a ``root`` that is
    the default's own folder, as a dataset passes on the root it resolved, is the default)."""
    if root is not None and str(root) != "" and Path(root) != _default_root():
        return "--data-dir"
    if os.environ.get(ENV_VAR):
        return f"${ENV_VAR}"
    return "the user's cache folder, under $HOME" + (
        " or $XDG_CACHE_HOME" if os.name != "nt" and sys.platform != "darwin" else ""
    )


def _default_root() -> Path | None:
    """The root without ``--data-dir``, None where it cannot be had: a failed --data-dir is said as
    such, not as AEKIT_DATA's or HOME's problem."""
    from ..errors import UsageError

    try:
        return data_root()
    except UsageError:
        return None


def _folder(root: Path, given_by: str) -> Path:
    """``root``, unless it is a file: one line naming where it came from (it was "not a directory:
    ROOT/ecg5000", exit 1, not saying that the data root was the file)."""
    if root.exists() and not root.is_dir():
        from ..errors import UsageError

        raise UsageError(
            f"the data root {root} ({given_by}) is a file; expected a folder (the built-in "
            f"datasets live in its sub-folders)"
        )
    return root
