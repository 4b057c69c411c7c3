"""The anomaly detector's decision threshold: how ``threshold_`` comes from the normal rows' scores.

The threshold is never trained: ``threshold_`` is derived lazily from the normal rows' scores
(``threshold_scores_``: the held-out rows' when rows were held out, else the training rows') and
the current parameters (``threshold``, ``k``, ``q``, ``contamination``), so ``set_threshold(...)``
or ``set_params(threshold=...)`` changes it without retraining; ``fit_threshold(X_val, y_val)``
chooses a fixed value on labelled validation data. The strategies: :mod:`.thresholds`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UsageError
from .thresholds import METRICS, best_threshold, get_threshold


class ThresholdMixin:
    """``threshold_``, ``labels_``, ``set_threshold`` and ``fit_threshold`` of :class:`aekit.AnomalyDetector`.

    The host sets ``decision_scores_`` (and ``holdout_scores_``) at fit and has the parameters
    ``threshold``, ``k``, ``q`` and ``contamination`` and a ``decision_function``.
    """

    def _strategy(self):
        """The threshold strategy of the current parameters (validated)."""
        if isinstance(self.threshold, str):
            kw = {
                "mean_std": {"k": self.k},
                "mad": {"k": self.k},
                "percentile": {"q": self.q},
                "contamination": {"contamination": self.contamination},
            }.get(self.threshold, {})
            if self.threshold == "fixed":
                raise UsageError(
                    "threshold='fixed' needs a value: pass the number itself, e.g. threshold=0.05"
                )
            return get_threshold(self.threshold, **kw)
        return get_threshold(self.threshold)

    @property
    def threshold_scores_(self) -> np.ndarray:
        """The normal scores the threshold comes from: the held-out rows' if any, else the training rows'."""
        self._check_is_fitted()
        held = getattr(self, "holdout_scores_", None)
        return self.decision_scores_ if held is None or len(held) == 0 else held

    @property
    def threshold_(self) -> float:
        """The decision threshold: the threshold strategy applied to ``threshold_scores_``."""
        return self._strategy().compute(self.threshold_scores_)

    @property
    def labels_(self) -> np.ndarray:
        """1 for the training samples whose score is above ``threshold_``, else 0."""
        return (self.decision_scores_ > self.threshold_).astype(np.int64)

    def set_threshold(self, strategy: str | float = "mean_std", **params: Any) -> ThresholdMixin:
        """Change how ``threshold_`` is derived, without retraining; returns ``self``.

        Parameters
        ----------
        strategy : str or float
            ``mean_std`` / ``mad`` (``k=``), ``percentile`` (``q=``), ``contamination``
            (``contamination=``), ``fixed`` (``value=``), or a number (fixed).

        Examples
        --------
        >>> det.set_threshold("percentile", q=99).threshold_     # doctest: +SKIP
        0.061
        """
        strat = get_threshold(strategy, **params)  # validates before anything changes
        if strat.name == "fixed":
            self.set_params(threshold=float(strat.value))
        else:
            self.set_params(
                threshold=strategy, **{key: getattr(strat, key) for key in strat.params}
            )
        return self

    def fit_threshold(self, X_val: Any, y_val: Any, metric: str = "f1") -> ThresholdMixin:
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
        threshold, value = best_threshold(scores, np.asarray(y_val).ravel(), metric)
        self.threshold = threshold
        self.threshold_fit_ = {"metric": metric, "value": value}
        return self
