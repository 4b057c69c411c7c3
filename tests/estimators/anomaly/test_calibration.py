"""Calibrated alarms: the rows a detector calibrates on, the conformal threshold and p-values."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest
import torch
from scipy import stats

import aekit
from aekit.errors import UsageError
from aekit.estimators.anomaly import AnomalyDetector
from aekit.estimators.anomaly.calibration import FOLDS, cross_fit_scores, fold_of, plan_rows
from aekit.estimators.thresholds import (
    FalseAlarmRate,
    above_rounding,
    p_values,
    rows_needed,
    threshold_rule,
)

from .test_detector import sines

torch.set_num_threads(1)


# ---- the rows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, held, need", [(1000, 100, 0), (1000, 100, 99), (300, 30, 19), (50, 5, 0)]
)
def test_the_plan_divides_the_rows_without_overlap(n, held, need):
    plan = plan_rows(n, held, need, seed=3)
    parts = [plan.fit, plan.validation, plan.calibration]
    assert sum(len(p) for p in parts) == n and len(np.unique(np.concatenate(parts))) == n
    assert len(plan.validation) == held // 2 and len(plan.calibration) == max(
        held - held // 2, need
    )
    assert all(np.all(np.diff(p) > 0) for p in parts)  # sorted
    assert np.array_equal(plan_rows(n, held, need, seed=3).calibration, plan.calibration)  # seeded


@pytest.mark.parametrize("n, held, need", [(75, 8, 19), (120, 12, 19), (500, 50, 99)])
def test_a_rate_needing_more_than_the_held_out_part_keeps_those_rows_training(n, held, need):
    """Setting 19 rows aside of 75 left the network 52 to train on (FreezerRegularTrain's ROC-AUC
    0.86 -> 0.81): the detector trains on them too, and a copy without them scores them."""
    plan = plan_rows(n, held, need, seed=3)
    assert plan.copied and not plan.cross and len(plan.calibration) == need
    assert len(plan.validation) == held // 2 and len(plan.fit) == n - held // 2
    assert set(plan.calibration) <= set(plan.fit) and not set(plan.validation) & set(plan.fit)
    assert not plan_rows(1000, 100, 99, seed=3).copied  # 99 rows fit in the held-out 100


def test_too_few_rows_are_cross_fitted_and_every_row_scored_once():
    plan = plan_rows(30, 3, rows_needed(0.05), seed=0)
    assert plan.cross and len(plan.fit) == 27 and len(plan.validation) == 3
    fold = fold_of(30, seed=0)
    assert np.bincount(fold).tolist() == [6] * FOLDS
    calls = []

    def fit_and_score(fit, held):
        assert not set(fit) & set(held) and len(fit) + len(held) == 30
        calls.append(len(fit))
        return held * 10.0  # each row's "score" names it

    assert np.array_equal(cross_fit_scores(30, 0, fit_and_score), np.arange(30) * 10.0)
    assert calls == [24] * FOLDS


# ---- the conformal threshold --------------------------------------------------------------------


@pytest.mark.parametrize("n, rate", [(19, 0.05), (99, 0.01), (50, 0.1), (200, 0.05)])
def test_the_conformal_threshold_keeps_the_false_alarm_rate(n, rate):
    # exchangeable scores: P(new > threshold) = (n + 1 - rank) / (n + 1) <= rate, whatever the law
    rng = np.random.default_rng(0)
    rule = FalseAlarmRate(rate=rate)
    draws = rng.standard_exponential((4000, n + 1))
    alarms = [row[-1] > rule.compute(row[:-1]) for row in draws]
    rank = int(np.ceil((n + 1) * (1 - rate) - 1e-9))
    exact = (n + 1 - rank) / (n + 1)
    assert exact <= rate and np.mean(alarms) == pytest.approx(exact, abs=3 * np.sqrt(exact / 4000))


def test_p_values_agree_with_the_threshold_and_are_uniform():
    rng = np.random.default_rng(1)
    cal, new = rng.normal(size=999), rng.normal(size=5000)
    p = p_values(cal, new)
    assert p.min() >= 1 / 1000 and p.max() <= 1.0
    for rate in (0.01, 0.05, 0.2):
        assert np.array_equal(p <= rate, new > FalseAlarmRate(rate=rate).compute(cal))
    # Uniform over calibration draws (marginally): one new score per draw of 99 calibration scores.
    # (Many new scores against one draw are not: they share its sampling error.)
    draws = rng.normal(size=(3000, 100))
    one = np.array([p_values(d[:-1], d[-1:])[0] for d in draws])
    assert stats.kstest(one, "uniform").pvalue > 0.01
    assert p_values([1.0, 2.0, 2.0], [2.0]).tolist() == [0.75]  # ties count as at least as large


def test_rules_with_their_value_in_the_name():
    assert threshold_rule("fpr:0.01").rate == 0.01 and threshold_rule("fpr").rate == 0.05
    assert threshold_rule("percentile:99", q=95.0).q == 99.0
    assert threshold_rule("pot:0.001").rate == 0.001
    for bad in ("fpr:1.5", "fpr:0", "percentile:101"):
        with pytest.raises(UsageError):
            threshold_rule(bad)
    with pytest.raises(UsageError, match="NAME:NUMBER"):
        threshold_rule("fpr:x")
    with pytest.raises(UsageError, match="NAME:NUMBER"):
        AnomalyDetector(threshold="fpr:x").check_params()


def test_peaks_over_threshold_extrapolates_a_tail():
    rng = np.random.default_rng(2)
    s = rng.standard_exponential(20_000)  # P(s > t) = exp(-t): the 1e-4 quantile is 9.21
    t = threshold_rule("pot:0.0001").compute(s)
    assert t == pytest.approx(-np.log(1e-4), rel=0.1)
    few = rng.standard_exponential(100)  # too few peaks for a tail: the conformal threshold
    assert threshold_rule("pot:0.05").compute(few) == FalseAlarmRate(rate=0.05).compute(few)


# ---- the detector -------------------------------------------------------------------------------


def test_the_default_calibrates_on_rows_it_never_trained_on():
    X = sines(1200)
    det = AnomalyDetector(epochs=5, threshold="fpr:0.01", device="cpu").fit(X)
    assert det.calibration_ == {"method": "split", "rows": 99}
    plan = det._plan_rows(len(X), own_validation=False)
    assert not set(plan.calibration) & (set(plan.fit) | set(plan.validation))
    np.testing.assert_array_equal(
        det.calibration_scores_, np.sort(det.decision_function(X[plan.calibration]))
    )
    new = sines(300, seed=9)
    p = det.p_values(new)
    np.testing.assert_array_equal(det.predict(new), (p <= 0.01).astype(np.int64))
    assert det.threshold_ == above_rounding(
        np.sort(det.calibration_scores_)[98]
    )  # ceil(100 * 0.99) = 99th of 99


def test_calibrate_on_new_normal_rows_keeps_the_weights(tmp_path):
    det = AnomalyDetector(epochs=5, threshold="fpr:0.05", device="cpu").fit(sines(400))
    weights = {k: v.clone() for k, v in det.model_.state_dict().items()}
    shifted = sines(200, seed=4) + 0.5  # the sensor moved: every row is now flagged
    assert det.predict(shifted).mean() > 0.5
    det.calibrate(shifted[:100])
    assert det.calibration_ == {"method": "given", "rows": 100}
    assert det.predict(shifted[100:]).mean() < 0.2
    assert all(torch.equal(weights[k], v) for k, v in det.model_.state_dict().items())
    det.save(tmp_path / "m")
    back = aekit.load(tmp_path / "m", device="cpu")
    np.testing.assert_array_equal(back.calibration_scores_, det.calibration_scores_)
    assert back.calibration_ == det.calibration_ and back.threshold_ == det.threshold_


def test_few_rows_cross_fit_and_too_few_for_the_rate_say_so(caplog):
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        det = AnomalyDetector(epochs=3, threshold="fpr:0.05", device="cpu").fit(sines(30))
    assert det.calibration_ == {"method": "cross", "rows": 30}
    assert "cross-fitting" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        det.set_params(threshold="fpr:0.01").calibrate(sines(20, seed=5))
    assert "20 calibration scores cannot promise a false-alarm rate of 0.01" in caplog.text
    # rows the user gave: more of them, not more training, is the remedy (lifecycle probe 58 #5)
    assert "calibrate on more normal rows" in caplog.text and "train on more" not in caplog.text
    assert det.threshold_ == above_rounding(det.calibration_scores_.max())


def test_cross_fitted_copies_train_no_longer_than_the_detector(monkeypatch):
    """Each copy stands in for the detector: it ends at the epochs the detector ran (a copy that
    early-stopped on its own one or two validation rows ran about twice as long)."""
    runs = []
    real = AnomalyDetector._train

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        runs.append((getattr(self, "_stop_after", None), len(self.history_)))

    monkeypatch.setattr(AnomalyDetector, "_train", spy)
    det = AnomalyDetector(patience=2, device="cpu", seed=0).fit(sines(10))
    (_, ran), copies = runs[0], runs[1:]
    assert det.calibration_["method"] == "cross" and len(copies) == FOLDS
    assert all(stop == ran and epochs <= ran for stop, epochs in copies), runs


def test_a_copy_without_the_calibration_rows_scores_them_when_the_detector_trains_on_them(
    monkeypatch,
):
    trained = []
    real = AnomalyDetector._train

    def spy(self, X, plan, *args, **kwargs):
        real(self, X, plan, *args, **kwargs)
        trained.append((plan, getattr(self, "_stop_after", None), len(self.history_)))

    monkeypatch.setattr(AnomalyDetector, "_train", spy)
    X = sines(100)
    det = AnomalyDetector(epochs=4, threshold="fpr:0.05", device="cpu", seed=1).fit(X)
    assert det.calibration_ == {"method": "copy", "rows": 19}
    (own, _, ran), (copy, stop, copy_ran) = trained  # the detector, then its one copy
    cal = det._plan_rows(len(X), own_validation=False).calibration
    assert len(own.fit) == 95 and set(cal) <= set(own.fit)  # 5 rows validate, 95 train
    assert np.array_equal(copy.fit, np.setdiff1d(own.fit, cal))
    assert np.array_equal(copy.validation, own.validation) and stop == ran and copy_ran <= ran
    # the calibration scores are the copy's, not the detector's own (it trained on those rows)
    assert not np.allclose(det.calibration_scores_, np.sort(det.decision_function(X[cal])))
    assert det.threshold_ == above_rounding(
        det.calibration_scores_[18]
    )  # ceil(20 * 0.95) = 19th of 19


# ---- on real data: 30 normal ECG5000 beats ------------------------------------------------------


def test_thirty_normal_beats_keep_a_five_percent_false_alarm_rate(shared_data):
    """The issue's acceptance: 30 normal training rows, fpr:0.05, 20 seeds; the mean share of the
    test split's normal beats flagged is at most 0.06 (a percentile of 3 held-out rows gave 0.58)."""
    from aekit.data import ecg5000_classic_split
    from aekit.recipes.anomaly import anomaly_labels

    train, test = ecg5000_classic_split(shared_data)
    train, test = anomaly_labels(train, 1), anomaly_labels(test, 1)
    normal, unseen = train.x[train.y == 0], test.x[test.y == 0]
    rates = []
    for seed in range(20):
        rows = np.random.default_rng(seed).choice(len(normal), 30, replace=False)
        det = AnomalyDetector(threshold="fpr:0.05", seed=seed, device="cpu").fit(normal[rows])
        rates.append(det.predict(unseen).mean())
    assert np.mean(rates) <= 0.06, rates


def test_a_run_saved_before_calibration_loads_with_what_it_had(tmp_path):
    import json

    det = AnomalyDetector(epochs=3, threshold="percentile", device="cpu").fit(sines(200))
    det.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    del config["state"]["calibration"]  # as saved before: no calibration, no held-out scores
    # and the threshold those scores gave (one they do not give is kept: test_loaded.py)
    config["state"]["threshold_value"] = float(np.percentile(det.decision_scores_, 95))
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    back = aekit.load(tmp_path / "m", device="cpu")
    assert back.calibration_["method"] == "training"
    np.testing.assert_array_equal(back.calibration_scores_, np.sort(det.decision_scores_))
    assert back.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 95))


def test_set_threshold_takes_a_rate_both_ways():
    det = AnomalyDetector(epochs=2, device="cpu").fit(sines(300))
    assert det.set_threshold("fpr", rate=0.1).threshold == "fpr:0.1"
    assert det.set_threshold("fpr:0.2").threshold == "fpr:0.2"
    assert det.threshold_ == FalseAlarmRate(rate=0.2).compute(det.calibration_scores_)
    assert det.set_threshold("percentile:90").q == 90.0 and det.threshold == "percentile"
    with pytest.raises(UsageError):
        det.set_threshold("fpr", rate=2.0)
    assert det.threshold == "percentile"  # a refused rule changes nothing


def test_neighbours_of_a_density_weighted_zero_are_said_unused(caplog):
    """Probe 67 cli #7: n_neighbors beside density=0 (and input_neighbors beside input_density=0)
    were recorded and read by nothing, without a word; the command line says them as typed."""
    X = np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32)
    small = dict(epochs=1, hidden=(8,), latent_dim=2, device="cpu")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.AnomalyDetector(density=0, n_neighbors=5, input_density=0.25, **small).fit(X)
    assert "n_neighbors=5 is not used: density=0 fits no density" in caplog.text
    assert "input_neighbors" not in caplog.text  # its density is fitted
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.AnomalyDetector(density=0, input_density=0, **small).fit(X)  # defaults: unsaid
    assert "not used" not in caplog.text


def test_a_rule_parameter_the_threshold_does_not_use_is_said(caplog):
    """Probe 52 skl 3: contamination=0.3 with the default threshold fpr:0.05 was silently ignored
    (PyOD's and scikit-learn's users expect it to set the share flagged)."""
    X = np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32)
    small = dict(epochs=1, hidden=(8,), latent_dim=2, device="cpu")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.AnomalyDetector(contamination=0.3, **small).fit(X)
    assert "contamination=0.3 is not used by threshold='fpr:0.05'" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.AnomalyDetector(threshold="contamination", contamination=0.3, **small).fit(X)
        aekit.AnomalyDetector(**small).fit(X)  # the defaults: nothing to say
    assert "not used" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):  # switcher probe 58 #11
        aekit.AnomalyDetector(threshold="contamination:0.2", contamination=0.1, **small).fit(X)
        aekit.AnomalyDetector(threshold="contamination:0.2", contamination=0.2, **small).fit(X)
    assert caplog.text.count("not used") == 1
    assert "contamination=0.1 not used: threshold='contamination:0.2' gives its own" in caplog.text


def test_set_threshold_keeps_the_estimators_own_rule_parameters():
    """Switcher probe 58 #8: set_threshold("contamination"), as fit's note advises, reset the
    user's contamination=0.2 to the rule's default 0.05 (and q, k too); set_params kept them."""
    X = np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32)
    det = aekit.AnomalyDetector(contamination=0.2, q=90, k=2.0, epochs=1, device="cpu").fit(X)
    for rule in ("contamination", "percentile", "mean_std", "mad"):
        by_set_params = copy.deepcopy(det).set_params(threshold=rule)
        det.set_threshold(rule)
        assert (det.contamination, det.q, det.k) == (0.2, 90, 2.0) and isinstance(det.q, int)
        assert det.threshold_ == by_set_params.threshold_, rule
    assert det.set_threshold("mad", k=4).k == 4.0  # a keyword given still sets it


def test_a_threshold_of_the_training_rows_own_scores_promises_nothing(caplog):
    # one training row: its own score, 0, was the threshold, "promising 0.5"; every new row flagged
    X = np.random.default_rng(0).normal(size=(1, 4))
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        det = aekit.AnomalyDetector(epochs=2, threads=1, verbose=0).fit(X)
    assert det.calibration_["method"] == "training"
    assert "promises no false-alarm rate" in caplog.text and "which promises" not in caplog.text


def test_a_one_row_threshold_says_that_any_other_row_is_flagged(caplog):
    """probe 61 degenerate #5: a detector trained on one row reconstructs it (score ~0), so any
    other row is flagged; the note said new rows "often" score above it."""
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        AnomalyDetector(epochs=1, device="cpu", threads=1).fit(sines(1))
    assert "(any row but that one scores above it)" in caplog.text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_row_like_every_calibration_row_is_normal_whatever_its_batch(seed):
    """An idle sensor: 299 identical normal rows put the threshold on their own score. The same row
    scored in another batch differs in its last float32 bits and was flagged, p-value 0.05 (probe
    65 #1), alone or not by the seed."""
    X = np.tile([[1.0, 2.0, 3.0, 4.0]], (300, 1))
    X[7] = [1.5, 2.0, 3.0, 4.0]
    det = AnomalyDetector(epochs=2, seed=seed, device="cpu").fit(X)
    for batch in (X[:1], X[:5], X[10:]):
        assert not det.predict(batch).any()
        assert det.p_values(batch).min() > 0.5
