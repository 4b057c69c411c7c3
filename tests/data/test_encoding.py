"""A table's cells as numbers and dates (aekit/data/encoding.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aekit.data import read_path
from aekit.data.encoding import kind_of, parse_dates
from aekit.data.series import read_series


@pytest.mark.parametrize("cell", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_an_offset_time_at_the_calendars_ends_is_a_date_not_an_overflow(tmp_path, cell):
    """probe 60 clock M2: 0001-01-01T00:00:00+01:00 (.NET's DateTime.MinValue in a UTC+1 zone) is
    year 0 in UTC, 9999-12-31T23:00:00-05:00 year 10000: an internal OverflowError in every read
    of a table or a series holding one."""
    days, bad = parse_dates(np.array([cell, "1970-01-02T01:00:00+01:00"]))
    assert not bad.any() and days[1] == 1.0
    assert days[0] == pytest.approx(
        -719162 - 1 / 24 if cell.startswith("0001") else 2932897 + 1 / 6
    )
    when = pd.date_range("2024-03-01", periods=40, freq="1h").strftime("%Y-%m-%dT%H:%M:%S+01:00")
    when = [*when[:39], cell]
    frame = pd.DataFrame({"when": when, "a": np.arange(40.0), "b": np.sin(np.arange(40.0))})
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert kind_of(frame["when"].to_numpy(str)) == "date"
    assert read_path(tmp_path / "t.csv").feature_names == ["a", "b"]
    if cell.startswith("9999"):  # the last step: in order
        assert read_series(tmp_path / "t.csv", time_column="when", columns=["a"]).x.shape == (40, 1)
