"""Decision thresholds for anomaly scores: pure functions of the training scores.

An anomaly detector scores every sample (higher = more anomalous) and flags the ones
whose score is **above** a threshold. The threshold is derived from the scores of the
(normal) training samples by one of these strategies, all sharing :class:`Threshold`:

==============  ================================  =======================================
name            threshold                         parameter
==============  ================================  =======================================
``fpr``         the conformal ``1 - rate`` quantile ``rate``: the false-alarm rate (0.01)
``pot``         a generalized Pareto tail's quantile  ``rate`` (very small rates; SPOT)
``mean_std``    ``mean + k * std``                ``k`` (1.0 in the ECG5000 recipe)
``percentile``  the ``q``-th percentile           ``q`` in [0, 100]
``contamination`` the ``1 - contamination`` quantile ``contamination`` in (0, 1)
``mad``         ``median + k * 1.4826 * MAD``     ``k`` (MAD scaled to a std for Gaussians)
``fixed``       ``value``                         ``value``
``max``         ``margin * max``                  ``margin`` (the series detector's default)
==============  ================================  =======================================

``mean_std`` uses the population standard deviation (``np.std``, ddof=0), as the
TensorFlow tutorial does: ``np.mean(train_loss) + np.std(train_loss)``.

``fpr`` is split conformal prediction (Vovk et al.; Bates et al., "Testing for outliers with
conformal p-values", Annals of Statistics 2023): from ``n`` scores of normal samples the model never
trained on, the threshold is their ``ceil((n + 1)(1 - rate))``-th smallest, so that a new normal
sample exchangeable with them is flagged with probability at most ``rate``, whatever the scores'
distribution. It needs ``n >= ceil(1 / rate) - 1`` scores (:func:`rows_needed`); with fewer the
threshold is their maximum, which cannot promise less than ``1 / (n + 1)``. :func:`p_values` gives
every score its conformal p-value; ``p <= max(rate, 1 / (n + 1))`` is exactly ``score > threshold``.

A threshold computed from scores (all but ``fixed``) that lies within float32's rounding of one of
them (a quantile, the maximum, or mean + std of equal scores) is raised by :data:`ROUNDING` of its
size, 1.5e-5: a sample that scores what a calibration sample scored, in another batch, is not
flagged for the last bits of a sum; :func:`p_values` counts such a score as a tie. Every computed
threshold is then a float32 (the nearest at or above), so that float32 scores compared with it in
float32, as NumPy compares them, or in float64 get the same labels.

``pot`` fits a generalized Pareto distribution to the scores above their 98th percentile (peaks over
threshold, as Siffer et al.'s SPOT, KDD 2017) and extrapolates the tail to rates too small for the
scores at hand; it is a model of the tail, not a guarantee.

A rule can be written with its parameter, ``"NAME:VALUE"``: ``"fpr:0.01"``, ``"percentile:99"``,
``"contamination:0.05"``, ``"mean_std:1"``.

:func:`threshold_rule` is how both detectors turn their parameters into a rule;
:func:`best_threshold` chooses a threshold on a labelled validation set instead.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..data.checks import first_bad_label
from ..errors import DataError, UsageError
from .params import split_rule
from .validation import FLOAT32_MAX, label_vector

MAD_TO_STD = 1.4826  # 1 / Phi^-1(3/4): MAD * 1.4826 estimates the std of Gaussian scores
# Scores are float32 sums, and one sample scored in another batch differs in its last bits (up to
# 2e-6 of the score on a 6-column table; more where a fine reconstruction cancels, which no relative
# margin covers for every model): a threshold that IS a calibration score (a conformal quantile,
# the maximum, all scores equal) flagged a sample scoring what that calibration sample scored, or
# not, by the batch it came in (probe 65 #1: 299 identical normal rows flagged as anomalies). A
# threshold derived from scores is raised past that rounding, and p_values counts a score within
# it as equal.
ROUNDING = 2.0**-16  # relative: 128 float32 ulps, 1.5e-5


def raised_calibration(calibration: Any) -> np.ndarray:
    """Scores each raised by :data:`ROUNDING` of its size, then to the nearest float32 at or above
    (at most float32's largest): a threshold float32 holds exactly, so that NumPy comparing float32
    scores with it in float32 and :func:`p_values` comparing in float64 agree, and so does an ONNX
    graph holding these numbers as float32 (review 65 #1). ``p_values`` counts a calibration score
    for a score ``s`` when its raised value is ``>= s``: exactly what a threshold of that raised
    value leaves unflagged."""
    c = np.asarray(calibration, dtype=np.float64)
    return _float32_at_or_above(c + np.abs(c) * ROUNDING)


def _float32_at_or_above(values: Any) -> np.ndarray:
    """Each value as the nearest float32 at or above it, at most float32's largest (in float64): a
    threshold that compares alike in float32 and float64."""
    v = np.minimum(np.asarray(values, dtype=np.float64), FLOAT32_MAX)
    f = v.astype(np.float32)
    with np.errstate(over="ignore"):  # the next float32 of the largest, computed, never taken
        up = np.nextafter(f, np.float32(np.inf))
    return np.where(f.astype(np.float64) < v, up, f).astype(np.float64)


def above_rounding(t: float) -> float:
    """``t`` as :func:`raised_calibration` raises a score: no score within float32's rounding of it
    is above it (0 stays 0).

    Examples
    --------
    >>> above_rounding(1.0) - 1.0, above_rounding(0.0), above_rounding(-1.0) > -1.0
    (1.52587890625e-05, 0.0, True)
    """
    return float(raised_calibration([t])[0])


def clear_of_scores(t: float, s: np.ndarray) -> float:
    """``t``, raised by :func:`above_rounding` when one of the scores ``s`` lies within float32's
    rounding of it (a conformal quantile or the maximum is one of them; a percentile, which
    interpolates, or a formula's value, as mean + std, only sometimes, so that the tutorial's
    threshold keeps its digits), else the nearest float32 at or above it."""
    if np.any(np.abs(s - t) <= abs(t) * ROUNDING):
        return above_rounding(t)
    return float(_float32_at_or_above(t))


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
    2.8164966106414795
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
        """The threshold for these training scores, clear of float32's rounding of them."""
        s = _scores(scores)
        return clear_of_scores(self._compute(s), s)

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
                f"the percentile (q) must be in [0, 100], got {value!r}; e.g. percentile:99 flags the "
                f"top 1%"
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


def _rate(key: str, value: Any) -> float:
    rate = _number(key, value)
    if not 0.0 < rate < 1.0:
        raise UsageError(
            f"the false-alarm rate must be a fraction in (0, 1), got {value!r}; e.g. fpr:0.01 for 1%"
        )
    return rate


def rows_needed(rate: float) -> int:
    """How many calibration scores a conformal threshold needs for a false-alarm ``rate``:
    ``ceil(1 / rate) - 1`` (99 for 1%), the fewest with a score below the top.

    Examples
    --------
    >>> rows_needed(0.01), rows_needed(0.05), rows_needed(0.3)
    (99, 19, 3)
    """
    return max(math.ceil(1.0 / rate - 1e-9) - 1, 1)


def shown_count(n: int) -> str:
    """A count of rows for a message: a tiny rate needs a 300-digit one, said as 1e+300.

    Examples
    --------
    >>> shown_count(99), shown_count(10**300)
    ('99', '1e+300')
    """
    return str(n) if n < 10**6 else f"{n:.3g}"


class FalseAlarmRate(Threshold):
    """The split-conformal threshold for a false-alarm ``rate`` on normal data (see the module)."""

    name = "fpr"
    params = {"rate": 0.05}

    def _check(self, key: str, value: Any) -> float:
        return _rate(key, value)

    def rows_needed(self) -> int:
        return rows_needed(self.rate)

    def promised(self, n: int) -> float | None:
        """The false-alarm rate ``n`` calibration scores promise when they are too few for the
        rate: ``1 / (n + 1)``, their highest score being the threshold; None when they are enough."""
        return None if n >= self.rows_needed() else 1 / (n + 1)

    def shortfall(self, n: int, what: str, more: str) -> str | None:
        """One line when ``n`` calibration ``what`` (scores, images) are too few for the rate, else None;
        ``more``: what the user can do ("train on more normal rows")."""
        promised = self.promised(n)
        if promised is None:
            return None
        return (
            f"{n} calibration {what} cannot promise a false-alarm rate of {self.rate:g} (that needs "
            f"{shown_count(self.rows_needed())}): the threshold is their highest score, which promises "
            f"{promised:.3g}; {more} for a smaller rate"
        )

    def compute(self, scores: Any, independent: float | None = None) -> float:
        """The threshold for these calibration scores. ``independent``: how many independent scores
        they are worth when fewer than there are (a series' per-step scores share the windows over
        them: about one per window of steps); None, one each. The threshold is then the one that
        :func:`p_values` with the same ``independent`` flags at ``p <= rate``."""
        s = _scores(scores)
        if independent is None or independent >= len(s):
            return clear_of_scores(self._compute(s), s)
        at = self._index(len(s), independent)
        return above_rounding(np.partition(s, at)[at])  # a score itself

    def _index(self, n: int, m: float) -> int:
        """The 0-based place, among ``n`` sorted scores worth ``m`` independent ones, of the threshold:
        a score above it has ``a`` scores at or above it with ``(1 + m a / n) / (m + 1) <= rate``
        (:func:`p_values`), and ``a <= n ((m + 1) rate - 1) / m``; none such: the highest score."""
        most = math.floor(n * ((m + 1) * self.rate - 1.0) / m + 1e-9)  # the float slack, as below
        return n - 1 - max(most, 0)

    def _compute(self, s: np.ndarray) -> float:
        n = len(s)
        rank = math.ceil((n + 1) * (1.0 - self.rate) - 1e-9)  # 1-based; the float slack: 99.0000001
        # a rate within 1e-11 of 1 gives rank 0, and index -1 was the HIGHEST score (probe 61 #2)
        rank = min(max(rank, 1), n)
        return np.partition(s, rank - 1)[rank - 1]


class PeaksOverThreshold(Threshold):
    """A generalized Pareto fit of the top 2% of the scores, extrapolated to ``rate`` (SPOT)."""

    name = "pot"
    params = {"rate": 0.001}
    TAIL = 0.98  # the initial threshold: scores above this quantile are the peaks
    MIN_PEAKS = 10  # fewer peaks than this cannot shape a tail: the conformal threshold instead

    def _check(self, key: str, value: Any) -> float:
        return _rate(key, value)

    def _compute(self, s: np.ndarray) -> float:
        from scipy.stats import genpareto  # scikit-learn's dependency; only this rule needs it

        t = np.quantile(s, self.TAIL)
        peaks = s[s > t] - t
        if len(peaks) < self.MIN_PEAKS or peaks.max() <= 0:
            return FalseAlarmRate(rate=self.rate)._compute(s)
        shape, _, scale = genpareto.fit(peaks, floc=0.0)
        ratio = self.rate * len(s) / len(peaks)  # the tail probability beyond t that is wanted
        if ratio >= 1.0:
            return FalseAlarmRate(rate=self.rate)._compute(s)
        if abs(shape) < 1e-6:  # the exponential tail, the limit of the formula below
            return t - scale * math.log(ratio)
        return t + scale / shape * (ratio ** (-shape) - 1.0)


def p_values(calibration: Any, scores: Any, independent: float | None = None) -> np.ndarray:
    """Conformal p-values of ``scores`` against the normal ``calibration`` scores:
    ``(1 + #{calibration >= score}) / (n + 1)``; small means unlike the normal samples.

    For a normal sample exchangeable with the calibration samples, ``P(p <= a) <= a`` for every
    ``a``; ``p <= rate`` is exactly ``score > FalseAlarmRate(rate).compute(calibration)``. Scores
    worth fewer ``independent`` ones than there are (``m`` < ``n``: a series' steps) count as ``m``:
    ``(1 + m #{calibration >= score} / n) / (m + 1)``, so that the smallest p-value is ``1 / (m + 1)``,
    what so few independent scores can say, and ``FalseAlarmRate.compute(calibration, m)`` flags
    ``p <= rate``.

    Examples
    --------
    >>> p_values([1.0, 2.0, 3.0, 4.0], [0.5, 2.0, 9.0])
    array([1. , 0.8, 0.2])
    """
    cal = np.sort(_scores(calibration))
    s = np.asarray(scores, dtype=np.float64).ravel()
    # calibration scores at or above each score, within float32's rounding (:func:`raised_calibration`)
    at_least = len(cal) - np.searchsorted(raised_calibration(cal), s, side="left")
    if independent is not None and independent < len(cal):
        return (1.0 + independent * at_least / len(cal)) / (independent + 1.0)
    return (1.0 + at_least) / (len(cal) + 1.0)


STRATEGIES: dict[str, type[Threshold]] = {
    c.name: c
    for c in (FalseAlarmRate, PeaksOverThreshold, MeanStd, Percentile, Contamination, MAD, Fixed)
}
STRATEGIES["max"] = MaxTimes


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


def parse_rule(text: str) -> tuple[str, float | None]:
    """``"NAME:VALUE"`` -> ``(NAME, VALUE)``; a plain name -> ``(name, None)``.

    Examples
    --------
    >>> parse_rule("fpr:0.01"), parse_rule("percentile")
    (('fpr', 0.01), ('percentile', None))
    """
    try:
        return split_rule(text)
    except ValueError:
        raise UsageError(
            f"threshold {text!r}: expected NAME:NUMBER such as fpr:0.01, got "
            f"{text.partition(':')[2]!r} after ':'"
        ) from None


def named_rule(text: str, **params: Any) -> tuple[str, dict[str, Any]]:
    """``"NAME:VALUE"`` and parameters -> ``(NAME, params)`` with VALUE as the rule's own parameter
    (every rule has one).

    Examples
    --------
    >>> named_rule("percentile:99", q=95.0, k=1.0)
    ('percentile', {'q': 99.0, 'k': 1.0})
    """
    name, value = parse_rule(text)
    if value is not None and name in STRATEGIES:
        params = {**params, next(iter(STRATEGIES[name].params)): value}
    return name, params


def threshold_rule(threshold: str | float, **params: Any) -> Threshold:
    """The rule a detector's parameters name: ``threshold`` (a strategy, ``"NAME:VALUE"``, or a
    number) with that strategy's own parameters taken from ``params`` (the others are ignored).

    Both detectors hold every strategy's parameter (``k``, ``q``, ``contamination``, ``margin``) so
    that the strategy can change without retraining; this picks the ones that apply. A value
    written in the name (``"percentile:99"``) wins over the parameter.

    Examples
    --------
    >>> threshold_rule("percentile", k=1.0, q=99.0, contamination=0.05)
    Percentile(q=99.0)
    >>> threshold_rule("fpr:0.05", q=99.0)
    FalseAlarmRate(rate=0.05)
    >>> threshold_rule(0.5, q=99.0)
    Fixed(value=0.5)
    """
    if isinstance(threshold, str) and threshold == "fixed":
        raise UsageError(
            "threshold='fixed' needs a value: pass the number itself, e.g. threshold=0.05"
        )
    if isinstance(threshold, str):
        name, params = named_rule(threshold, **params)
        if name in STRATEGIES and name != "fixed":
            wanted = STRATEGIES[name].params
            return get_threshold(name, **{k: v for k, v in params.items() if k in wanted})
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
    yy = label_vector(y, s.size, "y", f"there are {s.size} scores")
    bad = first_bad_label(yy)
    if bad is not None:
        raise DataError(f"y holds {bad}; expected 1 for anomalies and 0 for normal samples")
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
            spread = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            # flagging nothing or everything: 0, as scikit-learn defines it (not 0/0, dropped),
            # so that no cut of negative MCC is chosen over them
            value = np.where(spread > 0, (tp * tn - fp * fn) / np.where(spread > 0, spread, 1), 0.0)
    value = np.where(valid & np.isfinite(value), value, -np.inf)
    i = int(np.argmax(value))
    if i == 0:
        threshold = s_desc[0] + max(abs(s_desc[0]) * 1e-6, 1e-12)  # flag nothing
    elif i == len(s):
        threshold = s_desc[-1] - max(abs(s_desc[-1]) * 1e-6, 1e-12)  # flag everything
    else:
        threshold = 0.5 * (s_desc[i - 1] + s_desc[i])
    return float(threshold), float(value[i])


def unread_rule_params(est: Any, names: Any) -> dict[str, str]:
    """Which of ``names`` (``k``, ``q``, ``contamination``, ``margin``) ``est``'s threshold rule
    does not take from ``est``: ``"unread"``, a parameter of another rule (``k`` with ``fpr``), or
    ``"carried"``, the rule's own written in its name (``q`` with ``"percentile:99"``). The one
    answer to the notes at fit, ``aekit score``'s refusals and aekit.dask's."""
    rule = est.threshold_rule()
    params = type(rule).params
    carried = isinstance(est.threshold, str) and ":" in est.threshold
    own = next(iter(params)) if carried and params else None  # every rule has one parameter
    return {
        name: "unread" if name not in params else "carried"
        for name in names
        if name not in params or name == own
    }


def say_unused_rule_params(est: Any, names: tuple[str, ...]) -> None:
    """One note for each of ``est``'s rule parameters (``names``: ``k``, ``q``, ``contamination``)
    given but unused by its threshold rule: kept for a rule set later without retraining, but
    PyOD's and scikit-learn's users pass ``contamination`` expecting it to set the threshold
    (``fpr:0.05`` ignored it), and a value in the rule (``"contamination:0.2"``) wins over it."""
    import inspect

    from .._notes import note

    rule = est.threshold_rule()
    signature = inspect.signature(type(est).__init__).parameters  # a subclass's, maybe
    given = {
        name: getattr(est, name)
        for name, p in signature.items()
        if name in names and getattr(est, name) != p.default
    }
    why = unread_rule_params(est, given)
    unused = [f"{n}={v!r}" for n, v in given.items() if why.get(n) == "unread"]
    if unused:
        note(
            f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} not used by "
            f"threshold={est.threshold!r}: contamination sets threshold='contamination', q "
            f"'percentile', k 'mean_std' and 'mad'"
        )
    named = [
        f"{n}={v!r}" for n, v in given.items() if why.get(n) == "carried" and v != getattr(rule, n)
    ]
    if named:
        note(f"{', '.join(named)} not used: threshold={est.threshold!r} gives its own value")
