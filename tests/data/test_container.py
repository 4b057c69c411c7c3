"""Data: length and subsets that keep the per-sample fields aligned."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.data import Data, NpyRows, columns_by_name
from aekit.errors import DataError


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


def test_columns_by_name(tmp_path):
    data = Data(x=np.arange(6, dtype=np.float32).reshape(2, 3), feature_names=["a", "b", "c"])
    assert columns_by_name(data, ["c", "a"]).tolist() == [[2, 0], [5, 3]]
    assert columns_by_name(data, ["a", "b", "c"]) is data.x  # already in order: no copy
    assert columns_by_name(data, None) is data.x  # a model that knows no names
    assert columns_by_name(Data(x=data.x), ["c", "a"]) is data.x  # data without a header
    np.save(tmp_path / "x.npy", data.x)
    with NpyRows(tmp_path / "x.npy") as rows:  # a row store is read into memory to reorder
        on_disk = Data(x=rows, feature_names=data.feature_names)
        assert columns_by_name(on_disk, ["b"]).tolist() == [[1], [4]]


def test_columns_by_name_names_up_to_five_missing():
    data = Data(x=np.zeros((1, 1), np.float32), feature_names=["a"], source="new.csv")
    with pytest.raises(DataError, match=r"^new.csv: missing the model's channels b, c$"):
        columns_by_name(data, ["a", "b", "c"], "channels")
    names = [f"m{i}" for i in range(8)]
    with pytest.raises(DataError, match=r"columns m0, m1, m2, m3, m4 \(and 3 more\)$"):
        columns_by_name(data, names)
