"""read_path on every supported format, and a one-line error for every bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from aekit.data import as_array, as_labels, read_path
from aekit.errors import DataError, UsageError

RNG = np.random.default_rng(0)


def _error(path, exc=DataError, match=None, **kwargs) -> str:
    """Read ``path`` expecting ``exc``; return its one-line message, which must name the file."""
    with pytest.raises(exc, match=match) as err:
        read_path(path, **kwargs)
    message = str(err.value)
    assert "\n" not in message and str(path) in message, message
    return message


def _png(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


# --------------------------------------------------------------------------- arrays


def test_npy(tmp_path):
    x = RNG.random((5, 3))
    np.save(tmp_path / "x.npy", x)
    data = read_path(tmp_path / "x.npy")
    assert data.x.dtype == np.float32 and data.x.flags.c_contiguous and data.y is None
    np.testing.assert_array_equal(data.x, x.astype(np.float32))
    assert data.source == str(tmp_path / "x.npy")


def test_npy_3d_becomes_grayscale_images(tmp_path):
    np.save(tmp_path / "x.npy", RNG.random((4, 8, 8)).astype(np.float32))
    assert read_path(tmp_path / "x.npy").x.shape == (4, 1, 8, 8)


def test_npy_object_array_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    assert "never unpickles" in _error(tmp_path / "x.npy")


@pytest.mark.parametrize(
    "array,match",
    [
        (np.array([1.0, 2.0]), "expected \\(samples, features\\)"),
        (np.zeros((0, 3)), "empty"),
        (np.array([["a", "b"]]), "expected numbers"),
        (np.array([[1.0, np.nan]]), "non-finite value \\(nan\\) at index \\(0, 1\\)"),
        (np.array([[1.0], [np.inf]]), "non-finite"),
        (np.array([[1e300]]), "too large for float32"),
    ],
)
def test_npy_bad_arrays(tmp_path, array, match):
    np.save(tmp_path / "x.npy", array)
    _error(tmp_path / "x.npy", match=match)


def test_npy_corrupt(tmp_path):
    (tmp_path / "x.npy").write_bytes(b"\x93NUMPY garbage")
    _error(tmp_path / "x.npy", match="not a valid .npy")


def test_npz(tmp_path):
    x, y = RNG.random((6, 2)), np.arange(6)
    np.savez(tmp_path / "one.npz", features=x, y=y)
    data = read_path(tmp_path / "one.npz")
    np.testing.assert_array_equal(data.x, x.astype(np.float32))
    assert data.y.tolist() == list(range(6)) and data.y.dtype == np.int64
    np.savez(tmp_path / "two.npz", a=x, b=x * 2)
    message = _error(tmp_path / "two.npz", UsageError, match="--npz-key")
    assert "a, b" in message
    np.testing.assert_array_equal(
        read_path(tmp_path / "two.npz", npz_key="b").x, (x * 2).astype(np.float32)
    )
    _error(tmp_path / "two.npz", UsageError, match="no array 'c'; it holds: a, b", npz_key="c")


def test_a_damaged_npz_is_one_line(tmp_path):
    # uncovered probe 58 #1: not a whole zip was zipfile.BadZipFile ("internal error" in the CLI)
    np.savez(tmp_path / "x.npz", x=np.ones((30, 2)), y=np.arange(30))
    whole = (tmp_path / "x.npz").read_bytes()
    (tmp_path / "half.npz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04garbage")
    for name in ("half.npz", "junk.npz"):
        _error(tmp_path / name, DataError, match=f"{name} is not a valid .npz file")


def test_npz_bad_labels(tmp_path):
    np.savez(tmp_path / "x.npz", x=np.ones((3, 2)), labels=np.arange(4))
    _error(tmp_path / "x.npz", match="4 labels; expected 3")


# --------------------------------------------------------------------------- tables


def test_csv_without_header(tmp_path):
    (tmp_path / "t.csv").write_text("1,2,3\n4,5,6\n\n")
    data = read_path(tmp_path / "t.csv")
    assert data.x.tolist() == [[1, 2, 3], [4, 5, 6]] and data.feature_names is None


def test_csv_with_header_and_label_by_name(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,label\n1,2,0\n3,4.5,1\n")
    data = read_path(tmp_path / "t.csv", label_column="label")
    assert data.x.tolist() == [[1, 2], [3, 4.5]] and data.feature_names == ["a", "b"]
    assert data.y.tolist() == [0, 1] and data.y.dtype == np.int64


@pytest.mark.parametrize(
    "spec,x,y",
    [
        ("0", [[2, 3], [5, 6]], [1, 4]),
        ("-1", [[1, 2], [4, 5]], [3, 6]),
        (1, [[1, 3], [4, 6]], [2, 5]),
    ],
)
def test_label_column_by_index(tmp_path, spec, x, y):
    (tmp_path / "t.csv").write_text("1,2,3\n4,5,6\n")
    data = read_path(tmp_path / "t.csv", label_column=spec)
    assert data.x.tolist() == x and data.y.tolist() == y


def test_tsv_with_string_labels_and_ids(tmp_path):
    (tmp_path / "t.tsv").write_text("id\tx1\tx2\tkind\nr1\t1\t2\tcat\nr2\t3\t4\tdog\n")
    data = read_path(tmp_path / "t.tsv", label_column="kind", id_column="id")
    assert data.x.tolist() == [[1, 2], [3, 4]] and data.feature_names == ["x1", "x2"]
    assert data.ids.tolist() == ["r1", "r2"] and data.y.tolist() == ["cat", "dog"]


def test_id_column_without_header(tmp_path):
    (tmp_path / "t.csv").write_text("a7,1,2\nb8,3,4\n")
    data = read_path(tmp_path / "t.csv", id_column=0)
    assert data.ids.tolist() == ["a7", "b8"] and data.x.tolist() == [[1, 2], [3, 4]]


def test_columns_selection(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,c,d\n1,2,3,4\n5,6,7,8\n")
    data = read_path(tmp_path / "t.csv", columns=["c", "a"])
    assert data.x.tolist() == [[3, 1], [7, 5]] and data.feature_names == ["c", "a"]
    assert "lacks the model's columns 'e'; its columns are: a, b, c, d" in _error(
        tmp_path / "t.csv", columns=["a", "e"]
    )


def test_explicit_has_header(tmp_path):
    (tmp_path / "t.csv").write_text("1,2\n3,4\n")
    data = read_path(tmp_path / "t.csv", has_header=True)
    assert data.feature_names == ["1", "2"] and data.x.tolist() == [[3, 4]]


def test_bom_and_whitespace(tmp_path):
    (tmp_path / "t.csv").write_bytes("\ufeffa, b\n 1 , 2\n".encode())
    data = read_path(tmp_path / "t.csv")
    assert data.feature_names == ["a", "b"] and data.x.tolist() == [[1, 2]]


@pytest.mark.parametrize(
    "text,match",
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("a,b\n", "no data rows"),
        ("1,2,3\n4,5\n", "row 2 has 2 values; expected 3"),
        ("a,b\n1,2\n3,inf\n", "at row 3, column 'b'"),
        (
            "a,b\n1,1e999\n",
            r"non-finite value \(inf\) .*\(inf, or in a text file a number past float64.s ±1.8e308",
        ),
        ("a,b\n1,1e300\n", "too large for float32"),
        ("a,b\n1,-1e999\n", r"\(-inf, or in a text file .*which reads as -inf\)"),
    ],
)
def test_bad_tables(tmp_path, text, match):
    (tmp_path / "t.csv").write_text(text)
    _error(tmp_path / "t.csv", match=match)


@pytest.mark.parametrize(
    "text,names,missing",
    [
        ("a,b\n1,2\n3,\n", ["a", "b"], [0, 1]),  # an empty cell: a missing value (issue 33)
        ("a,b\n1,nan\n2,NA\n3,4\n", ["a", "b"], [0, 2]),
        ("1,2\n3,x\n", None, [0]),  # a column of text (half its cells): left out
    ],
)
def test_missing_cells_and_text_columns_read(tmp_path, text, names, missing):
    (tmp_path / "t.csv").write_text(text)
    data = read_path(tmp_path / "t.csv")
    assert data.feature_names == names and np.isnan(data.x).sum(0).tolist() == missing


def test_missing_label_column_lists_columns(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    assert "its columns are: a, b" in _error(tmp_path / "t.csv", label_column="label")
    (tmp_path / "n.csv").write_text("1,2\n")
    assert "indices 0..1 (no header row)" in _error(tmp_path / "n.csv", label_column="5")


def test_a_column_named_in_another_unicode_form_is_said_so(tmp_path):
    """probe 59 locale M4: a table from a Mac (NFD headers) "lacks the model's columns
    'température'; its columns are: température", printed alike."""
    (tmp_path / "t.csv").write_text("tempe\u0301rature,b\n1,2\n3,4\n", encoding="utf-8")
    message = _error(tmp_path / "t.csv", columns=["temp\u00e9rature", "b"])
    assert "lacks the model's columns" in message
    assert "given 'temp\\xe9rature', found 'tempe\\u0301rature'" in message
    message = _error(tmp_path / "t.csv", id_column="temp\u00e9rature")
    assert "has no id column" in message and "two Unicode forms" in message


def test_not_utf8(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"\xff\xfe\x00\x01")
    _error(tmp_path / "t.csv", match="not UTF-8")


def test_not_utf8_past_the_first_buffer_names_the_line_and_the_bytes_offset(tmp_path):
    """probe 59 locale M5: the offset counted from the decoder's 8 KB buffer (byte 2632 of a
    byte at 1,288,776): the message names the line and the byte in the file."""
    rows = [b"a,b"] + [b"%d,%d" % (i, i) for i in range(5000)]
    rows[4000] = "Z\xfcrich,1".encode("latin-1")
    (tmp_path / "t.csv").write_bytes(b"\n".join(rows) + b"\n")
    at = b"\n".join(rows).index(b"\xfc")
    message = _error(tmp_path / "t.csv", match="not UTF-8")
    assert f"line 4001, byte {at:,}: invalid start byte, b'\\xfcric'" in message
    # the lines of a table with CR line ends (review 59 #6: "line 1" for every byte)
    (tmp_path / "t.csv").write_bytes(b"\r".join(rows) + b"\r")
    assert "line 4001," in _error(tmp_path / "t.csv", match="not UTF-8")


# --------------------------------------------------------------------------- images


def test_grayscale_folder_nested_and_sorted(tmp_path):
    a, b, c = (RNG.integers(0, 256, (5, 4), dtype=np.uint8) for _ in range(3))
    _png(tmp_path / "imgs" / "b.png", b)
    _png(tmp_path / "imgs" / "a.png", a)
    _png(tmp_path / "imgs" / "sub" / "c.png", c)
    (tmp_path / "imgs" / "notes.txt").write_text("ignored")
    data = read_path(tmp_path / "imgs")
    assert data.names == ["a.png", "b.png", "sub/c.png"] and data.image_mode == "L"
    assert data.x.shape == (3, 1, 5, 4) and data.x.dtype == np.float32
    np.testing.assert_allclose(data.x[:, 0], np.stack([a, b, c]) / 255, rtol=1e-6)


def test_rgb_folder_with_jpeg_and_bmp(tmp_path):
    rgb = np.stack(
        [*np.meshgrid(np.arange(7) * 30, np.arange(6) * 40), np.full((6, 7), 128)], -1
    ).astype(np.uint8)
    _png(tmp_path / "imgs" / "a.png", rgb)
    Image.fromarray(rgb).save(tmp_path / "imgs" / "b.bmp")
    Image.fromarray(rgb).save(tmp_path / "imgs" / "c.JPG", quality=95)
    data = read_path(tmp_path / "imgs")
    assert (
        data.x.shape == (3, 3, 6, 7)
        and data.image_mode == "RGB"
        and data.names == ["a.png", "b.bmp", "c.JPG"]
    )
    np.testing.assert_allclose(data.x[0], rgb.transpose(2, 0, 1) / 255, rtol=1e-6)
    np.testing.assert_allclose(data.x[1], data.x[0])
    assert np.abs(data.x[2] - data.x[0]).mean() < 0.05  # JPEG is lossy


@pytest.mark.parametrize(
    "mode,expected", [("RGBA", "RGB"), ("LA", "L"), ("P", "RGB"), ("1", "L"), ("I;16", "L")]
)
def test_modes_are_normalised(tmp_path, mode, expected):
    image = Image.new(mode, (4, 3))
    image.save(tmp_path / "x.png")
    data = read_path(tmp_path / "x.png")
    assert data.image_mode == expected and data.x.shape == (1, 1 if expected == "L" else 3, 3, 4)
    assert data.names == ["x.png"]


def test_sixteen_bit_scales_to_unit_range(tmp_path):
    Image.fromarray(np.array([[0, 65535]], dtype=np.uint16)).save(tmp_path / "x.png")
    assert read_path(tmp_path / "x.png").x.ravel().tolist() == [0.0, 1.0]


def test_resize(tmp_path):
    _png(tmp_path / "imgs" / "a.png", np.zeros((5, 5), np.uint8))
    _png(tmp_path / "imgs" / "b.png", np.full((8, 3), 255, np.uint8))
    message = _error(tmp_path / "imgs", match="--image-size")
    assert "a.png is 5x5, b.png is 3x8 (width x height)" in message  # as --image-size takes it
    assert read_path(tmp_path / "imgs", image_size=4).x.shape == (2, 1, 4, 4)
    data = read_path(tmp_path / "imgs", image_size=(6, 2))
    assert data.x.shape == (2, 1, 6, 2) and data.x[1].min() == 1.0
    with pytest.raises(UsageError, match="image size"):
        read_path(tmp_path / "imgs", image_size=(0, 2))


def test_mixed_modes(tmp_path):
    _png(tmp_path / "imgs" / "a.png", np.zeros((4, 4), np.uint8))
    _png(tmp_path / "imgs" / "b.png", np.zeros((4, 4, 3), np.uint8))
    assert "a.png is L, b.png is RGB" in _error(tmp_path / "imgs", match="different modes")


def test_corrupt_image(tmp_path):
    _png(tmp_path / "imgs" / "a.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "imgs" / "b.png").write_bytes(b"\x89PNG not really")
    _error(tmp_path / "imgs", match="b.png is not a readable image")


def test_folder_without_images(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.txt").write_text("1")
    _error(tmp_path / "empty", match="has no images")


# --------------------------------------------------------------------------- paths


def test_missing_path(tmp_path):
    assert (
        _error(tmp_path / "nope.csv", UsageError)
        == f"no such file or folder: {tmp_path / 'nope.csv'}"
    )


def test_unsupported_extension(tmp_path):
    (tmp_path / "x.feather").write_bytes(b"ARROW1")
    assert ".npy, .npz, .csv, .tsv, .parquet, .png" in _error(
        tmp_path / "x.feather", match="unsupported file type"
    )


def test_empty_file(tmp_path):
    (tmp_path / "x.npy").write_bytes(b"")
    _error(tmp_path / "x.npy", match="is empty")


# --------------------------------------------------------------------------- in memory


def test_as_array_inputs():
    import torch

    expected = np.array([[1, 2], [3, 4]], dtype=np.float32)
    for value in (
        [[1, 2], [3, 4]],
        np.array([[1, 2], [3, 4]], dtype=np.int64),
        torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True),
        torch.tensor([[1, 2], [3, 4]], dtype=torch.bfloat16),
        np.asfortranarray(expected),
    ):
        out = as_array(value)
        assert out.dtype == np.float32 and out.flags.c_contiguous
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(
    "value,match",
    [
        ([[1, 2], [3]], "cannot be read as an array"),
        (np.zeros((0, 2)), "empty"),
        (np.array([["a"]]), "expected numbers"),
        ([1.0, 2.0], "reshape"),
        ([[1.0, float("nan")]], "non-finite"),
        (np.array([[1 + 2j]]), "expected numbers"),
    ],
)
def test_as_array_errors(value, match):
    with pytest.raises(DataError, match=match) as err:
        as_array(value, name="X_train")
    assert "\n" not in str(err.value) and str(err.value).startswith("X_train")


def test_as_labels():
    assert as_labels([0.0, 1.0], 2).dtype == np.int64
    assert as_labels(np.array([[1], [2]]), 2).tolist() == [1, 2]
    assert as_labels(["a", "b"], 2).tolist() == ["a", "b"]
    assert as_labels([0.5, 1.0], 2).dtype == np.float64
    with pytest.raises(DataError, match="expected 3"):
        as_labels([1, 2], 3)
    with pytest.raises(DataError, match="non-finite"):
        as_labels([1, float("nan")], 2)


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("a,b\n1,2\n,\n3,4\n", [[1, 2], [np.nan, np.nan], [3, 4]]),  # pandas' row of NaN
        ('v\n1\n""\n3\n', [[1], [np.nan], [3]]),  # ... in a table of one column
        ("a,b\n1,2\n\n3,4\n  \n", [[1, 2], [3, 4]]),  # blank lines, as pandas skips them
    ],
)
def test_a_row_of_empty_cells_is_a_row_of_missing_values(tmp_path, text, rows):
    """Dropped as if blank, it shifted every later row's score onto the row before."""
    (tmp_path / "t.csv").write_text(text)
    np.testing.assert_array_equal(read_path(tmp_path / "t.csv").x, np.array(rows, np.float32))


def test_a_header_that_names_two_columns_alike_is_one_line(tmp_path):
    """Scoring picks columns by name: both 'a' read the first, a normal row scored 1e17."""
    (tmp_path / "t.csv").write_text("a,a,c\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="columns 0 and 1 both 'a'"):
        read_path(tmp_path / "t.csv")


def test_table_columns_of_a_parquet_file_are_its_schemas_names(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from aekit.data.tables import table_columns

    pq.write_table(pa.table({"uid": ["a", "b"], "f0": [1.0, 2.0]}), tmp_path / "t.parquet")
    assert table_columns(tmp_path / "t.parquet") == ["uid", "f0"]
    assert table_columns(tmp_path / "missing.parquet") is None


def test_a_table_separated_by_semicolons_says_so(tmp_path):
    """Spreadsheets write ';' CSVs in many locales: the message spoke of 'no numeric columns'."""
    (tmp_path / "t.csv").write_text("a;b\n1;2\n3;4\n")
    with pytest.raises(DataError, match="separated by semicolons; aekit reads a .csv file"):
        read_path(tmp_path / "t.csv")
    (tmp_path / "one.csv").write_text("a\n1\n2\n")  # one column: no separator to find
    assert read_path(tmp_path / "one.csv").x.shape == (2, 1)


def test_the_header_is_told_from_the_first_rows_not_the_second_alone(tmp_path, caplog):
    values = np.round(RNG.normal(size=(6, 3)), 4)
    body = "\n".join(",".join(str(v) for v in row) for row in values) + "\n"
    # a header above a first row of missing values (pandas writes a row of NaN as ",,")
    (tmp_path / "nan.csv").write_text("a,b,c\n,,\n" + body)
    data = read_path(tmp_path / "nan.csv")
    assert data.feature_names == ["a", "b", "c"] and data.x.shape == (7, 3)
    assert np.isnan(data.x[0]).all()
    # pandas' names of an array's columns, and years: integers above numbers with decimals
    for header in ("0,1,2", "2019,2020,2021"):
        (tmp_path / "int.csv").write_text(header + "\n" + body)
        caplog.clear()
        data = read_path(tmp_path / "int.csv")
        assert data.feature_names == header.split(",") and data.x.shape == (6, 3)
        np.testing.assert_allclose(data.x, values, rtol=1e-6)
        assert "read its first row" in caplog.text
    # a first data row with a missing cell is data, not a header
    (tmp_path / "nohead.csv").write_text("NA,1.5,2.5\n" + body)
    data = read_path(tmp_path / "nohead.csv")
    assert data.feature_names is None and data.x.shape == (7, 3)
    # integers over integers: data (counts), as before
    (tmp_path / "counts.csv").write_text("2,1,5\n3,4,5\n6,7,8\n")
    assert read_path(tmp_path / "counts.csv").x.shape == (3, 3)
    # but exactly pandas' names of an integer array's columns: names
    (tmp_path / "pandas.csv").write_text("0,1,2\n3,4,5\n6,7,8\n")
    assert read_path(tmp_path / "pandas.csv").feature_names == ["0", "1", "2"]


def test_aekit_header_of_results_without_names_is_a_header(tmp_path, caplog):
    """A reconstruction of images (``file,0,1,...``) or of a table without a header (``0,0,1,...``,
    as aekit wrote it before) read the header row as a sample of 0, 1, 2, ..."""
    values = np.round(RNG.random((4, 3)), 4)
    body = "".join(f"r{i}.png," + ",".join(map(str, row)) + "\n" for i, row in enumerate(values))
    (tmp_path / "rec.csv").write_text("file,0,1,2\n" + body)
    caplog.clear()
    data = read_path(tmp_path / "rec.csv", id_column="file")
    assert data.feature_names == ["0", "1", "2"] and data.ids.tolist()[0] == "r0.png"
    np.testing.assert_allclose(data.x, values, rtol=1e-6)
    assert "the names aekit writes" in caplog.text
    # the older header of a table without one, its id column 0: a header (refused: two '0's)
    (tmp_path / "old.csv").write_text("0,0,1,2\n" + body)
    with pytest.raises(DataError, match="both '0'"):
        read_path(tmp_path / "old.csv")
    # without a text lead, or with text ids whose first row is data: as before
    (tmp_path / "data.csv").write_text("r9,0.5,1,2\n" + body)
    assert read_path(tmp_path / "data.csv").x.shape == (5, 3)
    (tmp_path / "nums.csv").write_text("5,0,1,2\n7,0.5,0.25,3\n")
    assert read_path(tmp_path / "nums.csv").feature_names is None
    # a user's table without a header whose first row happens to be an id, then 0, 1, 2: data
    for first in ("alice", "s1", "NA", "x,y"):
        lead = first.count(",") + 1
        rows = [f"{first},0,1,2", *(f"{'b,' * lead}{i},{i + 1},{i + 2}" for i in (3, 6))]
        (tmp_path / "u.csv").write_text("\n".join(rows) + "\n")
        data = read_path(tmp_path / "u.csv", id_column=0)
        assert len(data.x) == 3 and data.ids.tolist()[0] == first.split(",")[0]  # no row lost


def test_codes_that_python_reads_as_numbers_and_pandas_as_text_are_text(tmp_path):
    # "2023_51" (a year-week) is 202351 to float() (PEP 515), text to pandas; so are other scripts' digits
    rows = [f"2023_{i + 10},{i % 3}_{i % 2},{i * 1.5},{'１２' if i == 0 else i}" for i in range(30)]
    (tmp_path / "w.csv").write_text("week,lot,sales,n\n" + "\n".join(rows) + "\n")
    data = read_path(tmp_path / "w.csv")
    assert data.feature_names == ["sales", "n"]  # week and lot left out as text
    assert np.isnan(data.x[0, 1]) and data.x[1, 1] == 1.0  # "１２": a typo read as missing


def test_a_photo_is_read_upright_as_its_exif_orientation_says(tmp_path):
    # a phone stores the sensor's pixels and an orientation (6: a quarter turn) that viewers apply
    shown = (RNG.random((40, 20)) * 255).astype(np.uint8)  # (H, W) as every viewer shows it
    stored = np.rot90(shown, 1).copy()  # (20, 40): as the camera wrote it
    im = Image.fromarray(stored)
    exif = im.getexif()
    exif[0x0112] = 6
    (tmp_path / "photos").mkdir()
    im.save(tmp_path / "photos" / "a.png", exif=exif.tobytes())
    Image.fromarray(shown).save(tmp_path / "photos" / "b.png")
    data = read_path(tmp_path / "photos")  # one size, not "images have different sizes"
    assert data.x.shape == (2, 1, 40, 20)
    np.testing.assert_array_equal(data.x[0], data.x[1])


@pytest.mark.parametrize("channels", [1, 3])
def test_images_with_their_channels_last_are_refused_with_the_transpose(tmp_path, channels):
    """Probe 51 ae 6: an (n, H, W, 1) array (Keras's layout) was read as 28-channel 28x1 images:
    trained on, then an internal error from the figures (or, without them, a nonsense model)."""
    from aekit.data import open_rows

    path = tmp_path / "nhwc.npy"
    np.save(path, RNG.random((4, 8, 6, channels)).astype(np.float32))
    for read in (read_path, lambda p: open_rows(p, cache_dir=tmp_path / "cache")):
        with pytest.raises(DataError, match=r"channels last.*x\.transpose\(0, 3, 1, 2\)") as err:
            read(path)
        assert str(path) in str(err.value) and f"(4, 8, 6, {channels})" in str(err.value)
    np.save(path, RNG.random((4, channels, 8, 3)).astype(np.float32))  # (n, C, H, W): taken
    assert read_path(path).x.shape == (4, channels, 8, 3)


@pytest.mark.parametrize("channels", [2, 4])
def test_images_with_an_alpha_channel_last_are_refused_too(tmp_path, channels):
    """Probe 55 inputs 7: (n, H, W, 4), stacked ``np.asarray`` of PIL's RGBA images (2: LA), was
    read as 16-channel images of 16x4 pixels; only 1 and 3 channels last were refused."""
    path = tmp_path / "nhwc.npy"
    np.save(path, RNG.random((4, 8, 6, channels)).astype(np.float32))
    with pytest.raises(DataError, match=r"channels last.*x\.transpose\(0, 3, 1, 2\)"):
        read_path(path)
    for taken in ((4, channels, 8, 4), (4, 3, 8, channels), (4, 4, 4, channels)):  # (n, C, H, W)
        np.save(path, RNG.random(taken).astype(np.float32))
        assert read_path(path).x.shape == taken


def test_an_input_that_is_a_pipe_or_an_unexpanded_tilde_is_said_so(tmp_path, monkeypatch):
    """Probe 52 sh 6: a named pipe was "no such file"; `--input=~/x.csv` gave no hint."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file .a named pipe"):
        read_path(fifo)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="no such file.*did not expand '~'"):
        read_path("~/rows.csv")


def test_npy_files_np_load_should_not_be_given_are_one_line(tmp_path):
    # an .npz named .npy (np.load opens it as an archive: an AttributeError), a 224-byte header
    # claiming 24 TB ("out of memory; use smaller sizes"), a pickle
    import pickle
    import struct

    from aekit.errors import DataError

    np.savez(tmp_path / "z.npz", x=np.ones((4, 6), "f4"))
    (tmp_path / "z.npz").rename(tmp_path / "zip.npy")
    head = repr({"descr": "<f4", "fortran_order": False, "shape": (10**12, 6)})
    head += " " * ((64 - (len(head) + 11) % 64) % 64) + "\n"
    (tmp_path / "huge.npy").write_bytes(
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode() + b"\0" * 96
    )
    (tmp_path / "pick.npy").write_bytes(pickle.dumps({"a": 1}))
    for name, words in [("zip", "an .npz archive"), ("huge", "truncated"), ("pick", "not a valid")]:
        with pytest.raises(DataError, match=words):
            read_path(tmp_path / f"{name}.npy")


def test_a_float_image_is_read_by_its_range_not_truncated(tmp_path):
    # a 32-bit float TIFF of values in [0, 1] came out black (convert("L") truncates)
    from PIL import Image

    from aekit.errors import DataError

    a = np.linspace(0.2, 0.7, 24 * 32, dtype=np.float32).reshape(24, 32)
    Image.fromarray(a).save(tmp_path / "f.tif")
    x = read_path(tmp_path / "f.tif").x
    np.testing.assert_allclose(x[0, 0], np.round(a * 255) / 255, atol=1e-6)
    Image.fromarray(a * 1000).save(tmp_path / "g.tif")
    with pytest.raises(DataError, match="float image with values in"):
        read_path(tmp_path / "g.tif")


def test_a_32_bit_integer_image_is_read_by_its_range_not_as_16_bit(tmp_path):
    """probe 59 locale M3: an int32 TIFF (mode "I") of values 100-255 was read as 16-bit, its top
    byte kept: all black. A 16-bit TIFF stays 16-bit (its top byte)."""
    from PIL import Image

    a = np.arange(100, 100 + 12 * 12, dtype=np.int32).reshape(12, 12)
    Image.fromarray(a).save(tmp_path / "i.tif")
    np.testing.assert_allclose(read_path(tmp_path / "i.tif").x[0, 0], a / 255, atol=1e-6)
    Image.fromarray((a * 256).astype(np.uint16)).save(tmp_path / "w.tif")
    np.testing.assert_allclose(read_path(tmp_path / "w.tif").x[0, 0], a / 255, atol=1e-6)
    Image.fromarray(a * 1000).save(tmp_path / "big.tif")
    _error(tmp_path / "big.tif", match="32-bit integer image with values in")
    with pytest.raises(DataError) as info:  # said once, not inside "is not a readable image"
        read_path(tmp_path / "big.tif")
    assert "not a readable image" not in str(info.value)
    # review 59 R2-2: a 0/1 mask is stretched as a float's; 16-bit values in an int32 TIFF are
    # refused (read by their top byte, they were on another scale than a darker frame beside them)
    Image.fromarray((a > 150).astype(np.int32)).save(tmp_path / "m.tif")
    np.testing.assert_array_equal(read_path(tmp_path / "m.tif").x[0, 0], a > 150)
    Image.fromarray(a * 256).save(tmp_path / "i16.tif")
    _error(tmp_path / "i16.tif", match="save it as an 8- or 16-bit image")


def test_bits_per_sample_of_a_mode_i_image():
    """review 59 #7: a mode "I" image says its bits in a TIFF's tag; one that says none (a 16-bit
    PNG, opened in mode "I" by older Pillows) is 16-bit."""
    import io

    from PIL import Image

    from aekit.data.images import _bits

    assert _bits(Image.new("I", (4, 4))) == 16
    buf = io.BytesIO()
    Image.fromarray(np.zeros((4, 4), np.int32)).save(buf, format="TIFF")
    with Image.open(buf) as im:
        assert im.mode == "I" and _bits(im) == 32
