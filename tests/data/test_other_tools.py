"""Files as other tools write them: pandas' index after a split, Parquet's durations, nested and
duplicate columns, zoned times, long cells (the probe of stop 53)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from aekit.data import read_path
from aekit.data.series import read_series
from aekit.errors import DataError

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(10, 1, size=40)})


def test_a_split_frames_index_is_left_out_in_any_order(frame, tmp_path, caplog):
    # train_test_split then to_csv()/to_parquet(): the index holds the rows' old numbers, shuffled;
    # read as a feature, the same rows scored normal or not by where they stood in the log
    part = frame.sample(frac=0.5, random_state=0)
    part.index = part.index + 5000
    part.to_csv(tmp_path / "t.csv")
    part.to_parquet(tmp_path / "t.parquet")
    frame.set_index("a").to_parquet(tmp_path / "named.parquet")  # pandas reads back ["b"]
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        for name in ("t.csv", "t.parquet"):
            data = read_path(tmp_path / name)
            assert data.feature_names == ["a", "b"]
            np.testing.assert_allclose(data.x, part.to_numpy(), rtol=1e-6)
        assert read_path(tmp_path / "named.parquet").feature_names == ["b"]
    assert caplog.text.count("pandas' index") == 3
    # an unnamed first column that repeats a value, or holds fractions, is data
    odd = frame.copy()
    odd.index = [0, 1] * 20
    odd.to_csv(tmp_path / "r.csv")
    assert read_path(tmp_path / "r.csv").feature_names == ["", "a", "b"]
    # a series: no channel of row numbers either
    part.to_parquet(tmp_path / "s.parquet")
    assert read_series(tmp_path / "s.parquet").feature_names == ["a", "b"]
    part.to_csv(tmp_path / "s.csv")
    assert read_series(tmp_path / "s.csv").feature_names == ["a", "b"]


def test_parquet_durations_are_seconds_whatever_their_unit(frame, tmp_path):
    # pandas 3 stores microseconds, pandas 2 and Spark nanoseconds: one duration was 1000x apart
    frame["uptime"] = pd.to_timedelta(np.arange(40) * 60 + 600, unit="s")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for unit in ("s", "ms", "us", "ns"):
        col = table.column("uptime").cast(pa.duration(unit))
        pq.write_table(table.set_column(2, "uptime", col), tmp_path / f"{unit}.parquet")
        x = read_path(tmp_path / f"{unit}.parquet").x
        np.testing.assert_allclose(x[:, 2], np.arange(40) * 60 + 600)


def test_parquet_nested_and_duplicate_columns(tmp_path, caplog):
    n = 10
    table = pa.table({"a": np.arange(n) * 1.0, "emb": pa.array([[1.0, 2.0]] * n)})
    pq.write_table(table, tmp_path / "emb.parquet")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        assert read_path(tmp_path / "emb.parquet").feature_names == ["a"]
    assert "emb (a list<element: double> column" in caplog.text
    with pytest.raises(DataError, match="column 'emb' is a list"):
        read_path(tmp_path / "emb.parquet", columns=["a", "emb"])
    dup = pa.Table.from_arrays([pa.array(np.arange(5.0)), pa.array(np.arange(5.0))], ["a", "a"])
    pq.write_table(dup, tmp_path / "dup.parquet")
    with pytest.raises(DataError, match="both 'a'"):
        read_path(tmp_path / "dup.parquet")
    with pytest.raises(DataError, match="both 'a'"):
        read_series(tmp_path / "dup.parquet")


def test_a_series_zoned_times_keep_their_zone(tmp_path):
    t = pd.date_range("2024-07-01 08:00", periods=30, freq="5min", tz="Europe/Berlin")
    pd.DataFrame({"time": t, "v": np.sin(np.arange(30.0))}).to_parquet(tmp_path / "s.parquet")
    ids = read_series(tmp_path / "s.parquet", time_column="time").ids
    assert str(ids[0]).startswith("2024-07-01 08:00:00") and str(ids[0]).endswith("+0200")


def test_a_cell_longer_than_the_csv_modules_limit_is_read(tmp_path):
    import csv

    cells = ["POLYGON((" + "1.5 2.5," * (40_000 if i == 3 else 5) + "))" for i in range(30)]
    lines = ["area,geometry"] + [f'{i},"{c}"' for i, c in enumerate(cells)]
    (tmp_path / "gis.csv").write_text("\n".join(lines) + "\n")
    before = csv.field_size_limit()
    data = read_path(tmp_path / "gis.csv", drop_columns=["geometry"])
    assert data.feature_names == ["area"] and len(data.x) == 30
    assert csv.field_size_limit() == before  # the caller's own csv reading untouched


def test_a_header_with_a_line_break_is_found_by_the_name_messages_show(tmp_path):
    # Excel's Alt+Enter in a header cell: the note suggested "--categorical Status remark", which
    # the same command then refused
    rows = [f"{i}.5,{'ok' if i % 2 else 'check'}" for i in range(20)]
    (tmp_path / "x.csv").write_text('"Temp\n(C)","Status\nremark"\n' + "\n".join(rows) + "\n")
    data = read_path(tmp_path / "x.csv", categorical=["Status remark"])
    assert data.feature_names == ["Temp\n(C)", "Status\nremark=check", "Status\nremark=ok"]


def test_an_unnamed_column_of_whole_floats_is_data_and_utc_times_keep_their_text(tmp_path):
    # pandas writes its index as integers: a blank-named column of 3000.0, 3017.0 ... is the user's
    lines = [",a"] + [f"{3000.0 + 17 * i},{i * 0.5}" for i in range(20)]
    (tmp_path / "f.csv").write_text("\n".join(lines) + "\n")
    assert read_path(tmp_path / "f.csv").feature_names == ["", "a"]
    t = pd.date_range("2024-07-01 08:00", periods=30, freq="5min", tz="UTC")
    pd.DataFrame({"time": t, "v": np.sin(np.arange(30.0))}).to_parquet(tmp_path / "u.parquet")
    ids = read_series(tmp_path / "u.parquet", time_column="time").ids
    # as written before zones were kept, with its zone now (probe 60 clock L7)
    assert str(ids[0]) == "2024-07-01T08:00:00.000000Z"
