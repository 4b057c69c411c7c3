"""Overlap-based range figures (Tatbul et al., alpha 0): a detector that flags everything cannot win them."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.estimators.series.metrics import (
    label_ranges,
    overlap_scores,
    range_scores,
    series_metrics,
    top_step,
    ucr_score,
)
from aekit.estimators.series.windows import AnomalyRange


def R(start, end):
    return AnomalyRange(start, end, 1.0, start)


def test_flagging_everything_wins_existence_but_not_overlap():
    y = np.zeros(1000, int)
    y[200:212] = 1  # a 12-step fault
    everything = np.ones(1000)
    m = series_metrics(y, everything, threshold=0.5)
    assert m["range_f1"] == 1.0  # what the issue saw
    assert m["overlap_precision"] == pytest.approx(12 / 1000)
    assert m["overlap_recall"] == 1.0 and m["overlap_f1"] < 0.03


def test_reciprocal_cardinality_and_flat_bias():
    true = [R(10, 19), R(30, 39)]
    one_across_both = [R(15, 34)]  # 20 steps: 5 + 5 anomalous, meets two ranges
    got = overlap_scores(true, one_across_both)
    assert got["overlap_precision"] == pytest.approx((10 / 20) / 2)
    assert got["overlap_recall"] == pytest.approx((5 / 10 + 5 / 10) / 2)
    split = [R(10, 12), R(17, 19)]  # two flagged ranges inside one labelled range
    got = overlap_scores([R(10, 19)], split)
    assert got["overlap_precision"] == 1.0
    assert got["overlap_recall"] == pytest.approx((3 + 3) / 10 / 2)
    assert overlap_scores(true, []) == {
        "overlap_precision": 0.0,
        "overlap_recall": 0.0,
        "overlap_f1": 0.0,
    }


def test_exact_flags_score_one_on_both_kinds():
    y = np.zeros(200, int)
    y[50:60] = y[120:121] = 1
    true = label_ranges(y)
    assert overlap_scores(true, true)["overlap_f1"] == 1.0
    assert range_scores(true, true)["range_f1"] == 1.0


def test_a_step_scored_infinite_still_ranks_first():
    # a spike of 1e20 scores inf: scikit-learn refused it, and evaluate ended in an internal error
    y = np.zeros(200, int)
    y[100:105] = 1
    s = np.linspace(0, 1, 200)
    s[102] = np.inf
    out = series_metrics(y, s, threshold=0.99, window=8)
    assert out["roc_auc"] > 0.5 and out["top_step"] == 102 and out["vus_roc"] is not None


def test_the_top_step_of_a_plateau_of_highest_scores_is_its_middle():
    """Probe 65 numerics #5: a spike past float32 scores inf in every window that holds it (2451 to
    2549 for a spike at 2500 and windows of 50); top_step was 2451, a window before it."""
    s = np.random.default_rng(0).random(3000)
    s[2451:2550] = np.inf
    y = np.zeros(3000, int)
    y[2495:2505] = 1
    assert top_step(s) == 2500
    assert series_metrics(y, s, threshold=2.0)["top_step"] == 2500
    assert ucr_score(y, s, slack=10) == 1
    assert top_step([0.0, 2.0, 1.0]) == 1  # one highest step: itself
    # review 65 #3: a flat score (all 0, all inf) points at no step, so it hits no labelled range
    for flat in (np.zeros(3000), np.full(3000, np.inf)):
        assert top_step(flat) == 0 and ucr_score(y, flat, slack=10) == 0
    assert top_step([0.0, np.nan, 1.0]) == 1 and top_step([np.nan]) == 0  # NaN: argmax's, alone
