"""A series' time column, read to check that its steps are what the windows take them for.

The windows of a series detector count steps, not times: a file sorted newest first, a time that
repeats, or rows missing without a trace (a logger offline) would be scored as a regular series,
the splice reported as the anomaly. With ``--time-column`` the times are there to see it: read
as numbers, or as ISO 8601 dates and times, they must increase (else one line: sort the file), and
a jump of more than :data:`JUMP` usual steps is counted in a note. Times that are neither (free
text) are carried as they are, unchecked.
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
from .encoding import parse_dates, parse_numbers

HOUR = 3600.0  # seconds: a local clock's change of season
SUB_MICROSECOND = re.compile(r"[.,][0-9]{6}[0-9]*[1-9]")  # a fraction of a second below 1 µs
JUMP = 2.0  # an interval this many times the usual one: rows missing (named in a note)


@dataclass
class _Seen:
    last: float | None = None  # the previous step's time
    last_text: str = ""
    usual: float | None = None  # the median interval of the first chunk
    jumps: int = 0  # intervals over JUMP usual ones
    first_jump: tuple = ()  # (time before, time after, step) of the first
    dates: bool = False  # the times are dates (not plain numbers)


def checked_times(chunks: Iterator[Data], path: Path, name: str) -> Iterator[Data]:
    """``chunks`` as they are, once their times (``ids``) are checked to increase; a note for jumps."""
    seen, step = _Seen(), 0
    for chunk in chunks:
        read = _as_numbers(chunk.ids)
        if read is not None:
            times, seen.dates = read
            _check(times, chunk.ids, seen, step, path, name)
        step += len(chunk)
        yield chunk
    if seen.jumps:
        count, (before, after, at) = seen.jumps, seen.first_jump
        note(
            f"{path}: {name} jumps {count} time{'s' if count > 1 else ''} by more than {JUMP:g} "
            f"usual steps (e.g. {before} -> {after} at step {at}): rows missing? The windows take "
            f"the steps as regular"
        )


def _as_numbers(cells) -> tuple[np.ndarray, bool] | None:
    """Times as numbers (seconds for dates) and whether they are dates, or None when they are
    neither numbers nor dates."""
    if cells is None or len(cells) == 0:
        return None
    values, bad = parse_numbers(cells)
    if not bad.any() and not np.isnan(values).any():
        return values, False
    days, bad = parse_dates(cells)
    if not bad.any() and not np.isnan(days).any():
        return days * 86400.0, True
    return None


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


def _check(times: np.ndarray, text, seen: _Seen, step: int, path: Path, name: str) -> None:
    full = times if seen.last is None else np.concatenate([[seen.last], times])
    labels = list(text) if seen.last is None else [seen.last_text, *text]
    gaps = np.diff(full)
    back = np.flatnonzero(gaps <= 0)
    if back.size:
        i = int(back[0])
        at = step + i + (1 if seen.last is None else 0)
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
    if seen.usual is None and gaps.size:
        seen.usual = float(np.median(gaps))
    if seen.usual:
        far = np.flatnonzero(gaps > JUMP * seen.usual)
        if far.size and not seen.jumps:
            i = int(far[0])
            seen.first_jump = (labels[i], labels[i + 1], step + i + (1 if seen.last is None else 0))
        seen.jumps += int(far.size)
    seen.last, seen.last_text = float(times[-1]), str(text[-1])
