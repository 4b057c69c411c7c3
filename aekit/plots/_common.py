"""Shared helpers for the plots: lazy pyplot, atomic PNG saving, input checks."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from aekit._io import write_with
from aekit.errors import DataError

DPI = 100


@functools.cache
def _pyplot() -> Any:
    """Import and return ``matplotlib.pyplot`` with the non-interactive "Agg" backend.

    The backend is selected only when pyplot is not imported yet: switching the backend
    of a running session (a notebook, say) would close the user's open figures.
    """
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | os.PathLike, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically, always close it, return the path."""
    path = Path(path)
    try:
        write_with(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight"))
    finally:
        _pyplot().close(fig)
    return path


def _float_array(x: Any, name: str, expected: str) -> np.ndarray:
    """Return ``x`` as a float array, or raise :class:`DataError` saying it must be ``expected``."""
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError) as e:
        raise DataError(f"{name} must be {expected}: {e}") from None


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
    """Return ``x`` as a finite float array (n, C, H, W) with C in {1, 3}, clipped to [0, 1]."""
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
