"""The anomaly detector: an autoencoder trained on normal rows, scored by what it cannot rebuild.

One module per concept: :mod:`.detector` (:class:`AnomalyDetector`), :mod:`.scores` (a
reconstruction as a score, the residual scale), :mod:`.density` (the code's local density in the
score), :mod:`.defaults` (sizes, the step budget, presets), :mod:`.calibration` (the normal rows
the threshold and p-values come from), :mod:`.report` (held-out figures, the score table) and
:mod:`.baselines` (the detector beside scikit-learn's kNN distance, IsolationForest and LOF on the
same rows). The threshold rules are shared with the series detector
(:mod:`aekit.estimators.thresholds`).
"""

from .baselines import Comparison
from .detector import AnomalyDetector
from .report import SCORE_COLUMNS, anomaly_metrics, feature_columns, score_table

__all__ = [
    "SCORE_COLUMNS",
    "AnomalyDetector",
    "Comparison",
    "anomaly_metrics",
    "feature_columns",
    "score_table",
]
