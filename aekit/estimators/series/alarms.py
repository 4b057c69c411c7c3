"""The series detector's alarms: the rule, the kept-back stretch that calibrates it, per-step p-values.

With ``threshold="fpr:RATE"`` (or ``pot``) the detector keeps back the last :data:`CALIBRATION_SHARE`
of the training stretch, trains on the rest and scores the kept-back part as a series of its own:
those per-step scores are ``calibration_scores_``; ``calibrate(normal_stretch)`` replaces them
without retraining. The other rules take the training stretch's own scores, or, once
``calibrate`` was given a stretch, that stretch's: every rule then reads it. :class:`SeriesAlarms`
holds these methods for :class:`~aekit.estimators.series.SeriesDetector`, whose ``score_samples``
and ``decision_scores_`` they use.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from ..._notes import note
from ...errors import DataError, UsageError
from .. import params
from ..thresholds import (
    FalseAlarmRate,
    Threshold,
    p_values,
    say_unused_rule_params,
    shown_count,
    threshold_rule,
)

# The share of the training stretch kept back, at its end, when the threshold promises a false-alarm
# rate ("fpr", "pot"): the model never trains on it, and its per-step scores calibrate the threshold.
CALIBRATION_SHARE = 0.2
CALIBRATED = ("fpr", "pot")  # the rules whose threshold comes from calibration scores
D = TypeVar("D", bound="SeriesAlarms")  # the detector these methods belong to


def _steps(n: int) -> str:
    """A count of steps for a message: with thousands' commas, or in a few digits where a tiny rate
    makes it hundreds of digits long (fpr:1e-300: probe 61 degenerate #7)."""
    return f"{n:,}" if n < 10**12 else shown_count(n)


class SeriesAlarms:
    """The threshold of a series detector, its calibration scores and per-step p-values."""

    def threshold_rule(self) -> Threshold:
        """The threshold rule of the current parameters (:func:`aekit.estimators.thresholds.threshold_rule`)."""
        threshold = params.validate_param(self, "threshold")  # set_params after fit: unchecked
        return threshold_rule(
            threshold, k=self.k, q=self.q, contamination=self.contamination, margin=self.margin
        )

    def _split_calibration(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(the stretch to train on, its last :data:`CALIBRATION_SHARE` to calibrate on) when the
        threshold rule needs calibration scores, else (the stretch, None)."""
        say_unused_rule_params(self, ("k", "q", "contamination", "margin"))  # once a fit
        if self.threshold_rule().name not in CALIBRATED:
            return x, None
        cut = len(x) - int(len(x) * CALIBRATION_SHARE)
        return x[:cut], x[cut:]

    def _check_calibration_length(self, steps: int, tail: np.ndarray | None) -> None:
        """The kept-back tail holds at least two windows (else it says too little), as the rest does."""
        if tail is not None and min(steps, len(tail)) < 2 * self.window_:
            raise DataError(
                f"threshold={self.threshold!r} calibrates on the last {CALIBRATION_SHARE:.0%} of the "
                f"training stretch: {steps + len(tail)} steps leave too few to train and to calibrate "
                f"on (at least 2 windows of {self.window_} each); give a longer stretch, or "
                f"threshold='max'"
            )

    # ---- calibration: per-step scores of normal steps the detector never trained on ---------------
    def _set_calibration(self, scores: np.ndarray, method: str) -> None:
        self.calibration_scores_ = np.sort(np.asarray(scores, np.float32))
        self.calibration_ = {"method": method, "steps": len(scores)}
        self._note_shortfall()

    @property
    def calibration_windows_(self) -> float:
        """How many independent scores ``calibration_scores_`` are worth: one per window of steps. A
        step's score is the mean of the windows over it, so steps nearer than a window share them:
        600 kept-back steps of windows of 50 are about 12 scores, and their 99th percentile taken as
        600 independent ones is about their 12th highest window's, which a new normal step passed
        6 times in 100 (a stationary sine, 16 seeds), not once. The threshold and the p-values
        count them as so many (:meth:`FalseAlarmRate.compute`, :func:`p_values`)."""
        return max(len(self._calibration()) / self.window_, 1.0)

    def _note_shortfall(self) -> None:
        """One line when the calibration steps are too few windows for the rule's rate."""
        rule = self.threshold_rule()
        m = self.calibration_windows_
        if not isinstance(rule, FalseAlarmRate) or m >= rule.rows_needed():
            return
        steps = rule.rows_needed() * self.window_
        more = "calibrate on a longer normal stretch"
        if self.calibration_["method"] == "tail":  # kept back from the training stretch
            whole = _steps(-(-steps * 10 // round(CALIBRATION_SHARE * 10)))  # ceil(steps / share)
            more = f"train on a stretch of {whole} steps or {more}"
        note(
            f"the {len(self.calibration_scores_)} calibration steps are about {m:.3g} windows of "
            f"{self.window_} (a step's score is shared by the windows over it): too few to promise "
            f"a false-alarm rate of {rule.rate:g}, which needs {shown_count(rule.rows_needed())} "
            f"windows ({_steps(steps)} steps); the threshold is their highest score, which promises about "
            f"{1 / (m + 1):.2g}; {more} for a smaller rate"
        )

    def _calibration(self) -> np.ndarray:
        """``calibration_scores_``, or one line saying how to get them."""
        self.check_is_fitted()
        if getattr(self, "calibration_scores_", None) is None:
            raise UsageError(
                "this series detector has no calibration scores: fit it with threshold='fpr:RATE' "
                "(it keeps back the end of the training stretch) or call calibrate(normal_series) "
                "with a normal stretch it did not train on"
            )
        return self.calibration_scores_

    def calibrate(self: D, X: Any) -> D:
        """New calibration scores from a normal stretch ``X`` the detector never trained on (a new day,
        a new machine): the per-step scores of ``X`` (past the detrending's warm-up, as the training
        stretch's) set the threshold of every rule, "max" and "mean_std" as "fpr", and the
        p-values; the model is unchanged. Returns ``self``.

        Examples
        --------
        >>> det.calibrate(normal_today).set_params(threshold="fpr:0.001")   # doctest: +SKIP
        """
        scores = self._settled(self.score_samples(X))
        self._refuse_own_windows(scores)
        self._set_calibration(scores, "given")
        return self

    def _refuse_own_windows(self, scores: np.ndarray) -> None:
        """One line for a stretch whose windows are the detector's own references (its training
        stretch): each is its own nearest window, so its steps score exactly 0, and every rule
        (fpr, max, ...) would set a threshold of 0 that flags every step of a new series."""
        if getattr(self, "neighbors_", None) is None or not len(scores):
            return
        zero = float(np.mean(scores == 0))
        if zero > 0.5:
            raise DataError(
                f"the stretch scores exactly 0 at {zero:.0%} of its steps: its windows are the "
                f"detector's own reference windows (its training stretch, where the nearest window "
                f"is itself); calibrate on a normal stretch it did not train on"
            )

    def p_values(self, X: Any) -> np.ndarray:
        """Per-step conformal p-values of ``X``'s scores against ``calibration_scores_``, in (0, 1].

        For a normal step distributed as the calibration steps were, ``P(p <= a) <= a``; steps of one
        series are not independent (a window covers many), so the promise is per step, on average
        over a stationary signal, not per range, and the steps count as the windows they span
        (:attr:`calibration_windows_`, ``m``). ``p <= max(rate, 1 / (m + 1))`` is exactly what
        ``threshold="fpr:rate"`` flags.

        Examples
        --------
        >>> det.p_values(series).min()                                     # doctest: +SKIP
        """
        calibration = self._calibration()
        return p_values(calibration, self.score_samples(X), self.calibration_windows_)

    @property
    def threshold_(self) -> float:
        """The decision threshold: the threshold rule applied to the training stretch's per-step
        scores (``decision_scores_``, past the first two windows when detrended by "level"), or,
        for "fpr" and "pot" and for every rule once :meth:`calibrate` was given a stretch, to
        ``calibration_scores_`` (:meth:`threshold_basis` says which)."""
        self.check_is_fitted()
        rule = self.threshold_rule()
        if not self._calibrated(rule):
            return float(rule.compute(self._settled(self.decision_scores_)))
        if isinstance(rule, FalseAlarmRate):  # the steps counted as the windows they are worth
            return rule.compute(self._calibration(), self.calibration_windows_)
        return float(rule.compute(self._calibration()))

    def _calibrated(self, rule: Threshold) -> bool:
        """Whether ``rule`` reads ``calibration_scores_``: "fpr"/"pot" always; every rule once a
        stretch was given to :meth:`calibrate` (the user's word that it is what normal looks like
        now), not the training stretch's kept-back end, which the other rules never read."""
        given = getattr(self, "calibration_", {}).get("method") == "given"
        return rule.name in CALIBRATED or given

    def threshold_basis(self) -> dict[str, Any]:
        """The steps ``threshold_`` comes from: ``calibration_`` when the rule reads the calibration
        scores, else ``{"method": "training", "steps": n}`` (the training stretch's own scores).

        Examples
        --------
        >>> det.threshold_basis()                                    # doctest: +SKIP
        {'method': 'training', 'steps': 1500}
        """
        self.check_is_fitted()
        if self._calibrated(self.threshold_rule()):
            return dict(self.calibration_)
        return {"method": "training", "steps": len(self._settled(self.decision_scores_))}

    def _settled(self, scores: np.ndarray) -> np.ndarray:
        """A stretch's per-step scores past the detrending's warm-up: "level" takes the means of a
        stretch's first steps, which have less than a window before them, from the line of the
        next window's means (:class:`~aekit.estimators.series.trend.Levels`), exact only for a
        wave of the window's period; the windows over the first two windows' steps may still score
        above the rest (a window of 30 on a wave of 40: 3x), so no threshold is set on them (runs
        saved before 2026-12-07, whose levels there were means of fewer steps: 4x)."""
        warm = 2 * self.window_ if getattr(self, "detrend_", "none") == "level" else 0
        return scores[warm:] if len(scores) > warm else scores

    def _calibration_state(self) -> dict[str, Any]:
        """``calibration_`` with its scores: in config.json, so that ``aekit calibrate`` rewrites that
        file alone and the weights stay byte for byte."""
        scores = getattr(self, "calibration_scores_", None)
        if scores is None:
            return dict(self.calibration_)
        return {**self.calibration_, "scores": [float(v) for v in scores]}  # exact as float32
