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


def test_a_date_column_is_read_as_dates_at_scoring_whatever_the_new_cells(export, tmp_path, caplog):
    data = read_path(export, id_column=0, categorical=["plan", "signup_date"])
    columns = dict(columns=data.feature_names, categorical=["plan", "signup_date"])
    lines = EXPORT.splitlines()
    # dates in another form: refused naming the form expected (they were one-hot "text" and scored)
    us = [lines[0]] + [line.replace("2023-01-05", "01/05/2023") for line in lines[1:2]] * 3
    (tmp_path / "us.csv").write_text("\n".join(us) + "\n")
    with pytest.raises(DataError, match="'01/05/2023' is not an ISO date"):
        read_path(tmp_path / "us.csv", **columns)
    # one such cell among dates: read as missing, and said
    (tmp_path / "one.csv").write_text("\n".join(lines[:1] + us[1:2] + lines[2:]) + "\n")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_path(tmp_path / "one.csv", **columns)
    assert "'01/05/2023' at row 2, not an ISO date" in caplog.text
    # no date yet: a missing value (filled as recorded), not a column fewer
    empty = [lines[0]] + [line.replace("2023-01-05", "") for line in lines[1:2]]
    (tmp_path / "empty.csv").write_text("\n".join(empty) + "\n")
    new = read_path(tmp_path / "empty.csv", fill_values={"signup_date": 19000.0}, **columns)
    assert new.x.shape == (1, len(data.feature_names)) and new.x[0, 0] == 19000.0


def test_category_values_spelled_otherwise_and_unseen_ones(export, tmp_path, caplog):
    data = read_path(export, id_column=0, categorical=["plan", "children"])
    # a column of numbers named a category is one: a value each (it was read as one number)
    assert "children=0" in data.feature_names and "children" not in data.feature_names
    columns = dict(columns=data.feature_names, categorical=["plan", "children"])
    # pandas' round trip: "basic" -> "Basic" is not, but "2" -> "2.0" (a column with a NaN) is
    text = EXPORT.replace("U001,2023-01-05,basic,34,52000,2", "U001,2023-01-05,BASIC,34,52000,2.0")
    text = text.replace("U002,2023-02-11,pro,", "U002,2023-02-11,gold,")
    (tmp_path / "new.csv").write_text(text)
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        new = read_path(tmp_path / "new.csv", **columns)
    np.testing.assert_array_equal(np.nan_to_num(new.x[0]), np.nan_to_num(data.x[0]))
    names = data.feature_names
    assert new.x[1, [names.index(f"plan={v}") for v in ("basic", "pro", "team")]].tolist() == [
        0,
        0,
        0,
    ]
    assert any("plan: 1 cell held a value not seen in training (e.g. 'gold'" in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_parquet_integer_ids_stay_integers(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    ids = np.arange(3, dtype=np.int64) + 2**53 + 1  # past float64's integers
    table = pa.table({"id": ids, "a": [0.5, 1.5, 2.5], "n": pa.array([1, None, 3], pa.int64())})
    pq.write_table(table, tmp_path / "t.parquet")
    data = read_path(tmp_path / "t.parquet", id_column="id")
    assert data.ids.tolist() == [str(i) for i in ids]
    assert data.x[:, 1].tolist()[0] == 1.0 and np.isnan(data.x[1, 1])


def test_columns_refuse_what_they_would_ignore(export):
    """With ``columns``, ``drop_columns`` was never read and a ``categorical`` column outside them
    never encoded, without a word: each is one line; a categorical column among them is kept."""
    from aekit.errors import UsageError

    with pytest.raises(UsageError, match="--drop-columns income with --columns"):
        read_path(export, columns=["age", "income"], drop_columns=["income"])
    with pytest.raises(UsageError, match="--categorical plan with --columns age, income"):
        read_path(export, columns=["age", "income"], categorical=["plan"])
    data = read_path(export, columns=["age", "signup_date"], categorical=["signup_date"])
    assert data.feature_names == ["age", "signup_date"]


def test_a_label_or_id_column_named_a_feature_too_is_refused(export):
    """A label column among ``columns`` was learned as a feature (a detector's metrics perfect on
    noise), and one column as both label and id was taken without a word: each is one line."""
    from aekit.errors import UsageError

    with pytest.raises(UsageError, match="--label-column plan is among --columns, the features"):
        read_path(export, label_column="plan", columns=["age", "plan"])
    with pytest.raises(UsageError, match="--id-column user_id is among --categorical"):
        read_path(export, id_column="user_id", categorical=["user_id"])
    with pytest.raises(UsageError, match="--label-column plan and --id-column plan name one"):
        read_path(export, label_column="plan", id_column="plan")
    data = read_path(export, label_column="plan", id_column="user_id", columns=["age"])
    assert data.feature_names == ["age"]
