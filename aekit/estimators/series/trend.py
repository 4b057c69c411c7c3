"""Trends: a recording whose level climbs (a CO2 curve, a tank filling, a slowly heating motor).

A detector of shapes trained on a stretch that trends sees every later step at a level it never
saw, so that everything after the training stretch scores as anomalous, as one range. When a
straight line explains most of a channel's variance over the training stretch, the detector
models each step's distance from the mean of the last window of steps instead (``level``): a trend
becomes a constant, a seasonal wave stays the same wave, and a fault still breaks it (a stuck
sensor is a flat line in the wave). ``difference`` (``x[t] - x[t - 1]``) is the other classic
choice: it removes a trend too, but it turns the noise of each step into most of the signal, and a
stuck sensor into a short run of zeros: on the tests' trending series the default detector found
it on 3 of 8 seeds with ``difference`` and on 6 of 8 with ``level``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

# "auto" detrends ("level") a stretch where a straight line explains more of a channel's variance
TREND_SHARE = 0.5
DETRENDS = ("auto", "none", "level", "difference")


def trend_share(x: np.ndarray) -> tuple[float, int]:
    """(the largest share of a channel's variance that a straight line in time explains, that channel)
    over the channels of ``x`` (steps, channels): the R^2 of a least-squares line.

    Examples
    --------
    >>> t = np.arange(100.0)
    >>> share, channel = trend_share(np.stack([np.sin(t), t], axis=1))
    >>> round(share, 3), channel
    (1.0, 1)
    """
    t = np.arange(len(x), dtype=np.float64)
    t -= t.mean()
    # in float64 before the mean: 2,000 float32 steps of 1e38 sum past float32's range
    x = x.astype(np.float64)
    centred = x - x.mean(axis=0)
    var = (centred**2).sum(axis=0)
    explained = (t @ centred) ** 2 / max(float(t @ t), 1e-300)  # per channel
    shares = np.where(var > 0, explained / np.where(var > 0, var, 1.0), 0.0)
    channel = int(np.argmax(shares))
    return float(shares[channel]), channel


def resolve_detrend(setting: str, x: np.ndarray, names: list[str] | None) -> tuple[str, str]:
    """(the detrending used, "none", "level" or "difference"; why), for the ``detrend`` parameter
    on the training stretch ``x``."""
    if setting != "auto":
        return setting, "given"
    share, channel = trend_share(x)
    if share <= TREND_SHARE:
        return "none", f"no trend (a straight line explains {share:.0%} of any channel's variance)"
    name = names[channel] if names is not None else str(channel)
    return "level", (
        f"the training stretch trends (a straight line explains {share:.0%} of channel {name}'s "
        f"variance): the detector models each step's distance from the mean of the window before it"
    )


class Levels:
    """Each step minus the mean of the last ``window`` steps up to it, for a series given in
    consecutive chunks (the steps before a chunk are kept from the last).

    The series' first ``window - 1`` steps have fewer steps before them: their means are the line
    through the next window's means, extended back (exact for a line plus a wave of the window's
    period). A mean of fewer steps (step 0 minus itself, 0) bent the start of a wave into a shape
    seen nowhere after it, and every scored file began with a false range (a recording cut in two
    files was flagged at the cut: probe 60 clock H1). So the first ``2 window - 1`` steps are held
    back until they are all there; :meth:`finish` gives those of a shorter series.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self.before: np.ndarray | None = None  # the last window - 1 steps seen, (k, channels)
        self.held: np.ndarray | None = None  # the series' first steps, until 2 window - 1 of them

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        if self.before is None:  # the series' start: wait for the steps that set its first means
            chunk = chunk if self.held is None else np.concatenate([self.held, chunk])
            if len(chunk) < 2 * self.window - 1:
                self.held = chunk
                return chunk[:0]
            self.held = None
            return self._start(chunk)
        if len(chunk) == 0:
            return chunk
        full = np.concatenate([self.before, chunk]).astype(np.float64)  # (k + steps, channels)
        sums = np.concatenate([np.zeros((1, full.shape[1])), np.cumsum(full, axis=0)])
        end = np.arange(len(self.before), len(full)) + 1  # each chunk step's position, 1-based
        means = (sums[end] - sums[end - self.window]) / self.window
        self.before = full[len(full) - (self.window - 1) :].astype(chunk.dtype)
        return (chunk - means).astype(chunk.dtype)

    def _start(self, x: np.ndarray) -> np.ndarray:
        """The series' first steps, (n, channels): the first window - 1 means extended back along
        the line of the means after them (those of a series shorter than a window: their mean)."""
        w, n = self.window, len(x)
        if n < w:
            return (x - x.astype(np.float64).mean(axis=0)).astype(x.dtype)
        sums = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0, dtype=np.float64)])
        means = np.empty((n, x.shape[1]))  # (n, channels)
        means[w - 1 :] = (sums[w:] - sums[: n - w + 1]) / w  # the whole windows' means
        last = min(n, 2 * w - 1) - 1  # the line through the means at w - 1 and here
        slope = (means[last] - means[w - 1]) / (last - w + 1) if last > w - 1 else 0.0
        means[: w - 1] = means[w - 1] + slope * (np.arange(w - 1) - (w - 1))[:, None]
        self.before = x[n - (w - 1) :]
        return (x - means).astype(x.dtype)

    def finish(self) -> np.ndarray:
        """The steps still held: those of a series shorter than ``2 window - 1`` steps."""
        held, self.held = self.held, None
        return np.zeros((0, 0), np.float32) if held is None else self._start(held)


def delevel(x: np.ndarray, window: int) -> np.ndarray:
    """A whole series minus its trailing ``window``-step means (see :class:`Levels`).

    Examples
    --------
    >>> delevel(np.array([[1.0], [3.0], [5.0], [7.0]]), 2).ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    return whole(Levels(window), x)


class Differences:
    """The step-to-step differences of a series given in consecutive chunks (each chunk's first step
    taken from the last step of the one before); the series' first step gets its second's difference,
    so that no step is lost and no artificial zero starts the series (the first step is held back
    until the second comes, so that chunks of one step give what the whole series gives)."""

    def __init__(self) -> None:
        self.last: np.ndarray | None = None  # the last step of the chunk before, (1, channels)
        self.held: np.ndarray | None = None  # the series' first step, until its second comes

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        if self.last is None and self.held is not None:
            chunk = np.concatenate([self.held, chunk])
            self.held = None
        if len(chunk) == 0:
            return chunk
        if self.last is None and len(chunk) == 1:  # one step: its difference is the next one's
            self.held = chunk
            return chunk[:0]
        before = chunk[:1] if self.last is None else self.last
        d = np.diff(chunk, axis=0, prepend=before)  # (steps, channels)
        if self.last is None:
            d[0] = d[1]
        self.last = chunk[-1:]
        return d

    def finish(self) -> np.ndarray:
        """The step still held: a series of one step, whose difference is 0."""
        held, self.held = self.held, None
        return np.zeros((0, 0), np.float32) if held is None else np.zeros_like(held)


class Unchanged:
    """The raw steps (``detrend="none"``), with the others' interface."""

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        return chunk

    def finish(self) -> np.ndarray:
        return np.zeros((0, 0), np.float32)


Detrender = Levels | Differences | Unchanged  # each a chunk-by-chunk transform with finish()


def detrender(kind: str, window: int) -> Detrender:
    """A fresh chunk-by-chunk transform for ``detrend`` ``kind`` ("level", "difference", "none")."""
    if kind == "level":
        return Levels(window)
    return Differences() if kind == "difference" else Unchanged()


def through(transform: Detrender, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Consecutive chunks of a series through ``transform``, and at their end the steps it held."""
    for chunk in chunks:
        yield transform(chunk)
    rest = transform.finish()
    if len(rest):
        yield rest


def whole(transform: Detrender, x: np.ndarray) -> np.ndarray:
    """A whole series through a chunk-by-chunk ``transform``: every step, none held back."""
    return np.concatenate(list(through(transform, [x])))


def difference(x: np.ndarray) -> np.ndarray:
    """The step-to-step differences of a whole series (see :class:`Differences`).

    Examples
    --------
    >>> difference(np.array([[1.0], [3.0], [4.0]])).ravel().tolist()
    [2.0, 2.0, 1.0]
    """
    return whole(Differences(), x)
