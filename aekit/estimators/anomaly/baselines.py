"""The detector beside scikit-learn's classical detectors, on the same rows: :func:`compare`.

Each baseline is fitted on the normal rows the detector was trained on and scores the same labelled
rows, all in the detector's scaled units (its ``scaler_``, flattened to rows), so that every method
sees the same numbers:

* ``kNN distance``: the distance to the 5th nearest normal training row
  (:class:`sklearn.neighbors.NearestNeighbors`, ``n_neighbors=5``: the largest of the 5 distances,
  PyOD's ``KNN`` default);
* ``IsolationForest``: :class:`sklearn.ensemble.IsolationForest` (``random_state=seed``), minus its
  ``score_samples``;
* ``LOF``: :class:`sklearn.neighbors.LocalOutlierFactor` (``novelty=True``, its 20 neighbours), minus
  its ``score_samples``.

Each is scored by ROC-AUC and PR-AUC (:func:`sklearn.metrics.roc_auc_score`,
:func:`sklearn.metrics.average_precision_score`). Large data is cut to a seeded sample: at most
:data:`MAX_TRAIN_ROWS` training rows and :data:`MAX_ROWS` scored rows (stratified; the detector's figures
are then those of the same sample), so a comparison takes seconds (the caption says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import DataError
from ..base import is_row_store
from ..validation import binary_labels, ranking_scores

KNN_NEIGHBORS = 5  # PyOD's KNN default: the distance to the 5th nearest normal row
LOF_NEIGHBORS = 20  # scikit-learn's LocalOutlierFactor default (fewer when there are fewer rows)
MAX_TRAIN_ROWS = 5_000  # the baselines are fitted on at most this many normal rows (seeded sample)
MAX_ROWS = 10_000  # ... and score at most this many labelled rows (seeded, stratified sample)
CLEARLY_BETTER = 0.02  # a baseline whose ROC-AUC is higher than the detector's by more gets a hint
DETECTOR = "aekit"  # the detector's row in the table


def _knn(train: np.ndarray, rows: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=min(KNN_NEIGHBORS, len(train))).fit(train)
    return nn.kneighbors(rows)[0][:, -1]  # the largest of the k distances


def _iforest(train: np.ndarray, rows: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.ensemble import IsolationForest

    return -IsolationForest(random_state=seed).fit(train).score_samples(rows)


def _lof(train: np.ndarray, rows: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.neighbors import LocalOutlierFactor

    lof = LocalOutlierFactor(novelty=True, n_neighbors=min(LOF_NEIGHBORS, len(train) - 1))
    return -lof.fit(train).score_samples(rows)


# name -> (fit on the normal rows and score the rows: higher = more anomalous, what it is in scikit-learn)
BASELINES: dict[str, tuple[Callable[[np.ndarray, np.ndarray, int], np.ndarray], str]] = {
    f"kNN distance (k={KNN_NEIGHBORS})": (
        _knn,
        f"NearestNeighbors(n_neighbors={KNN_NEIGHBORS})",
    ),
    "IsolationForest": (_iforest, "IsolationForest(random_state={seed})"),
    "LOF (novelty)": (_lof, "LocalOutlierFactor(novelty=True)"),
}


@dataclass
class Comparison:
    """ROC-AUC and PR-AUC of the detector and of each baseline on the same rows; ``str()`` is the table.

    Attributes
    ----------
    rows : list of dict
        One per method, the detector first: ``method``, ``roc_auc``, ``pr_auc``, ``seconds`` (the
        baselines: fit and score; the detector, fitted already: score).
    n_train, n_train_total : int
        Normal rows the baselines were fitted on, and how many the detector was given.
    n_rows, n_rows_total, n_anomalies : int
        Labelled rows scored (of how many given), and the anomalies among them.
    seed : int
    """

    rows: list[dict[str, Any]]
    n_train: int
    n_train_total: int
    n_rows: int
    n_rows_total: int
    n_anomalies: int
    seed: int

    def best_baseline(self) -> dict[str, Any]:
        """The baseline row with the highest ROC-AUC."""
        return max(self.rows[1:], key=lambda r: r["roc_auc"])

    def hint(self) -> str | None:
        """One line when a baseline's ROC-AUC beats the detector's by more than ``CLEARLY_BETTER``, else None."""
        best, own = self.best_baseline(), self.rows[0]["roc_auc"]
        if round(best["roc_auc"] - own, 9) <= CLEARLY_BETTER:  # 0.90 - 0.88 is 0.0200...02
            return None
        how = BASELINES[best["method"]][1].format(seed=self.seed)
        return (
            f"{best['method']} beats aekit here (ROC-AUC {best['roc_auc']:.3f} vs {own:.3f}): "
            f"scikit-learn's {how} on the detector's scaled rows is the better detector for this data"
        )

    def caption(self) -> str:
        """What was compared on what: the rows scored and fitted on, and any sample taken."""

        def rows(n: int, total: int, what: str) -> str:
            sample = f" (a seeded sample of {total:,})" if n < total else ""
            return f"{n:,} {what}{sample}"

        return (
            f"ROC-AUC and PR-AUC on {rows(self.n_rows, self.n_rows_total, 'labelled rows')}, "
            f"{self.n_anomalies:,} of them anomalies; the baselines fitted on "
            f"{rows(self.n_train, self.n_train_total, 'normal training rows')}, scaled as the detector "
            f"scales them; seconds: fit and score (aekit: score)"
        )

    def table(self) -> str:
        """The figures as aligned text, the caption above them and the hint (if any) below."""
        width = max(len(r["method"]) for r in self.rows)
        lines = [self.caption(), f"{'method':<{width}}  ROC-AUC  PR-AUC  seconds"]
        lines += [
            f"{r['method']:<{width}}  {r['roc_auc']:7.3f}  {r['pr_auc']:6.3f}  {r['seconds']:7.2f}"
            for r in self.rows
        ]
        hint = self.hint()
        return "\n".join(lines + ([hint] if hint else []))

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the rows, the counts, the caption and the hint (None when no baseline is clearly better)."""
        return {
            "methods": [dict(r) for r in self.rows],
            "n_train": self.n_train,
            "n_train_total": self.n_train_total,
            "n_samples": self.n_rows,
            "n_samples_total": self.n_rows_total,
            "n_anomalies": self.n_anomalies,
            "caption": self.caption(),
            "hint": self.hint(),
        }


def sample_rows(n: int, cap: int, seed: int, y: np.ndarray | None = None) -> np.ndarray:
    """Sorted indices of at most ``cap`` of ``n`` rows: all of them, or a seeded sample (stratified by ``y``).

    Examples
    --------
    >>> sample_rows(5, 10, 0).tolist()
    [0, 1, 2, 3, 4]
    >>> len(sample_rows(100, 10, 0))
    10
    """
    if n <= cap:
        return np.arange(n)
    from sklearn.model_selection import train_test_split

    kept, _ = train_test_split(np.arange(n), train_size=cap, random_state=seed, stratify=y)
    return np.sort(kept)


def check_labels(y: Any, n: int) -> np.ndarray:
    """``y`` as 0/1 int64 (1 = anomaly), one per row, both classes present: else one line."""
    y = binary_labels(y, n)
    if not 0 < y.sum() < len(y):
        kind = "anomalies" if y.sum() else "normal rows"
        raise DataError(
            f"the labelled rows are all {kind}; ROC-AUC needs both normal rows and anomalies"
        )
    return y


def figures(method: str, y: np.ndarray, scores: np.ndarray, seconds: float) -> dict[str, Any]:
    """A table row: ``method``'s ROC-AUC and PR-AUC of ``scores`` against ``y`` (1 = anomaly), and its seconds."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    ranked = ranking_scores(scores)
    return {
        "method": method,
        "roc_auc": float(roc_auc_score(y, ranked)),
        "pr_auc": float(average_precision_score(y, ranked)),
        "seconds": round(seconds, 3),
    }


def baseline_figures(
    y: np.ndarray, train: np.ndarray, rows: np.ndarray, seed: int
) -> list[dict[str, Any]]:
    """One table row per baseline (:data:`BASELINES`), each fitted on ``train`` and scoring ``rows``
    (both 2-D, in the detector's scaled units), against ``y`` (1 = anomaly)."""
    out = []
    for name, (method, _) in BASELINES.items():
        start = time.perf_counter()
        scores = method(train, rows, seed)
        out.append(figures(name, y, scores, time.perf_counter() - start))
    return out


def compare(detector: Any, X: Any, y: Any, X_train: Any) -> Comparison:
    """:class:`Comparison` of a fitted ``detector`` (an :class:`~aekit.AnomalyDetector`) with the baselines:
    fitted on ``X_train`` (its normal training rows), all scoring ``X`` against ``y`` (1 = anomaly).

    ``X`` and ``X_train`` are checked input (arrays or row stores); at most :data:`MAX_ROWS` and
    :data:`MAX_TRAIN_ROWS` of them are used (seeded samples with ``detector.seed``).
    """
    y = check_labels(y, len(X))
    if len(X_train) < 2:  # LOF needs a neighbour among them
        raise DataError(
            f"X_train has {len(X_train)} row; the baselines need at least 2 normal training rows"
        )
    seed = int(detector.seed)
    keep = sample_rows(len(X), MAX_ROWS, seed, y)
    fitted = sample_rows(len(X_train), MAX_TRAIN_ROWS, seed)
    rows, train, y_kept = _take(X, keep), _take(X_train, fitted), y[keep]
    start = time.perf_counter()
    scores = detector.decision_function(rows)
    own = figures(DETECTOR, y_kept, scores, time.perf_counter() - start)
    # the numbers the network sees: its scaler's output, each sample flattened to a row
    scaled = [detector.scaler_.transform(a).reshape(len(a), -1) for a in (train, rows)]
    return Comparison(
        rows=[own, *baseline_figures(y_kept, *scaled, seed)],
        n_train=len(fitted),
        n_train_total=len(X_train),
        n_rows=len(keep),
        n_rows_total=len(X),
        n_anomalies=int(y_kept.sum()),
        seed=seed,
    )


def _take(X: Any, idx: np.ndarray) -> np.ndarray:
    """The rows ``idx`` of an array or a row store (read from disk), in memory."""
    return np.asarray(X.take(idx) if is_row_store(X) else X[idx])
