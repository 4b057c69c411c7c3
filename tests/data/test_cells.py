"""A chunk's cells column by column: a long cell pads its own column only, and is read cut."""

import tracemalloc

import numpy as np
import pytest

from aekit.data import iter_table, read_path
from aekit.data.cells import LONGEST, Cells
from aekit.data.tables import CHUNK_CELLS, chunk_rows_for
from aekit.errors import DataError


def test_columns_are_as_wide_as_their_own_cells_and_long_ones_cut():
    cells = Cells.from_rows([["1.5", "x" * 1000, "id-" + "7" * 400], ["2", "b", "c"]], 3, whole={2})
    assert cells.shape == (2, 3) and len(cells) == 2
    assert cells[:, 0].dtype == np.dtype("<U3") and list(cells[:, 0]) == ["1.5", "2"]
    assert cells[:, 1][0] == "x" * LONGEST and cells.longest(1) == 1000
    assert cells[:, 2][0] == "id-" + "7" * 400  # read whole
    with pytest.raises(TypeError, match="a whole column"):
        cells[0, 1]


def _table_with_a_long_comment(path, rows=2000, length=2000):
    lines = ["id,comment," + ",".join(f"f{j}" for j in range(10))]
    for i in range(rows):
        comment = "x" * length if i == 5 else "ok"
        lines.append(f"r{i},{comment}," + ",".join(f"{(i * j) % 7}.5" for j in range(10)))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_one_long_cell_does_not_pad_every_cell_of_the_table(tmp_path):
    """Cells were one 2-D array as wide as the longest cell: a 6.7 MB file with one cell of
    5,000 characters needed 14 GB; here 2,000 rows x 12 columns with one of 2,000 took 190 MB."""
    path = _table_with_a_long_comment(tmp_path / "t.csv")
    tracemalloc.start()
    try:
        data = read_path(path, id_column="id")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert data.x.shape == (2000, 10) and data.ids[1999] == "r1999"
    assert peak < 40e6, f"{peak / 1e6:.0f} MB"


def test_a_wide_table_is_read_in_chunks_of_fewer_rows(tmp_path):
    width = 3000
    assert chunk_rows_for(width) == CHUNK_CELLS // width and chunk_rows_for(4) == 16384
    path = tmp_path / "wide.csv"
    row = ",".join(["1.5"] * width)
    path.write_text(",".join(f"c{j}" for j in range(width)) + "\n" + (row + "\n") * 700)
    sizes = [len(d.x) for d in iter_table(path)]
    assert sizes == [349, 349, 2] and max(sizes) * width <= CHUNK_CELLS


def test_a_label_or_category_longer_than_read_is_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,kind\n1,2," + "k" * 300 + "\n3,4,short\n")
    with pytest.raises(DataError, match="cell of 300 characters; labels of at most 256"):
        read_path(path, label_column="kind")
    with pytest.raises(DataError, match="--categorical columns hold values of at most 256"):
        read_path(path, categorical=["kind"])


def test_plain_numbers_are_read_at_once_and_anything_else_left_to_the_full_rules():
    from aekit.data.encoding import parse_numbers

    rows = [["1.5", "2023_51", "7", "nan", "x"], [" -2e3 ", "2024_01", "\u0663", "NaN", "1"]]
    cells = Cells.from_rows(rows, 5)
    np.testing.assert_array_equal(cells.numbers(0), [1.5, -2000.0])
    np.testing.assert_array_equal(cells.numbers(0), parse_numbers(cells[:, 0])[0])
    # codes pandas reads as text, another script's digits, a column of NaN, text: the full rules
    assert [cells.numbers(i) for i in (1, 2, 3, 4)] == [None] * 4
    rng = np.random.default_rng(0)
    column = [f"{v:.6g}" for v in rng.standard_normal(500) * 10.0 ** rng.integers(-30, 30, 500)]
    column[7], column[9] = "inf", "nan"
    fast = Cells.from_rows([[c] for c in column], 1).numbers(0)
    np.testing.assert_array_equal(fast, parse_numbers(np.array(column))[0])


def test_a_nul_byte_in_a_table_is_refused_on_its_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4\x00\n")
    with pytest.raises(DataError, match="row 3 holds a NUL byte"):
        read_path(path)


def _mixed_table(path, rows=600):
    """Numbers, missing cells, ASCII and other text, a long cell, ids and labels; a column of
    numbers in its first rows and of text after them (whose kind only the whole table tells)."""
    lines = ["id,a,b,word,name,note,late,label"]
    for i in range(rows):
        a = "" if i % 97 == 3 else f"{i * 0.25:.2f}"
        name = "Zoë" if i == rows - 2 else f"n{i % 3}"
        note = "x" * (LONGEST + 40) if i == 7 else "ok"
        late = "later text" if i > rows - 5 else str(i)
        lines.append(f"r{i},{a},{i % 7},w{i % 4},{name},{note},{late},{i % 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("cells", [6, 40, CHUNK_CELLS])
def test_a_whole_table_read_in_chunks_is_the_table_read_at_once(tmp_path, monkeypatch, cells):
    """Stop 64: read_path held every cell of a table as a Python string at once (a 110 MB table
    of numbers took 1.7 GB); read a chunk at a time and joined, it is the same Data: the same
    features, values, missing cells, ids, labels and notes, decided from the whole table."""
    import aekit.data.tables as tables

    path = _mixed_table(tmp_path / "t.csv")
    options = dict(id_column="id", label_column="label", categorical=["word"])
    monkeypatch.setattr(tables, "CHUNK_CELLS", 1 << 40)  # the reference: one chunk
    whole = read_path(path, **options)
    monkeypatch.setattr(tables, "CHUNK_CELLS", cells)  # 6 cells: a row at a time
    joined = read_path(path, **options)
    names = ["a", "b", "word=w0", "word=w1", "word=w2", "word=w3", "late"]
    assert joined.feature_names == whole.feature_names == names  # name, note: text, left out
    np.testing.assert_array_equal(joined.x, whole.x)
    assert np.isnan(joined.x[3, 0]) and np.isnan(joined.x[-1, -1]) and joined.x[0, -1] == 0
    np.testing.assert_array_equal(joined.y, whole.y)
    np.testing.assert_array_equal(joined.ids, whole.ids)


def test_a_whole_table_of_numbers_is_not_held_as_strings(tmp_path, monkeypatch):
    """Stop 64: 5,000 rows x 784 numbers (27 MB of text, 15 MB as float32) peaked at 367 MB
    traced, every cell a Python string at once; a chunk at a time, 158 MB. Here 3,000 x 100 in
    chunks of 100 rows: the whole held as strings would be 20x the float32 data."""
    import aekit.data.tables as tables

    rng = np.random.default_rng(0)
    values = rng.random((3000, 100)).astype(np.float32)
    path = tmp_path / "t.csv"
    np.savetxt(path, values, fmt="%.4f", delimiter=",")
    monkeypatch.setattr(tables, "CHUNK_CELLS", 10_000)
    tracemalloc.start()
    try:
        data = read_path(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(data.x, values, atol=5e-5)
    assert peak < 12 * values.nbytes, peak / values.nbytes
