"""What an anomaly detector's scores say: held-out figures against labels, and a score table.

Kept apart from :mod:`aekit.estimators.anomaly` (which re-exports both): they work on scores,
not on the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import DataError
from ..thresholds import p_values
from ..validation import ranking_scores


def anomaly_metrics(y_anomaly: Any, scores: Any, threshold: float) -> dict[str, Any]:
    """Held-out figures of anomaly scores against labels (1 = anomaly, 0 = normal).

    Returns ``accuracy``, ``precision``, ``recall``, ``f1`` (positive class: anomaly),
    ``precision_normal``, ``recall_normal`` (positive class: normal, the tutorials'
    convention), ``roc_auc`` and ``pr_auc`` (``None`` unless both classes occur; so are the
    figures of the class that does not, with ``warnings`` naming it),
    ``threshold``, ``confusion_matrix`` (rows: true normal, anomaly; columns: predicted)
    and ``n_samples``, ``n_anomalies``.

    Examples
    --------
    >>> anomaly_metrics([0, 0, 1], [0.1, 0.2, 0.9], 0.5)["accuracy"]
    1.0
    """
    from sklearn import metrics as m

    y = np.asarray(y_anomaly).astype(np.int64).ravel()
    s = ranking_scores(scores)
    pred = (s > threshold).astype(np.int64)
    both = 0 < y.sum() < len(y)
    out: dict[str, Any] = {
        "accuracy": float(m.accuracy_score(y, pred)),
        "precision": float(m.precision_score(y, pred, zero_division=0)),
        "recall": float(m.recall_score(y, pred, zero_division=0)),
        "f1": float(m.f1_score(y, pred, zero_division=0)),
        "precision_normal": float(m.precision_score(1 - y, 1 - pred, zero_division=0)),
        "recall_normal": float(m.recall_score(1 - y, 1 - pred, zero_division=0)),
        "roc_auc": float(m.roc_auc_score(y, s)) if both else None,
        "pr_auc": float(m.average_precision_score(y, s)) if both else None,
        "threshold": float(threshold),
        "confusion_matrix": m.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        # of the normal rows, the share flagged: what a threshold "fpr:RATE" promises to keep <= RATE
        "false_alarm_rate": float(pred[y == 0].mean()) if (y == 0).any() else None,
        "n_samples": int(len(y)),
        "n_anomalies": int(y.sum()),
    }
    return _one_class(out, y)


# what one class's absence leaves undefined (0/0): the figures set to None, and those None already
UNDEFINED = {
    "anomalous (1)": (("precision", "recall", "f1"), ("roc_auc", "pr_auc")),
    "normal (0)": (
        ("precision_normal", "recall_normal"),
        ("false_alarm_rate", "roc_auc", "pr_auc"),
    ),
}


def _one_class(out: dict[str, Any], y: np.ndarray) -> dict[str, Any]:
    """``out`` with the figures that one class's absence leaves undefined as None, not
    scikit-learn's 0 (a recall of 0 reads as every anomaly missed), and a warning naming the
    missing class, as a series' evaluate words it."""
    if not len(y) or 0 < y.sum() < len(y):
        return out
    missing, left = ("anomalous (1)", "normal") if y.sum() == 0 else ("normal (0)", "anomalous")
    undefined, already = UNDEFINED[missing]
    out.update(dict.fromkeys(undefined))
    out["warnings"] = [
        f"no sample is labelled {missing}: {', '.join(undefined + already)} are undefined "
        f"(null); the other figures count {left} samples alone"
    ]
    return out


SCORE_COLUMNS = ("score", "is_anomaly", "p_value")


def score_table(
    detector: Any,
    X: Any,
    *,
    ids: Sequence[Any] | None = None,
    sep: str = ",",
    header: bool = True,
    features: bool = False,
) -> str:
    """CSV text with one row per sample: ``[id,] score, is_anomaly, p_value`` (with a header row unless
    ``header=False``); ``p_value`` is the conformal p-value (:meth:`AnomalyDetector.p_values`).
    ``features=True`` adds each feature's part of the score (:meth:`AnomalyDetector.feature_errors`),
    under :func:`feature_columns`.

    Examples
    --------
    >>> print(score_table(det, X[:2]))          # doctest: +SKIP
    score,is_anomaly,p_value
    0.0213,0,0.5742574257425742
    0.0871,1,0.009900990099009901
    """
    import io

    from ..._io import CsvRows

    scores = detector.decision_function(X)
    flags = (scores > detector.threshold_).astype(np.int64)
    pvals = p_values(detector.calibration_scores_, scores)
    if ids is not None and len(ids) != len(scores):
        raise DataError(f"ids has {len(ids)} values but X has {len(scores)} samples")
    parts = detector.feature_errors(X).reshape(len(scores), -1) if features else None
    out, line = [], io.StringIO()
    # one line at a time through the csv writer, which quotes an id that needs it (a separator,
    # a quote, a line break); the feature errors (numbers only, often hundreds a row) are put after
    # it by one %-format per row, twice as fast as a cell each through the writer
    writer = CsvRows(line, delimiter=sep)

    def cells(row: list) -> str:
        line.seek(0)
        line.truncate()
        writer.writerow(row)
        return line.getvalue()[:-1]  # without its line end: the numbers go on

    if header:
        extra = feature_columns(detector) if features else []
        out.append(cells((["id"] if ids is not None else []) + list(SCORE_COLUMNS) + extra))
    # 9 significant digits read a float32 error back equal, repr a float64 p-value (as the scores)
    numbers = "" if parts is None else sep + sep.join(["%.9g"] * parts.shape[1])
    for i, (s, f, p) in enumerate(zip(scores, flags, pvals)):
        row = ([ids[i]] if ids is not None else []) + [repr(float(s)), int(f), repr(float(p))]
        # a row at a time as Python floats: the whole chunk's would take 8x its array's memory
        out.append(cells(row) + ("" if parts is None else numbers % tuple(parts[i].tolist())))
    return "".join(f"{text}\n" for text in out)


def feature_columns(detector: Any) -> list[str]:
    """The header of :func:`score_table`'s per-feature columns: ``error_NAME`` for each of the
    training table's columns, else ``error_0``, ``error_1``, ... over the flattened sample."""
    names = getattr(detector, "feature_names_in_", None)
    if names is None:
        names = range(int(np.prod(detector.input_shape_)))
    return [f"error_{name}" for name in names]
