"""From window errors to per-step scores and anomalous ranges, over a series that arrives in chunks.

A step's score is the mean (or the highest) reconstruction error of the windows that cover it
(windows every ``stride`` steps, and one more ending at the last step). :class:`StepScorer` takes the series a
chunk at a time and gives back each step's score as soon as no later window can cover it, so a
series of any length is scored with memory bounded by one chunk plus one window.
:class:`RangeTracker` turns flagged steps into ranges the same way. Only NumPy is needed here: the
window errors come from a function the estimator passes in.

A range is narrowed to where the fault is. A step's score rises as soon as one window covering it
sees the fault, so a run of flagged steps is the fault plus up to a window on either side. Given
the threshold, the scorer also counts, for each step, the share of the windows covering it that
are flagged (error above it: its *cover*), and a range keeps only the steps of the highest cover
within it: the steps all of whose windows are flagged. For a fault shorter than a window these are
the fault itself (every window that covers a step of it sees it); for a longer one, the fault
without its edges. A share, not a count: near either end of the series fewer windows cover a step,
and the steps beside a fault there would have more flagged windows than the fault's own.
Its peak (``peak_score``, ``peak_step``) is the highest score among the steps it keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import numpy as np

from ...data.windows import sliding_windows
from ...errors import DataError, UsageError

AGGREGATES = ("mean", "max")
TIE_BREAK = 1e-3  # "max": this much of the mean is added, so that within a window of equal peaks the mean decides
# (B, C, W) windows -> (B,) errors, or (B, K) with the window's score in column 0 and K - 1 more
# figures spread over the steps the same way (each channel's share, for instance)
WindowErrors = Callable[[np.ndarray], np.ndarray]


class StepScorer:
    """Per-step scores of a series pushed in chunks (steps, channels); see the module notes.

    Parameters
    ----------
    window, stride : int
        Window length and the steps between window starts (``stride <= window``).
    errors : callable
        ``errors(windows)``: the reconstruction error of each window of a (B, C, W) view, (B,); or
        (B, ``width``) errors whose first column is the window's (see ``width``).
    batch : int
        Windows handed to ``errors`` at a time.
    aggregate : {"mean", "max"}
        A step's score: the mean or the highest error of the windows covering it. Every step of the
        worst window shares its error, so "max" adds ``TIE_BREAK`` times the mean: the steps in the
        middle of an anomaly, seen by more bad windows, come first.
    threshold : float, optional
        Count, for each step, the windows whose error is above it; :attr:`cover` is their share of
        the windows covering the step.
    width : int, optional
        ``errors`` gives (B, width) columns, each spread over the steps alike: the scores are then
        (steps, width), and the cover counts the first column.

    Examples
    --------
    >>> scorer = StepScorer(4, 2, lambda w: w.mean(axis=(1, 2)))
    >>> first = scorer.push(np.arange(6.0)[:, None])
    >>> np.concatenate([first, scorer.finish()]).round(2).tolist()
    [1.5, 1.5, 2.5, 2.5, 3.5, 3.5]
    """

    def __init__(
        self,
        window: int,
        stride: int,
        errors: WindowErrors,
        batch: int = 4096,
        aggregate: str = "mean",
        threshold: float | None = None,
        width: int | None = None,
    ):
        if aggregate not in AGGREGATES:
            raise UsageError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}")
        if not 1 <= stride <= window:
            raise DataError(
                f"stride must be between 1 and the window ({window}), got {stride}; a larger stride "
                f"would leave steps that no window covers"
            )
        self.window, self.stride, self.errors, self.batch, self.aggregate = (
            window,
            stride,
            errors,
            batch,
            aggregate,
        )
        self.buf: np.ndarray | None = None  # the steps not final yet, (m, C)
        self.start = 0  # the series step of buf[0]
        self.next = 0  # the first step of the next window to compute
        self.covered = 0  # the steps covered by the windows computed so far
        self.shape = () if width is None else (width,)  # of one step's score
        self.total = np.zeros((0, *self.shape))  # summed window errors of each step in buf
        self.count = np.zeros(0)  # windows covering each step in buf
        self.peak = np.zeros((0, *self.shape))  # the highest error of a window covering each step
        self.threshold = threshold  # windows with an error above it are flagged (None: not counted)
        self.flagged = np.zeros(0)  # flagged windows covering each step in buf
        self.cover = np.zeros(0)  # the flagged share of the windows covering each step released
        # windows whose error overflowed (NaN or inf from finite steps: a 3e38 sentinel) covering
        # each step in buf: counted apart, as the running sums cannot hold an infinity (inf - inf)
        self.overflow = np.zeros(0)

    def push(self, x: np.ndarray) -> np.ndarray:
        """Add the next steps (m, C); return the scores of the steps that are final now."""
        x = np.asarray(x, np.float32)
        self.buf = x if self.buf is None else np.concatenate([self.buf, x])
        self.total = np.concatenate([self.total, np.zeros((len(x), *self.shape))])
        self.count = np.concatenate([self.count, np.zeros(len(x))])
        self.peak = np.concatenate([self.peak, np.zeros((len(x), *self.shape))])
        self.flagged = np.concatenate([self.flagged, np.zeros(len(x))])
        self.overflow = np.concatenate([self.overflow, np.zeros(len(x))])
        end = self.start + len(self.buf)
        if end - self.next >= self.window:
            starts = np.arange(self.next, end - self.window + 1, self.stride)
            self._add(starts)
            self.next = int(starts[-1]) + self.stride
        # No window still to come covers a step before min(next, end - window): the tail window
        # that ``finish`` may add starts at (total steps - window) >= end - window.
        return self._release(min(self.next, end - self.window))

    def finish(self) -> np.ndarray:
        """The scores of the last steps (adding a window that ends at the last step if none does)."""
        n = self.start + (0 if self.buf is None else len(self.buf))
        if n < self.window:
            raise DataError(
                f"the series has {n} steps, fewer than the window of {self.window}; give a longer "
                f"series or a smaller window"
            )
        if self.covered < n:
            self._add(np.array([n - self.window]))
        return self._release(n)

    def _add(self, starts: np.ndarray) -> None:
        """Compute the errors of the windows at ``starts`` (series steps) and spread them over their steps."""
        local = starts - self.start
        view = sliding_windows(self.buf, self.window)  # (m - W + 1, C, W), a view
        diff = np.zeros((len(self.buf) + 1, *self.shape))
        flags = np.zeros(len(self.buf) + 1)
        over = np.zeros(len(self.buf) + 1)
        for i in range(0, len(local), self.batch):
            part = local[i : i + self.batch]
            err = np.asarray(self.errors(view[part]), np.float64)  # gathers only this batch
            bad = ~np.isfinite(err if err.ndim == 1 else err[:, 0])
            if bad.any():  # the most anomalous windows there are: inf at release, 0 in the sums
                np.add.at(over, part[bad], 1.0)
                np.add.at(over, part[bad] + self.window, -1.0)
                err = np.where(np.isfinite(err), err, 0.0)
            # Each window adds its error to its W steps: +e at its start, -e after its end, summed below.
            np.add.at(diff, part, err)
            np.add.at(diff, part + self.window, -err)
            if self.threshold is not None:  # the same for the flagged windows' count
                hit = part[((err if err.ndim == 1 else err[:, 0]) > self.threshold) | bad]
                np.add.at(flags, hit, 1.0)
                np.add.at(flags, hit + self.window, -1.0)
            if self.aggregate == "max":  # errors are >= 0, so the zeros of new steps are no peak
                for j in range(self.window):
                    np.maximum.at(self.peak, part + j, err)
        self.total += np.cumsum(diff, axis=0)[:-1]
        self.flagged += np.cumsum(flags)[:-1]
        self.overflow += np.cumsum(over)[:-1]
        hits = np.zeros(len(self.buf) + 1)
        np.add.at(hits, local, 1.0)
        np.add.at(hits, local + self.window, -1.0)
        self.count += np.cumsum(hits)[:-1]
        self.covered = max(self.covered, int(starts[-1]) + self.window)

    def _release(self, upto: int) -> np.ndarray:
        k = max(0, upto - self.start)
        # the share of the windows covering a step that are flagged, not their count: near the
        # series' ends fewer windows cover a step, and a count would narrow a fault there to the
        # steps beside it that more windows cover (window counts are exact: no rounding)
        self.cover = self.flagged[:k] / np.maximum(self.count[:k], 1.0)
        if k == 0:
            return np.zeros((0, *self.shape))
        scores = self.total[:k] / self.count[:k].reshape(-1, *[1] * len(self.shape))  # the mean
        # the highest; the mean orders the steps that share it (a whole window's worth)
        if self.aggregate == "max":
            scores = self.peak[:k] + TIE_BREAK * scores
        scores[self.overflow[:k] > 0.5] = np.inf  # counts of whole windows: 0.5 is no rounding
        self.buf, self.total, self.count, self.peak, self.flagged, self.overflow = (
            self.buf[k:],
            self.total[k:],
            self.count[k:],
            self.peak[k:],
            self.flagged[k:],
            self.overflow[k:],
        )
        self.start += k
        return scores


def step_scores(
    chunks: Iterable[np.ndarray],
    window: int,
    stride: int,
    errors: WindowErrors,
    batch: int = 4096,
    aggregate: str = "mean",
) -> Iterator[np.ndarray]:
    """The per-step scores of a series given as chunks, in order, as they become final."""
    for scores, _ in scores_and_cover(chunks, window, stride, errors, batch, aggregate):
        yield scores


def scores_and_cover(
    chunks: Iterable[np.ndarray],
    window: int,
    stride: int,
    errors: WindowErrors,
    batch: int = 4096,
    aggregate: str = "mean",
    threshold: float | None = None,
    width: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(scores, cover) of the next steps as they become final: the per-step scores ((steps, width)
    with ``width``), and the share of the windows covering each step whose error is above
    ``threshold`` (zeros when it is None)."""
    scorer = StepScorer(window, stride, errors, batch, aggregate, threshold, width)
    for chunk in chunks:
        out = scorer.push(chunk)
        if len(out):
            yield out, scorer.cover
    yield scorer.finish(), scorer.cover


class AnomalyRange(NamedTuple):
    """Consecutive anomalous steps: ``start`` to ``end`` inclusive, the highest score and its step
    (within ``start``-``end``: after narrowing, the narrowed range's)."""

    start: int
    end: int
    peak_score: float
    peak_step: int


Peak = tuple[float, int]  # a score and its step


def _peak(scores: np.ndarray, step: int) -> Peak | None:
    """The highest of ``scores`` (the first of equal ones) and its step, ``scores[0]`` being at
    ``step``; None when there are none."""
    if not len(scores):
        return None
    i = int(np.argmax(scores))
    return float(scores[i]), step + i


def _higher(before: Peak | None, after: Peak | None) -> Peak | None:
    """The higher of two peaks, the earlier one on a tie (as ``argmax``)."""
    return before if after is None or (before is not None and before[0] >= after[0]) else after


class _Part(NamedTuple):
    """A range's steps within one chunk: its highest cover, the first and last steps of that cover,
    and the peaks up to the last one (``lead``), from the first to the last (``inner``), after it."""

    cover: float
    first: int
    last: int
    lead: Peak
    inner: Peak
    tail: Peak | None


def _part(scores: np.ndarray, cover: np.ndarray, step: int) -> _Part:
    """The :class:`_Part` of a range's ``scores`` and ``cover`` in a chunk, the first at ``step``."""
    top = np.flatnonzero(cover == cover.max())
    f, last = int(top[0]), int(top[-1])
    return _Part(
        float(cover[f]),
        step + f,
        step + last,
        _peak(scores[: last + 1], step),
        _peak(scores[f : last + 1], step + f),
        _peak(scores[last + 1 :], step + last + 1),
    )


class _Open:
    """A range still running: where it starts, the steps of its highest cover and the peak among
    them, and the peak of the steps after them (theirs if the same cover comes back)."""

    def __init__(self, start: int, part: _Part):
        self.start = start
        self.cover, self.first, self.last = part.cover, part.first, part.last
        self.peak, self.tail = part.inner, part.tail

    def extend(self, part: _Part) -> None:
        """The range goes on into the next chunk with this part."""
        if part.cover > self.cover:  # narrowed to the new part's steps alone
            self.cover, self.first, self.last = part.cover, part.first, part.last
            self.peak, self.tail = part.inner, part.tail
        elif part.cover == self.cover:  # the narrowed steps reach on into this part
            self.last = part.last
            self.peak = _higher(_higher(self.peak, self.tail), part.lead)
            self.tail = part.tail
        else:  # after the narrowed steps: a peak there counts only if their cover comes back
            self.tail = _higher(self.tail, _higher(part.lead, part.tail))

    def closed(self, end: int) -> AnomalyRange:
        """The range ending at ``end``: narrowed to the steps of its highest cover when it has one
        (without, every step has cover 0: the whole range, and its peak)."""
        start, stop = (self.first, self.last) if self.cover > 0 else (self.start, end)
        return AnomalyRange(int(start), int(stop), self.peak[0], int(self.peak[1]))


class RangeTracker:
    """Ranges of consecutive flagged steps, fed scores chunk by chunk (a range may span chunks); with
    each step's cover (the flagged windows covering it), each range is narrowed to the steps of its
    highest cover (see the module notes).

    Examples
    --------
    >>> t = RangeTracker(0.5)
    >>> t.push(np.array([0.1, 0.9, 0.7])) + t.push(np.array([0.6, 0.2])) + t.finish()
    [AnomalyRange(start=1, end=3, peak_score=0.9, peak_step=1)]
    >>> t = RangeTracker(0.5)
    >>> t.push(np.array([0.1, 0.9, 0.8, 0.9, 0.2]), cover=np.array([0, 1, 2, 1, 0]))
    [AnomalyRange(start=2, end=2, peak_score=0.8, peak_step=2)]
    """

    def __init__(self, threshold: float):
        self.threshold = float(threshold)
        self.step = 0  # the series step of the next score
        self.open: _Open | None = None  # a range still running at the end of the last chunk

    def push(self, scores: np.ndarray, cover: np.ndarray | None = None) -> list[AnomalyRange]:
        """The ranges that end within these next scores (``cover``: each step's, or None)."""
        scores = np.asarray(scores, np.float64)
        if len(scores) == 0:
            return []
        cover = np.zeros(len(scores)) if cover is None else np.asarray(cover, np.float64)
        flags = np.concatenate([[0], (scores > self.threshold).astype(np.int8), [0]])
        edges = np.diff(flags)
        begins, ends = (
            np.flatnonzero(edges == 1),
            np.flatnonzero(edges == -1),
        )  # ends: one past the last
        done: list[AnomalyRange] = []
        if self.open is not None and flags[1] == 0:  # the range of the last chunk ended with it
            done += self.finish()
        for b, e in zip(begins, ends):
            part = _part(scores[b:e], cover[b:e], self.step + b)
            if b == 0 and self.open is not None:  # continues the range of the last chunk
                self.open.extend(part)
            else:
                self.open = _Open(self.step + b, part)
            if e < len(scores):
                done.append(self.open.closed(self.step + e - 1))
                self.open = None
        self.step += len(scores)
        return done

    def finish(self) -> list[AnomalyRange]:
        """The range still open at the end of the series, if any."""
        if self.open is None:
            return []
        last, self.open = self.open.closed(self.step - 1), None
        return [last]


def find_ranges(
    scores: np.ndarray, threshold: float, cover: np.ndarray | None = None
) -> list[AnomalyRange]:
    """The ranges of consecutive steps scoring above ``threshold`` (narrowed by ``cover``, when given,
    as :class:`RangeTracker` does).

    Examples
    --------
    >>> for r in find_ranges(np.array([0.0, 1.0, 2.0, 0.0, 3.0]), 0.5):
    ...     print(r)
    AnomalyRange(start=1, end=2, peak_score=2.0, peak_step=2)
    AnomalyRange(start=4, end=4, peak_score=3.0, peak_step=4)
    """
    tracker = RangeTracker(threshold)
    return tracker.push(scores, cover) + tracker.finish()
