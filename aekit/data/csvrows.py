"""A ``.csv``/``.tsv`` file's rows: read lazily, a row at a time, and in chunks of :class:`Cells`.

The csv module splits each line into Python strings, about 60 bytes a cell. A whole table read as
one chunk held every cell as a string at once: 1.7 GB for a 110 MB table of numbers (pandas reads
it in about 300 MB). It is read a bounded chunk at a time instead, each chunk's columns kept
compactly (:meth:`Cells.compacted`: numbers, and ASCII cells as bytes; other text stays strings),
and the chunks joined (:meth:`Cells.joined`).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Collection, Iterator
from pathlib import Path

from .cells import Cells
from .checks import fail, first_not_utf8

FIELD_LIMIT = (1 << 31) - 1  # a cell's characters at most (the csv module's C long, on every OS)

Rows = Iterator[tuple[int, list[str]]]  # (line number, cells) of each row


def table_rows(path: Path, delimiter: str) -> Rows:
    """The rows with their line numbers, read lazily; blank lines are skipped, as pandas skips them.

    A line of empty cells (``,,,``; ``""`` in a table of one column: what pandas writes for a row
    of NaN) is a row of missing values, not a blank line: dropped, it would shift every later
    row's score onto the row before, and splice a series around a gap.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(_without_nul(f, path), delimiter=delimiter)
            while (row := _next_row(reader)) is not None:
                # [] is a blank line, [" "] one of spaces; [""] is the quoted "" of a missing value
                if row and (len(row) > 1 or not row[0] or row[0].strip()):
                    yield reader.line_num, row
    except UnicodeDecodeError as exc:
        # exc.start counts from the decoder's buffer (8 KB), not the file: the byte looked for again
        found = first_not_utf8(path)
        where = f"line {found[0]}, byte {found[1]:,}: " if found else ""
        shown = f", {found[2]!r}" if found else ""
        raise fail(
            f"{path} is not UTF-8 text ({where}{exc.reason}{shown}); expected a {path.suffix} "
            f"table saved as UTF-8"
        ) from exc
    except csv.Error as exc:
        raise fail(f"{path} is not a valid {path.suffix} table: {exc}") from exc


def _next_row(reader) -> list[str] | None:
    """The reader's next row (None at the end), cells of any length: the csv module refuses one
    over 131,072 characters (a WKT geometry, a JSON blob) by default. Its limit is the process's,
    so it is raised for this row alone and put back, the caller's own csv reading untouched."""
    before = csv.field_size_limit(FIELD_LIMIT)
    try:
        return next(reader, None)
    finally:
        csv.field_size_limit(before)


def _without_nul(lines: Iterator[str], path: Path) -> Iterator[str]:
    """The file's lines, refusing one with a NUL byte (numpy would drop a trailing NUL from "4\\0"
    silently); a line at a time, before the csv module splits it (no row joined back to look)."""
    for number, line in enumerate(lines, 1):
        if "\0" in line:
            raise fail(f"{path}: row {number} holds a NUL byte; expected a text table")
        yield line


def bodies(body: list, rows: Rows, chunk_rows: int) -> Iterator[list]:
    """The table's rows in chunks of ``chunk_rows`` (``body``: the rows read already)."""
    items = itertools.chain(body, rows)
    while chunk := list(itertools.islice(items, chunk_rows)):
        yield chunk


def _check_ragged(body: list, path: Path, names: list[str]) -> None:
    for line, row in body:
        if len(row) != len(names):
            raise fail(
                f"{path}: row {line} has {len(row)} values; expected {len(names)} like the first row"
            )


def cell_chunks(
    body: list, rows: Rows, path: Path, names: list[str], whole: Collection[int], step: int,
    join: bool = False,
) -> Iterator[tuple[list[int], Cells]]:  # fmt: skip
    """(line numbers, cells) of each chunk of ``step`` rows of the table, ``body`` (the rows read
    already) then ``rows``; ``whole``: the columns read whole (:class:`Cells`). ``join``: the whole
    table as one chunk, read ``step`` rows at a time and joined."""
    parts = []
    for chunk in bodies(body, rows, step):
        _check_ragged(chunk, path, names)
        cells = Cells.from_rows([row for _, row in chunk], len(names), whole)
        lines = [line for line, _ in chunk]
        if not join:
            yield lines, cells
            continue
        parts.append((lines, cells.compacted()))
        del chunk  # its strings go before the next chunk is read
    if parts:
        yield [n for lines, _ in parts for n in lines], Cells.joined([c for _, c in parts])
