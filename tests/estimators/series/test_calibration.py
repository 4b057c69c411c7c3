"""The series detector's calibrated threshold: a per-step false-alarm rate from steps it never trained on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import DataError, UsageError
from aekit.estimators.thresholds import FalseAlarmRate, above_rounding

from ...synthetic_series import PERIOD, sine_series

torch.set_num_threads(1)

FAST = dict(channels=(8, 8), latent_dim=8, epochs=20, batch_size=32, device="cpu")


@pytest.fixture(scope="module", params=["reconstruction", "neighbors"])
def calibrated(request):
    x, _ = sine_series(4000, kind="none", seed=1)
    det = aekit.SeriesDetector(method=request.param, threshold="fpr:0.05", **FAST)
    return det.fit(x[:1000]), x


def test_the_end_of_the_stretch_is_kept_back(calibrated):
    det, x = calibrated
    assert det.decision_scores_.shape == (800,)  # trained on the first 80%
    assert det.calibration_ == {"method": "tail", "steps": 200}
    tail = np.sort(det.score_samples(x[800:1000]).astype(np.float32))
    np.testing.assert_array_equal(det.calibration_scores_, tail)
    # 200 steps of windows of 16 are 12.5 independent scores, too few for 5%: their highest
    assert det.calibration_windows_ == 200 / PERIOD
    assert det.threshold_ == pytest.approx(FalseAlarmRate(rate=0.05).compute(tail, 12.5))
    assert det.threshold_ == above_rounding(tail.max())


def test_p_values_flag_what_the_threshold_flags(calibrated):
    det, x = calibrated
    later = x[1000:]
    p = det.p_values(later)
    assert p.shape == (3000,) and p.min() > 0 and p.max() <= 1
    # 12.5 windows are too few for 5%: the rule flags p <= 1 / (m + 1), past their highest score
    flagged = p <= max(0.05, 1 / (det.calibration_windows_ + 1))
    np.testing.assert_array_equal(flagged, det.predict(later) == 1)


def test_unseen_normal_steps_alarm_at_about_the_rate(calibrated):
    det, x = calibrated
    rate = det.predict(x[1000:]).mean()
    # steps of one series are not independent: a loose bound, where "max" gives ~0 and a
    # threshold on training scores would give far more for the reconstruction
    assert rate <= 0.15, rate


def test_a_short_kept_back_stretch_keeps_the_rate_and_says_it_is_short(caplog):
    # Each step's score averages the windows over it: 400 kept-back steps are 25 windows of 16,
    # not 400 independent scores. Taken as 400, the 5% threshold let 8% of new normal steps
    # through (12 seeds: 0.079); counted as windows, 3.8%
    rates = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        t = np.arange(12000)
        x = np.sin(2 * np.pi * t / PERIOD) + 0.1 * rng.standard_normal(len(t))
        det = aekit.SeriesDetector(method="neighbors", threshold="fpr:0.05", device="cpu")
        rates.append(det.fit(x[:2000]).predict(x[2000:]).mean())
    assert det.calibration_windows_ == 400 / PERIOD
    assert np.mean(rates) <= 0.06, np.mean(rates)
    det.set_params(threshold="fpr:0.01").calibrate(x[2000:2800])  # 50 windows: too few for 1%
    assert "too few to promise a false-alarm rate of 0.01, which needs 99 windows" in caplog.text
    assert "(1,584 steps)" in caplog.text  # thousands' commas, as before
    det.set_params(threshold="fpr:1e-300").calibrate(x[2000:2800])  # probe 61 degenerate #7
    assert "which needs 1e+300 windows (1.6e+301 steps)" in caplog.text  # not 300 digits


def test_calibrate_replaces_the_scores_and_saves(calibrated, tmp_path):
    det, x = calibrated
    det = aekit.load(_saved(det, tmp_path / "a"))
    before = det.threshold_
    det.calibrate(x[1000:2000])
    assert det.calibration_ == {"method": "given", "steps": 1000}
    assert det.threshold_ != before
    loaded = aekit.load(_saved(det, tmp_path / "b"))
    np.testing.assert_array_equal(loaded.calibration_scores_, det.calibration_scores_)
    assert loaded.calibration_ == det.calibration_ and loaded.threshold_ == det.threshold_
    np.testing.assert_array_equal(loaded.p_values(x[2000:2400]), det.p_values(x[2000:2400]))


def _saved(det, path):
    det.save(path)
    return path


def test_without_calibration_one_line_says_how():
    x, _ = sine_series(800, kind="none")
    det = aekit.SeriesDetector(method="neighbors", device="cpu").fit(x)
    assert det.calibration_ == {"method": "none", "steps": 0} and det.decision_scores_.shape == (
        800,
    )
    with pytest.raises(UsageError, match="calibrate"):
        det.p_values(x)
    det.set_params(threshold="fpr:0.01")
    with pytest.raises(UsageError, match="calibration scores"):
        det.threshold_  # noqa: B018 (the property raises)
    other, _ = sine_series(800, kind="none", seed=5)  # normal, and not trained on
    assert det.calibrate(other).threshold_ > 0  # now it has them


def test_too_short_a_stretch_for_a_tail_is_one_line():
    x, _ = sine_series(5 * PERIOD, kind="none")
    with pytest.raises(DataError, match="last 20%"):
        aekit.SeriesDetector(window=PERIOD, threshold="fpr:0.05", **FAST).fit(x)


@pytest.mark.parametrize("rule", ["max", "max:2", "mean_std", "percentile", "contamination", "mad"])
def test_a_given_stretch_sets_every_rule(rule):
    """calibrate(X) said it calibrated on X while "max", "mean_std", ... kept the training scores."""
    x, _ = sine_series(2000, kind="none", seed=1)
    det = aekit.SeriesDetector(window=PERIOD, threshold=rule, device="cpu").fit(x[:1000])
    before = det.threshold_
    assert det.threshold_basis() == {"method": "training", "steps": 1000}
    noisier = x[1000:] + np.random.default_rng(3).normal(0, 0.3, (1000, 1)).astype(np.float32)
    det.calibrate(noisier)
    assert det.threshold_basis() == det.calibration_ == {"method": "given", "steps": 1000}
    expected = det.threshold_rule().compute(det.score_samples(noisier))
    assert det.threshold_ == pytest.approx(expected, rel=1e-6) and det.threshold_ > 1.5 * before


def test_the_kept_back_end_sets_the_calibrated_rules_alone():
    x, _ = sine_series(1000, kind="none", seed=1)
    det = aekit.SeriesDetector(window=PERIOD, threshold="fpr:0.05", device="cpu").fit(x)
    assert det.threshold_basis() == {"method": "tail", "steps": 200}
    det.set_params(threshold="max")
    assert det.threshold_basis() == {"method": "training", "steps": 800}
    assert det.threshold_ == pytest.approx(1.5 * det.decision_scores_.max())


def test_a_given_stretch_skips_the_detrendings_warm_up():
    """As the training stretch's: the first two windows' steps, detrended from fewer steps, score
    like nothing after them and would set "max" at their height."""
    t = np.arange(3000)
    x = (np.sin(2 * np.pi * t / PERIOD) + t / 200).astype(np.float32)
    det = aekit.SeriesDetector(window=PERIOD, detrend="level", device="cpu").fit(x[:1500])
    det.calibrate(x[1500:])
    assert det.calibration_ == {"method": "given", "steps": 1500 - 2 * PERIOD}
    settled = det.score_samples(x[1500:])[2 * PERIOD :]
    assert det.threshold_ == pytest.approx(1.5 * settled.max(), rel=1e-6)


def test_calibrating_on_the_training_stretch_itself_is_refused():
    """Its windows are the references: every step scored 0, every rule's threshold 0, and a new
    series flagged as one range over 86% of its steps (the docs' probe, 51)."""
    x, _ = sine_series(1500, kind="none", seed=2)
    det = aekit.SeriesDetector(method="neighbors", device="cpu").fit(x)
    with pytest.raises(DataError, match="its windows are the detector's own reference windows"):
        det.calibrate(x)
    fresh, _ = sine_series(1500, kind="none", seed=3)
    assert det.calibrate(fresh).threshold_ > 0
