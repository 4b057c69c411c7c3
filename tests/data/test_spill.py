"""Spilling to a .npy: tables and image folders spilled equal read_path, with the same errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from aekit.data import open_rows, read_path, spill_images, spill_table
from aekit.errors import DataError, UsageError

from .helpers import one_line_error, write_png, write_table

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("chunk_rows", [7, 16384])
def test_spill_table_equals_read_path(tmp_path, chunk_rows):
    write_table(tmp_path / "t.csv")
    options = dict(label_column="label", id_column="id")
    expected = read_path(tmp_path / "t.csv", **options)
    spilled = spill_table(
        tmp_path / "t.csv", tmp_path / "cache" / "t.npy", chunk_rows=chunk_rows, **options
    )
    np.testing.assert_array_equal(spilled.rows.rows(0, len(spilled)), expected.x)
    np.testing.assert_array_equal(spilled.y, expected.y)
    assert spilled.y.dtype == expected.y.dtype == np.int64
    np.testing.assert_array_equal(spilled.ids, expected.ids)
    assert spilled.feature_names == expected.feature_names == ["a", "b", "c"]
    assert np.load(tmp_path / "cache" / "t.npy").shape == (250, 3)  # a plain .npy that numpy reads
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["t.npy"]  # no temporary left behind


def test_spill_table_labels_across_chunks(tmp_path):
    # One chunk of integral labels, one with fractions: float64 throughout, as read_path gives.
    (tmp_path / "t.csv").write_text("a,y\n1,0\n2,1\n3,0.5\n4,2\n")
    spilled = spill_table(tmp_path / "t.csv", tmp_path / "t.npy", label_column="y", chunk_rows=2)
    expected = read_path(tmp_path / "t.csv", label_column="y")
    assert spilled.y.dtype == expected.y.dtype == np.float64
    np.testing.assert_array_equal(spilled.y, expected.y)
    (tmp_path / "t.csv").write_text("a,y\n1,cat\n2,dog\n3,cat\n")
    spilled = spill_table(tmp_path / "t.csv", tmp_path / "t.npy", label_column="y", chunk_rows=2)
    np.testing.assert_array_equal(spilled.y, ["cat", "dog", "cat"])


def test_spill_table_errors_leave_no_file(tmp_path):
    # the columns are told from the first chunk (two rows); a typo in a later one is a missing value
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n5,6\n7,x\n")
    message = one_line_error(
        spill_table,
        tmp_path / "t.csv",
        tmp_path / "out" / "t.npy",
        chunk_rows=1,
        match="missing value",
    )
    assert "data row 4" in message
    assert not any((tmp_path / "out").iterdir())
    one_line_error(
        spill_table,
        tmp_path / "x.npy",
        tmp_path / "t.npy",
        match="expected a .csv, .tsv or .parquet",
    )


def test_spill_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    x = RNG.normal(size=(100, 2))
    table = pa.table(
        {
            "id": [f"r{i}" for i in range(100)],
            "a": x[:, 0],
            "b": x[:, 1].astype(np.float32),
            "n": np.arange(100, dtype=np.int16),
            "label": RNG.integers(0, 2, 100),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=30)
    spilled = spill_table(
        tmp_path / "t.parquet",
        tmp_path / "t.npy",
        label_column="label",
        id_column="id",
        chunk_rows=16,
    )
    expected = np.column_stack([x[:, 0], x[:, 1].astype(np.float32), np.arange(100)]).astype(
        np.float32
    )
    np.testing.assert_array_equal(spilled.rows.rows(0, 100), expected)
    np.testing.assert_array_equal(spilled.y, table["label"].to_numpy())
    assert spilled.ids[3] == "r3" and spilled.feature_names == ["a", "b", "n"]
    bad = pa.table({"a": [1.0, None, 3.0], "s": ["x", "y", "z"]})
    pq.write_table(bad, tmp_path / "bad.parquet")
    one_line_error(
        spill_table,
        tmp_path / "bad.parquet",
        tmp_path / "b.npy",
        columns=["a"],
        match="data row 2 has a missing value",
    )
    # a text column is left out (with a note), as from a CSV
    pq.write_table(
        pa.table({"a": [1.0, 2.0, 3.0], "s": ["x", "y", "z"]}), tmp_path / "text.parquet"
    )
    spilled = spill_table(tmp_path / "text.parquet", tmp_path / "t2.npy")
    assert spilled.feature_names == ["a"]
    np.testing.assert_array_equal(spilled.rows.rows(0, 3)[:, 0], [1.0, 2.0, 3.0])


def test_parquet_without_pyarrow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # make the import fail
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    one_line_error(
        spill_table, tmp_path / "t.parquet", tmp_path / "t.npy", match="pip install pyarrow"
    )


@pytest.mark.parametrize("channels", [1, 3])
def test_spill_images_equals_read_path(tmp_path, channels):
    shape = (12, 9) if channels == 1 else (12, 9, 3)
    for name in ["b.png", "a.png", "sub/c.png", "sub/a.png", ".hidden/x.png"]:
        write_png(tmp_path / "imgs" / name, RNG.integers(0, 256, shape, dtype=np.uint8))
    expected = read_path(tmp_path / "imgs")
    spilled = spill_images(tmp_path / "imgs", tmp_path / "imgs.npy")
    assert spilled.names == expected.names == ["a.png", "b.png", "sub/a.png", "sub/c.png"]
    assert spilled.image_mode == expected.image_mode and spilled.rows.sample_shape == (
        channels,
        12,
        9,
    )
    np.testing.assert_array_equal(spilled.rows.rows(0, 4), expected.x)
    resized = spill_images(tmp_path / "imgs", tmp_path / "small.npy", image_size=(5, 4))
    np.testing.assert_array_equal(
        resized.rows.rows(0, 4), read_path(tmp_path / "imgs", image_size=(5, 4)).x
    )


def test_spill_images_of_several_sizes_cuts_them_as_read_path_does(tmp_path):
    """probe 67 #6: `train denoise` trained on a folder of two sizes in memory (central crops)
    and refused it streamed, with --stream or past --memory-cap."""
    write_png(tmp_path / "imgs" / "a.png", RNG.integers(0, 256, (6, 5), dtype=np.uint8))
    write_png(tmp_path / "imgs" / "b.png", RNG.integers(0, 256, (9, 8), dtype=np.uint8))
    expected = read_path(tmp_path / "imgs", crop_mixed=True)
    spilled = spill_images(tmp_path / "imgs", tmp_path / "x.npy", crop_mixed=True)
    assert spilled.rows.sample_shape == (1, 6, 5)
    np.testing.assert_array_equal(spilled.rows.rows(0, 2), expected.x)
    opened = open_rows(tmp_path / "imgs", cache_dir=tmp_path / "cache", crop_mixed=True)
    np.testing.assert_array_equal(opened.rows.rows(0, 2), expected.x)


def test_spill_images_errors_match_read_path(tmp_path):
    write_png(tmp_path / "imgs" / "a.png", np.zeros((4, 4), np.uint8))
    write_png(tmp_path / "imgs" / "b.png", np.zeros((5, 4), np.uint8))
    message = one_line_error(
        spill_images, tmp_path / "imgs", tmp_path / "x.npy", match="different sizes"
    )
    with pytest.raises(DataError) as err:
        read_path(tmp_path / "imgs")
    assert message == str(err.value)
    (tmp_path / "empty").mkdir()
    one_line_error(spill_images, tmp_path / "empty", tmp_path / "x.npy", match="has no images")


def test_open_rows(tmp_path):
    x = RNG.random((20, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    opened = open_rows(tmp_path / "x.npy", cache_dir=tmp_path / "cache")
    assert opened.rows.path == tmp_path / "x.npy" and not (tmp_path / "cache").exists()  # no copy
    np.testing.assert_array_equal(opened.rows.take([3]), x[[3]])
    write_table(tmp_path / "t.csv", n=30)
    table = open_rows(
        tmp_path / "t.csv",
        cache_dir=tmp_path / "cache",
        label_column="label",
        id_column="id",
        chunk_rows=8,
    )
    assert table.rows.path.parent == tmp_path / "cache" and len(table) == 30 and len(table.y) == 30
    write_png(tmp_path / "imgs" / "a.png", np.zeros((4, 4), np.uint8))
    assert open_rows(tmp_path / "imgs", cache_dir=tmp_path / "cache").rows.shape == (1, 1, 4, 4)
    assert open_rows(tmp_path / "imgs" / "a.png", cache_dir=tmp_path / "cache").names == ["a.png"]
    np.savez(tmp_path / "x.npz", x=x)
    one_line_error(
        open_rows,
        tmp_path / "x.npz",
        cache_dir=tmp_path,
        match="cannot be streamed.*save the array as .npy",
    )
    (tmp_path / "x.txt").write_text("1")
    one_line_error(open_rows, tmp_path / "x.txt", cache_dir=tmp_path, match="unsupported file type")
    one_line_error(
        open_rows, tmp_path / "nope.csv", cache_dir=tmp_path, exc=UsageError, match="no such file"
    )
