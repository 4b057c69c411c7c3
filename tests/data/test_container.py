"""Data: length and subsets that keep the per-sample fields aligned."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.data import Data


def test_subset_keeps_fields_aligned():
    data = Data(
        x=np.arange(8, dtype=np.float32).reshape(4, 2),
        y=np.array([0, 1, 0, 1]),
        names=["a", "b", "c", "d"],
        ids=np.array(["i", "j", "k", "l"]),
        image_mode="L",
        source="s",
    )
    part = data.subset(np.array([True, False, False, True]))
    assert len(part) == 2 and part.x.tolist() == [[0, 1], [6, 7]] and part.y.tolist() == [0, 1]
    assert part.names == ["a", "d"] and part.ids.tolist() == ["i", "l"] and part.source == "s"
    assert data.subset(slice(1, 3)).names == ["b", "c"] and data.subset(2).names == ["c"]
    assert data.subset([3, 0]).x.tolist() == [[6, 7], [0, 1]]


def test_length_mismatch_is_a_bug():
    with pytest.raises(ValueError, match="y has 1 entries"):
        Data(x=np.zeros((2, 1), np.float32), y=np.zeros(1))
