"""Sliding windows over a series, as views (no copies), and the window length a signal suggests.

A series is ``(steps, channels)``; its windows of length ``W`` taken every ``S`` steps are
``(n_windows, channels, W)``, the layout a 1-D convolution takes, made by
``numpy.lib.stride_tricks.sliding_window_view``: a view of the series' own memory, so a
window of 200 steps over a million-step series costs nothing until a batch is gathered.

:func:`dominant_period` finds the length of one cycle of the signal from its autocorrelation,
the usual default window of subsequence anomaly detectors (the ``find_length`` heuristic of
TSB-UAD, Paparrizos et al., VLDB 2022: the highest local maximum of the autocorrelation), made
robust to multiples of the period, which correlate about as well as the period itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError

MIN_PERIOD = 8  # shorter "periods" are noise, not a cycle of the signal
MAX_PERIOD = 1000  # lags searched at most: a window longer than this is rarely what a user wants
MIN_CORRELATION = 0.2  # an autocorrelation peak below this is no period
PEAK_TOLERANCE = 0.05  # peaks this close to the highest are as good: the shortest of them wins
FALLBACK_WINDOW = 64  # the window when the signal shows no period


def sliding_windows(x: np.ndarray, window: int, stride: int = 1) -> np.ndarray:
    """Windows of ``x`` (steps, channels) as a read-only view (n_windows, channels, window).

    Examples
    --------
    >>> w = sliding_windows(np.arange(10.0).reshape(5, 2), 3)
    >>> w.shape, w[1].tolist()
    ((3, 2, 3), [[2.0, 4.0, 6.0], [3.0, 5.0, 7.0]])
    """
    if window > len(x):
        raise DataError(
            f"a series of {len(x)} steps has no window of {window} steps; give a longer series "
            f"or a smaller window"
        )
    # (steps, C) -> (steps - W + 1, C, W): the window axis is appended last, a view.
    return np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[::stride]


def window_starts(n: int, window: int, stride: int) -> np.ndarray:
    """First step of each window over ``n`` steps; the last window ends at the last step.

    Examples
    --------
    >>> window_starts(10, 4, 3).tolist()
    [0, 3, 6]
    >>> window_starts(11, 4, 3).tolist()
    [0, 3, 6, 7]
    """
    starts = np.arange(0, n - window + 1, stride)
    if starts[-1] != n - window:  # cover the tail too
        starts = np.append(starts, n - window)
    return starts


@dataclass
class WindowRows:
    """The windows of an in-memory series as a row store for the shared training loop.

    ``take`` and ``rows`` copy only the batch asked for; the windows themselves stay a view.

    Examples
    --------
    >>> rows = WindowRows(np.zeros((100, 2), np.float32), window=10)
    >>> len(rows), rows.sample_shape, rows.take(np.array([0, 5])).shape
    (91, (2, 10), (2, 2, 10))
    """

    series: np.ndarray  # (steps, channels) float32
    window: int
    stride: int = 1

    def __post_init__(self) -> None:
        self._view = sliding_windows(self.series, self.window, self.stride)

    def __len__(self) -> int:
        return len(self._view)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self._view.shape[1:])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._view.shape)

    def take(self, indices) -> np.ndarray:
        # (B, C, W), a copy
        return np.ascontiguousarray(self._view[np.asarray(indices)], dtype=np.float32)

    def rows(self, start: int, stop: int) -> np.ndarray:
        return np.ascontiguousarray(self._view[start:stop], dtype=np.float32)


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation of each channel of ``x`` (steps, channels) at lags 0..max_lag, averaged over channels.

    Computed with the FFT (O(n log n)); a constant channel adds nothing.
    """
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=0)
    n = len(x)
    size = 1 << int(np.ceil(np.log2(2 * n)))  # zero-padded: a linear, not circular, correlation
    spec = np.fft.rfft(x, size, axis=0)
    acf = np.fft.irfft(spec * np.conj(spec), size, axis=0)[: max_lag + 1]  # (lags, C)
    power = acf[0]
    live = power > 0
    if not live.any():
        return np.zeros(max_lag + 1)
    return (acf[:, live] / power[live]).mean(axis=1)


def dominant_period(
    x: np.ndarray, *, min_period: int = MIN_PERIOD, max_period: int = MAX_PERIOD
) -> tuple[int, float]:
    """``(period, correlation)``: the lag of the highest autocorrelation peak of ``x`` (steps, channels).

    The lag is searched in [min_period, min(max_period, steps // 2)]; ``(0, 0.0)`` when there is
    no peak above :data:`MIN_CORRELATION` (no cycle to speak of).

    Examples
    --------
    >>> t = np.arange(2000)
    >>> dominant_period(np.sin(2 * np.pi * t / 50)[:, None])[0]
    50
    """
    x = np.asarray(x, np.float64)
    if x.ndim == 1:
        x = x[:, None]
    max_lag = min(max_period, len(x) // 2)
    if max_lag <= min_period:
        return 0, 0.0
    acf = autocorrelation(x, max_lag + 1)
    lags = np.arange(min_period, max_lag + 1)
    peaks = lags[(acf[lags] > acf[lags - 1]) & (acf[lags] >= acf[lags + 1])]
    if len(peaks) == 0:
        return 0, 0.0
    top = float(acf[peaks].max())
    if top < MIN_CORRELATION:
        return 0, 0.0
    # A whole number of periods correlates about as well as one (ECG beats: 0.772 at 140 steps,
    # 0.773 at 280): take the shortest lag whose peak is within PEAK_TOLERANCE of the highest.
    best = int(peaks[np.argmax(acf[peaks] >= top - PEAK_TOLERANCE)])
    return best, float(acf[best])
