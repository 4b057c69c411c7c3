"""VUS-ROC and VUS-PR: the volume under range-based ROC and PR surfaces (Paparrizos et al., VLDB 2022).

A labelled anomaly is widened by a buffer of ``b`` steps (``b // 2`` on each side), the widened
steps labelled softly (``sqrt(1 - distance / b)``, 1 inside the anomaly); at each of
``thresholds`` score thresholds a range-based true-positive rate (recall on the soft labels times
the share of widened ranges touched by a flagged step), false-positive rate and precision follow;
the area under the ROC (trapezoids) and PR (steps) curves is averaged over the buffers
``b = 0, 1, ..., window``. ``b = 0`` is the point-wise curve on thresholds; a wider buffer forgives
a detector that flags just before or after the labelled steps, so the figure does not hinge on
where exactly a labeller put the range's ends, nor on one threshold.

This follows ``RangeAUC_volume_opt`` of the TSB-AD benchmark (Liu and Paparrizos, NeurIPS 2024;
its ``get_metrics`` with ``version="opt"`` and 250 thresholds), computed from sorted scores
instead of one pass over the series per threshold; ``benchmarks/check_vus.py`` compares the two.
"""

from __future__ import annotations

import numpy as np

THRESHOLDS = 250  # score thresholds per curve, evenly spaced in rank (TSB-AD's default)


def _runs(y: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) step of each run of 1s in ``y``."""
    edges = np.diff(np.concatenate([[0], y.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))


def _soft_labels(y: np.ndarray, runs: list[tuple[int, int]], buffer: int) -> np.ndarray:
    """Labels widened by ``buffer // 2`` steps each side, decaying as ``sqrt(1 - distance / buffer)``."""
    soft = y.astype(np.float64)
    half = buffer // 2
    for start, end in runs:
        after = np.arange(end + 1, min(end + half + 1, len(y)))
        soft[after] += np.sqrt(1 - (after - end) / buffer)
        before = np.arange(max(start - half, 0), start)
        soft[before] += np.sqrt(1 - (start - before) / buffer)
    return np.minimum(soft, 1.0)


def _widened(runs: list[tuple[int, int]], half: int, n: int) -> list[tuple[int, int]]:
    """The runs widened by ``half`` steps each side, runs whose widenings meet merged into one."""
    merged = [[max(runs[0][0] - half, 0), runs[0][1] + half]]
    for start, end in runs[1:]:
        if start - half <= merged[-1][1]:  # the widenings meet: one range
            merged[-1][1] = end + half
        else:
            merged.append([start - half, end + half])
    merged[-1][1] = min(merged[-1][1], n - 1)
    return [(a, b) for a, b in merged]


class _Ranked:
    """The scores in falling order and the thresholds taken from them (score >= threshold flags)."""

    def __init__(self, scores: np.ndarray, thresholds: int):
        self.order = np.argsort(-scores, kind="stable")
        falling = scores[self.order]
        self.thresholds = falling[np.linspace(0, len(scores) - 1, thresholds).astype(np.int64)]
        # how many steps each threshold flags: every step scoring at least the threshold (ties in)
        self.flagged = np.searchsorted(-falling, -self.thresholds, side="right")

    def flagged_sum(self, values: np.ndarray) -> np.ndarray:
        """Per threshold, the sum of ``values`` over the flagged steps."""
        total = np.concatenate([[0.0], np.cumsum(values[self.order])])
        return total[self.flagged]


def _surface_slice(y, scores, ranked, runs, buffer):
    """(ROC area, PR area) at one buffer."""
    n, positives = len(y), float(y.sum())
    soft = _soft_labels(y, runs, buffer)
    widened = _widened(runs, buffer // 2, n)
    hits = ranked.flagged_sum(soft)  # soft true positives (the anomaly's own steps count 1)
    labels = positives + ranked.flagged_sum(np.where(y == 1, 0.0, soft))
    peaks = np.array([scores[a : b + 1].max() for a, b in widened])
    touched = (peaks[None, :] >= ranked.thresholds[:, None]).sum(axis=1) / len(widened)
    p_new = (positives + labels) / 2
    tpr = np.minimum(hits / p_new, 1.0) * touched
    fpr = (ranked.flagged - hits) / (n - p_new)
    precision = hits / ranked.flagged
    tpr_curve = np.concatenate([[0.0], tpr, [1.0]])
    fpr_curve = np.concatenate([[0.0], fpr, [1.0]])
    roc = float(np.sum(np.diff(fpr_curve) * (tpr_curve[1:] + tpr_curve[:-1]) / 2))
    pr = float(np.sum(np.diff(tpr_curve[:-1]) * precision))
    return roc, pr


def vus(y, scores, window: int, thresholds: int = THRESHOLDS) -> tuple[float, float]:
    """(VUS-ROC, VUS-PR) of per-step ``scores`` against 0/1 labels ``y``, buffers 0 to ``window``.

    ``(nan, nan)`` unless both normal and anomalous steps occur.

    Examples
    --------
    >>> y = np.zeros(200, int); y[100:110] = 1
    >>> perfect = y.astype(float)
    >>> [round(v, 3) for v in vus(y, perfect, 20)]
    [1.0, 1.0]
    >>> near = np.zeros(200); near[112:116] = 1.0   # just after the range: no point-wise credit
    >>> roc, pr = vus(y, near, 20)
    >>> bool(0.5 < roc < 1.0), bool(0.0 < pr < 0.5)
    (True, True)
    """
    y = np.asarray(y).astype(np.int64).ravel()
    s = np.asarray(scores, np.float64).ravel()
    if not 0 < y.sum() < len(y):
        return float("nan"), float("nan")
    ranked, runs = _Ranked(s, thresholds), _runs(y)
    areas = np.array([_surface_slice(y, s, ranked, runs, b) for b in range(int(window) + 1)])
    return float(areas[:, 0].mean()), float(areas[:, 1].mean())
