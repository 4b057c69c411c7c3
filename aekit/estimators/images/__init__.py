"""Image anomaly detection with per-pixel anomaly maps.

One module per concept: :mod:`.detector` (:class:`ImageAnomalyDetector`: fit on good images, a
score and a map per image, the image- and pixel-level thresholds) and :mod:`.metrics` (image
ROC-AUC and PR-AUC, pixel ROC-AUC and PRO). The maps' models live in :mod:`aekit.models.patchbank`
and :mod:`aekit.models.ssimae`; the labelled defects of the benchmark and the tests in
:mod:`aekit.data.defects`.
"""

from .detector import ImageAnomalyDetector
from .metrics import PRO_MAX_FPR, image_map_metrics, pixel_roc_auc, pro_curve, pro_score

__all__ = [
    "PRO_MAX_FPR",
    "ImageAnomalyDetector",
    "image_map_metrics",
    "pixel_roc_auc",
    "pro_curve",
    "pro_score",
]
