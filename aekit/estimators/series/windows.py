"""From window errors to per-step scores and anomalous ranges, over a series that arrives in chunks.

A step's score is the mean (or the highest) reconstruction error of the windows that cover it
(windows every ``stride`` steps, and one more ending at the last step). :class:`StepScorer` takes the series a
chunk at a time and gives back each step's score as soon as no later window can cover it, so a
series of any length is scored with memory bounded by one chunk plus one window.
:class:`RangeTracker` turns flagged steps into ranges the same way. Only NumPy is needed here: the
window errors come from a function the estimator passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import numpy as np

from ...data.windows import sliding_windows
from ...errors import DataError, UsageError

AGGREGATES = ("mean", "max")
TIE_BREAK = 1e-3  # "max": this much of the mean is added, so that within a window of equal peaks the mean decides
WindowErrors = Callable[[np.ndarray], np.ndarray]  # (B, C, W) windows -> (B,) errors


class StepScorer:
    """Per-step scores of a series pushed in chunks (steps, channels); see the module notes.

    Parameters
    ----------
    window, stride : int
        Window length and the steps between window starts (``stride <= window``).
    errors : callable
        ``errors(windows)``: the reconstruction error of each window of a (B, C, W) view.
    batch : int
        Windows handed to ``errors`` at a time.
    aggregate : {"mean", "max"}
        A step's score: the mean or the highest error of the windows covering it. Every step of the
        worst window shares its error, so "max" adds ``TIE_BREAK`` times the mean: the steps in the
        middle of an anomaly, seen by more bad windows, come first.

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
        self.total = np.zeros(0)  # summed window errors of each step in buf
        self.count = np.zeros(0)  # windows covering each step in buf
        self.peak = np.zeros(0)  # the highest error of a window covering each step in buf

    def push(self, x: np.ndarray) -> np.ndarray:
        """Add the next steps (m, C); return the scores of the steps that are final now."""
        x = np.asarray(x, np.float32)
        self.buf = x if self.buf is None else np.concatenate([self.buf, x])
        self.total = np.concatenate([self.total, np.zeros(len(x))])
        self.count = np.concatenate([self.count, np.zeros(len(x))])
        self.peak = np.concatenate([self.peak, np.zeros(len(x))])
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
        diff = np.zeros(len(self.buf) + 1)
        for i in range(0, len(local), self.batch):
            part = local[i : i + self.batch]
            err = np.asarray(self.errors(view[part]), np.float64)  # gathers only this batch
            # Each window adds its error to its W steps: +e at its start, -e after its end, summed below.
            np.add.at(diff, part, err)
            np.add.at(diff, part + self.window, -err)
            if self.aggregate == "max":  # errors are >= 0, so the zeros of new steps are no peak
                for j in range(self.window):
                    np.maximum.at(self.peak, part + j, err)
        self.total += np.cumsum(diff)[:-1]
        hits = np.zeros(len(self.buf) + 1)
        np.add.at(hits, local, 1.0)
        np.add.at(hits, local + self.window, -1.0)
        self.count += np.cumsum(hits)[:-1]
        self.covered = max(self.covered, int(starts[-1]) + self.window)

    def _release(self, upto: int) -> np.ndarray:
        k = max(0, upto - self.start)
        if k == 0:
            return np.zeros(0)
        scores = self.total[:k] / self.count[:k]  # the mean
        # the highest; the mean orders the steps that share it (a whole window's worth)
        if self.aggregate == "max":
            scores = self.peak[:k] + TIE_BREAK * scores
        self.buf, self.total, self.count, self.peak = (
            self.buf[k:],
            self.total[k:],
            self.count[k:],
            self.peak[k:],
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
    scorer = StepScorer(window, stride, errors, batch, aggregate)
    for chunk in chunks:
        out = scorer.push(chunk)
        if len(out):
            yield out
    yield scorer.finish()


class AnomalyRange(NamedTuple):
    """Consecutive anomalous steps: ``start`` to ``end`` inclusive, the highest score and its step."""

    start: int
    end: int
    peak_score: float
    peak_step: int


class RangeTracker:
    """Ranges of consecutive flagged steps, fed scores chunk by chunk (a range may span chunks).

    Examples
    --------
    >>> t = RangeTracker(0.5)
    >>> t.push(np.array([0.1, 0.9, 0.7])) + t.push(np.array([0.6, 0.2])) + t.finish()
    [AnomalyRange(start=1, end=3, peak_score=0.9, peak_step=1)]
    """

    def __init__(self, threshold: float):
        self.threshold = float(threshold)
        self.step = 0  # the series step of the next score
        self.open: list | None = None  # [start, peak_score, peak_step] of a range still running

    def push(self, scores: np.ndarray) -> list[AnomalyRange]:
        """The ranges that end within these next scores."""
        scores = np.asarray(scores, np.float64)
        if len(scores) == 0:
            return []
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
            peak = b + int(np.argmax(scores[b:e]))
            start, best, at = self.step + b, float(scores[peak]), self.step + peak
            if b == 0 and self.open is not None:  # continues the range of the last chunk
                start = self.open[0]
                if self.open[1] >= best:
                    best, at = self.open[1], self.open[2]
            self.open = [start, best, at]
            if e < len(scores):
                done.append(AnomalyRange(int(start), int(self.step + e - 1), best, int(at)))
                self.open = None
        self.step += len(scores)
        return done

    def finish(self) -> list[AnomalyRange]:
        """The range still open at the end of the series, if any."""
        if self.open is None:
            return []
        start, best, at = self.open
        self.open = None
        return [AnomalyRange(int(start), self.step - 1, best, int(at))]


def find_ranges(scores: np.ndarray, threshold: float) -> list[AnomalyRange]:
    """The ranges of consecutive steps scoring above ``threshold``.

    Examples
    --------
    >>> for r in find_ranges(np.array([0.0, 1.0, 2.0, 0.0, 3.0]), 0.5):
    ...     print(r)
    AnomalyRange(start=1, end=2, peak_score=2.0, peak_step=2)
    AnomalyRange(start=4, end=4, peak_score=3.0, peak_step=4)
    """
    tracker = RangeTracker(threshold)
    return tracker.push(scores) + tracker.finish()
