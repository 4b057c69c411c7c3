"""Row stores on disk: NpyRows equals np.load, spilled tables and images equal read_path, memory stays bounded."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aekit.data import (
    NpyRows,
    RowsView,
    open_rows,
    parse_size,
    read_path,
    should_stream,
    spill_images,
    spill_table,
)
from aekit.data.stream import _GRANULE, estimate_bytes
from aekit.errors import DataError, UsageError

RNG = np.random.default_rng(0)
REPO = Path(__file__).resolve().parents[2]


def _one_line_error(fn, *args, exc=DataError, match=None, **kwargs) -> str:
    with pytest.raises(exc, match=match) as err:
        fn(*args, **kwargs)
    message = str(err.value)
    assert "\n" not in message and message, message
    return message


# --------------------------------------------------------------------------- NpyRows


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float64, np.float32, np.float16, bool, ">f4"])
@pytest.mark.parametrize("resident_bytes", [1, None])
def test_npy_rows_equal_np_load(tmp_path, dtype, resident_bytes):
    x = (RNG.random((53, 4, 3)) * 200).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    expected = read_path(tmp_path / "x.npy").x  # (53, 1, 4, 3): 3-D is served as grayscale images
    with NpyRows(tmp_path / "x.npy", resident_bytes=resident_bytes) as rows:
        assert len(rows) == 53 and rows.shape == expected.shape and rows.sample_shape == (1, 4, 3)
        assert rows.dtype == np.dtype(dtype) and rows.nbytes == x.nbytes
        for _ in range(5):
            idx = RNG.integers(-53, 53, size=int(RNG.integers(0, 80)))  # any order, repeats, negatives
            got = rows.take(idx)
            assert got.dtype == np.float32 and got.flags.c_contiguous
            np.testing.assert_array_equal(got, expected[idx])
        np.testing.assert_array_equal(rows.rows(7, 30), expected[7:30])
        np.testing.assert_array_equal(rows.rows(0, 1000), expected)  # clipped like a slice
        assert rows.rows(30, 7).shape == (0, 1, 4, 3)
        rows.check_finite(chunk_rows=5)


def test_npy_rows_2d_and_pickling(tmp_path):
    x = RNG.random((100, 6))
    np.save(tmp_path / "x.npy", x)
    rows = NpyRows(tmp_path / "x.npy")
    assert rows.shape == (100, 6)
    clone = pickle.loads(pickle.dumps(rows))  # reopens the file by path
    np.testing.assert_array_equal(clone.take([5, 1]), x[[5, 1]].astype(np.float32))
    rows.close()
    rows.close()
    with pytest.raises(ValueError, match="closed"):
        rows.take([0])
    clone.close()  # rewriting a mapped file in place would pull the data from under the map
    np.save(tmp_path / "x.npy", RNG.random((10, 6)))
    _one_line_error(pickle.loads, pickle.dumps(rows), match="changed since it was opened")


def test_npy_rows_index_errors(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 2)))
    rows = NpyRows(tmp_path / "x.npy")
    with pytest.raises(IndexError, match="row index 4 is out of range for 4 rows"):
        rows.take([0, 4])
    with pytest.raises(TypeError):
        rows.take([0.5])


def test_rows_view(tmp_path):
    x = RNG.random((40, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    rows = NpyRows(tmp_path / "x.npy")
    order = RNG.permutation(40)
    train, val = RowsView(rows, order[:30]), RowsView(rows, order[30:])
    assert len(train) == 30 and len(val) == 10 and train.sample_shape == (3,)
    np.testing.assert_array_equal(val.rows(0, 10), x[order[30:]])
    np.testing.assert_array_equal(train.take([29, 0, 0]), x[order[[29, 0, 0]]])
    nested = RowsView(train, [2, 1])  # a view of a view reads straight from the file
    assert nested.base is rows
    np.testing.assert_array_equal(nested.take([1, 0]), x[order[[1, 2]]])
    mask = np.arange(40) % 4 == 0
    np.testing.assert_array_equal(RowsView(rows, mask).rows(0, 99), x[mask])


@pytest.mark.parametrize("make,match", [
    (lambda p: np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True), "never unpickles"),
    (lambda p: np.save(p, np.asfortranarray(np.ones((3, 2)))), "Fortran order; expected C order"),
    (lambda p: np.save(p, np.ones(5)), "expected \\(samples, features\\)"),
    (lambda p: np.save(p, np.zeros((0, 3))), "empty array"),
    (lambda p: np.save(p, np.zeros((3, 0))), "empty array"),
    (lambda p: np.save(p, np.array([["a", "b"]])), "expected numbers"),
    (lambda p: np.save(p, np.ones((2, 2), dtype=np.complex64)), "expected numbers"),
    (lambda p: p.write_bytes(b"not an array at all"), "not a valid .npy file"),
    (lambda p: p.write_bytes(b""), "not a valid .npy file"),
    (lambda p: p.write_bytes((lambda b: b[:-8])(_npy_bytes(np.ones((4, 4))))), "truncated"),
])
def test_npy_rows_bad_files(tmp_path, make, match):
    path = tmp_path / "x.npy"
    make(path)
    assert str(path) in _one_line_error(NpyRows, path, match=match)


def _npy_bytes(x: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, x)
    return buffer.getvalue()


def test_npy_rows_wrong_path(tmp_path):
    _one_line_error(NpyRows, tmp_path / "missing.npy", exc=UsageError, match="no such file")
    (tmp_path / "x.csv").write_text("1,2\n")
    _one_line_error(NpyRows, tmp_path / "x.csv", match="expected a .npy file")


@pytest.mark.parametrize("value,match", [
    (np.nan, r"non-finite value \(nan\) at row 37, index \(37, 2\)"),
    (-np.inf, r"non-finite value \(-inf\) at row 37"),
    (1e300, r"too large for float32 \(1e\+300\) at row 37"),
])
def test_check_finite_names_the_first_bad_row(tmp_path, value, match):
    x = np.ones((50, 3))
    x[37, 2] = value
    x[45, 0] = np.nan
    np.save(tmp_path / "x.npy", x)
    rows = NpyRows(tmp_path / "x.npy", resident_bytes=1)
    _one_line_error(rows.check_finite, chunk_rows=4, match=match)
    _one_line_error(rows.take, [1, 37, 0], match=match)  # batches are checked as they are converted
    rows.take([1, 2, 36])  # the good rows still read


MEMORY_CHILD = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from aekit.data.stream import NpyRows
    rows = NpyRows(sys.argv[1], resident_bytes=None if sys.argv[2] == "none" else int(sys.argv[2]))
    order = np.random.default_rng(0).permutation(len(rows))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    total = 0.0
    for start in range(0, len(order), 256):
        total += float(rows.take(order[start:start + 256])[:, 0].sum(dtype=np.float64))
    print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, repr(total))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss is in KiB and madvise bounds RSS on Linux")
def test_a_shuffled_pass_over_a_large_file_keeps_memory_bounded(tmp_path):
    n, features = 300 * 2**20 // 1024, 256  # 300 MiB of float32 rows of 1 KiB, written in chunks
    path, column0 = tmp_path / "big.npy", 0.0
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (n, features)})
        rng = np.random.default_rng(1)
        for start in range(0, n, 16384):
            chunk = rng.random((min(16384, n - start), features), dtype=np.float32)
            column0 += float(chunk[:, 0].sum(dtype=np.float64))
            f.write(chunk.tobytes())
    result = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(path), str(32 * 2**20)],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    base, peak, total = result.stdout.split()
    growth_mib = (int(peak) - int(base)) / 1024
    assert growth_mib < 150, f"peak RSS grew by {growth_mib:.0f} MiB during a pass over a 300 MiB file"
    assert float(total) == pytest.approx(column0, rel=1e-9)  # every row was read once


def test_residency_budget_is_counted_in_granules(tmp_path):
    # Rows far apart each cost a granule; the mapping is released before the budget is passed.
    rows_per_granule = _GRANULE // 64
    np.save(tmp_path / "x.npy", np.zeros((rows_per_granule * 6, 16), np.float32))
    rows = NpyRows(tmp_path / "x.npy", resident_bytes=2 * _GRANULE)
    releases = []
    rows.release = lambda: (releases.append(rows._touched), NpyRows.release(rows))
    rows.take(np.arange(6) * rows_per_granule)
    assert releases == [2 * _GRANULE, 2 * _GRANULE] and rows._touched == 2 * _GRANULE


# --------------------------------------------------------------------------- spilling


def _table(path: Path, n: int = 250) -> np.ndarray:
    x = RNG.normal(size=(n, 3)).round(4)
    labels = RNG.integers(0, 3, n)
    lines = ["id,a,label,b,c"] + [f"r{i},{x[i, 0]},{labels[i]},{x[i, 1]},{x[i, 2]}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return x


@pytest.mark.parametrize("chunk_rows", [7, 16384])
def test_spill_table_equals_read_path(tmp_path, chunk_rows):
    _table(tmp_path / "t.csv")
    options = dict(label_column="label", id_column="id")
    expected = read_path(tmp_path / "t.csv", **options)
    spilled = spill_table(tmp_path / "t.csv", tmp_path / "cache" / "t.npy", chunk_rows=chunk_rows, **options)
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
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,x\n")
    message = _one_line_error(spill_table, tmp_path / "t.csv", tmp_path / "out" / "t.npy", chunk_rows=1,
                              match="'x' is not a number")
    assert "row 3" in message
    assert not any((tmp_path / "out").iterdir())
    _one_line_error(spill_table, tmp_path / "x.npy", tmp_path / "t.npy", match="expected a .csv, .tsv or .parquet")


def test_spill_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    x = RNG.normal(size=(100, 2))
    table = pa.table({"id": [f"r{i}" for i in range(100)], "a": x[:, 0], "b": x[:, 1].astype(np.float32),
                      "n": np.arange(100, dtype=np.int16), "label": RNG.integers(0, 2, 100)})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=30)
    spilled = spill_table(tmp_path / "t.parquet", tmp_path / "t.npy", label_column="label", id_column="id",
                          chunk_rows=16)
    expected = np.column_stack([x[:, 0], x[:, 1].astype(np.float32), np.arange(100)]).astype(np.float32)
    np.testing.assert_array_equal(spilled.rows.rows(0, 100), expected)
    np.testing.assert_array_equal(spilled.y, table["label"].to_numpy())
    assert spilled.ids[3] == "r3" and spilled.feature_names == ["a", "b", "n"]
    bad = pa.table({"a": [1.0, None, 3.0], "s": ["x", "y", "z"]})
    pq.write_table(bad, tmp_path / "bad.parquet")
    _one_line_error(spill_table, tmp_path / "bad.parquet", tmp_path / "b.npy", columns=["a"],
                    match="non-finite value \\(nan\\) at row 1, column 'a'")
    _one_line_error(spill_table, tmp_path / "bad.parquet", tmp_path / "b.npy", match="column 's' has type string")


def test_parquet_without_pyarrow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # make the import fail
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    _one_line_error(spill_table, tmp_path / "t.parquet", tmp_path / "t.npy", match="pip install pyarrow")


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.mark.parametrize("channels", [1, 3])
def test_spill_images_equals_read_path(tmp_path, channels):
    shape = (12, 9) if channels == 1 else (12, 9, 3)
    for name in ["b.png", "a.png", "sub/c.png", "sub/a.png", ".hidden/x.png"]:
        _png(tmp_path / "imgs" / name, RNG.integers(0, 256, shape, dtype=np.uint8))
    expected = read_path(tmp_path / "imgs")
    spilled = spill_images(tmp_path / "imgs", tmp_path / "imgs.npy")
    assert spilled.names == expected.names == ["a.png", "b.png", "sub/a.png", "sub/c.png"]
    assert spilled.image_mode == expected.image_mode and spilled.rows.sample_shape == (channels, 12, 9)
    np.testing.assert_array_equal(spilled.rows.rows(0, 4), expected.x)
    resized = spill_images(tmp_path / "imgs", tmp_path / "small.npy", image_size=(5, 4))
    np.testing.assert_array_equal(resized.rows.rows(0, 4), read_path(tmp_path / "imgs", image_size=(5, 4)).x)


def test_spill_images_errors_match_read_path(tmp_path):
    _png(tmp_path / "imgs" / "a.png", np.zeros((4, 4), np.uint8))
    _png(tmp_path / "imgs" / "b.png", np.zeros((5, 4), np.uint8))
    message = _one_line_error(spill_images, tmp_path / "imgs", tmp_path / "x.npy", match="different sizes")
    with pytest.raises(DataError) as err:
        read_path(tmp_path / "imgs")
    assert message == str(err.value)
    (tmp_path / "empty").mkdir()
    _one_line_error(spill_images, tmp_path / "empty", tmp_path / "x.npy", match="has no images")


# --------------------------------------------------------------------------- choosing


def test_open_rows(tmp_path):
    x = RNG.random((20, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    opened = open_rows(tmp_path / "x.npy", cache_dir=tmp_path / "cache")
    assert opened.rows.path == tmp_path / "x.npy" and not (tmp_path / "cache").exists()  # no copy
    np.testing.assert_array_equal(opened.rows.take([3]), x[[3]])
    _table(tmp_path / "t.csv", n=30)
    table = open_rows(tmp_path / "t.csv", cache_dir=tmp_path / "cache", label_column="label", id_column="id",
                      chunk_rows=8)
    assert table.rows.path.parent == tmp_path / "cache" and len(table) == 30 and len(table.y) == 30
    _png(tmp_path / "imgs" / "a.png", np.zeros((4, 4), np.uint8))
    assert open_rows(tmp_path / "imgs", cache_dir=tmp_path / "cache").rows.shape == (1, 1, 4, 4)
    assert open_rows(tmp_path / "imgs" / "a.png", cache_dir=tmp_path / "cache").names == ["a.png"]
    np.savez(tmp_path / "x.npz", x=x)
    _one_line_error(open_rows, tmp_path / "x.npz", cache_dir=tmp_path,
                    match="cannot be streamed.*save the array as .npy")
    (tmp_path / "x.txt").write_text("1")
    _one_line_error(open_rows, tmp_path / "x.txt", cache_dir=tmp_path, match="unsupported file type")
    _one_line_error(open_rows, tmp_path / "nope.csv", cache_dir=tmp_path, exc=UsageError, match="no such file")


@pytest.mark.parametrize("text,expected", [
    ("1048576", 2**20), (4096, 4096), ("2G", 2 * 2**30), ("2GB", 2 * 2**30), ("2GiB", 2 * 2**30), ("2gi", 2 * 2**30),
    ("512m", 512 * 2**20), ("1.5 GB", 3 * 2**29), ("1T", 2**40), ("64K", 65536), ("100B", 100), (" 7 ", 7),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "G", "2X", "two", "-1G", "0", "2 G B", "1e9", "2iB", True])
def test_parse_size_errors(text):
    message = _one_line_error(parse_size, text, exc=UsageError, name="--memory-cap")
    assert message.startswith("--memory-cap")


def test_default_memory_cap(monkeypatch):
    from aekit.data import default_memory_cap

    monkeypatch.setenv("AEKIT_MEMORY_CAP", "3G")
    assert default_memory_cap() == 3 * 2**30
    monkeypatch.setenv("AEKIT_MEMORY_CAP", "lots")
    _one_line_error(default_memory_cap, exc=UsageError, match="AEKIT_MEMORY_CAP")
    monkeypatch.delenv("AEKIT_MEMORY_CAP")
    assert 0 < default_memory_cap()


def test_should_stream(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1000, 250), np.float32))  # 1 MB of data
    assert should_stream(tmp_path / "x.npy", 2**20)
    assert not should_stream(tmp_path / "x.npy", 2 * 2**20)
    np.save(tmp_path / "x64.npy", np.zeros((1000, 250)))  # read_path also makes a float32 copy
    assert estimate_bytes(tmp_path / "x64.npy") > estimate_bytes(tmp_path / "x.npy") * 2
    _table(tmp_path / "t.csv")
    size = (tmp_path / "t.csv").stat().st_size
    assert should_stream(tmp_path / "t.csv", size * 2)  # parsing text takes many times its size
    assert not should_stream(tmp_path / "t.csv", size * 100)
    for i in range(3):
        _png(tmp_path / "imgs" / f"{i}.png", RNG.integers(0, 256, (32, 32), dtype=np.uint8))
    assert should_stream(tmp_path / "imgs", 32 * 32 * 3)
    assert not should_stream(tmp_path / "imgs", 2**30)
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    assert should_stream(tmp_path / "t.parquet", 2**40)  # only the streaming reader reads Parquet
    np.savez(tmp_path / "x.npz", x=np.zeros((1000, 1000)))
    assert not should_stream(tmp_path / "x.npz", 1)  # cannot be streamed
    with pytest.raises(UsageError):
        should_stream(tmp_path / "missing.npy", 1)
