"""A series' time column, read to check that its steps are what the windows take them for.

The windows of a series detector count steps, not times: a file sorted newest first, a time that
repeats, or rows missing without a trace (a logger offline) would be scored as a regular series,
the splice reported as the anomaly. With ``--time-column`` the times are there to see it: read
as numbers, or as ISO 8601 dates and times, they must increase (else one line: sort the file), and
a jump of more than :data:`JUMP` usual steps is counted in a note. A column is read so when at most
:data:`~aekit.data.encoding.TEXT_SHARE` of its cells are neither (a missing time, a typo): those are
named in a note, the others checked. Times that are neither (free text) are carried as they are,
unchecked; a note says so where at least half the cells are times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._notes import note
from .checks import fail
from .container import Data
from .encoding import TEXT_SHARE, parse_dates, parse_numbers

HOUR = 3600.0  # seconds: a local clock's change of season
SUB_MICROSECOND = re.compile(r"[.,][0-9]{6}[0-9]*[1-9]")  # a fraction of a second below 1 µs
JUMP = 2.0  # an interval this many times the usual one: rows missing (named in a note)
WHOLE = re.compile(r"[+-]?[0-9]{1,19}")  # an integer that int64 may hold, and float64 not (ns)
# a time of day with its zone: 03:00:00+02:00, 03:00Z, 03:00:00.5 UTC
ZONED = re.compile(r"\d{2}:\d{2}(:\d{2}([.,]\d+)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)$", re.IGNORECASE)
BASIC_DATE = re.compile(r"[0-9]{8}(?:[0-9]{6})?")  # ISO 8601's basic form: 20240131, 20240131120000


@dataclass
class _Seen:
    last: float | None = None  # the previous step's time
    last_text: str = ""
    last_step: int = 0
    usual: float | None = None  # the median interval of the first chunk
    jumps: int = 0  # intervals over JUMP usual ones
    first_jump: tuple = ()  # (time before, time after, step) of the first
    forward: tuple = ()  # the same for the first hour skipped by a clock set forward
    kind: str | None = None  # "numbers", "dates", "basic" (20240131) or "text" (unchecked)
    unread: int = 0  # cells of a time column that are no time, left out of the check
    first_unread: tuple = ()  # (cell, step) of the first

    @property
    def dates(self) -> bool:
        """Whether the times are dates (not plain numbers)."""
        return self.kind in ("dates", "basic")


def checked_times(chunks: Iterator[Data], path: Path, name: str) -> Iterator[Data]:
    """``chunks`` as they are, once their times (``ids``) are checked to increase; a note for jumps."""
    seen, step = _Seen(), 0
    for chunk in chunks:
        if chunk.ids is not None and len(chunk.ids):
            if seen.kind is None:
                seen.kind = _kind(chunk.ids)
                seen.first_unread = _first_text(chunk.ids) if seen.kind == "text" else ()
            _check_chunk(chunk.ids, seen, step, path, name)
        step += len(chunk)
        yield chunk
    _notes(seen, path, name)


def _notes(seen: _Seen, path: Path, name: str) -> None:
    if seen.kind == "text" and seen.first_unread:  # mostly times, yet unchecked: said
        cell, at = seen.first_unread
        note(
            f"{path}: {name} is carried as text, not read as times: more than a tenth of its "
            f"first cells are no number or ISO date (e.g. {cell!r} at step {at}); the order of the "
            f"steps was not checked"
        )
    if seen.unread:
        count, (cell, at) = seen.unread, seen.first_unread
        note(
            f"{path}: {name} holds {count} {'cells that are' if count > 1 else 'cell that is'} "
            f"{_no_time(seen)} "
            f"(e.g. {cell!r} at step {at}); the order of the steps was checked on the others"
        )
    if seen.forward:
        before, after, at = seen.forward
        note(
            f"{path}: {name} skips an hour at step {at} ({before} -> {after}): a clock set forward "
            f"(daylight saving time?) skips an hour of local times, no rows missing; write {name} "
            f"with its UTC offset (2024-03-31T03:00:00+02:00) or in UTC"
        )
    if seen.jumps:
        count, (before, after, at) = seen.jumps, seen.first_jump
        note(
            f"{path}: {name} jumps {count} time{'s' if count > 1 else ''} by more than {JUMP:g} "
            f"usual steps (e.g. {before} -> {after} at step {at}): rows missing? The windows take "
            f"the steps as regular"
        )


def _no_time(seen: _Seen) -> str:
    return "no ISO date or time" if seen.dates else "no number"


def _kind(cells) -> str:
    """What a time column holds, from its first chunk: numbers, ISO dates (``basic`` in the
    compact form, 20240131, whose cells are numbers too), or, where more than :data:`TEXT_SHARE`
    of its cells are neither, free text (unchecked). A few unreadable cells (a missing time, a
    typo, 2023-02-29) are named, not a reason to check nothing (probe 60 clock M1)."""
    most = (1 - TEXT_SHARE) * len(cells)
    _, ok = _read(cells, "numbers")
    if ok.sum() >= most:
        return "basic" if _read(cells, "basic")[1].sum() == ok.sum() else "numbers"
    return "dates" if _read(cells, "dates")[1].sum() >= most else "text"


def _first_text(cells) -> tuple:
    """(cell, step) of the first cell that is neither number nor date, in a time column carried as
    text though at least half its cells are times (a fifth 'n/a': left unchecked, review 1 F6);
    () for free text (ids such as t0, t1), which is carried unchecked without a word."""
    numbers, dates = _read(cells, "numbers")[1], _read(cells, "dates")[1]
    if max(numbers.sum(), dates.sum()) < len(cells) / 2:
        return ()
    neither = np.flatnonzero(~numbers & ~dates)
    if not len(neither):  # numbers and dates mixed (a log that changed its format): none to name
        return ()
    i = int(neither[0])
    return str(np.asarray(cells)[i]), i


def _read(cells, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Times as numbers (seconds for dates; int64 for whole numbers, which float64 rounds past
    2**53: epoch nanoseconds) and the mask of the cells read."""
    cells = np.char.strip(np.asarray(cells, dtype=str))
    if kind == "numbers":
        values, bad = parse_numbers(cells)
        ok = ~bad & ~np.isnan(values)
        if ok.any() and all(WHOLE.fullmatch(c) for c in cells[ok].tolist()):
            try:
                return np.where(ok, cells, "0").astype(np.int64), ok
            except OverflowError:  # past int64 (9.2e18): no clock's time
                pass
        return values, ok
    if kind == "basic":
        basic = np.array([bool(BASIC_DATE.fullmatch(c)) for c in cells.tolist()], bool)
        cells = np.where(basic, [c[:8] + "T" + c[8:] if len(c) > 8 else c for c in cells], "-")
    days, bad = parse_dates(cells)
    return days * 86400.0, ~bad & ~np.isnan(days)


def _check_chunk(cells, seen: _Seen, step: int, path: Path, name: str) -> None:
    """The chunk's readable times checked; its other cells counted (free text: nothing checked)."""
    if seen.kind == "text":
        return
    times, ok = _read(cells, seen.kind)
    steps = step + np.arange(len(cells))
    if not ok.all():
        if not seen.unread:
            i = int(np.flatnonzero(~ok)[0])
            seen.first_unread = (str(cells[i]), int(steps[i]))
        seen.unread += int((~ok).sum())
    if ok.any():
        _check(times[ok], np.asarray(cells)[ok], steps[ok], seen, path, name)


def _forward(before: np.ndarray, gaps: np.ndarray, usual: float) -> np.ndarray:
    """Which jumps from the times ``before`` are a local clock set forward, the mirror of
    :func:`_remedy`'s autumn: an hour more than the usual step, over a whole hour of the night
    (01:55 then 03:00, the hour from 02:00 skipped; clocks change between midnight and 04:00).
    The same jump at another time of day is rows missing."""
    skipped = (np.floor(before / HOUR) + 1) * HOUR  # the first whole hour after the time before
    night = (skipped % 86400.0) // HOUR <= 3
    return (np.abs(gaps - usual - HOUR) <= 0.01 * HOUR) & night & (before + gaps >= skipped + HOUR)


def _remedy(times: np.ndarray, i: int, name: str, dates: bool) -> str:
    """What to do about times that go back at interval ``i``: a local clock's autumn change (date
    times that go back by an hour less one usual step, 02:55 then 02:00, in a file that otherwise
    increases) wants times with their UTC offset, as sorting would interleave the hour that came
    twice; anything else (rows out of order, a counter that restarts), sorting."""
    gaps = np.diff(times)
    others = np.delete(gaps, i)
    usual = float(np.median(others)) if others.size else 0.0
    back = -float(gaps[i])
    if dates and usual > 0 and np.all(others > 0) and abs(back + usual - HOUR) <= 0.01 * HOUR:
        return (
            f"a clock set back an hour (daylight saving time?) writes local times twice; write "
            f"{name} with its UTC offset (2024-10-27T02:00:00+01:00) or in UTC"
        )
    return f"sort the file by {name}, oldest first"


def _finer_than_read(before: str, after: str, dates: bool) -> bool:
    """Whether two date times read as one differ below the microsecond, where ``datetime`` cuts
    them (...00.000000100): not a repeat, and not to be sorted (probe 59 locale M2)."""
    return dates and before != after and bool(SUB_MICROSECOND.search(f"{before} {after}"))


def _check(times: np.ndarray, text, steps, seen: _Seen, path: Path, name: str) -> None:
    """Readable ``times`` (with their ``text`` and ``steps``) checked to increase after the last
    seen; jumps counted."""
    first = seen.last is None
    full = times if first else np.concatenate([[seen.last], times])  # int64 stays int64
    labels = [str(t) for t in text] if first else [seen.last_text, *map(str, text)]
    at = steps if first else np.concatenate([[seen.last_step], steps])
    gaps = np.diff(full)
    back = np.flatnonzero(gaps <= 0)
    if back.size:
        _refuse(full, labels, int(back[0]), int(at[int(back[0]) + 1]), seen, path, name)
    if seen.usual is None and gaps.size:
        seen.usual = float(np.median(gaps))
    if seen.usual:
        _count_jumps(full, labels, at, seen)
    seen.last, seen.last_text, seen.last_step = times[-1].item(), labels[-1], int(at[-1])


def _refuse(full, labels: list[str], i: int, at: int, seen: _Seen, path: Path, name: str):
    gaps = np.diff(full)
    if gaps[i] == 0 and _finer_than_read(labels[i], labels[i + 1], seen.dates):
        raise fail(
            f"{path}: {name} at step {at} ({labels[i]} then {labels[i + 1]}) is less than a "
            f"microsecond from the time before, which aekit cannot tell apart (it reads times "
            f"to the microsecond); expected times at least 1 microsecond apart: give {name} "
            f"as numbers (nanoseconds from the first row)"
        )
    what = "repeats" if gaps[i] == 0 else "goes back"
    raise fail(
        f"{path}: {name} {what} at step {at} ({labels[i]} then {labels[i + 1]}); expected "
        f"increasing times, one row each: {_remedy(full, i, name, seen.dates)}"
    )


def _count_jumps(full: np.ndarray, labels: list[str], at, seen: _Seen) -> None:
    """Intervals over :data:`JUMP` usual ones counted; in local date times, one over a clock set
    forward (the spring's change: see :func:`_forward`) is named apart, not rows missing."""
    gaps = np.diff(full)
    far = np.flatnonzero(gaps > JUMP * seen.usual)
    if seen.dates:
        spring = _forward(full[far], gaps[far], seen.usual)
        # only local times skip an hour: one written with its offset or in UTC never does (rows
        # missing there were called a clock change, "no rows missing": review 60 F3)
        spring &= np.array([not ZONED.search(labels[i + 1]) for i in far], bool)
        if spring.any() and not seen.forward:
            i = int(far[spring][0])
            seen.forward = (labels[i], labels[i + 1], int(at[i + 1]))
        far = far[~spring]
    if far.size and not seen.jumps:
        i = int(far[0])
        seen.first_jump = (labels[i], labels[i + 1], int(at[i + 1]))
    seen.jumps += int(far.size)
