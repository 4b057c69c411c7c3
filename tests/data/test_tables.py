"""``aekit.data.parquet.read_frame``: a pandas DataFrame read as a chunk of a table, as a file is."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from aekit.data import read_path  # noqa: E402
from aekit.data.parquet import read_frame  # noqa: E402
from aekit.errors import DataError  # noqa: E402


def test_a_frame_is_read_as_the_same_rows_in_a_file(tmp_path):
    df = pd.DataFrame(
        {"a": [1.5, np.nan, 3.0], "plan": ["pro", "free", "pro"], "b": [0.25, 1.0, np.nan]}
    )
    df.to_csv(tmp_path / "t.csv", index=False)
    options = dict(
        columns=["b", "plan=free", "plan=pro", "a"],
        categorical=["plan"],
        fill_values={"a": 9.0, "b": -1.0},
    )
    got = read_frame(df, source="a partition", **options)
    want = read_path(tmp_path / "t.csv", **options)
    assert got.feature_names == want.feature_names == options["columns"]
    np.testing.assert_array_equal(got.x, want.x)
    np.testing.assert_array_equal(got.x[:, 3], [1.5, 9.0, 3.0])


def test_a_frame_without_the_model_columns_is_one_line():
    df = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"a partition has no --categorical column 'plan'"):
        read_frame(df, source="a partition", columns=["a", "plan=pro"], categorical=["plan"])
