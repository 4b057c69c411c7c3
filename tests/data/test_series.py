"""Reading a long series: formats, time and label columns, gaps refused or filled across chunks, windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aekit.data.series import check_labels, fill_gaps, iter_series, read_series
from aekit.data.windows import WindowRows, dominant_period, sliding_windows, window_starts
from aekit.errors import DataError, UsageError

from ..synthetic_series import sine_series, write_csv


def test_csv_with_time_and_labels(tmp_path):
    x, y = sine_series(300, channels=2)
    s = read_series(
        write_csv(tmp_path / "s.csv", x, y), time_column="time", label_column="is_anomaly"
    )
    assert s.x.shape == (300, 2) and s.x.dtype == np.float32
    assert s.feature_names == ["c0", "c1"] and s.ids[5] == "t5"
    np.testing.assert_array_equal(s.y, y)
    np.testing.assert_allclose(s.x, x, rtol=1e-6)


def test_chunks_join_to_the_whole(tmp_path):
    x, _ = sine_series(1000)
    path = write_csv(tmp_path / "s.csv", x)
    parts = list(iter_series(path, time_column="time", chunk_steps=128))
    assert [len(p) for p in parts][:2] == [128, 128] and sum(len(p) for p in parts) == 1000
    np.testing.assert_array_equal(
        np.concatenate([p.x for p in parts]), read_series(path, time_column="time").x
    )


def test_npy_one_and_several_channels(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(50.0))
    np.save(tmp_path / "b.npy", np.ones((40, 3), np.float32))
    assert read_series(tmp_path / "a.npy").x.shape == (50, 1)
    assert read_series(tmp_path / "b.npy").x.shape == (40, 3)
    with pytest.raises(UsageError, match="values only"):
        read_series(tmp_path / "a.npy", time_column="t")


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"ts": [1, 2, 3, 4], "v": [1.0, None, 3.0, 4.0], "lab": [0, 0, 1, 0]}),
        tmp_path / "s.parquet",
    )
    with pytest.raises(DataError, match="gap"):
        read_series(tmp_path / "s.parquet", time_column="ts", label_column="lab")
    s = read_series(tmp_path / "s.parquet", time_column="ts", label_column="lab", fill="linear")
    assert s.x.ravel().tolist() == [1.0, 2.0, 3.0, 4.0] and s.y.tolist() == [0, 0, 1, 0]


def _gappy(tmp_path) -> str:
    rows = ["time,a,b", "0,1,10", "1,,11", "2,3,nan", "3,4,NA", "4,5,14", "5,6,", "6,7,"]
    (tmp_path / "g.csv").write_text("\n".join(rows) + "\n")
    return str(tmp_path / "g.csv")


def test_gaps_are_refused_with_one_line(tmp_path):
    with pytest.raises(DataError) as err:
        read_series(_gappy(tmp_path), time_column="time")
    msg = str(err.value)
    assert "\n" not in msg and "step 1" in msg and "'a'" in msg and "--fill" in msg


@pytest.mark.parametrize("chunk", [1, 2, 3, 100])
def test_fill_across_chunks(tmp_path, chunk):
    lin = read_series(_gappy(tmp_path), time_column="time", fill="linear", chunk_steps=chunk)
    assert lin.x[:, 0].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert lin.x[:, 1].tolist() == [10, 11, 12, 13, 14, 14, 14]
    assert lin.ids.tolist() == [str(i) for i in range(7)]
    prev = read_series(_gappy(tmp_path), time_column="time", fill="previous", chunk_steps=chunk)
    assert prev.x[:, 1].tolist() == [10, 11, 11, 11, 14, 14, 14]


def test_fill_gaps_in_memory():
    x = np.array([[np.nan, 1.0], [2.0, np.nan], [np.nan, 3.0]])
    assert fill_gaps(x, "linear").tolist() == [[2.0, 1.0], [2.0, 2.0], [2.0, 3.0]]
    with pytest.raises(DataError, match="no value at all"):
        fill_gaps(np.full((3, 1), np.nan), "previous")


@pytest.mark.parametrize(
    "rows, needle",
    [
        (["t,v,lab", "0,1.0,0", "1,abc,0"], "'abc' is not a number"),
        (["t,v,lab", "0,1.0,0", "1,2.0,2"], "expected labels 0"),
        (["t,v,lab", "0,1.0,0", "1,2.0,yes"], "expected labels 0"),
        (["t,v,lab", "0,1.0,0", "1,inf,0"], "infinite"),
    ],
)
def test_bad_values_one_line(tmp_path, rows, needle):
    (tmp_path / "bad.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        read_series(tmp_path / "bad.csv", time_column="t", label_column="lab")
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_labels_of_object_dtype_name_a_missing_label_at_its_step():
    # a nullable boolean column: bools and pd.NA; False at step 0 was blamed for the NA at step 3
    y = pd.Series([False, True, True, False, False]).astype("boolean")
    np.testing.assert_array_equal(check_labels(np.asarray(y, object), "y"), [0, 1, 1, 0, 0])
    y[3] = pd.NA
    with pytest.raises(DataError, match=r"^y holds a missing label \(<NA>\) at step 3; expected"):
        check_labels(np.asarray(y), "y")
    with pytest.raises(DataError, match="holds '2' at step 1"):
        check_labels(np.array([1, 2], dtype=object), "y")
    # a Parquet column's numbers: said as written, not numpy's np.int64(2) (uncovered probe 58 #2)
    with pytest.raises(DataError, match=r"^y holds 2 at step 1; expected"):
        check_labels(np.array([1, 2]), "y")
    with pytest.raises(DataError, match=r"^y holds 0.5 at step 0; expected"):
        check_labels(np.array([0.5, 1.0]), "y")


def test_windows_are_views():
    x = np.random.default_rng(0).standard_normal((1000, 2)).astype(np.float32)
    w = sliding_windows(x, 50, stride=5)
    assert w.shape == (191, 2, 50) and np.shares_memory(w, x)
    np.testing.assert_array_equal(w[3], x[15:65].T)
    rows = WindowRows(x, 50)
    assert len(rows) == 951 and rows.sample_shape == (2, 50)
    np.testing.assert_array_equal(rows.take(np.array([7]))[0], x[7:57].T)
    assert window_starts(100, 30, 20).tolist() == [0, 20, 40, 60, 70]
    with pytest.raises(DataError, match="no window"):
        sliding_windows(x[:10], 50)


def test_dominant_period():
    t = np.arange(3000)
    assert dominant_period(np.sin(2 * np.pi * t / 37)[:, None])[0] == 37
    two = np.stack([np.sin(2 * np.pi * t / 25), np.cos(2 * np.pi * t / 25)], axis=1)
    assert dominant_period(two)[0] == 25
    # noise: no period
    assert dominant_period(np.random.default_rng(0).standard_normal((3000, 1)))[0] == 0


def test_an_outage_of_every_channel_is_a_gap_not_a_shorter_series(tmp_path):
    """pandas writes a step of NaN as ',': it was dropped, the series spliced around it."""
    (tmp_path / "s.csv").write_text("a,b\n1,10\n2,11\n,\n4,13\n")
    with pytest.raises(DataError, match="gap .* at step 2"):
        read_series(tmp_path / "s.csv")
    filled = read_series(tmp_path / "s.csv", fill="linear")
    assert filled.x[:, 0].tolist() == [1, 2, 3, 4]


def test_a_series_separated_by_semicolons_says_so(tmp_path):
    """The message called the header 'step 0' and said 'v;w' is not a number."""
    (tmp_path / "s.csv").write_text("v;w\n1;2\n3;4\n")
    with pytest.raises(DataError, match="separated by semicolons"):
        read_series(tmp_path / "s.csv")


def test_a_series_written_from_an_array_keeps_its_first_step(tmp_path):
    # pd.DataFrame(values).to_csv(index=False) heads the column "0": a name, not a step of value 0
    values = np.round(np.sin(np.arange(50) / 3) + 2, 5)
    (tmp_path / "s.csv").write_text("0\n" + "\n".join(f"{v:.5f}" for v in values) + "\n")
    series = read_series(tmp_path / "s.csv")
    assert series.x.shape == (50, 1)
    np.testing.assert_allclose(series.x[:, 0], values, rtol=1e-6)
    # a code column with "_" is not a number
    (tmp_path / "c.csv").write_text("v\n" + "\n".join(["1.5"] * 5 + ["3_1"]) + "\n")
    with pytest.raises(DataError, match="'3_1' is not a number"):
        read_series(tmp_path / "c.csv")


def test_the_time_column_is_read_to_check_the_steps(tmp_path, caplog):
    import logging

    values = np.sin(np.arange(40) / 3)
    times = [f"2024-01-01 00:00:{i:02d}" for i in range(40)]
    rows = list(zip(times, values))

    def write(name, rows):
        (tmp_path / name).write_text("t,v\n" + "\n".join(f"{t},{v:.4f}" for t, v in rows) + "\n")
        return tmp_path / name

    assert read_series(write("ok.csv", rows), time_column="t").x.shape == (40, 1)
    # newest first (as many exports are), or a time twice: one line, not a series scored backwards
    with pytest.raises(DataError, match="t goes back at step 1 .* sort the file by t"):
        read_series(write("rev.csv", rows[::-1]), time_column="t")
    with pytest.raises(DataError, match="t repeats at step 6"):
        read_series(write("twice.csv", rows[:6] + rows[5:]), time_column="t")
    # rows missing without a trace: said, across chunks too
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_series(write("hole.csv", rows[:20] + rows[30:]), time_column="t", chunk_steps=7)
    assert "t jumps 1 time by more than 2 usual steps (e.g. 2024-01-01 00:00:19 -> " in caplog.text
    # numbers as times; free text is carried unchecked
    numbered = [(str(40 - i), v) for i, v in enumerate(values)]
    with pytest.raises(DataError, match="goes back"):
        read_series(write("num.csv", numbered), time_column="t")
    named = [(f"sample {i % 3}", v) for i, v in enumerate(values)]
    assert read_series(write("text.csv", named), time_column="t").x.shape == (40, 1)
    # local times over the autumn clock change: sorting would interleave the hour written twice
    hours = [1] * 12 + [2] * 24 + [3] * 4  # 02:00 to 02:55 summer time, then winter time
    local = [f"2024-10-27 0{h}:{(i * 5) % 60:02d}:00" for i, h in enumerate(hours)]
    with pytest.raises(DataError, match="goes back .* an hour .* with its UTC offset"):
        read_series(write("dst.csv", list(zip(local, values))), time_column="t")
    # two rows out of order, a counter that restarts: sorting is the advice, not the clock's
    swapped = [f"2024-01-01 01:{i:02d}:00" for i in range(40)]
    swapped[10], swapped[11] = swapped[11], swapped[10]
    with pytest.raises(DataError, match="sort the file by t"):
        read_series(write("swapped.csv", list(zip(swapped, values))), time_column="t")
    restart = [(str(i % 20 * 180), v) for i, v in enumerate(values)]
    with pytest.raises(DataError, match="sort the file by t"):
        read_series(write("restart.csv", restart), time_column="t")


def test_times_closer_than_a_microsecond_are_said_so_not_called_repeats(tmp_path):
    """probe 59 locale M2: times 100 ns apart were "t repeats at step 1 (...00 then
    ...00.000000100) ... sort the file": datetime reads to the microsecond."""
    times = pd.date_range("2024-03-31", periods=40, freq="100ns")
    frame = pd.DataFrame({"t": [t.isoformat() for t in times], "v": np.sin(np.arange(40) / 3)})
    frame.to_csv(tmp_path / "ns.csv", index=False)
    with pytest.raises(DataError, match="t at step 1 .* less than a microsecond") as err:
        read_series(tmp_path / "ns.csv", time_column="t")
    assert "repeats" not in str(err.value) and "sort" not in str(err.value)
    frame["t"] = times  # Parquet: datetime64[ns], written with nine digits
    frame.to_parquet(tmp_path / "ns.parquet")
    with pytest.raises(DataError, match="less than a microsecond"):
        read_series(tmp_path / "ns.parquet", time_column="t")
    frame["t"] = [times[0]] + list(times[:-1])  # a true repeat, nine digits too: still one
    frame.to_parquet(tmp_path / "twice.parquet")
    with pytest.raises(DataError, match="t repeats at step 1"):
        read_series(tmp_path / "twice.parquet", time_column="t")


def test_a_series_npy_that_np_load_should_not_be_given_is_one_line(tmp_path):
    # an .npz named .npy was an internal error in train series and score
    np.savez(tmp_path / "z.npz", x=np.ones(40, "f4"))
    (tmp_path / "z.npz").rename(tmp_path / "z.npy")
    with pytest.raises(DataError, match="an .npz archive"):
        read_series(tmp_path / "z.npy")


def test_a_parquet_duration_time_column_is_written_whole_as_seconds_and_checked(tmp_path):
    """probe 60 clock M3: a duration column (elapsed time) was written cut short ("119940000000
    microsec", "60000000000 microseco") and never checked, a reversed one accepted."""
    elapsed = pd.to_timedelta(np.arange(2000) * 60, unit="s")
    frame = pd.DataFrame({"t": elapsed, "v": np.sin(np.arange(2000) / 3)})
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    ids = read_series(tmp_path / "d.parquet", time_column="t", chunk_steps=700).ids
    assert list(ids[[0, 1, 1999]]) == ["0", "60", "119940"]
    frame["t"] = pd.to_timedelta(np.arange(2000) * 100 + 5, unit="ns")
    frame.to_parquet(tmp_path / "ns.parquet", index=False)
    ids = read_series(tmp_path / "ns.parquet", time_column="t").ids
    assert list(ids[:2]) == ["0.000000005", "0.000000105"]
    frame["t"] = elapsed[::-1]
    frame.to_parquet(tmp_path / "rev.parquet", index=False)
    with pytest.raises(DataError, match=r"t goes back at step 1 \(119940 then 119880\)"):
        read_series(tmp_path / "rev.parquet", time_column="t")


def test_utc_parquet_times_are_written_with_their_zone(tmp_path):
    """probe 60 clock L7: a UTC-zoned Parquet time column was written without its offset (other
    zones kept theirs), so a reader of scores.csv took its times for local ones."""
    t = pd.date_range("2024-07-01 08:00", periods=30, freq="5min", tz="UTC")
    pd.DataFrame({"t": t, "v": np.sin(np.arange(30.0))}).to_parquet(tmp_path / "u.parquet")
    ids = read_series(tmp_path / "u.parquet", time_column="t").ids
    assert pd.Timestamp(ids[1]) == t[1]  # read back: the same instant, zone and all


def test_a_time_indexed_pandas_csv_is_told_its_time_column_by_index(tmp_path):
    """probe 60 clock M4: df.to_csv() of a frame indexed by time heads its index "": the advice
    was "--time-column ," and the columns were listed as ", v"; a time column it does not have
    (as `aekit score` reads the run's) gave the option no word (review 1 F7)."""
    t = pd.date_range("2024-01-01", periods=50, freq="1min", name=None)
    pd.DataFrame({"v": np.sin(np.arange(50.0))}, index=t).to_csv(tmp_path / "idx.csv")
    with pytest.raises(DataError) as err:
        read_series(tmp_path / "idx.csv")
    assert "column 0 (unnamed, as pandas writes a frame's index)" in str(err.value)
    assert "(--time-column 0, or --columns" in str(err.value)
    unnamed = r"its columns are: \(unnamed column 0\), v \(an unnamed column by its index: "
    with pytest.raises(DataError, match=unnamed + r"--time-column 0\)$"):
        read_series(tmp_path / "idx.csv", time_column="t")
    assert read_series(tmp_path / "idx.csv", time_column=0).x.shape == (50, 1)
    # a name the shell would split is quoted for the option
    pd.DataFrame({"v": np.sin(np.arange(50.0))}, index=t.rename("my time")).to_csv(
        tmp_path / "n.csv"
    )
    with pytest.raises(DataError, match="--time-column 'my time', or"):
        read_series(tmp_path / "n.csv")


def test_a_time_column_by_index_that_is_a_channel_is_refused(tmp_path):
    """probe 60 clock L6: --time-column 1 naming one of the run's channels was read as time and
    channel both (by name it is refused)."""
    frame = pd.DataFrame(
        {"t": np.arange(200), "a": np.sin(np.arange(200.0)), "b": np.arange(200.0)}
    )
    frame.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(UsageError, match="the time column 2 is 'b', one of the channels read"):
        read_series(tmp_path / "s.csv", time_column=2, columns=["a", "b"])
    assert read_series(tmp_path / "s.csv", time_column=0, columns=["a", "b"]).x.shape == (200, 2)
    # review 60 F4: by its own name, as both, it is read as before
    assert read_series(tmp_path / "s.csv", time_column="b", columns=["a", "b"]).x.shape == (200, 2)
