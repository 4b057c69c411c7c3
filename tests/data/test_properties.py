"""Property tests: arbitrary input either loads with its values intact or fails with one DataError line."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aekit.data import as_array, read_path
from aekit.errors import DataError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
F32_MAX = float(np.finfo(np.float32).max)


def _loads_or_one_line_error(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DataError as exc:
        assert "\n" not in str(exc) and str(exc)
        return None


@SETTINGS
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_]),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    )
)
def test_as_array_round_trips_or_refuses(array):
    out = _loads_or_one_line_error(as_array, array)
    valid = (
        array.ndim >= 2
        and array.size > 0
        and np.isfinite(array.astype(np.float64)).all()
        and (np.abs(array.astype(np.float64)) <= F32_MAX).all()
        # a feature whose every non-zero value float32 holds as 0 or a subnormal is refused
        and not any(
            _all_below_float32(column)
            for column in array.reshape(len(array), -1).T.tolist()
            if array.dtype == np.float64
        )
    )
    if valid:
        assert out is not None and out.dtype == np.float32 and out.shape == array.shape
        np.testing.assert_array_equal(out, array.astype(np.float32))
    else:
        assert out is None


def _all_below_float32(values) -> bool:
    small = [
        abs(np.float32(v)) < np.finfo(np.float32).tiny for v in values if v and not np.isnan(v)
    ]
    return bool(small) and all(small)


@SETTINGS
@given(
    st.lists(st.lists(st.floats(width=64), min_size=1, max_size=4), min_size=1, max_size=6),
    st.booleans(),
)
def test_numeric_csv_round_trips_or_refuses(rows, header):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            if header:
                writer.writerow([f"c{i}" for i in range(len(rows[0]))])
            writer.writerows([[repr(v) for v in row] for row in rows])
        data = _loads_or_one_line_error(read_path, path)
        ragged = len({len(r) for r in rows}) > 1
        # NaN is a missing cell (issue 33): a column of nothing else is left out (with a note),
        # others keep it for the fill; infinity and floats beyond float32 are refused
        big = any(np.isinf(v) or abs(v) > F32_MAX for row in rows for v in row if not np.isnan(v))
        kept = (
            []
            if ragged
            else [j for j in range(len(rows[0])) if not all(np.isnan(r[j]) for r in rows)]
        )
        # a column whose every non-zero value float32 holds as 0 or a subnormal is refused too
        tiny = not ragged and any(_all_below_float32(r[j] for r in rows) for j in kept)
        if ragged or big or not kept or tiny:
            assert data is None
        else:
            assert data is not None
            want = np.array(rows, dtype=np.float32)[:, kept]
            np.testing.assert_array_equal(data.x, want)
            assert data.feature_names == ([f"c{j}" for j in kept] if header else None)


@SETTINGS
@given(
    st.lists(st.lists(st.text(max_size=6), min_size=1, max_size=4), max_size=5),
    st.sampled_from([".csv", ".tsv"]),
)
def test_arbitrary_text_table_never_crashes(rows, ext):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t{ext}"
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, delimiter="," if ext == ".csv" else "\t").writerows(rows)
        data = _loads_or_one_line_error(read_path, path)
        if data is not None:  # a missing cell is NaN (read_path's fill_values fill them), no inf
            assert data.x.dtype == np.float32 and not np.isinf(data.x).any() and len(data.x) >= 1
