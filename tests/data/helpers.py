"""Helpers shared by the tests of row stores, spilling and sizing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.errors import DataError

RNG = np.random.default_rng(0)


def one_line_error(fn, *args, exc=DataError, match=None, **kwargs) -> str:
    """The message of the ``exc`` that ``fn(*args, **kwargs)`` raises, checked to be one line."""
    with pytest.raises(exc, match=match) as err:
        fn(*args, **kwargs)
    message = str(err.value)
    assert "\n" not in message and message, message
    return message


def write_table(path: Path, n: int = 250) -> np.ndarray:
    """A CSV with an id, a label and three feature columns (a, b, c); returns the features."""
    x = RNG.normal(size=(n, 3)).round(4)
    labels = RNG.integers(0, 3, n)
    lines = ["id,a,label,b,c"] + [
        f"r{i},{x[i, 0]},{labels[i]},{x[i, 1]},{x[i, 2]}" for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return x


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
