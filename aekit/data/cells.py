"""A chunk of a table's text cells, read column by column, each column as wide as its own cells.

The readers parse a chunk of rows (lists of strings) into NumPy arrays of text. One 2-D array is
as wide as the chunk's longest cell in every column: a single 5,000-character comment made a
16,384-row chunk of 40 columns 13 GB (pandas reads that file in 130 MB). Here each column is an
array of its own width, built when first read, and a cell longer than :data:`LONGEST` characters is
read cut to that length: no number, date, label or category is that long (a column holding one is
text, or that cell unreadable, whole or cut). Columns named ``whole`` (the id column, carried to
the outputs as it is) are read whole; :meth:`Cells.longest` says whether a column was cut.

    rows (n lists of m strings) -> m columns (tuples of n strings) -> cells[:, i], an (n,) array
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

LONGEST = 256  # characters of a cell that are read (but in the columns read whole)


class Cells:
    """(rows, columns) text cells indexed by column only, ``cells[:, i]``, as the 2-D array of
    strings they replace; ``columns``: a sequence of strings per column.

    Examples
    --------
    >>> cells = Cells.from_rows([["1", "a" * 300], ["2", "b"]], width=2)
    >>> cells[:, 0], cells.shape, len(cells[:, 1][0]), cells.longest(1)
    (array(['1', '2'], dtype='<U1'), (2, 2), 256, 300)
    """

    def __init__(self, columns: Sequence[Sequence[str]], rows: int, whole: Collection[int] = ()):
        self._columns = list(columns)
        self._whole = set(whole)
        self._arrays: dict[int, np.ndarray] = {}
        self._longest: dict[int, int] = {}
        self._numbers: dict[int, np.ndarray | None] = {}
        self.shape = (rows, len(self._columns))

    @classmethod
    def from_rows(
        cls, rows: Sequence[Sequence[str]], width: int, whole: Collection[int] = ()
    ) -> Cells:
        """From rows of ``width`` strings each (a chunk of a CSV)."""
        columns = list(zip(*rows)) if len(rows) else [()] * width  # (n, m) -> m tuples of n
        return cls(columns, len(rows), whole)

    def compacted(self) -> Cells:
        """These cells with their plain numbers read (:meth:`numbers`) and each column of ASCII
        text no longer than :data:`LONGEST` held as bytes, one a character (a Python string
        costs about 60), so that a whole table is read a chunk at a time and joined
        (:meth:`joined`) without every cell a string at once."""
        for i, column in enumerate(self._columns):
            if i in self._whole or isinstance(column, np.ndarray) or not len(column):
                self.numbers(i)
                continue
            # plain numbers are ASCII (:meth:`numbers` joined the column to see it): not again
            ascii = self.numbers(i) is not None or "".join(column).isascii()
            if ascii and max(map(len, column)) <= LONGEST:
                self._columns[i] = np.array(column, dtype="S")
        return self

    @classmethod
    def joined(cls, parts: Sequence[Cells]) -> Cells:
        """The rows of ``parts`` (each :meth:`compacted`) as one: a column's bytes where every part
        holds bytes (else strings), its numbers where every part read them. The parts are emptied
        a column at a time, so that the table is not held twice."""
        width = parts[0].shape[1]
        out = cls([()] * width, sum(len(p) for p in parts), parts[0]._whole)
        for i in range(width):
            pieces = [p._columns[i] for p in parts]
            numbers = [p._numbers.pop(i, None) for p in parts]
            for p in parts:
                p._columns[i] = ()
            if all(isinstance(c, np.ndarray) and c.dtype.kind == "S" for c in pieces):
                out._columns[i] = np.concatenate(pieces)
            else:
                out._columns[i] = [v for c in pieces for v in _strings(c)]
            if all(n is not None for n in numbers):
                out._numbers[i] = np.concatenate(numbers)
        return out

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: tuple[slice, int]) -> np.ndarray:
        rows, i = key
        if rows != slice(None) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"Cells are read a whole column at a time (cells[:, i]), not {key!r}")
        if i not in self._arrays:
            self._arrays[i] = self._build(int(i))
        return self._arrays[i]

    def numbers(self, i: int) -> np.ndarray | None:
        """Column ``i`` as float64 when every cell is a plain number, else None.

        Plain: ASCII without ``_`` (what pandas reads as a number, as
        :func:`aekit.data.encoding.parse_numbers` does) and read by ``float()``, not all NaN. Parsed
        from the strings at once, with no array of text: most columns of most tables, 10-20x
        faster than the text array's rules (missing cells, codes, thousands separators, true and
        false), which every other column goes through.
        """
        if i not in self._numbers:
            self._numbers[i] = _plain_numbers(self._columns[i])
        return self._numbers[i]

    def longest(self, i: int) -> int:
        """The length of column ``i``'s longest cell, before any was cut."""
        self[:, i]
        return self._longest[i]

    def _build(self, i: int) -> np.ndarray:
        column = self._columns[i]
        if isinstance(column, np.ndarray) and column.dtype.kind == "U":  # text already
            longest = column.dtype.itemsize // 4 if len(column) else 0
        elif isinstance(column, np.ndarray) and column.dtype.kind == "S":  # :meth:`compacted`'s
            longest = int(np.char.str_len(column).max()) if len(column) else 0
        else:
            longest = max(map(len, column), default=0)
        self._longest[i] = longest
        width = longest if i in self._whole else min(longest, LONGEST)
        return np.asarray(column, dtype=f"<U{max(width, 1)}").reshape(len(self))


def _plain_numbers(column: Sequence[str]) -> np.ndarray | None:
    """:meth:`Cells.numbers` of one column of strings."""
    cells = _strings(column)
    if not len(cells):
        return None
    text = "".join(cells)
    if "_" in text or not text.isascii():  # 2023_51 and other scripts' digits: text to pandas
        return None
    try:
        values = np.array(cells, dtype=np.float64)  # float() of each: "nan", "inf" as it reads them
    except (ValueError, TypeError):
        return None
    return None if np.isnan(values).all() else values  # "nan" alone: an empty column


def _strings(column: Sequence[str] | np.ndarray) -> Sequence[str]:
    """A column's cells as Python strings (an array of text or bytes made a list)."""
    return column.astype(str).tolist() if isinstance(column, np.ndarray) else column
