"""Row stores on disk: NpyRows equals np.load, RowsView selects without copying, memory stays bounded."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from aekit.data import NpyRows, RowsView, read_path
from aekit.data.rowstore import _GRANULE
from aekit.errors import UsageError

from .helpers import one_line_error

RNG = np.random.default_rng(0)
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int16, np.float64, np.float32, np.float16, bool, ">f4"]
)
@pytest.mark.parametrize("resident_bytes", [1, None])
def test_npy_rows_equal_np_load(tmp_path, dtype, resident_bytes):
    x = (RNG.random((53, 4, 3)) * 200).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    expected = read_path(tmp_path / "x.npy").x  # (53, 1, 4, 3): 3-D is served as grayscale images
    with NpyRows(tmp_path / "x.npy", resident_bytes=resident_bytes) as rows:
        assert len(rows) == 53 and rows.shape == expected.shape and rows.sample_shape == (1, 4, 3)
        assert rows.dtype == np.dtype(dtype) and rows.nbytes == x.nbytes
        for _ in range(5):
            # any order, repeats, negatives
            idx = RNG.integers(-53, 53, size=int(RNG.integers(0, 80)))
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
    one_line_error(pickle.loads, pickle.dumps(rows), match="changed since it was opened")


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


@pytest.mark.parametrize("shape", [(7, 3), (5, 4, 3), (4, 2, 3, 5)])
def test_a_fortran_order_file_is_read_as_its_rows(tmp_path, shape):
    """Probe 52 dep: np.save(df.to_numpy()) often writes Fortran order, which `aekit score` refused
    (training read it): rows, images and gathers as np.load gives them."""
    x = np.asfortranarray(np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
    np.save(tmp_path / "f.npy", x)
    expected = x[:, None] if len(shape) == 3 else x
    with NpyRows(tmp_path / "f.npy") as rows:
        np.testing.assert_array_equal(rows.rows(0, len(x)), expected)
        np.testing.assert_array_equal(rows.take([3, 0, 3]), expected[[3, 0, 3]])


@pytest.mark.parametrize(
    "make,match",
    [
        (
            lambda p: np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True),
            "never unpickles",
        ),
        (lambda p: np.save(p, np.ones(5)), "expected \\(samples, features\\)"),
        (lambda p: np.save(p, np.zeros((0, 3))), "empty array"),
        (lambda p: np.save(p, np.zeros((3, 0))), "empty array"),
        (lambda p: np.save(p, np.array([["a", "b"]])), "expected numbers"),
        (lambda p: np.save(p, np.ones((2, 2), dtype=np.complex64)), "expected numbers"),
        (lambda p: p.write_bytes(b"not an array at all"), "not a valid .npy file"),
        (lambda p: p.write_bytes(b""), "not a valid .npy file"),
        (lambda p: p.write_bytes((lambda b: b[:-8])(_npy_bytes(np.ones((4, 4))))), "truncated"),
    ],
)
def test_npy_rows_bad_files(tmp_path, make, match):
    path = tmp_path / "x.npy"
    make(path)
    assert str(path) in one_line_error(NpyRows, path, match=match)


def _npy_bytes(x: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, x)
    return buffer.getvalue()


def test_npy_rows_wrong_path(tmp_path):
    one_line_error(NpyRows, tmp_path / "missing.npy", exc=UsageError, match="no such file")
    (tmp_path / "x.csv").write_text("1,2\n")
    one_line_error(NpyRows, tmp_path / "x.csv", match="expected a .npy file")


@pytest.mark.parametrize(
    "value,match",
    [
        (np.nan, r"non-finite value \(nan\) at row 37, index \(37, 2\)"),
        (-np.inf, r"non-finite value \(-inf\) at row 37"),
        (1e300, r"too large for float32 \(1e\+300\) at row 37"),
    ],
)
def test_check_finite_names_the_first_bad_row(tmp_path, value, match):
    x = np.ones((50, 3))
    x[37, 2] = value
    x[45, 0] = np.nan
    np.save(tmp_path / "x.npy", x)
    rows = NpyRows(tmp_path / "x.npy", resident_bytes=1)
    one_line_error(rows.check_finite, chunk_rows=4, match=match)
    one_line_error(rows.take, [1, 37, 0], match=match)  # batches are checked as they are converted
    rows.take([1, 2, 36])  # the good rows still read


MEMORY_CHILD = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from aekit.data.rowstore import NpyRows
    rows = NpyRows(sys.argv[1], resident_bytes=None if sys.argv[2] == "none" else int(sys.argv[2]))
    order = np.random.default_rng(0).permutation(len(rows))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    total = 0.0
    for start in range(0, len(order), 256):
        total += float(rows.take(order[start:start + 256])[:, 0].sum(dtype=np.float64))
    print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, repr(total))
""")


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="ru_maxrss is in KiB and madvise bounds RSS on Linux",
)
def test_a_shuffled_pass_over_a_large_file_keeps_memory_bounded(tmp_path):
    n, features = 300 * 2**20 // 1024, 256  # 300 MiB of float32 rows of 1 KiB, written in chunks
    path, column0 = tmp_path / "big.npy", 0.0
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (n, features)}
        )
        rng = np.random.default_rng(1)
        for start in range(0, n, 16384):
            chunk = rng.random((min(16384, n - start), features), dtype=np.float32)
            column0 += float(chunk[:, 0].sum(dtype=np.float64))
            f.write(chunk.tobytes())
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(path), str(32 * 2**20)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    base, peak, total = result.stdout.split()
    growth_mib = (int(peak) - int(base)) / 1024
    assert growth_mib < 150, (
        f"peak RSS grew by {growth_mib:.0f} MiB during a pass over a 300 MiB file"
    )
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


def test_row_store_is_one_protocol(tmp_path):
    """``isinstance(x, RowStore)``: every store on disk is one; arrays, tensors and sparse matrices are not."""
    import scipy.sparse as sp
    import torch

    from aekit.data import RowStore
    from aekit.data.sparse import SparseRows
    from aekit.data.windows import WindowRows
    from aekit.estimators.base import is_row_store

    np.save(tmp_path / "x.npy", np.zeros((6, 3), np.float32))
    with NpyRows(tmp_path / "x.npy") as store:
        stores = [store, RowsView(store, [0, 2]), SparseRows(sp.eye(4, format="csr"))]
        stores.append(WindowRows(np.zeros((20, 2), np.float32), window=5))
        not_stores = [np.zeros((4, 3)), np.memmap(tmp_path / "m", np.float32, "w+", shape=(2, 2))]
        not_stores += [torch.zeros(4, 3), [[0.0, 1.0]], None]
        not_stores += [sp.eye(4, format=f) for f in ("csr", "csc", "coo", "lil", "dok")]
        for x in stores:
            assert isinstance(x, RowStore) and is_row_store(x), type(x)
        for x in not_stores:
            assert not isinstance(x, RowStore) and not is_row_store(x), type(x)
