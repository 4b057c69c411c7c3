"""Tables as users export them (issue 33): ids, dates, text, empty cells and typos, read as they are."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from aekit.data import read_path
from aekit.data.encoding import kind_of, parse_dates
from aekit.data.missing import fill_missing, fill_values
from aekit.errors import DataError

EXPORT = """user_id,signup_date,plan,age,income,children
U001,2023-01-05,basic,34,52000,2
U002,2023-02-11,pro,41,,0
U003,2023-03-20,team,4O,61000,
U004,2023-04-02,basic,29,48000,1
U005,2023-05-17,pro,55,75000,NA
U006,2023-06-30,team,38,58000,3
U007,2023-07-04,basic,47,66000,2
U008,2023-08-15,pro,33,51000,1
U009,2023-09-09,team,36,57000,0
U010,2023-10-10,basic,44,63000,2
U011,2023-11-11,pro,31,50000,1
"""


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(EXPORT)
    return path


def test_text_columns_left_out_with_one_note(export, caplog):
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        data = read_path(export, id_column="user_id")
    assert data.feature_names == ["age", "income", "children"]
    assert data.ids[0] == "U001" and data.id_name == "user_id"
    notes = [r.getMessage() for r in caplog.records]
    left_out = [n for n in notes if "left out" in n]
    assert (
        len(left_out) == 1
        and "signup_date (dates" in left_out[0]
        and "plan (3 values" in left_out[0]
    )
    assert any("'4O' at row 4" in n for n in notes)  # the typo: read as missing, named
    # missing cells (empty, NA) and the typo are NaN until filled
    assert np.isnan(data.x).sum(0).tolist() == [1, 1, 2]


def test_an_id_column_not_given_is_named_as_one(export, caplog):
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_path(export)
    assert any("--id-column user_id" in r.getMessage() for r in caplog.records)


def test_columns_drop_and_categorical(export):
    data = read_path(export, columns=["income", "age"])
    assert data.feature_names == ["income", "age"]
    data = read_path(export, drop_columns=["income"], id_column="user_id")
    assert data.feature_names == ["age", "children"]
    data = read_path(export, id_column=0, categorical=["plan", "signup_date"])
    assert data.feature_names[:4] == ["signup_date", "plan=basic", "plan=pro", "plan=team"]
    assert data.x[0, 0] == pytest.approx(19362.0)  # 2023-01-05: days since 1970-01-01
    assert data.x[:3, 1:4].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    # a later read with the model's columns: the same encoding, an unseen value all zeros
    again = read_path(export, columns=data.feature_names, categorical=["plan", "signup_date"])
    np.testing.assert_array_equal(np.nan_to_num(again.x), np.nan_to_num(data.x))


def test_fill_values_learned_and_applied(export):
    data = read_path(export, id_column="user_id")
    values = fill_values(data.x, "median", data.feature_names)
    assert values["children"] == 1.0
    filled = read_path(export, id_column="user_id", fill_values=values)
    assert not np.isnan(filled.x).any() and filled.x[1, 1] == values["income"]
    with pytest.raises(DataError, match="3 of 11 rows have missing values, in 3 columns"):
        fill_missing(data.x, None, data.feature_names, str(export), "none")
    assert fill_values(data.x, "zero", data.feature_names)["age"] == 0.0


def test_a_column_of_text_asked_for_by_name_is_refused(export):
    with pytest.raises(DataError, match="'basic' is not a number"):
        read_path(export, columns=["plan", "age"])


def test_no_numeric_column_left(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\nx,y\nz,w\n")
    with pytest.raises(DataError, match="no numeric columns"):
        read_path(tmp_path / "t.csv")


def test_kinds_and_dates():
    assert kind_of(np.array(["1", "2.5", "", "-3"])) == "number"
    assert kind_of(np.array(["2024-01-02T10:00", "2024/01/03"])) == "date"
    days, bad = parse_dates(np.array(["1970-01-02 12:00", "", "soon"]))
    assert days[0] == 1.5 and np.isnan(days[1]) and bad.tolist() == [False, False, True]


def test_parquet_like_csv(export, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = pcsv.read_csv(export, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    pq.write_table(table, tmp_path / "users.parquet")
    data = read_path(tmp_path / "users.parquet", id_column="user_id")
    assert isinstance(table, pa.Table)
    assert data.feature_names == ["age", "income", "children"]
    assert np.isnan(data.x).sum(0).tolist() == [1, 1, 2]  # nulls and the typo: missing
