"""Decision thresholds for anomaly scores: pure functions of the training scores.

An anomaly detector scores every sample (higher = more anomalous) and flags the ones
whose score is **above** a threshold. The threshold is derived from the scores of the
(normal) training samples by one of these strategies, all sharing :class:`Threshold`:

==============  ================================  =======================================
name            threshold                         parameter
==============  ================================  =======================================
``mean_std``    ``mean + k * std``                ``k`` (1.0 in the ECG5000 recipe)
``percentile``  the ``q``-th percentile           ``q`` in [0, 100]
``contamination`` the ``1 - contamination`` quantile ``contamination`` in (0, 1)
``mad``         ``median + k * 1.4826 * MAD``     ``k`` (MAD scaled to a std for Gaussians)
``fixed``       ``value``                         ``value``
``max``         ``margin * max``                  ``margin`` (the series detector's default)
==============  ================================  =======================================

``mean_std`` uses the population standard deviation (``np.std``, ddof=0), as the
TensorFlow tutorial does: ``np.mean(train_loss) + np.std(train_loss)``.

:func:`threshold_rule` is how both detectors turn their parameters into a rule;
:func:`best_threshold` chooses a threshold on a labelled validation set instead.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..errors import DataError, UsageError

MAD_TO_STD = 1.4826  # 1 / Phi^-1(3/4): MAD * 1.4826 estimates the std of Gaussian scores


def _number(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(float(value))
    ):
        raise UsageError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _scores(scores: Any) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).ravel()
    if s.size == 0:
        raise DataError("no scores to derive a threshold from; fit on at least one sample")
    if not np.isfinite(s).all():
        raise DataError("scores contain NaN or infinity; check the input data for extreme values")
    return s


class Threshold:
    """A threshold strategy: validated parameters, then ``compute(scores) -> float``.

    Subclasses set ``name`` and ``params`` (parameter name -> default) and implement
    ``_compute``. Samples with ``score > threshold`` are anomalies.

    Examples
    --------
    >>> MeanStd(k=1.0).compute([1.0, 2.0, 3.0])
    2.816496580927726
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, Any]] = {}

    def __init__(self, **kwargs: Any):
        unknown = set(kwargs) - set(self.params)
        if unknown:
            raise UsageError(
                f"threshold {self.name!r} takes {', '.join(self.params) or 'no parameters'}; "
                f"got {', '.join(sorted(unknown))}"
            )
        values = {**self.params, **kwargs}
        for key, value in values.items():
            setattr(self, key, self._check(key, value))

    def _check(self, key: str, value: Any) -> float:
        value = _number(key, value)
        if key == "k" and value < 0:  # mean_std, mad: a threshold below the typical normal score
            raise UsageError(
                f"k must be >= 0 for the {self.name} threshold (a number of standard deviations "
                f"above the typical score), got {value!r}; e.g. k=1"
            )
        return value

    def compute(self, scores: Any) -> float:
        """The threshold for these training scores."""
        return float(self._compute(_scores(scores)))

    def _compute(self, s: np.ndarray) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.params)
        return f"{type(self).__name__}({args})"


class MeanStd(Threshold):
    """``mean + k * std`` of the training scores (population std, as ``np.std``)."""

    name = "mean_std"
    params = {"k": 1.0}

    def _compute(self, s: np.ndarray) -> float:
        return s.mean() + self.k * s.std()


class Percentile(Threshold):
    """The ``q``-th percentile of the training scores (``q`` in [0, 100])."""

    name = "percentile"
    params = {"q": 95.0}

    def _check(self, key: str, value: Any) -> float:
        q = _number(key, value)
        if not 0.0 <= q <= 100.0:
            raise UsageError(
                f"q (percentile) must be in [0, 100], got {value!r}; e.g. q=99 flags the top 1%"
            )
        return q

    def _compute(self, s: np.ndarray) -> float:
        return np.percentile(s, self.q)


class Contamination(Threshold):
    """The score above which the expected fraction ``contamination`` of training samples lies."""

    name = "contamination"
    params = {"contamination": 0.05}

    def _check(self, key: str, value: Any) -> float:
        c = _number(key, value)
        if not 0.0 < c < 1.0:
            raise UsageError(
                f"contamination must be a fraction in (0, 1), got {value!r}; e.g. 0.05 for 5%"
            )
        return c

    def _compute(self, s: np.ndarray) -> float:
        return np.percentile(s, 100.0 * (1.0 - self.contamination))


class MAD(Threshold):
    """``median + k * 1.4826 * MAD``: robust to a few outliers among the training scores."""

    name = "mad"
    params = {"k": 3.0}

    def _compute(self, s: np.ndarray) -> float:
        med = np.median(s)
        return med + self.k * MAD_TO_STD * np.median(np.abs(s - med))


class Fixed(Threshold):
    """A given ``value``, whatever the scores."""

    name = "fixed"
    params = {"value": 0.0}

    def _compute(self, s: np.ndarray) -> float:
        return self.value

    def compute(self, scores: Any = None) -> float:
        return float(self.value)


class MaxTimes(Threshold):
    """``margin`` times the highest training score: nothing like the normal scores is flagged."""

    name = "max"
    params = {"margin": 1.5}

    def _check(self, key: str, value: Any) -> float:
        margin = _number(key, value)
        if margin <= 0:
            raise UsageError(f"margin must be a positive number, got {value!r}; e.g. margin=1.5")
        return margin

    def _compute(self, s: np.ndarray) -> float:
        return s.max() * self.margin


STRATEGIES: dict[str, type[Threshold]] = {
    c.name: c for c in (MeanStd, Percentile, Contamination, MAD, Fixed, MaxTimes)
}


def get_threshold(strategy: str | float, **params: Any) -> Threshold:
    """The strategy ``strategy`` with ``params``; a number means ``fixed`` at that value.

    Examples
    --------
    >>> get_threshold("percentile", q=99)
    Percentile(q=99.0)
    >>> get_threshold(0.04)
    Fixed(value=0.04)
    """
    if isinstance(strategy, (int, float, np.integer, np.floating)) and not isinstance(
        strategy, bool
    ):
        return Fixed(value=_number("threshold", strategy))
    if strategy not in STRATEGIES:
        raise UsageError(
            f"unknown threshold {strategy!r}; expected one of {', '.join(STRATEGIES)} or a number"
        )
    return STRATEGIES[strategy](**params)


def threshold_rule(threshold: str | float, **params: Any) -> Threshold:
    """The rule a detector's parameters name: ``threshold`` (a strategy or a number) with that
    strategy's own parameters taken from ``params`` (the other strategies' are ignored).

    Both detectors hold every strategy's parameter (``k``, ``q``, ``contamination``, ``margin``) so
    that the strategy can change without retraining; this picks the ones that apply.

    Examples
    --------
    >>> threshold_rule("percentile", k=1.0, q=99.0, contamination=0.05)
    Percentile(q=99.0)
    >>> threshold_rule(0.5, q=99.0)
    Fixed(value=0.5)
    """
    if isinstance(threshold, str) and threshold == "fixed":
        raise UsageError(
            "threshold='fixed' needs a value: pass the number itself, e.g. threshold=0.05"
        )
    if isinstance(threshold, str) and threshold in STRATEGIES:
        wanted = STRATEGIES[threshold].params
        return get_threshold(threshold, **{k: v for k, v in params.items() if k in wanted})
    return get_threshold(threshold)


def compute_threshold(scores: Any, strategy: str | float = "mean_std", **params: Any) -> float:
    """Threshold of the training ``scores`` by ``strategy`` (see the module docstring).

    Parameters
    ----------
    scores : array-like
        Anomaly scores of the training (normal) samples.
    strategy : str or float
        ``mean_std``, ``percentile``, ``contamination``, ``mad``, ``fixed``, or a number.
    **params
        The strategy's parameter: ``k``, ``q``, ``contamination`` or ``value``.

    Examples
    --------
    >>> compute_threshold([1.0, 2.0, 3.0, 4.0], "percentile", q=50)
    2.5
    """
    return get_threshold(strategy, **params).compute(scores)


METRICS = ("f1", "accuracy", "balanced_accuracy", "mcc")


def best_threshold(scores: Any, y: Any, metric: str = "f1") -> tuple[float, float]:
    """The threshold that maximises ``metric`` on labelled scores; returns ``(threshold, value)``.

    ``y`` is 1 for anomalies and 0 for normal samples (both must occur). Every cut
    between two distinct sorted scores is tried (vectorised, O(n log n)); the threshold
    returned is the midpoint of the best cut, and ``score > threshold`` is an anomaly.

    Examples
    --------
    >>> best_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])
    (0.5, 1.0)
    """
    if metric not in METRICS:
        raise UsageError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    s = _scores(scores)
    yy = np.asarray(y).ravel()
    if yy.shape != s.shape:
        raise DataError(
            f"y has {yy.size} labels but there are {s.size} scores; give one label per sample"
        )
    if not np.isin(yy, (0, 1)).all():
        raise DataError("y must hold 1 for anomalies and 0 for normal samples")
    yy = yy.astype(np.int64)
    pos = int(yy.sum())
    neg = len(yy) - pos
    if pos == 0 or neg == 0:
        raise DataError(
            "y must contain both anomalies (1) and normal samples (0) to choose a threshold"
        )
    order = np.argsort(-s, kind="stable")
    s_desc, y_desc = s[order], yy[order]
    # Cut after position i (0..n): the top i scores are flagged. Keep cuts between distinct scores.
    tp = np.concatenate([[0], np.cumsum(y_desc)]).astype(np.float64)
    fp = np.concatenate([[0], np.cumsum(1 - y_desc)]).astype(np.float64)
    valid = np.ones(len(s) + 1, dtype=bool)
    valid[1:-1] = s_desc[:-1] > s_desc[1:]
    fn, tn = pos - tp, neg - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "f1":
            value = 2 * tp / (2 * tp + fp + fn)
        elif metric == "accuracy":
            value = (tp + tn) / len(s)
        elif metric == "balanced_accuracy":
            value = 0.5 * (tp / pos + tn / neg)
        else:
            value = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    value = np.where(valid & np.isfinite(value), value, -np.inf)
    i = int(np.argmax(value))
    if i == 0:
        threshold = s_desc[0] + max(abs(s_desc[0]) * 1e-6, 1e-12)  # flag nothing
    elif i == len(s):
        threshold = s_desc[-1] - max(abs(s_desc[-1]) * 1e-6, 1e-12)  # flag everything
    else:
        threshold = 0.5 * (s_desc[i - 1] + s_desc[i])
    return float(threshold), float(value[i])
