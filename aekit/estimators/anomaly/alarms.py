"""The anomaly detector's alarms: which rows calibrate, the threshold rule, p-values, recalibration.

A threshold is never trained: ``threshold_`` comes lazily from ``calibration_scores_`` (normal rows
the network never trained on: :mod:`.calibration`) and the current threshold parameters, so
``set_threshold(...)``, ``set_params(threshold=...)`` or ``calibrate(X_normal)`` change it without
retraining. :class:`Alarms` holds these methods for :class:`~aekit.estimators.anomaly.AnomalyDetector`,
whose ``_train``, ``_scores`` and ``decision_function`` they call.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from ..._notes import note
from ...data import RowsView
from ...errors import UsageError
from ...training.budget import holdout_indices
from ...training.checkpoint import checkpoint_unit
from ...training.loop import TrainConfig
from ...training.trainer import Trainer
from .. import params
from ..base import check_positive_int, is_row_store
from ..thresholds import (
    METRICS,
    FalseAlarmRate,
    Threshold,
    best_threshold,
    get_threshold,
    named_rule,
    p_values,
    say_unused_rule_params,
    threshold_rule,
)
from .calibration import FOLDS, RowPlan, cross_fit_scores, plan_rows

RULE_PARAMS = ("k", "q", "contamination")  # parameters of one threshold rule or another
HOLDOUT_ROWS = 10_000  # at most this many rows held out: enough for early stopping and a threshold
D = TypeVar("D", bound="Alarms")  # the detector these methods belong to


class Alarms:
    """The threshold and its calibration: the rows a fit sets aside, the cross-fitted copies that
    stand in for it on small data, the rule, p-values and recalibration."""

    def _plan_rows(self, n: int, own_validation: bool) -> RowPlan:
        """Which of ``n`` rows train, validate and calibrate (:mod:`.calibration`)."""
        rule = self.threshold_rule()
        need = rule.rows_needed() if isinstance(rule, FalseAlarmRate) else 0
        seed = check_positive_int("seed", self.seed, 0)
        everything = np.arange(n)
        if n < 2 or (not self.validation_fraction and not need):
            return RowPlan(everything, None, np.empty(0, np.int64))  # the training rows' own scores
        if not self.validation_fraction:  # every row trains: calibrate by cross-fitting
            return RowPlan(everything, None, None)
        fraction = min(float(self.validation_fraction), HOLDOUT_ROWS / n)
        held = 0 if own_validation else min(n - 1, max(1, round(n * fraction)))
        return plan_rows(n, held, need, seed)

    def _validation_plan(self, rows: np.ndarray) -> RowPlan:
        """A cross-fitted copy's plan for its training ``rows``: some held out for validation only,
        none for calibration."""
        n, none = len(rows), np.empty(0, np.int64)
        if not self.validation_fraction or n < 2:
            return RowPlan(rows, None, none)
        fraction = min(float(self.validation_fraction), HOLDOUT_ROWS / n)
        fit, held = holdout_indices(n, fraction, check_positive_int("seed", self.seed, 0))
        return RowPlan(rows[fit], rows[held], none)

    def _calibrate(self, X: Any, plan: RowPlan) -> None:
        """``calibration_scores_``: the plan's calibration rows scored, or every row scored by a
        copy that did not train on it (cross-fitting), or the training rows' own scores."""
        say_unused_rule_params(self, RULE_PARAMS)  # a rule parameter given but unused
        say_unused_neighbors(self)
        if plan.cross:
            why = (
                "validation_fraction=0 sets no rows aside"
                if not self.validation_fraction
                else f"{len(X)} normal rows cannot spare the calibration rows that the threshold "
                f"{self.threshold!r} needs"
            )
            note(
                f"calibrating by {FOLDS}-fold cross-fitting ({FOLDS} more fits): {why}",
                ("validation_fraction",),
            )
            scores = cross_fit_scores(
                len(X),
                int(self.seed),
                lambda fit, held: self._copy_scores(X, self._validation_plan(fit), held),
            )
            method = "cross"
        elif plan.copied:  # the detector trained on them: a copy that did not scores them
            own = np.setdiff1d(plan.fit, plan.calibration)
            copy_plan = RowPlan(own, plan.validation, np.empty(0, np.int64))
            scores, method = self._copy_scores(X, copy_plan, plan.calibration), "copy"
        elif len(plan.calibration):
            scores, method = self._scores(take_rows(X, plan.calibration)), "split"
        else:
            scores, method = self.decision_scores_, "training"
        self.calibration_scores_ = np.sort(np.asarray(scores, np.float32))
        self.calibration_ = {"method": method, "rows": len(scores)}
        self.check_calibration()

    def _copy_scores(self, X: Any, plan: RowPlan, held_rows: np.ndarray) -> np.ndarray:
        """A copy of this detector trained by ``plan`` on rows of ``X`` scores ``held_rows``.

        The copy stands in for this detector, so it trains no longer than this one did (its epochs
        run, on the same schedule; it still keeps its best epoch). Left to stop early on its own
        one or two validation rows, a copy of a 10-row detector ran about twice the detector's
        epochs, and BeetleFly's fit (10 rows of 512 steps) took 9-14 s on 2 cores, 5 of its 6
        trainings the copies'; with the cap, 5-7 s and the same calibration on 30 ECG5000 beats.
        """
        copy = self._copy()
        copy._stop_after = len(self.history_) or None  # epochs=0: none either way
        copy._copy_unit = getattr(self, "_resumed_unit", None)
        copy._train(X, plan, None, Trainer())
        return copy._scores(take_rows(X, held_rows))

    def _as_copy(self, config: TrainConfig) -> TrainConfig:
        """``config`` as a calibration copy (:meth:`_copy_scores`) trains: it ends where this
        detector did, and in the unit of an epoch that a resumed detector trained in."""
        config.stop_after = getattr(self, "_stop_after", None)
        unit = getattr(self, "_copy_unit", None)
        if unit is not None:
            config.passes, config.min_epochs = unit["passes"], unit["min_epochs"]
        return config

    def _copy(self: D) -> D:
        """An unfitted copy that knows the input's shape and names, as ``_validate_fit_input`` left them."""
        copy = type(self)(**{**self.get_params(deep=False), "verbose": 0})
        known = ("input_shape_", "n_features_in_", "feature_names_in_")
        copy.__dict__.update({k: v for k, v in vars(self).items() if k in known})
        return copy

    def check_calibration(self) -> None:
        """Say in one line (a note) when the calibration scores are too few for the false-alarm rate
        that ``threshold`` asks for; say nothing when they are enough or the rule is not ``fpr``."""
        rule = self.threshold_rule()
        n = len(self.calibration_scores_)
        if not isinstance(rule, FalseAlarmRate):
            return
        if getattr(self, "calibration_", {}).get("method") == "training":
            # the training rows' own scores, in sample: a new normal row scores above them (a
            # single row's threshold was 0, every new row flagged), so there is nothing to promise
            whose = (
                "the training row's own score" if n == 1 else f"the {n} training rows' own scores"
            )
            above = (
                "any row but that one scores above it"  # its own reconstruction: a score of ~0
                if n == 1
                else "new normal rows often score above them"
            )
            note(
                f"the threshold comes from {whose} (no rows to calibrate on): it promises no "
                f"false-alarm rate ({above}); train on more normal rows, or calibrate on some"
            )
            return
        given = getattr(self, "calibration_", {}).get("method") == "given"  # calibrate(X_normal)
        line = rule.shortfall(
            n, "scores", "calibrate on more normal rows" if given else "train on more normal rows"
        )
        if line:
            note(line)

    # ---- the threshold: never trained, derived from the normal rows' scores ------------------
    # ``threshold_`` comes lazily from ``threshold_scores_`` and the current parameters (``threshold``,
    # ``k``, ``q``, ``contamination``), so ``set_threshold(...)`` or ``set_params(threshold=...)``
    # changes it without retraining; ``fit_threshold(X_val, y_val)`` chooses a fixed value on labels.
    def threshold_rule(self) -> Threshold:
        """The threshold rule of the current parameters (:func:`aekit.estimators.thresholds.threshold_rule`)."""
        threshold = params.validate_param(self, "threshold")  # set_params after fit: unchecked
        return threshold_rule(threshold, k=self.k, q=self.q, contamination=self.contamination)

    @property
    def threshold_scores_(self) -> np.ndarray:
        """The normal scores the threshold comes from: ``calibration_scores_`` (:mod:`.calibration`)."""
        self.check_is_fitted()
        return self.calibration_scores_

    def p_values(self, X: Any) -> np.ndarray:
        """Conformal p-values of ``X``'s scores against ``calibration_scores_``, in (0, 1].

        For a normal sample like the calibration rows, ``P(p <= a) <= a``; with
        ``threshold="fpr:RATE"`` a sample is flagged exactly when ``p <= RATE`` (given enough
        calibration scores). Small p-values are evidence of an anomaly; they can be combined
        (Fisher, Bonferroni) or corrected for many samples (Benjamini-Hochberg).

        Examples
        --------
        >>> det.p_values(X_new)[:3]       # doctest: +SKIP
        array([0.412, 0.009, 0.871])
        """
        return p_values(self.calibration_scores_, self.decision_function(X))

    def calibrate(self: D, X: Any) -> D:
        """New calibration scores from normal samples ``X`` the detector never trained on (after a
        change of sensor, say), without retraining; returns ``self``. The weights stay as they are.

        Examples
        --------
        >>> det.calibrate(X_recent_normal).set_threshold("fpr:0.01")     # doctest: +SKIP
        """
        scores = self.decision_function(X)
        self.calibration_scores_ = np.sort(np.asarray(scores, np.float32))
        self.calibration_ = {"method": "given", "rows": len(scores)}
        self.check_calibration()
        return self

    @property
    def threshold_(self) -> float:
        """The decision threshold: the threshold rule applied to ``threshold_scores_``."""
        return self.threshold_rule().compute(self.threshold_scores_)

    @property
    def labels_(self) -> np.ndarray:
        """1 for the training samples whose score is above ``threshold_``, else 0."""
        return (self.decision_scores_ > self.threshold_).astype(np.int64)

    def fit_predict(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """``fit(X, y, **fit_params).labels_``: 1 for the training samples above the threshold
        (scikit-learn's ``OutlierMixin`` and PyOD give it; aekit's labels are 1 and 0, as PyOD's).

        Examples
        --------
        >>> det.fit_predict(X)                  # doctest: +SKIP
        array([0, 0, 1, ...])
        """
        return self.fit(X, y, **fit_params).labels_

    def set_threshold(self: D, strategy: str | float = "mean_std", **rule: Any) -> D:
        """Change how ``threshold_`` is derived, without retraining; returns ``self``.

        Parameters
        ----------
        strategy : str or float
            ``fpr`` / ``pot`` (``rate=``), ``mean_std`` / ``mad`` (``k=``), ``percentile``
            (``q=``), ``contamination`` (``contamination=``), ``fixed`` (``value=``), a rule with
            its value (``"fpr:0.01"``), or a number (fixed).

        Examples
        --------
        >>> det.set_threshold("percentile", q=99).threshold_     # doctest: +SKIP
        0.061
        >>> det.set_threshold("fpr", rate=0.01).threshold       # doctest: +SKIP
        'fpr:0.01'
        """
        if isinstance(strategy, str):  # "fpr:0.01": the value is the rule's one parameter
            strategy, rule = named_rule(strategy, **rule)
        strat = get_threshold(strategy, **rule)  # validates before anything changes
        if strat.name == "fixed":
            self.set_params(threshold=float(strat.value))
        elif "rate" in strat.params:  # no parameter of its own: the rate is written in the rule
            self.set_params(threshold=f"{strat.name}:{strat.rate!r}")
        else:
            params.check("threshold", strategy, self.parameters["threshold"])
            # a keyword not given is the estimator's own (AnomalyDetector(contamination=0.2)
            # .set_threshold("contamination") is at 20%), as set_params(threshold=...) has it
            kept = {key: getattr(self, key) for key in strat.params if key not in rule}
            strat = get_threshold(strategy, **rule, **kept)  # checked as the given ones are
            given = {key: getattr(strat, key) for key in strat.params if key in rule}
            self.set_params(threshold=strategy, **given, **kept)  # the kept ones as they were
        return self

    def fit_threshold(self: D, X_val: Any, y_val: Any, metric: str = "f1") -> D:
        """Choose the threshold that maximises ``metric`` on labelled data (``y_val``: 1 = anomaly).

        Sets ``threshold`` to the chosen number (a fixed threshold) and records
        ``threshold_fit_ = {"metric": ..., "value": ...}``; returns ``self``.

        Parameters
        ----------
        X_val : array-like
        y_val : array-like of 0/1
        metric : {"f1", "accuracy", "balanced_accuracy", "mcc"}

        Examples
        --------
        >>> det.fit_threshold(X_val, y_val, metric="f1").threshold_     # doctest: +SKIP
        """
        if metric not in METRICS:
            raise UsageError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        scores = self.decision_function(X_val)
        threshold, value = best_threshold(scores, y_val, metric)
        self.threshold = threshold
        self.threshold_fit_ = {"metric": metric, "value": value}
        return self

    def _set_calibration(self, saved: dict | None, held: np.ndarray | None) -> None:
        """The calibration as saved; a run saved before it had the held-out rows' scores (they set
        early stopping too) or, without held-out rows, the training rows' own."""
        if saved is not None:
            self.calibration_scores_ = np.asarray(saved["scores"], np.float32)
            self.calibration_ = {k: v for k, v in saved.items() if k != "scores"}
        elif held is not None and len(held):
            self.calibration_scores_ = np.sort(held)
            self.calibration_ = {"method": "holdout", "rows": len(held)}
        else:
            self.calibration_scores_ = np.sort(self.decision_scores_)
            self.calibration_ = {"method": "training", "rows": len(self.decision_scores_)}


def say_unused_neighbors(est: Any) -> None:
    """One note for a density's neighbours given where its weight is 0: no density is fitted, so
    the count was recorded and read by nothing (``--neighbors 5`` beside ``--density 0``)."""
    import inspect

    signature = inspect.signature(type(est).__init__).parameters  # a subclass's, maybe
    for weight, k in (("density", "n_neighbors"), ("input_density", "input_neighbors")):
        given = getattr(est, k, None)
        if getattr(est, weight, None) == 0 and k in signature and given != signature[k].default:
            note(
                f"{k}={given!r} is not used: {weight}=0 fits no density to count neighbours in "
                f"(a weight above 0 does)",
                (k, weight),
            )


def resumed_unit(trainer: Trainer) -> dict | None:
    """The unit of an epoch that a fit resumed by ``trainer`` trains on in: its checkpoint's (4
    passes each after epochs="auto", whatever epochs says now), read before the fit writes its
    own; None for a fit that resumes nothing. A calibration copy trained in another unit moved
    the threshold 330 -> 88 with the weights unchanged (probe 60 review 1 F2)."""
    if not trainer.resume or trainer.checkpoint_dir is None:
        return None
    return checkpoint_unit(trainer.checkpoint_dir)


def take_rows(X: Any, rows: np.ndarray | None, view: bool = False) -> Any:
    """The ``rows`` of ``X`` (None stays None); a row store on disk as a view (``view``) or read into memory."""
    if rows is None:
        return None
    if len(rows) == len(X):  # every row, in order (plans are sorted): no copy of the data
        return X
    if is_row_store(X):
        return RowsView(X, rows) if view else X.take(rows)
    return X[rows]
