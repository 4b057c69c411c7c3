"""A long series and its anomaly scores: each channel over time, the score beneath, ranges shaded."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aekit.errors import DataError
from aekit.plots._common import _float_array, _pyplot, _save, _vector

MAX_POINTS = 4000  # points drawn per line: longer series are drawn as a min/max envelope per bucket


def _envelope(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most ~MAX_POINTS points that keep every spike: the min and max of each bucket of steps."""
    if len(y) <= MAX_POINTS:
        return t, y
    size = math.ceil(len(y) / (MAX_POINTS // 2))
    n = len(y) // size * size
    blocks = y[:n].reshape(-1, size)  # (buckets, size)
    lo, hi = blocks.min(axis=1), blocks.max(axis=1)
    tt = t[:n:size]
    return np.repeat(tt, 2), np.column_stack([lo, hi]).ravel()


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) inclusive of the runs of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))


def plot_series_scores(
    values: np.ndarray,
    scores: np.ndarray,
    path: str | os.PathLike,
    *,
    threshold: float | None = None,
    ranges: Sequence[tuple[int, int]] = (),
    labels: np.ndarray | None = None,
    channel_names: Sequence[str] | None = None,
    start: int = 0,
    stop: int | None = None,
    title: str | None = None,
) -> Path:
    """Each channel of a series over time with the anomaly score beneath.

    Flagged ranges are shaded on every panel; steps labelled anomalous are marked in red on the
    channels; the threshold is a dashed line on the score. ``start``/``stop`` draw a part only
    (a zoom), with the steps numbered as in the whole series.

    Parameters
    ----------
    values : ndarray of shape (steps,) or (steps, channels)
    scores : ndarray of shape (steps,)
    path : str or PathLike
        PNG file to write.
    threshold : float, optional
    ranges : sequence of (start, end)
        Flagged ranges, ``end`` inclusive.
    labels : ndarray of shape (steps,), optional
        1 for the steps known to be anomalous.
    channel_names : sequence of str, optional
    start, stop : int
        The steps drawn: ``start`` to ``stop`` (exclusive; default: to the end).
    title : str, optional

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_series_scores(x, scores, "series.png", threshold=0.3, ranges=[(4180, 4240)])  # doctest: +SKIP
    PosixPath('series.png')
    """
    x, s, start, stop = _checked(values, scores, start, stop)
    names = (
        list(channel_names)
        if channel_names is not None
        else [f"channel {c}" for c in range(x.shape[1])]
    )
    y = None if labels is None else np.asarray(labels)[start:stop].astype(bool)
    t = np.arange(start, stop)

    plt = _pyplot()
    n_panels = x.shape[1] + 1
    fig, axes = plt.subplots(
        n_panels, 1, figsize=(11.0, 1.6 * n_panels + 0.8), sharex=True, squeeze=False
    )
    axes = axes[:, 0]
    for c, ax in enumerate(axes[:-1]):
        _draw_channel(ax, t, x[start:stop, c], y, first=c == 0)
        ax.set_ylabel(names[c] if c < len(names) else f"channel {c}")
    ax = axes[-1]
    ax.plot(*_envelope(t, s[start:stop]), color="black", lw=0.7, label="score")
    if threshold is not None:
        ax.axhline(
            float(threshold),
            color="tab:orange",
            ls="--",
            lw=1,
            label=f"threshold {float(threshold):.3g}",
        )
    ax.set_ylabel("score")
    ax.set_xlabel("step")
    shown = [(max(a, start), min(b, stop - 1)) for a, b in ranges if b >= start and a < stop]
    for i, (a, b) in enumerate(shown):
        for axis in axes:
            axis.axvspan(
                a,
                b + 1,
                color="gold",
                alpha=0.35,
                lw=0,
                label="flagged" if i == 0 and axis is ax else None,
            )
    ax.legend(loc="upper right", fontsize="small")
    if y is not None and y.any():
        axes[0].legend(loc="upper right", fontsize="small")
    axes[0].set_xlim(start, stop - 1)
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def _checked(
    values, scores, start: int, stop: int | None
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """``values`` as (steps, channels) floats, ``scores`` one per step, and the steps to draw."""
    x = _float_array(values, "values", "a numeric array (steps,) or (steps, channels)")
    if x.ndim == 1:
        x = x[:, None]
    s = _vector(scores, "scores")
    if x.ndim != 2 or len(x) != len(s):
        raise DataError(
            f"values has shape {x.shape} but there are {len(s)} scores; give one score per step"
        )
    stop = len(s) if stop is None else min(int(stop), len(s))
    start = max(0, int(start))
    if not start < stop:
        raise DataError(f"nothing to draw between steps {start} and {stop}")
    return x, s, start, stop


def _draw_channel(ax, t: np.ndarray, v: np.ndarray, y: np.ndarray | None, first: bool) -> None:
    """One channel's values ``v`` at steps ``t``, the steps labelled anomalous (``y``) in red."""
    ax.plot(*_envelope(t, v), color="tab:blue", lw=0.6)
    if y is None or not y.any():
        return
    for k, (a, b) in enumerate(_spans(y)):
        ax.plot(
            t[a : b + 1],
            v[a : b + 1],
            color="tab:red",
            lw=1.2,
            label="labelled anomaly" if first and k == 0 else None,
        )
