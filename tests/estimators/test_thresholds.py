"""Threshold strategies: each one's formula, parameter checks, and choosing on labelled data."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.errors import DataError, UsageError
from aekit.estimators.thresholds import (
    MAD_TO_STD,
    STRATEGIES,
    FalseAlarmRate,
    Threshold,
    above_rounding,
    best_threshold,
    compute_threshold,
    get_threshold,
    p_values,
)

SCORES = np.random.default_rng(0).gamma(2.0, 0.01, 1000)


def test_mean_std_matches_the_tutorial_formula():
    # np.mean(train_loss) + np.std(train_loss): population std (ddof=0)
    assert compute_threshold(SCORES, "mean_std", k=1.0) == pytest.approx(
        np.mean(SCORES) + np.std(SCORES)
    )
    assert compute_threshold(SCORES, "mean_std", k=2.5) == pytest.approx(
        np.mean(SCORES) + 2.5 * np.std(SCORES)
    )
    assert compute_threshold(SCORES) == compute_threshold(SCORES, "mean_std", k=1.0)  # the default


def test_percentile_contamination_mad_fixed():
    assert compute_threshold(SCORES, "percentile", q=99) == pytest.approx(np.percentile(SCORES, 99))
    assert compute_threshold(SCORES, "contamination", contamination=0.1) == pytest.approx(
        np.percentile(SCORES, 90)
    )
    assert np.mean(
        compute_threshold(SCORES, "contamination", contamination=0.1) < SCORES
    ) == pytest.approx(0.1, abs=0.002)
    med = np.median(SCORES)
    mad = np.median(np.abs(SCORES - med))
    assert compute_threshold(SCORES, "mad", k=3) == pytest.approx(med + 3 * MAD_TO_STD * mad)
    assert compute_threshold(SCORES, "fixed", value=0.5) == 0.5
    assert compute_threshold(SCORES, 0.25) == 0.25  # a number is a fixed threshold
    # the lowest score itself, raised past float32's rounding (a score equal to it is no anomaly)
    assert compute_threshold([1.0, 2.0, 3.0, 4.0], "percentile", q=0) == above_rounding(1.0)
    assert compute_threshold([1.0, 2.0, 3.0, 4.0], "percentile", q=100) == above_rounding(4.0)


def test_every_strategy_shares_the_base():
    assert set(STRATEGIES) == {
        *("fpr", "pot", "mean_std", "percentile", "contamination", "mad", "fixed", "max")
    }
    assert all(issubclass(cls, Threshold) for cls in STRATEGIES.values())


@pytest.mark.parametrize(
    "strategy, params",
    [
        ("percentile", {"q": -1}),
        ("percentile", {"q": 100.5}),
        ("percentile", {"q": float("nan")}),
        ("contamination", {"contamination": 0}),
        ("contamination", {"contamination": 1}),
        ("contamination", {"contamination": 1.5}),
        ("mean_std", {"k": "one"}),
        ("mad", {"k": float("inf")}),
        ("mean_std", {"q": 5}),
        ("nope", {}),
        ("fixed", {"value": None}),
    ],
)
def test_bad_parameters_are_one_line_usage_errors(strategy, params):
    with pytest.raises(UsageError) as info:
        get_threshold(strategy, **params)
    assert "\n" not in str(info.value)


def test_a_percentile_out_of_range_is_said_as_a_rule_both_spellings_take():
    """Probe 67 cli #8: "e.g. q=99" answered ``--threshold percentile:150`` in the Python API's
    words; the rule's own spelling, as the false-alarm rate's "e.g. fpr:0.01", serves both."""
    from aekit.estimators.thresholds import threshold_rule

    for rule, params in (("percentile:150", {}), ("percentile", {"q": 150.0})):
        with pytest.raises(
            UsageError,
            match=r"^the percentile \(q\) must be in \[0, 100\], got 150.0; e\.g\. percentile:99 flags",
        ):
            threshold_rule(rule, **params)


def test_bad_scores():
    with pytest.raises(DataError):
        compute_threshold([], "mean_std")
    with pytest.raises(DataError):
        compute_threshold([1.0, np.nan], "percentile", q=50)


def test_best_threshold_separates_and_maximises_the_metric():
    assert best_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == (0.5, 1.0)
    rng = np.random.default_rng(1)
    s = np.concatenate([rng.normal(0, 1, 500), rng.normal(3, 1, 100)])
    y = np.r_[np.zeros(500), np.ones(100)]
    from sklearn.metrics import accuracy_score, f1_score

    for metric, fn in (("f1", f1_score), ("accuracy", accuracy_score)):
        t, value = best_threshold(s, y, metric)
        assert fn(y, s > t) == pytest.approx(value)
        grid = np.quantile(s, np.linspace(0, 1, 301))
        assert value >= max(fn(y, s > g) for g in grid) - 1e-12  # no grid point does better
    for metric in ("balanced_accuracy", "mcc"):
        assert best_threshold(s, y, metric)[1] > 0.8


def test_best_threshold_by_mcc_flags_nothing_rather_than_a_cut_of_negative_mcc():
    """Flagging nothing or everything has an MCC of 0 (scikit-learn's definition); it was dropped as
    0/0, and scores pointing the wrong way got a cut of MCC -0.5."""
    from sklearn.metrics import matthews_corrcoef

    s, y = np.array([0.1, 0.5, 0.9]), np.array([1, 0, 0])
    t, value = best_threshold(s, y, "mcc")
    assert value == 0.0 == matthews_corrcoef(y, s > t)
    rng = np.random.default_rng(3)
    for _ in range(50):  # against every cut, scored by scikit-learn
        s, y = rng.random(12).round(1), rng.integers(0, 2, 12)
        y[:2] = 0, 1
        cuts = np.r_[np.unique(s), -np.inf]
        best = max(matthews_corrcoef(y, s > c) for c in cuts)
        assert best_threshold(s, y, "mcc")[1] == pytest.approx(best)


def test_best_threshold_bad_input():
    with pytest.raises(UsageError):
        best_threshold([0.1, 0.2], [0, 1], metric="auc")
    with pytest.raises(DataError):
        best_threshold([0.1, 0.2], [0, 0])
    with pytest.raises(DataError):
        best_threshold([0.1, 0.2], [0, 2])
    with pytest.raises(DataError):
        best_threshold([0.1, 0.2, 0.3], [0, 1])


# ---- scores worth fewer independent ones (a series' steps share their windows) ---------------------


@pytest.mark.parametrize("n", [50, 200, 600])
@pytest.mark.parametrize("m", [3.5, 12.0, 40.0, 199.9])
@pytest.mark.parametrize("rate", [0.01, 0.05, 0.2])
def test_p_values_of_dependent_scores_flag_what_their_threshold_flags(n, m, rate):
    rng = np.random.default_rng(n)
    cal = rng.normal(size=n)
    new = np.concatenate([rng.normal(size=500), cal, [cal.max() + 1]])
    rule = FalseAlarmRate(rate=rate)
    threshold, p = rule.compute(cal, m), p_values(cal, new, m)
    assert np.array_equal(p <= max(rate, 1 / (min(m, n) + 1)), new > threshold)
    assert p.min() == pytest.approx(1 / (min(m, n) + 1))
    if m < rule.rows_needed():  # too few for the rate: their highest score, clear of its rounding
        assert threshold == above_rounding(cal.max())
    # as many as there are: the plain rule, to the bit
    assert rule.compute(cal, n) == rule.compute(cal)
    assert np.array_equal(p_values(cal, new, n), p_values(cal, new))


def test_blocks_of_one_score_keep_the_rate_when_counted_as_blocks():
    # 12 independent blocks of 50 equal scores, as a series' steps under one window: taken as 600
    # independent scores, the 10% threshold is the second-highest block's, passed 2 times in 13
    rng = np.random.default_rng(0)
    rule = FalseAlarmRate(rate=0.1)
    draws = rng.standard_exponential((4000, 13))
    blocks = [np.repeat(row[:-1], 50) for row in draws]
    counted = np.mean([d[-1] > rule.compute(b, 12) for d, b in zip(draws, blocks)])
    as_steps = np.mean([d[-1] > rule.compute(b) for d, b in zip(draws, blocks)])
    assert counted <= 0.1 + 3 * np.sqrt(0.1 / 4000) < as_steps


def test_a_rate_next_to_one_gives_the_lowest_score_not_the_highest():
    """probe 61 degenerate #2: fpr:0.99999999999 gave rank 0, and index -1 took the HIGHEST
    score (the threshold of a rate near 0); a rate that close to 1 means the lowest score."""
    scores = np.arange(19.0)
    assert FalseAlarmRate(rate=1 - 1e-11).compute(scores) == 0.0
    assert FalseAlarmRate(rate=1 - 1e-10).compute(scores) == 0.0


def test_the_shortfall_of_a_tiny_rate_says_the_rows_needed_in_a_few_digits():
    """probe 61 degenerate #7: fpr:1e-300 printed the 300-digit count of the rows it needs."""
    line = FalseAlarmRate(rate=1e-300).shortfall(19, "scores", "calibrate on more rows")
    assert "(that needs 1e+300)" in line and len(line) < 250
    assert "(that needs 99)" in FalseAlarmRate(rate=0.01).shortfall(19, "scores", "more")


def test_a_threshold_is_a_float32_whose_alarms_are_its_p_values_in_either_precision():
    """Review 65 #1: the raised threshold was no float32, so predict (float32 scores compared in
    float32) and p_values (float64) disagreed on a score equal to float32(threshold_), for about
    half the thresholds; a threshold near float32's largest was raised past it (inf unflagged)."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        cal = rng.gamma(2.0, rng.uniform(0.001, 10.0), 40).astype(np.float32)
        t = FalseAlarmRate(rate=0.05).compute(cal)
        assert float(np.float32(t)) == t
        new = np.array([np.float32(t), np.nextafter(np.float32(t), np.float32(np.inf))])
        flagged32, flagged64 = new > t, new.astype(np.float64) > t
        assert np.array_equal(flagged32, flagged64)
        assert np.array_equal(p_values(cal, new) <= 0.05, flagged64)
    top = np.array([1.0, 3.3e38, 3.4e38], np.float32)
    t = FalseAlarmRate(rate=0.5).compute(top)
    assert t <= float(np.finfo(np.float32).max) and np.float32(np.inf) > t
