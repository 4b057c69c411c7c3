"""The time column's check (aekit/data/times.py), read through :func:`read_series`."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from aekit.data.series import read_series
from aekit.errors import DataError


def _csv(path, times) -> str:
    values = np.sin(np.arange(len(times)) / 3)
    pd.DataFrame({"t": times, "v": values}).to_csv(path, index=False)
    return path


def _iso(n: int, freq: str = "1min", start: str = "2024-01-01") -> list[str]:
    return list(pd.date_range(start, periods=n, freq=freq).strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.mark.parametrize("cell", ["", "2023-02-29T00:00:00", "2024-01-01T23:59:60Z"])
def test_an_unreadable_time_leaves_the_others_checked_and_is_named(tmp_path, caplog, cell):
    """probe 60 clock M1: one empty or unreadable time cell turned off the order check of its
    whole chunk: a file sorted newest first was scored backwards, silently."""
    times = _iso(300)[::-1]
    times[200] = cell
    with pytest.raises(DataError, match="t goes back at step 1 .* sort the file by t"):
        read_series(_csv(tmp_path / "rev.csv", times), time_column="t")
    times = _iso(300)
    times[200] = cell
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_series(_csv(tmp_path / "gap.csv", times), time_column="t", chunk_steps=64)
    assert f"t holds 1 cell that is no ISO date or time (e.g. {cell!r} at step 200)" in caplog.text
    # a later chunk's cells are read as the first chunk's kind: a reversed chunk is still seen
    times = _iso(300)
    times[130:] = times[130:][::-1]
    times[140] = cell
    with pytest.raises(DataError, match="t goes back at step 131"):
        read_series(_csv(tmp_path / "late.csv", times), time_column="t", chunk_steps=64)


def test_free_text_is_still_carried_unchecked(tmp_path, caplog):
    """probe 60 clock M1: the docs' rule stays: times neither numbers nor ISO dates (most of their
    cells) are not checked, and not named cell by cell; one note says nothing was checked where
    most cells are times (review 1 F6: a column of times a fifth of which were unreadable went
    unchecked without a word)."""
    times = [f"sample {i % 3}" for i in range(100)]
    times[5] = "2024-01-01"
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        assert read_series(_csv(tmp_path / "t.csv", times), time_column="t").x.shape == (100, 1)
    assert "holds" not in caplog.text and "carried as text" not in caplog.text  # ids: no word
    caplog.clear()
    times = _iso(100)
    times[::5] = ["n/a"] * 20  # a fifth unreadable: over the tenth, so nothing is checked
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_series(_csv(tmp_path / "f.csv", times), time_column="t")
    assert "(e.g. 'n/a' at step 0); the order of the steps was not checked" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_series(_csv(tmp_path / "ok.csv", _iso(100)), time_column="t")
    assert "carried as text" not in caplog.text
    # review 1 F1: epoch seconds, then ISO times (a log that changed its format): every cell is a
    # time of one kind or the other, none to name; this crashed with an IndexError
    mixed = [str(1_700_000_000 + 60 * i) for i in range(50)] + _iso(50)
    assert read_series(_csv(tmp_path / "m.csv", mixed), time_column="t").x.shape == (100, 1)


def test_epoch_nanoseconds_are_compared_as_integers(tmp_path):
    """probe 60 clock L1: epoch nanoseconds 100 ns apart were read as float64 (spacing 256 near
    1.7e18) and called repeats to be sorted."""
    start = 1_710_028_800_000_000_000
    times = [str(start + 100 * i) for i in range(200)]
    assert read_series(_csv(tmp_path / "ns.csv", times), time_column="t").x.shape == (200, 1)
    times[100] = times[99]
    with pytest.raises(DataError, match="t repeats at step 100"):
        read_series(_csv(tmp_path / "twice.csv", times), time_column="t")
    times = [str(start + 100 * i) for i in range(200)][::-1]
    with pytest.raises(DataError, match="t goes back at step 1"):
        read_series(_csv(tmp_path / "rev.csv", times), time_column="t", chunk_steps=64)


def test_the_spring_clock_change_is_named_not_rows_missing(tmp_path, caplog):
    """probe 60 clock L2: local times over the spring change (01:55 then 03:00) were "rows
    missing?"; the autumn change has its remedy, the spring one now its mirror."""
    local = pd.date_range("2024-03-31", periods=400, freq="5min", tz="Europe/Berlin")
    times = list(local.tz_localize(None).strftime("%Y-%m-%dT%H:%M:%S"))
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_series(_csv(tmp_path / "spring.csv", times), time_column="t")
    assert "t skips an hour at step 24 (2024-03-31T01:55:00 -> 2024-03-31T03:00:00)" in caplog.text
    assert "clock set forward" in caplog.text and "rows missing?" not in caplog.text
    caplog.clear()
    hole = _iso(300, "5min")
    del hole[120:132]  # the hour from 10:00 gone: rows missing, as before
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_series(_csv(tmp_path / "hole.csv", hole), time_column="t")
    assert "(e.g. 2024-01-01T09:55:00 -> 2024-01-01T11:00:00 at step 120): rows missing?" in (
        caplog.text
    )
    caplog.clear()  # review 60 F3: times with their offset never skip an hour: rows missing
    zoned = [t + "+00:00" for t in _iso(300, "5min")]
    del zoned[24:36]  # 02:00-02:55 gone, at night
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_series(_csv(tmp_path / "zoned.csv", zoned), time_column="t")
    assert "rows missing?" in caplog.text and "clock set forward" not in caplog.text


def test_basic_iso_dates_are_dates(tmp_path, caplog):
    """probe 60 clock L3: 20230131 (ISO 8601's basic form) was read as a number, so every month's
    end was "rows missing?"."""
    days = list(pd.date_range("2023-01-01", periods=400, freq="D").strftime("%Y%m%d"))
    seconds = list(
        pd.date_range("2023-01-31 23:58", periods=400, freq="s").strftime("%Y%m%d%H%M%S")
    )
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_series(_csv(tmp_path / "days.csv", days), time_column="t")
        read_series(_csv(tmp_path / "secs.csv", seconds), time_column="t")
    assert "jumps" not in caplog.text
    with pytest.raises(DataError, match="t goes back at step 1 .20230209 then 20230208"):
        read_series(_csv(tmp_path / "rev.csv", days[30:40][::-1]), time_column="t")
    # whole numbers that are no dates (a counter) stay numbers
    counter = [str(10_000_000 + 7 * i) for i in range(50)]
    assert read_series(_csv(tmp_path / "n.csv", counter), time_column="t").x.shape == (50, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T09:59:00Z", "2024-01-01T10:00:00+0100", "2024-01-01T10:00:00-05:30",
        "2024-03-31T00:00:00.000000100", "2024-01-01T10:00:00.5", "2024-07-01T17:59:00.000000000Z",
        "20230131", "20230131T101500", "2024-01-01", "2024-01-01 10:00", "2024-01-01T10",
        "2024-01-01T10:00:00+01:00", "2024-01-01T10:00:00.123456", "2024-01-01T0959",
        "20240101T09:59:00", "2024-01-01T10.5",
    ],
)  # fmt: skip
def test_iso_times_read_on_python_3_10_as_on_3_11(text, monkeypatch):
    """Probe 64 floor #1-#2: Python 3.10's fromisoformat reads only what isoformat() writes, so
    on 3.10 (which pyproject admits) a column of 2024-01-01T09:59:00Z was no times: a file sorted
    newest first trained without a word, and --categorical one-hot encoded its dates."""
    import sys
    import types
    from datetime import datetime

    from aekit.data import encoding

    monkeypatch.setattr(encoding, "sys", types.SimpleNamespace(version_info=(3, 10, 13)))
    assert encoding.from_iso(text) == datetime.fromisoformat(text)  # this Python's: 3.11 or later
    assert sys.version_info >= (3, 11)


def test_what_is_no_iso_time_is_refused_on_python_3_10_too(monkeypatch):
    import types

    from aekit.data import encoding

    monkeypatch.setattr(encoding, "sys", types.SimpleNamespace(version_info=(3, 10, 13)))
    for text in (
        "x2024",
        "2024-13-01",
        "2024-01-01T25:00",
        "12345",
        "2024-0101",
        "2024-01-01T09:5900",
    ):
        with pytest.raises(ValueError):
            encoding.from_iso(text)
