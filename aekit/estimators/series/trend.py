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
    centred = x.astype(np.float64) - x.mean(axis=0)
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
    """Each step minus the mean of the last ``window`` steps up to it (fewer at the series' start),
    for a series given in consecutive chunks (the steps before a chunk are kept from the last)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.before: np.ndarray | None = None  # the last window - 1 steps seen, (k, channels)

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        if len(chunk) == 0:
            return chunk
        head = chunk[:0] if self.before is None else self.before
        full = np.concatenate([head, chunk]).astype(np.float64)  # (k + steps, channels)
        sums = np.concatenate([np.zeros((1, full.shape[1])), np.cumsum(full, axis=0)])
        end = np.arange(len(head), len(full)) + 1  # each chunk step's position in full, 1-based
        start = np.maximum(end - self.window, 0)  # no steps before the series' first
        means = (sums[end] - sums[start]) / (end - start)[:, None]
        self.before = full[len(full) - min(self.window - 1, len(full)) :].astype(chunk.dtype)
        return (chunk - means).astype(chunk.dtype)


def delevel(x: np.ndarray, window: int) -> np.ndarray:
    """A whole series minus its trailing ``window``-step means (see :class:`Levels`).

    Examples
    --------
    >>> delevel(np.array([[1.0], [3.0], [5.0], [7.0]]), 2).ravel().tolist()
    [0.0, 1.0, 1.0, 1.0]
    """
    return Levels(window)(x)


class Differences:
    """The step-to-step differences of a series given in consecutive chunks (each chunk's first step
    taken from the last step of the one before); the series' first step gets its second's difference,
    so that no step is lost and no artificial zero starts the series."""

    def __init__(self) -> None:
        self.last: np.ndarray | None = None  # the last step of the chunk before, (1, channels)

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        if len(chunk) == 0:
            return chunk
        before = chunk[:1] if self.last is None else self.last
        d = np.diff(chunk, axis=0, prepend=before)  # (steps, channels)
        if self.last is None and len(chunk) > 1:
            d[0] = d[1]
        self.last = chunk[-1:]
        return d


def difference(x: np.ndarray) -> np.ndarray:
    """The step-to-step differences of a whole series (see :class:`Differences`).

    Examples
    --------
    >>> difference(np.array([[1.0], [3.0], [4.0]])).ravel().tolist()
    [2.0, 2.0, 1.0]
    """
    return Differences()(x)
