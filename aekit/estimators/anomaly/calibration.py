"""Calibration: the normal scores a detector's threshold and p-values come from.

A threshold that promises a false-alarm rate (``threshold="fpr:0.01"``) must come from scores of
normal rows the model never saw: not trained on, not used to stop training, not used to set the
score's own scale. So the detector divides its training rows in three, by one seeded permutation:

* **fit** rows the network trains on;
* **validation** rows for early stopping and the score's scales (the residual scale, the code
  density's exponent);
* **calibration** rows scored once, by the finished detector, and kept (``calibration_scores_``).

The held-out part (``validation_fraction`` of the rows, at most ``HOLDOUT_ROWS``) is split in half
between validation and calibration; the calibration half grows to what the rule needs
(:func:`aekit.estimators.thresholds.rows_needed`: 99 rows for 1%) as long as half of the rows are
left to train on. When what the rule needs is more than the whole held-out part, setting it aside
would cost the network more than a tenth of its rows (75 normal rows and a rate of 5%: 52 to train
on instead of 67, and FreezerRegularTrain's ROC-AUC 0.86 -> 0.81): the detector trains on the
calibration rows too, and **one copy** trained without them scores them (one more fit). When
half would not be left (30 normal rows and a rate of 5% need 19 calibration
rows), no rows are set aside for calibration: :data:`FOLDS` copies of the detector are trained,
each without one fold of the rows, and every row is scored by the copy that did not train on it
(cross-conformal calibration, as in Barber et al.'s jackknife+/CV+, Annals of Statistics 2021): every
training row gives a calibration score, at the cost of :data:`FOLDS` more fits of a small set.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FOLDS = 5  # copies for cross-conformal calibration: each trains on 4/5 of the rows


@dataclass(frozen=True)
class RowPlan:
    """Which rows do what (sorted row numbers); ``calibration`` None: calibrate by cross-fitting;
    ``copied``: the calibration rows are among the ``fit`` rows, scored by a copy trained without them.
    """

    fit: np.ndarray
    validation: np.ndarray | None
    calibration: np.ndarray | None
    copied: bool = False

    @property
    def cross(self) -> bool:
        return self.calibration is None


def plan_rows(n: int, held: int, need: int, seed: int) -> RowPlan:
    """Divide ``n`` rows: ``held`` held out (half validation, half calibration, the calibration
    part at least ``need``), unless that leaves fewer than half of the rows to train on (then
    cross-fit), or the calibration part grows past ``held`` (then it trains too, a copy scores it).

    Examples
    --------
    >>> p = plan_rows(1000, 100, 99, seed=0)
    >>> len(p.fit), len(p.validation), len(p.calibration)
    (851, 50, 99)
    >>> p = plan_rows(75, 8, 19, seed=0)
    >>> p.copied, len(p.fit), len(p.validation), len(p.calibration)
    (True, 71, 4, 19)
    >>> plan_rows(30, 3, 19, seed=0).cross
    True
    """
    order = np.random.default_rng(seed).permutation(n)
    n_val = held // 2
    n_cal = max(held - n_val, need)
    validation = _part(order[:n_val])
    if n - n_val - n_cal < math.ceil(n / 2):
        # too few left to train: cross-fit, all held for validation
        return RowPlan(np.sort(order[held:]), _part(order[:held]), None)
    calibration = np.sort(order[n_val : n_val + n_cal])
    if n_cal > held:  # more than the held-out part: the detector keeps them, a copy scores them
        return RowPlan(np.sort(order[n_val:]), validation, calibration, copied=True)
    return RowPlan(np.sort(order[n_val + n_cal :]), validation, calibration)


def _part(rows: np.ndarray) -> np.ndarray | None:
    return np.sort(rows) if len(rows) else None


def fold_of(n: int, seed: int, folds: int = FOLDS) -> np.ndarray:
    """Each row's fold (0..folds-1), seeded and as even as can be."""
    fold = np.arange(n) % folds
    return np.random.default_rng(seed + 1).permutation(fold)


def cross_fit_scores(
    n: int, seed: int, fit_and_score: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """Out-of-fold scores of ``n`` rows: ``fit_and_score(train_rows, held_rows)`` trains a copy on
    ``train_rows`` and returns its scores of ``held_rows``; one copy per fold."""
    folds = min(FOLDS, n)
    fold = fold_of(n, seed, folds)
    scores = np.empty(n, dtype=np.float64)
    for k in range(folds):
        held = np.flatnonzero(fold == k)
        scores[held] = fit_and_score(np.flatnonzero(fold != k), held)
    return scores
