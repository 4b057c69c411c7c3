"""``aekit calibrate``: a detector run's threshold rule or calibration scores changed, its weights not.

The run folder is updated as one transaction (:func:`aekit.recipes.folder.updating`): only
config.json is rewritten (the threshold rule in ``params``, the calibration scores in ``state``);
``model.safetensors`` and every other file are the same files as before, linked into the new version.
"""

from __future__ import annotations

import os
from typing import Any

from .. import _io
from ..errors import UsageError
from ..estimators.persistence import CONFIG, estimator_config
from .folder import updating
from .run import load_run


def calibrate_run(path: str | os.PathLike, *, normal: Any = None, **rule: Any) -> Any:
    """Set the threshold ``rule`` (``threshold="fpr:0.01"``, or ``k``, ``q``, ``contamination``)
    and/or recalibrate on the ``normal`` rows (new normal data the model never trained on) of the
    detector run ``path``; returns the detector."""
    est, _, config = load_run(path)
    if config.get("estimator") != "AnomalyDetector":
        raise UsageError(
            f"{path} holds {config.get('estimator')!r}, not an AnomalyDetector: 'aekit calibrate' "
            f"needs a run of 'aekit train anomaly'"
        )
    if rule:
        est.set_params(**rule)
        est.check_params()  # a bad rule fails before anything is written
    if normal is not None:
        est.calibrate(normal)
    else:
        est.check_calibration()
    with updating(path) as work:  # the run's own keys (seed, data, metrics, ...) kept as they were
        _io.write_json(work / CONFIG, estimator_config(est, config))
    return est
