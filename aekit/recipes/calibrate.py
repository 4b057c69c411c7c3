"""``aekit calibrate``: a detector run's threshold rule or calibration scores changed, its weights not
(an anomaly detector of tables or of images, or a series detector).

The run folder is updated as one transaction (:func:`aekit.recipes.folder.updating`): config.json
is rewritten (the threshold rule in ``params``, the calibration scores in ``state``) and the figures
redrawn (below); ``model.safetensors`` and every other file are the same files as before, linked
into the new version.
Each calibration is recorded under ``calibrated`` in config.json: the rule and threshold before and
after, and the data it read (its path and checksum); metrics.json keeps the training threshold's
figures (``aekit evaluate RUN`` gives the new one's). The run's figures (their threshold lines)
are redrawn as ``aekit plot`` draws them, when its held-out data is there as it was; else a note
says they show the old threshold.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import _io
from .._notes import note
from ..errors import AekitError, UsageError
from ..estimators.persistence import CONFIG, estimator_config, version
from .folder import updating
from .run import load_run

# the runs with a threshold and calibration
DETECTORS = ("AnomalyDetector", "ImageAnomalyDetector", "SeriesDetector")


def calibrate_run(
    path: str | os.PathLike, *, normal: Any = None, source: Any = None, **rule: Any
) -> Any:
    """Set the threshold ``rule`` (``threshold="fpr:0.01"``, or ``k``, ``q``, ``contamination``)
    and/or recalibrate on the ``normal`` rows (new normal data the model never trained on; for a
    series run, a normal stretch; for an image run, good images, whose pixels also give the pixel
    threshold: ``pixel_threshold`` changes only with them) of the detector run ``path``; returns
    the detector. ``source``: the path ``normal`` was read from, recorded with its checksum."""
    since = version(path)  # the version read: written over only if still there
    est, recipe, config = load_run(path)
    if config.get("estimator") not in DETECTORS:
        raise UsageError(
            f"{path} holds {config.get('estimator')!r}, not a detector: 'aekit calibrate' needs a "
            f"run of 'aekit train anomaly' or 'aekit train series'"
        )
    if "pixel_threshold" in rule and normal is None:  # the calibration pixels are not kept
        raise UsageError(
            "a new pixel threshold is computed from good images' pixels, which the run does not "
            "keep: give the good images too (--data FOLDER)"
        )
    before = {"threshold": est.threshold, "value": float(est.threshold_)}
    if rule:
        est.set_params(**rule)
        est.check_params()  # a bad rule fails before anything is written
    if normal is not None:
        est.calibrate(normal)
    elif hasattr(est, "check_calibration"):
        est.check_calibration()
    est.threshold_  # noqa: B018  (a rule the calibration cannot serve is one line, before writing)
    config = {**config, "calibrated": [*config.get("calibrated", []), _record(est, before, source)]}
    # the run's own keys (seed, data, metrics, ...) kept as they were
    # the run's figures redrawn for the new threshold, as `aekit plot` draws them (left as they
    # were, the histogram's line stood at the old one); their data read before the run is opened
    held_out = _figure_data(recipe, config, Path(path))
    with updating(path, since) as work:
        _io.write_json(work / CONFIG, estimator_config(est, config))
        if held_out is not None:
            recipe.figures(est, held_out, work / "figures")
    return est


def _figure_data(recipe: Any, config: dict, path: Path) -> Any:
    """The held-out data the run's figures are drawn from; None where it has none (--no-figures, a
    model saved by est.save()) or where that data is not there as trained (moved, changed, a
    built-in dataset not on this machine), which a note says."""
    from .spec import DataSpec

    if not (path / "figures").is_dir() or "data" not in config:
        return None
    spec = DataSpec.from_json(config.get("data") or {}).reading_from(None)
    if not ((spec.data is not None and not Path(spec.data).exists()) or spec.changed()):
        try:  # a built-in dataset not where it was (the run copied to another machine) included
            return recipe.load_eval_data(spec, int(config.get("seed", 0)))
        except (AekitError, OSError):
            pass
    note(
        f"{path / 'figures'} still shows the threshold before this calibration: the run's data "
        f"({spec.data or spec.dataset}) is not there as it was trained on; put it back and run "
        f"'aekit plot {path}'"
    )
    return None


def _record(est: Any, before: dict, source: Any) -> dict[str, Any]:
    """What one calibration changed, for config.json's ``calibrated`` list: without it the run no
    longer said which rule made metrics.json's figures, nor what data its threshold came from."""
    from .spec import DataSpec

    entry: dict[str, Any] = {
        "threshold": [before["threshold"], est.threshold],
        "threshold_value": [before["value"], float(est.threshold_)],
    }
    if source is not None:
        entry["data"] = str(Path(source).resolve())
        entry["checksums"] = DataSpec(data=str(source)).fingerprint()
    return entry
