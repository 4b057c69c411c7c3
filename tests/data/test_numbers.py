"""Numbers as users' files write them: thousands separators, pandas' row index, float32's range."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import aekit
from aekit.data import read_path
from aekit.errors import DataError


def test_numbers_with_thousands_separators_are_numbers_and_said(tmp_path, caplog):
    # spreadsheets group the large values only: read as missing, they were filled with the median
    rows = [f"{q},{a},{p}" for q, a, p in [(0.5, "67.89", 831), (0.6, '"1,092.77"', 466)] * 10]
    rows[4] = '0.7,"-25,000",12'
    (tmp_path / "t.csv").write_text("qty,amount,price\n" + "\n".join(rows) + "\n")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        data = read_path(tmp_path / "t.csv")
    assert data.x[1, 1] == pytest.approx(1092.77) and data.x[4, 1] == -25000
    assert not np.isnan(data.x).any()
    assert (
        "thousands separators as numbers: amount (11 cells, e.g. '1,092.77' at row 3)"
        in caplog.text
    )


@pytest.mark.parametrize("mark", ["'", "\u2019", " ", "\u00a0", "\u202f"])
def test_other_thousands_separators_are_numbers_not_missing_values(tmp_path, mark):
    # Swiss Excel's 25'000.00, a space, a no-break space: read as missing, the large values (the
    # very ones to flag) were filled with the median and scored normal
    rows = [f"{q},{a}" for q, a in [(0.5, "67.89"), (0.6, f"25{mark}000.00")] * 10]
    rows[2] = f"0.7,-1{mark}234{mark}567.5"
    (tmp_path / "t.csv").write_text("qty,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    data = read_path(tmp_path / "t.csv")
    assert data.x[1, 1] == 25000 and data.x[2, 1] == -1234567.5 and not np.isnan(data.x).any()
    # mixed marks, or groups not of three digits, are no such number
    (tmp_path / "u.csv").write_text(
        "qty,amount\n" + "\n".join([f"0.{i},{i}1.5" for i in range(19)] + [f"1,2{mark}34"]) + "\n",
        encoding="utf-8",
    )
    assert np.isnan(read_path(tmp_path / "u.csv").x[-1, 1])


def test_numbers_in_indias_grouping_are_numbers_in_a_column_of_one_grouping(tmp_path):
    """probe 59 locale M6: 1,09,987.99 (lakh, crore: en-IN spreadsheets) was not a number: the
    largest amounts read as missing (filled), or the column left out as text."""
    amounts = ['"1,09,987.99"', '"99,999.50"', "650.25", '"1,23,45,678.00"', '"2,50,000"'] * 4
    rows = [f"0.{i},{a}" for i, a in enumerate(amounts)]
    (tmp_path / "t.csv").write_text("qty,amount\n" + "\n".join(rows) + "\n")
    data = read_path(tmp_path / "t.csv")
    assert data.feature_names == ["qty", "amount"]
    np.testing.assert_allclose(data.x[:5, 1], [109987.99, 99999.5, 650.25, 12345678, 250000])
    # beside them, 1,234,567 (grouped in thousands) is no number of the column's grouping
    (tmp_path / "u.csv").write_text(
        "qty,amount\n" + "\n".join(rows + ['0.9,"1,234,567.00"']) + "\n"
    )
    x = read_path(tmp_path / "u.csv").x
    assert np.isnan(x[-1, 1]) and x[0, 1] == pytest.approx(109987.99)
    # and the reverse (review 59 #1): one 10,00,000 among thousands-grouped amounts is one odd
    # cell, not the column read in India's grouping (dropped as text, or a long file's later
    # chunk refused)
    west = [f'0.{i},"{123 + i},456.00"' for i in range(30)] + ['0.9,"10,00,000.00"']
    (tmp_path / "w.csv").write_text("qty,amount\n" + "\n".join(west) + "\n")
    data = read_path(tmp_path / "w.csv")
    assert data.feature_names == ["qty", "amount"] and np.isnan(data.x[-1, 1])
    assert data.x[0, 1] == pytest.approx(123456)


def test_numbers_a_plain_space_separates_are_not_glued_into_one(tmp_path):
    # "864 672 559" (a file of spaces saved as .csv), "640 480" (a resolution): a space is also what
    # stands between values; taken as a thousands separator only with the number's decimals
    lines = ["width height area"] + [f"{100 + i} {200 + i} {300 + i}" for i in range(30)]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="no numeric columns"):
        read_path(tmp_path / "s.csv")
    rows = [f"0.{i},{i}5.5" for i in range(20)] + ["0.5,640 480"]
    (tmp_path / "t.csv").write_text("a,b\n" + "\n".join(rows) + "\n")
    assert np.isnan(read_path(tmp_path / "t.csv").x[-1, 1])


def test_pandas_row_index_is_left_out_with_a_note(tmp_path, caplog):
    x = np.random.default_rng(0).normal(size=(12, 2)).round(4)
    for header in ("", "Unnamed: 0"):
        lines = [f"{header},a,b"] + [f"{i},{a},{b}" for i, (a, b) in enumerate(x)]
        (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
        with caplog.at_level(logging.WARNING, logger="aekit.notes"):
            data = read_path(tmp_path / "t.csv")
        assert data.feature_names == ["a", "b"] and "pandas' index" in caplog.text
    # a named first column of 0, 1, 2 ... is the user's
    lines = ["n,a,b"] + [f"{i},{a},{b}" for i, (a, b) in enumerate(x)]
    (tmp_path / "n.csv").write_text("\n".join(lines) + "\n")
    assert read_path(tmp_path / "n.csv").feature_names == ["n", "a", "b"]


def test_values_float32_reads_as_zero_are_refused_or_said(tmp_path, caplog):
    rng = np.random.default_rng(1)
    p_values = 10.0 ** -rng.uniform(40, 80, 20)  # a column of p-values: all 0 in float32
    lines = ["p,x"] + [f"{p:.6g},{v:.4f}" for p, v in zip(p_values, rng.normal(size=20))]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="too small for float32 .* column 'p'"):
        read_path(tmp_path / "t.csv")
    X = rng.random((20, 3))
    X[:, 2] = 1e-50
    with pytest.raises(DataError, match="too small for float32"):
        aekit.Autoencoder(epochs=1, device="cpu", threads=1).fit(X)
    X[:, 2] = rng.random(20)
    X[3, 1] = 1e-40  # one such value beside ordinary ones: read as 0, and said
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.Autoencoder(epochs=1, device="cpu", threads=1).fit(X)
    assert "1 value too small for float32" in caplog.text


def test_a_column_that_float32_holds_as_one_value_is_said(tmp_path, caplog):
    """probe 61 degenerate #1: 2**60 + v (an id, a nanosecond time) varies in the file but is one
    number in float32: the column silently stopped mattering."""
    rng = np.random.default_rng(0)
    v = rng.integers(0, 1000, 20)
    lines = ["x,big"] + [f"{a:.4f},{2**60 + b}" for a, b in zip(rng.normal(size=20), v)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        read_path(tmp_path / "t.csv")
    assert "column 'big'" in caplog.text and "all one value in float32" in caplog.text
    caplog.clear()
    X = rng.normal(size=(20, 3)).astype(object)
    X[:, 1] = 1e12 + v / 100  # float64 holds the cents, float32 not the units
    X[:, 2] = np.int64(2**60) + v
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.Autoencoder(epochs=1, device="cpu", threads=1).fit(X.astype(float).tolist())
        ids = np.stack([v, np.int64(2**60) + v], axis=1)  # an int64 array: ids beside counts
        aekit.Autoencoder(epochs=1, device="cpu", threads=1).fit(ids)
    assert "column 1" in caplog.text and "(and 1 more such)" in caplog.text
    assert "1152921504606847" in caplog.text and "subtract an offset" in caplog.text
    caplog.clear()
    X = np.full((20, 2), 2**60, np.int64)  # constant in the data too: nothing new to say
    X[:, 0] = v
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.Autoencoder(epochs=1, device="cpu", threads=1).fit(X)
    assert "float32" not in caplog.text
    import pandas as pd

    frame = pd.DataFrame({"x": rng.normal(size=20), "id": np.int64(2**60) + v, "ok": v % 2 == 0})
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):  # mixed dtypes (review 2 R2-6)
        aekit.Autoencoder(epochs=1, device="cpu", threads=1).fit(frame)
    assert "column 'id'" in caplog.text and "all one value in float32" in caplog.text
    caplog.clear()
    shares = rng.random((20, 4))
    shares = shares / shares.sum(1, keepdims=True)  # rows of shares: each sums to 1 +- an ulp
    X = np.column_stack([rng.normal(size=20), shares.sum(1)])
    assert len(np.unique(X[:, 1])) > 1  # round-off, not variation (review 2 R2-1)
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.Autoencoder(epochs=1, device="cpu", threads=1).fit(X)
    assert "float32" not in caplog.text


def test_decimal_commas_are_one_line_not_a_table_of_text(tmp_path):
    # what spreadsheets write in much of Europe: ';' between cells, ',' for decimals
    (tmp_path / "s.csv").write_text("a;b;c\n1,5;2,25;3\n4,75;5,5;6\n")
    with pytest.raises(DataError, match="separated by semicolons with decimal commas"):
        read_path(tmp_path / "s.csv")
    # tabs between cells: every measured column was left out as text, the run trained on the rest
    rows = [f"w{i}\t{i},{i + 1}\t1{i},5{i}\t{i}" for i in range(20)]
    (tmp_path / "t.tsv").write_text("name\ta\tb\tclass\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="column 'a' holds numbers with decimal commas"):
        read_path(tmp_path / "t.tsv")
    # a decimal comma with three digits beside others is not a thousands separator
    rows = [f"{i},{(i * 37) % 1000:03d}\t{i}" for i in range(20)] + ["1,5\t1"]
    (tmp_path / "m.tsv").write_text("a\tb\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="decimal commas"):
        read_path(tmp_path / "m.tsv")


def test_true_and_false_are_one_and_zero_in_a_csv_as_in_parquet(tmp_path):
    # pandas writes a bool column True/False; Parquet keeps booleans: both read alike
    rows = [f"{v:.2f},{'True' if i % 3 else 'False'}" for i, v in enumerate(np.linspace(0, 1, 12))]
    (tmp_path / "b.csv").write_text("x,flag\n" + "\n".join(rows) + "\n")
    csv = read_path(tmp_path / "b.csv")
    assert csv.feature_names == ["x", "flag"] and csv.x[:3, 1].tolist() == [0, 1, 1]
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"x": csv.x[:, 0].astype(np.float64), "flag": [bool(f) for f in csv.x[:, 1]]})
    pq.write_table(table, tmp_path / "b.parquet")
    np.testing.assert_array_equal(read_path(tmp_path / "b.parquet").x, csv.x)
    # a run's one-hot of a bool column reads a Parquet file of the same rows alike
    encoded = read_path(tmp_path / "b.csv", categorical=["flag"])
    again = read_path(tmp_path / "b.parquet", columns=encoded.feature_names, categorical=["flag"])
    np.testing.assert_array_equal(again.x, encoded.x)


def test_three_decimals_after_a_comma_are_decimal_commas_unless_the_column_shows_otherwise(
    tmp_path,
):
    # "5,606" kg: 5.606 with a decimal comma, or 5606? Nothing in this column says thousands
    rows = [f'"{i % 9 + 1},{(i * 37) % 1000:03d}"' for i in range(20)]
    (tmp_path / "kg.csv").write_text("kg\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="decimal commas"):
        read_path(tmp_path / "kg.csv")
    # beside values below 1,000 written plainly, the comma groups thousands
    (tmp_path / "n.csv").write_text("n\n" + "\n".join(rows + ["831", "466"]) + "\n")
    assert read_path(tmp_path / "n.csv").x[0, 0] == 1000
