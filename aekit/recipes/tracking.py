"""A run of ``aekit train`` tracked in MLflow (``--mlflow``): what the run adds to the training's log.

The training itself logs the estimator's parameters and each epoch's losses (the run's
:class:`aekit.Trainer` holds the :class:`aekit.training.mlflow.MLflowLog`); around it the run logs
its family and data before training and, once the run folder is complete, the held-out metrics of
``metrics.json``, the run folder (figures included; ``checkpoint/`` left out) under ``run/`` and an
MLflow model of it under ``model/`` (:mod:`aekit.mlflow`), loadable as ``runs:/RUN_ID/model``.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..training import distributed
from ..training.mlflow import MLflowLog
from .spec import DataSpec

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def tracked(log: MLflowLog | None, family: str, spec: DataSpec) -> Iterator[MLflowLog | None]:
    """Start the MLflow run (before any data is read: a tracking server that does not answer is one
    line at once) with the run's family and data; a failure inside ends it as FAILED."""
    if log is None or not distributed.is_main_process():
        yield None
        return
    log.start()
    data = {f"data.{k}": v for k, v in spec.to_json().items() if v is not None}
    log.log_params({"family": family, **data})
    try:
        yield log
    except BaseException:
        log.end("FAILED")
        raise


def finish(log: MLflowLog | None, out: Path, est: Any, metrics: dict[str, Any]) -> None:
    """The held-out metrics, the run folder and its MLflow model into the MLflow run; then end it."""
    if log is None:
        return
    log.log_metrics(metrics)
    log.log_folder(out, "run")
    _log_model(log, out, est)
    log.end()


def _log_model(log: MLflowLog, out: Path, est: Any) -> None:
    from ..estimators.outputs import output_kind
    from ..mlflow.flavour import save_model

    try:
        output_kind(est)
    except UsageError:
        logger.info("MLflow: a %s run has no MLflow model (no per-row outputs)", type(est).__name__)
        return
    with tempfile.TemporaryDirectory(prefix="aekit-mlflow-") as tmp:
        save_model(out, Path(tmp) / "model")
        log.log_folder(Path(tmp) / "model", "model")
