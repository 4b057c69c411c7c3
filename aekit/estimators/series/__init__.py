"""The series detector: where in time a long signal goes wrong.

One module per concept: :mod:`.detector` (:class:`SeriesDetector`), :mod:`.inputs` (what a series
must be), :mod:`.trend` (detrending), :mod:`.neighbors` (nearest training windows),
:mod:`.windows` (window errors spread over steps, anomalous ranges) and :mod:`.metrics` (per-step
and range figures against labels). The threshold rules are shared with the table detector
(:mod:`aekit.estimators.thresholds`).
"""

from .detector import SeriesDetector
from .inputs import as_series
from .metrics import series_metrics, top_step
from .windows import AnomalyRange, RangeTracker, find_ranges, step_scores

__all__ = [
    "AnomalyRange",
    "RangeTracker",
    "SeriesDetector",
    "as_series",
    "find_ranges",
    "series_metrics",
    "step_scores",
    "top_step",
]
