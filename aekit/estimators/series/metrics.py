"""Figures of per-step anomaly scores against per-step labels (1 = anomalous, 0 = normal).

* Point-wise: ROC-AUC and PR-AUC (average precision) over all steps, and precision, recall and
  F1 of the steps flagged by the threshold.
* Range-based, with existence reward only: the labelled anomalies and the flagged steps are cut
  into ranges of consecutive steps; a labelled range counts as **found** when any of its steps is
  flagged (recall = found / labelled ranges), and a flagged range counts as **right** when it
  touches a labelled range (precision = right / flagged ranges). This is the range recall of
  Tatbul et al., "Precision and Recall for Time Series", NeurIPS 2018, with alpha = 1 (existence
  reward only), and its mirror image for precision.
* Range-based, by overlap: Tatbul et al.'s range precision and recall with alpha = 0 (no
  existence reward), a flat positional bias and the reciprocal cardinality factor (a range that
  meets k ranges of the other kind counts 1/k of its overlap). A flagged range's precision is the
  share of its steps that are labelled anomalous, so a detector that flags everything as one
  range, which the existence-based figures call perfect, scores the share of anomalous steps in
  the series; a labelled range's recall is the share of its steps flagged. (``overlap_precision``,
  ``overlap_recall``, ``overlap_f1``; checked against the ``prts`` package, Tatbul et al.'s own
  reference implementation, in ``benchmarks/check_range_metrics.py``.)
* The UCR anomaly archive's score (Wu and Keogh, IEEE TKDE 2021): 1 when the highest-scoring step
  lies inside a labelled range widened by 100 steps on each side, else 0.

* VUS-ROC and VUS-PR (Paparrizos et al., VLDB 2022; :mod:`.vus`), when a window is given: the
  range-based ROC and PR areas averaged over label buffers of 0 to ``window`` steps, free of a
  threshold and forgiving of where exactly a labelled range's ends lie; as TSB-AD computes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import DataError
from ..validation import ranking_scores
from .vus import vus
from .windows import AnomalyRange, find_ranges

UCR_SLACK = 100  # steps of slack on each side of the labelled range, as the UCR archive scores


def label_ranges(y: np.ndarray) -> list[AnomalyRange]:
    """The labelled anomalies of per-step labels as ranges (peak fields: 1.0 and the first step)."""
    return find_ranges(np.asarray(y, np.float64), 0.5)


def range_scores(true: list[AnomalyRange], flagged: list[AnomalyRange]) -> dict[str, float]:
    """Existence-based range precision, recall and F1 (see the module notes).

    Examples
    --------
    >>> t = [AnomalyRange(10, 20, 1.0, 10), AnomalyRange(50, 60, 1.0, 50)]
    >>> f = [AnomalyRange(18, 25, 2.0, 19), AnomalyRange(80, 81, 1.5, 80)]
    >>> range_scores(t, f)
    {'range_precision': 0.5, 'range_recall': 0.5, 'range_f1': 0.5}
    """

    def touches(a: AnomalyRange, b: AnomalyRange) -> bool:
        return a.start <= b.end and b.start <= a.end

    found = sum(any(touches(t, f) for f in flagged) for t in true)
    right = sum(any(touches(f, t) for t in true) for f in flagged)
    recall = found / len(true) if true else 0.0
    precision = right / len(flagged) if flagged else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "range_precision": float(precision),
        "range_recall": float(recall),
        "range_f1": float(f1),
    }


def overlap_scores(true: list[AnomalyRange], flagged: list[AnomalyRange]) -> dict[str, float]:
    """Tatbul et al.'s overlap-based range precision, recall and F1 (alpha 0, flat bias, reciprocal
    cardinality; see the module notes).

    Examples
    --------
    >>> t = [AnomalyRange(10, 19, 1.0, 10)]
    >>> overlap_scores(t, [AnomalyRange(0, 99, 1.0, 0)])  # everything flagged, as one range
    {'overlap_precision': 0.1, 'overlap_recall': 1.0, 'overlap_f1': 0.18181818181818182}
    >>> overlap_scores(t, [AnomalyRange(15, 24, 1.0, 15)])
    {'overlap_precision': 0.5, 'overlap_recall': 0.5, 'overlap_f1': 0.5}
    """
    precision = _mean_overlap(flagged, true)
    recall = _mean_overlap(true, flagged)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"overlap_precision": precision, "overlap_recall": recall, "overlap_f1": float(f1)}


def _mean_overlap(ranges: list[AnomalyRange], others: list[AnomalyRange]) -> float:
    """The mean over ``ranges`` of the share of each range's steps inside ``others``, divided by the
    number of ``others`` it meets when that is more than one (0 without ranges)."""
    if not ranges:
        return 0.0
    total = 0.0
    for r in ranges:
        met = [min(r.end, o.end) - max(r.start, o.start) + 1 for o in others]
        met = [steps for steps in met if steps > 0]
        if met:
            total += sum(met) / (r.end - r.start + 1) / (len(met) if len(met) > 1 else 1)
    return float(total / len(ranges))


def ucr_score(y: np.ndarray, scores: np.ndarray, slack: int = UCR_SLACK) -> int:
    """1 when the top-scoring step lies in a labelled range widened by ``slack`` steps each side, else 0.

    Examples
    --------
    >>> y = np.zeros(1000, int); y[500:510] = 1
    >>> s = np.zeros(1000); s[580] = 1.0
    >>> ucr_score(y, s), ucr_score(y, s, slack=50)
    (1, 0)
    """
    top = top_step(scores)
    return int(any(r.start - slack <= top <= r.end + slack for r in label_ranges(y)))


def top_step(scores: Any) -> int:
    """The highest-scoring step: the middle of the first run of steps that share the highest score
    (every step alike: the first).

    A spike scores every window that holds it, and a score past float32's range is inf in each:
    ``argmax`` of that plateau was its first step, a window before the spike (probe 65 numerics
    #5: top_step 2451 for a spike at 2500); its middle is the spike.

    Examples
    --------
    >>> top_step([0.0, 1.0, 3.0, 2.0]), top_step([0.0, np.inf, np.inf, np.inf, 0.0, np.inf])
    (2, 2)
    >>> top_step(np.zeros(9))  # a flat score points nowhere: its first step, as argmax
    0
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    first = int(np.argmax(s))
    other = s[first + 1 :] != s[first]  # (n - first - 1,): where the run of the highest ends
    stop = first + 1 + (int(np.argmax(other)) if other.any() else len(other))
    if first == 0 and stop == len(s):  # every step alike: none stands out (its first, as argmax)
        return 0
    return (first + stop - 1) // 2


def series_metrics(
    y: Any,
    scores: Any,
    threshold: float,
    flagged: list[AnomalyRange] | None = None,
    window: int | None = None,
) -> dict[str, Any]:
    """Point-wise and range-based figures of per-step ``scores`` against labels ``y``; see the module
    notes. ``flagged``: the detector's ranges (narrowed to their faults), else the runs of steps
    scoring above ``threshold``; ``window``: the largest label buffer of VUS-ROC and VUS-PR (the
    detector's window; TSB-AD uses the series' period), which are left out without it.

    Returns ``roc_auc``, ``pr_auc`` (``None`` unless both classes occur), ``precision``,
    ``recall``, ``f1`` (points), ``range_precision``, ``range_recall``, ``range_f1`` (existence),
    ``overlap_precision``, ``overlap_recall``, ``overlap_f1`` (overlap), ``vus_roc`` and
    ``vus_pr`` (with ``window``; ``None`` unless both classes occur), ``ucr_score``,
    ``top_step``, ``threshold``, ``n_steps``, ``n_anomalous_steps``, ``n_labelled_ranges`` and
    ``n_flagged_ranges``.

    Examples
    --------
    >>> y = np.zeros(100, int); y[40:45] = 1
    >>> s = np.where(y == 1, 2.0, 0.1); s[80] = 1.5
    >>> m = series_metrics(y, s, 1.0)
    >>> m["roc_auc"], m["range_recall"], m["range_precision"], m["ucr_score"]
    (1.0, 1.0, 0.5, 1)
    """
    from sklearn import metrics as m

    y = np.asarray(y).astype(np.int64).ravel()
    s = ranking_scores(scores)
    if len(y) != len(s):
        raise DataError(f"there are {len(y)} labels for {len(s)} steps; give one label per step")
    flags = (s > threshold).astype(np.int64)
    both = 0 < y.sum() < len(y)
    true = label_ranges(y)
    flagged = find_ranges(s, threshold) if flagged is None else flagged
    volumes = {}
    if window is not None:
        roc, pr = vus(y, s, window) if both else (None, None)
        volumes = {"vus_roc": roc, "vus_pr": pr}
    return {
        "roc_auc": float(m.roc_auc_score(y, s)) if both else None,
        "pr_auc": float(m.average_precision_score(y, s)) if both else None,
        **volumes,
        "precision": float(m.precision_score(y, flags, zero_division=0)),
        "recall": float(m.recall_score(y, flags, zero_division=0)),
        "f1": float(m.f1_score(y, flags, zero_division=0)),
        **range_scores(true, flagged),
        **overlap_scores(true, flagged),
        "ucr_score": ucr_score(y, s) if y.any() else None,
        "top_step": top_step(s),
        "threshold": float(threshold),
        "n_steps": int(len(y)),
        "n_anomalous_steps": int(y.sum()),
        "n_labelled_ranges": len(true),
        "n_flagged_ranges": len(flagged),
    }
