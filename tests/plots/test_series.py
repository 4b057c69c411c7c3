"""plot_series_scores: bad inputs are one line; flagged ranges are drawn, however short or many."""

from __future__ import annotations

import time

import numpy as np
import pytest

from aekit.errors import DataError
from aekit.plots.series import plot_series_scores


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"labels": np.ones(5)}, "labels has 5 values; expected 10"),
        ({"ranges": [(5, 2)]}, r"ranges\[0\] = \(5, 2\) ends before it starts"),
        ({"threshold": float("nan")}, "threshold must be a finite number"),
        ({"threshold": "abc"}, "threshold must be a number"),
        ({"values": np.r_[np.ones(9), np.nan]}, "values contains NaN"),
        ({"times": ["2024-01-01"] * 9}, "times has 9 values; expected 10"),
    ],
)
def test_what_would_draw_a_wrong_figure_is_one_line(tmp_path, kwargs, needle):
    """Probe 55 F17: labels of another length, an inverted range, a NaN threshold drew silently."""
    given = {"values": np.ones(10), **kwargs}
    with pytest.raises(DataError, match=needle):
        plot_series_scores(given.pop("values"), np.ones(10), tmp_path / "s.png", **given)
    assert not list(tmp_path.iterdir())


def _gold_columns(path) -> np.ndarray:
    """The image's columns, as a share of its width, shaded (gold over white) a third of their
    height at least: a range's span over the panels, not a line's or the legend's pixels."""
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    gold = (rgb[..., 0] > 240) & (rgb[..., 1] > 220) & (rgb[..., 2] < 200)
    return np.flatnonzero(gold.sum(axis=0) > len(rgb) // 3) / rgb.shape[1]


def test_a_short_range_in_a_long_series_is_drawn(tmp_path):
    """Probe 55 F11: 10 steps of 1e6 were a sub-pixel span: not drawn, "flagged" in the legend."""
    steps = 1_000_000
    scores = np.zeros(steps)
    path = plot_series_scores(
        np.zeros(steps), scores, tmp_path / "s.png", threshold=1.0, ranges=[(500_000, 500_009)]
    )
    assert len(_gold_columns(path)) >= 1


def test_many_ranges_are_drawn_quickly(tmp_path):
    """Probe 55 F12: an axvspan per range per panel took 91 s for 50,000 ranges."""
    steps = 200_000
    ranges = [(a, a + 1) for a in range(0, steps, 20)]  # 10,000 ranges
    labels = np.zeros(steps)
    labels[::20] = 1
    began = time.perf_counter()
    plot_series_scores(
        np.zeros(steps), np.zeros(steps), tmp_path / "s.png", ranges=ranges, labels=labels
    )
    assert time.perf_counter() - began < 10


def test_the_axis_reads_the_files_times_where_it_has_them(tmp_path, monkeypatch):
    """probe 60 clock L8: a series with a time column was drawn against step numbers only; the
    axis now reads the time of the step under each tick, named by the time column."""
    import aekit.plots.series as series

    drawn = []
    monkeypatch.setattr(series, "_save", lambda fig, path: drawn.append(fig) or path)
    times = [f"2024-01-01T00:{m:02d}:00" for m in range(60)]
    plot_series_scores(np.ones(60), np.ones(60), tmp_path / "s.png", times=times,
                       time_name="timestamp", start=10, stop=40)  # fmt: skip
    axis = drawn[0].axes[-1]
    assert axis.get_xlabel() == "timestamp"
    assert axis.xaxis.get_major_formatter()(12.0, None) == "2024-01-01T00:12:00"
    plot_series_scores(np.ones(60), np.ones(60), tmp_path / "n.png")
    assert drawn[1].axes[-1].get_xlabel() == "step"


def _figure(monkeypatch, tmp_path, values, scores, **kwargs):
    """The figure ``plot_series_scores`` draws, looked at instead of written (closed by the caller)."""
    import aekit.plots.series as series

    drawn = []
    monkeypatch.setattr(series, "_save", lambda fig, path: drawn.append(fig) or path)
    plot_series_scores(values, scores, tmp_path / "s.png", **kwargs)
    return drawn[0]


def test_a_spike_in_the_last_steps_of_a_long_series_is_drawn_at_its_height(tmp_path, monkeypatch):
    """Probe 66 #1: the envelope of a long series left out its last partial bucket of steps, so a
    jump in the last 3 of 10,001 steps was drawn on no channel and not on the score."""
    import matplotlib.pyplot as plt

    steps = 10_001
    values = np.column_stack([np.sin(np.arange(steps) / 50), np.zeros(steps)])
    values[-3:] = [8.0, -6.0]
    scores = np.full(steps, 0.1)
    scores[-3:] = 5.0
    fig = _figure(monkeypatch, tmp_path, values, scores, threshold=1.0)
    heights = [(line.get_ydata().min(), line.get_ydata().max()) for line in
               (ax.get_lines()[0] for ax in fig.axes)]  # fmt: skip
    assert heights[0][1] == 8.0 and heights[1][0] == -6.0 and heights[2][1] == 5.0
    assert all(ax.get_lines()[0].get_xdata().max() > steps - 10 for ax in fig.axes)
    plt.close(fig)


@pytest.mark.parametrize("where", ["start", "end"])
def test_a_short_range_at_either_end_of_a_long_series_is_drawn(tmp_path, where):
    """Probe 66 #2: a short range was widened to the right only: past the axis's end it was cut
    off, and at step 0 it lay under the axis line; neither was drawn."""
    steps = 20_000
    at = (0, 2) if where == "start" else (steps - 3, steps - 1)
    path = plot_series_scores(
        np.sin(np.arange(steps) / 30.0), np.full(steps, 0.1), tmp_path / "s.png",
        threshold=1.0, ranges=[at, (10_000, 10_002)],
    )  # fmt: skip
    shaded = _gold_columns(path)
    assert ((shaded < 0.3) if where == "start" else (shaded > 0.7)).any(), shaded
    assert ((shaded > 0.4) & (shaded < 0.6)).any(), shaded


def test_a_step_labelled_alone_is_marked_in_red(tmp_path, monkeypatch):
    """Probe 66 #3: labels were drawn as one line broken where unlabelled: a step labelled alone
    was a line of no length, and nothing red was drawn; a labelled run stays a line."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    x = np.sin(np.arange(500) / 20.0)
    labels = np.zeros(500)
    labels[250] = labels[300:340] = 1
    fig = _figure(monkeypatch, tmp_path, x, np.zeros(500), labels=labels)
    red = [
        line for line in fig.axes[0].get_lines() if to_rgba(line.get_color()) == to_rgba("tab:red")
    ]
    marked = [line for line in red if line.get_marker() not in ("None", None, "")]
    assert [list(line.get_xdata()) for line in marked] == [[250]]
    assert marked[0].get_ydata()[0] == x[250]
    run = [line for line in red if line not in marked]
    assert np.flatnonzero(np.isfinite(run[0].get_ydata())).tolist() == [250, *range(300, 340)]
    plt.close(fig)
