"""Numbers as the training settings take them: Python's and NumPy's alike, never a bool (True is
not an epoch count)."""

from __future__ import annotations

import numbers
from typing import Any


def whole_number(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (an int or a NumPy integer, not a bool)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return int(value) if ok else None


def real_number(value: Any) -> float | None:
    """``value`` as a float when it is a real number (a NumPy float or integer too, not a bool)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    return float(value) if ok else None
