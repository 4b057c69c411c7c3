"""A long series and its anomaly scores: each channel over time, the score beneath, ranges shaded."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aekit.errors import DataError
from aekit.plots._common import (
    _check_finite,
    _figures,
    _float_array,
    _number,
    _save,
    _target,
    _tight_layout,
    _vector,
    drawn,
)

MAX_POINTS = 4000  # points drawn per line: longer series are drawn as a min/max envelope per bucket
PIXELS = 800  # about the score axis's width in pixels, fewer: a flagged range is drawn this wide at least


def _envelope(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most ~MAX_POINTS points that keep every spike: the min and max of each bucket of steps,
    the last bucket's too, however few steps it holds (they were left out: a spike in the last
    steps of a long series was not drawn)."""
    if len(y) <= MAX_POINTS:
        return t, y
    size = math.ceil(len(y) / (MAX_POINTS // 2))
    first = np.arange(0, len(y), size)  # each bucket's first step; the last may hold fewer
    lo, hi = np.minimum.reduceat(y, first), np.maximum.reduceat(y, first)
    return np.repeat(t[first], 2), np.column_stack([lo, hi]).ravel()


@drawn
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
    times: Sequence | None = None,
    time_name: str = "time",
    overwrite: bool = False,
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
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    threshold : float, optional
    ranges : sequence of (start, end)
        Flagged ranges, ``end`` inclusive.
    labels : ndarray of shape (steps,), optional
        1 for the steps known to be anomalous.
    channel_names : sequence of str, optional
    start, stop : int
        The steps drawn: ``start`` to ``stop`` (exclusive; default: to the end).
    title : str, optional
    times : sequence of shape (steps,), optional
        The time of each step (a file's time column): the axis is labelled with them, named
        ``time_name``, where it is otherwise numbered in steps.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_series_scores(x, scores, "series.png", threshold=0.3, ranges=[(4180, 4240)])  # doctest: +SKIP
    PosixPath('series.png')
    """
    path = _target(path, overwrite)
    x, s, start, stop = _checked(values, scores, start, stop)
    y = _labels(labels, len(s))
    ranges = _ranges(ranges)
    threshold = None if threshold is None else _number(threshold, "threshold")
    names = (
        list(channel_names)
        if channel_names is not None
        else [f"channel {c}" for c in range(x.shape[1])]
    )
    y = None if y is None else y[start:stop]
    t = np.arange(start, stop)

    plt = _figures()
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
    _time_axis(ax, _times(times, len(s)), time_name)
    _shade(axes, ranges, start, stop)
    ax.legend(loc="upper right", fontsize="small")
    if y is not None and y.any():
        axes[0].legend(loc="upper right", fontsize="small")
    axes[0].set_xlim(start, stop - 1)
    if title:
        axes[0].set_title(title)
    _tight_layout(fig)
    return _save(fig, path)


def _times(times: Sequence | None, steps: int) -> np.ndarray | None:
    """``times`` as one label per step, or one line saying they are not."""
    if times is None:
        return None
    labels = np.asarray(times).astype(str).reshape(-1)
    if len(labels) != steps:
        raise DataError(f"times has {len(labels)} values; expected {steps}, one per step")
    return labels


def _time_axis(ax, times: np.ndarray | None, name: str) -> None:
    """The shared x axis labelled in steps, or with the time of the step under each tick (the
    steps stay the coordinates: ranges and zooms are in steps; probe 60 clock L8)."""
    if times is None:
        ax.set_xlabel("step")
        return
    from matplotlib.ticker import FuncFormatter

    def label(position: float, _) -> str:
        step = int(round(position))
        return times[step] if 0 <= step < len(times) else ""

    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.tick_params(axis="x", labelrotation=20)
    ax.set_xlabel(str(name))


def _shade(axes, ranges: np.ndarray, start: int, stop: int) -> None:
    """The flagged ranges shaded on every panel: one artist a panel (an axvspan per range took 91 s
    for 50,000), each range at least a pixel wide (a short one in a long series was not drawn)."""
    from matplotlib.collections import PolyCollection

    inside = ranges[(ranges[:, 1] >= start) & (ranges[:, 0] < stop)]
    if not len(inside):
        return
    a, b = _spans(inside, start, stop)
    verts = np.stack(
        [np.column_stack([a, a, b, b]), np.tile([0.0, 1.0, 1.0, 0.0], (len(a), 1))], -1
    )
    for axis in axes:
        shade = PolyCollection(
            verts, facecolors="gold", alpha=0.35, linewidths=0, transform=axis.get_xaxis_transform()
        )
        if axis is axes[-1]:
            shade.set_label("flagged")
        axis.add_collection(shade, autolim=False)


def _spans(ranges: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each range is shaded, from ``a`` to ``b`` in steps: its own steps, or a pixel's width
    at least, clear of the axis's ends (widened past the end it was cut off by the axis limit, and
    at step 0 it lay under the axis line: the last or first steps' range was not drawn)."""
    pixel = (stop - start) / PIXELS
    a = np.maximum(ranges[:, 0], start).astype(float)
    b = np.minimum(ranges[:, 1], stop - 1) + 1.0
    # two pixels inside the axis's ends: its line and the line's antialiased edge cover one
    first, last = start + 2 * pixel, stop - 1 - 2 * pixel
    short = np.minimum(b, last) - np.maximum(a, first) < pixel
    a = np.where(short, np.clip(a, first, last - pixel), a)
    b = np.where(short, np.minimum(np.maximum(b, a + pixel), last), b)
    return a, b


def _labels(labels, steps: int) -> np.ndarray | None:
    """``labels`` as one bool per step, or one line saying they are not."""
    if labels is None:
        return None
    y = _vector(labels, "labels", allow_empty=True)
    if len(y) != steps:
        raise DataError(f"labels has {len(y)} values; expected {steps}, one per step")
    return y.astype(bool)


def _ranges(ranges) -> np.ndarray:
    """``ranges`` as an (n, 2) int array of (start, end), end >= start, or one line."""
    r = _float_array(ranges, "ranges", "a list of (start, end) step pairs")
    r = r.reshape(0, 2) if r.size == 0 else r
    if r.ndim != 2 or r.shape[1] != 2:
        raise DataError(f"ranges must be (start, end) pairs, got shape {r.shape}")
    _check_finite(r, "ranges")
    bad = np.flatnonzero(r[:, 1] < r[:, 0])
    if bad.size:
        a, b = r[bad[0]]
        raise DataError(
            f"ranges[{bad[0]}] = ({a:g}, {b:g}) ends before it starts; give (start, end)"
        )
    return r.astype(np.int64)


def _checked(
    values, scores, start: int, stop: int | None
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """``values`` as (steps, channels) floats, ``scores`` one per step, and the steps to draw."""
    x = _float_array(values, "values", "a numeric array (steps,) or (steps, channels)")
    if x.ndim == 1:
        x = x[:, None]
    s = _vector(scores, "scores")
    _check_finite(x, "values")
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
    # one line broken by NaN where unlabelled: a line per labelled span took 33 s for 50,000
    ax.plot(
        t,
        np.where(y, v, np.nan),
        color="tab:red",
        lw=1.2,
        label="labelled anomaly" if first else None,
    )
    # a step labelled alone is a line of no length, not drawn: a marker shows it
    before, after = np.r_[False, y[:-1]], np.r_[y[1:], False]
    alone = y & ~before & ~after
    if alone.any():
        ax.plot(t[alone], v[alone], color="tab:red", ls="none", marker="o", ms=3)
