"""Shared helpers for the plots: lazy pyplot, aekit's style, the output path, atomic saving,
input checks."""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from aekit._io import TEMP, as_path, readable, write_with
from aekit.errors import ArgumentTypeError, DataError, DataTypeError, UsageError

DPI = 100
# the file types a figure is written as, named by the path's suffix (matplotlib's writers)
FIGURE_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".tif", ".tiff", ".eps")


class _Figures:
    """What the plots ask of ``matplotlib.pyplot`` (``subplots``, ``close``, ``get_cmap``), without
    pyplot: a :class:`matplotlib.figure.Figure` belongs to no backend and no figure manager, so a
    plot changes nothing of the user's matplotlib session. Through pyplot, the first plot chose the
    "Agg" backend for the process (a notebook's inline display, a ``matplotlib.use`` or
    ``MPLBACKEND`` of the user's, replaced), and each figure passed through pyplot's registry."""

    # plt.subplots' keywords that are the figure's; the rest are Figure.subplots'
    FIGURE_KEYWORDS = ("figsize", "dpi", "facecolor", "layout")

    @classmethod
    def subplots(cls, nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Any, Any]:
        _matplotlib()  # (a user's MPLBACKEND that names no backend: see there)
        from matplotlib.figure import Figure

        fig = Figure(**{k: kw.pop(k) for k in cls.FIGURE_KEYWORDS if k in kw})
        return fig, fig.subplots(nrows, ncols, **kw)

    @staticmethod
    def close(fig: Any) -> None:
        fig.clear()  # no registry to leave: its artists go now, not at the next collection

    @staticmethod
    def get_cmap(name: str) -> Any:
        return _matplotlib().colormaps[name]


Plot = TypeVar("Plot", bound=Callable[..., Any])
_STYLE_LOCK = threading.RLock()  # a figure's plot may draw another (nested: re-entrant)


def drawn(plot: Plot) -> Plot:
    """``plot`` drawn with matplotlib's defaults, whatever the user's matplotlibrc, rcParams or
    MPLBACKEND say, and the user's rcParams as they were after (aekit's own settings are the
    plots' arguments: sizes, colours, :data:`DPI`). A ``text.usetex: True`` without LaTeX, or
    ``figure.dpi: 0``, made a finished training fail at its figures, run left unfinished."""

    @functools.wraps(plot)
    def in_aekit_style(*args: Any, **kwargs: Any) -> Any:
        # rcParams are the process's: two threads' figures, each putting back what it found,
        # left the other's defaults as the user's settings (review 2 F1); one figure at a time
        with _STYLE_LOCK, _matplotlib().style.context("default"):  # the backend is left alone
            return plot(*args, **kwargs)

    return in_aekit_style  # type: ignore[return-value]


def _matplotlib() -> Any:
    """matplotlib (and its styles), imported. An MPLBACKEND that names no backend made the import
    itself fail; the figures use no backend (a Figure saved on its format's canvas), so matplotlib
    is then imported without it, and the variable is left as it was."""
    try:
        import matplotlib
    except ValueError:
        backend = os.environ.pop("MPLBACKEND", None)
        if backend is None:
            raise
        for name in [m for m in sys.modules if m.partition(".")[0] == "matplotlib"]:
            del sys.modules[name]  # the half-imported package, which cannot be imported again
        try:
            import matplotlib
        finally:
            os.environ["MPLBACKEND"] = backend
    import matplotlib.style

    return matplotlib


def _figures() -> _Figures:
    """pyplot's figure functions for the plots, backend-free (:class:`_Figures`)."""
    return _Figures()


def _suffix(path: Path) -> str:
    """The ending that names the format: ``path``'s, or for a temporary file of aekit's own atomic
    writes (a command staging several outputs: ``aekit neighbors``'s pages) the one before ".tmp"."""
    name = path.name[: -len(".tmp")] if TEMP.fullmatch(path.name) else path.name
    return Path(name).suffix.lower()


def _target(path: Any, overwrite: Any, formats: tuple[str, ...] = FIGURE_FORMATS) -> Path:
    """``path`` as a Path to write, checked before anything is drawn: a file type in ``formats``
    (the format is the suffix's: a .pdf holding PNG bytes opens nowhere), and not an existing file
    unless ``overwrite`` (as ``est.save``: a user's file is never replaced unasked)."""
    path = as_path(path, "path", "a file path")
    if not isinstance(overwrite, (bool, np.bool_)):
        raise ArgumentTypeError(f"overwrite must be True or False, got {overwrite!r}")
    if _suffix(path) not in formats:
        raise UsageError(
            f"cannot write {path}: the file type is taken from its ending; expected one of "
            f"{', '.join(formats)}"
        )
    if not overwrite and os.path.lexists(path):
        raise UsageError(f"{path} already exists; pass overwrite=True to replace it")
    return path


def _save(fig: Any, path: Path, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` (checked by :func:`_target`) atomically in the format its suffix
    names, always close it, return the path."""
    kind = _suffix(path)[1:]
    try:
        _readable_texts(fig)
        write_with(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=kind, bbox_inches="tight"))
    finally:
        _figures().close(fig)
    return path


def _readable_texts(fig: Any) -> None:
    """Every text of ``fig`` drawable: a name that is not UTF-8 (a class folder, a file or column
    name held with surrogates) made matplotlib's font raise when the figure was saved, after
    training (probe 59 locale H1). Tick labels are redrawn from their names: :func:`_names`."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        shown = readable(text.get_text())
        if shown != text.get_text():
            text.set_text(shown)


def _tight_layout(fig: Any) -> None:
    """``fig.tight_layout()``, which measures the texts: made drawable first (:func:`_readable_texts`)."""
    _readable_texts(fig)
    fig.tight_layout()


def _float_array(x: Any, name: str, expected: str) -> np.ndarray:
    """Return ``x`` as a float array, or raise :class:`DataError` saying it must be ``expected``."""
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError) as e:
        raise DataError(f"{name} must be {expected}: {e}") from None


def _number(x: Any, name: str) -> float:
    """``x`` as a finite float, or one line saying it must be a number."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise DataTypeError(f"{name} must be a number, got {x!r}") from None
    if not np.isfinite(value):
        raise DataError(f"{name} must be a finite number, got {x!r}")
    return value


def _count(x: Any, name: str, least: int = 1) -> int:
    """``x`` as a whole number of at least ``least``, or one line saying so."""
    try:
        value = int(x)
    except (TypeError, ValueError, OverflowError):
        raise DataTypeError(f"{name} must be a whole number, got {x!r}") from None
    if value < least:
        raise DataError(f"{name} must be at least {least}, got {x!r}")
    return value


def _names(names: Any, name: str, n: int, each: str) -> list[str] | None:
    """``names`` (None, or ``n`` labels, one per ``each``) as a list of str, or one line."""
    if names is None:
        return None
    if isinstance(names, (str, bytes)):  # "ab" would be the two names "a" and "b"
        raise DataTypeError(f"{name} must be a list of names, not one string {names!r}")
    names = [readable(str(v)) for v in names]  # tick labels: see _readable_texts
    if len(names) != n:
        raise DataError(f"{name} has {len(names)} names; expected {n}, one per {each}")
    return names


def _check_finite(a: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(a)):
        raise DataError(f"{name} contains NaN or inf")


def _vector(x: Any, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """Return ``x`` as a finite 1-D float array, or raise :class:`DataError`."""
    a = _float_array(x, name, "a 1-D numeric array")
    if a.ndim != 1:
        raise DataError(f"{name} must be 1-D, got shape {a.shape}")
    if a.size == 0 and not allow_empty:
        raise DataError(f"{name} is empty")
    _check_finite(a, name)
    return a


def _images(x: Any, name: str = "images") -> np.ndarray:
    """Return ``x`` as a finite float array (n, C, H, W) with C in {1, 3}, clipped to [0, 1].

    Whole numbers above 1 (8-bit pixels, 0-255) are refused as the estimators refuse them: clipped,
    they drew every image white."""
    _check_not_8bit(x, name)
    a = _float_array(x, name, "a numeric array (n, C, H, W)")
    if a.ndim != 4:
        raise DataError(f"{name} must have shape (n, C, H, W), got shape {a.shape}")
    n, c, h, w = a.shape
    if c not in (1, 3):
        raise DataError(f"{name} must have 1 (gray) or 3 (RGB) channels, got shape {a.shape}")
    if n == 0 or h == 0 or w == 0:
        raise DataError(f"{name} is empty: shape {a.shape}")
    _check_finite(a, name)
    return np.clip(a, 0.0, 1.0)


def _check_not_8bit(x: Any, name: str) -> None:
    """Integer pixels above 1 (8-bit images, 0-255) are one line: divide them by 255."""
    a = x if isinstance(x, np.ndarray) else None
    if a is None or a.dtype.kind not in "iu" or a.size == 0:
        return
    hi = int(a.max())
    if hi > 1:
        raise DataError(
            f"{name} holds whole numbers up to {hi}; expected images scaled to [0, 1] "
            f"(divide 8-bit pixels by 255)"
        )
