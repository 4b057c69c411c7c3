"""MLflow tracking of a training run: a callback of the shared loop, like TensorBoard's.

:class:`MLflowLog` records in one MLflow run, through MLflow's own client:

* the parameters it is given (the estimator's, and the recipe's data and family for ``aekit train``);
* per epoch (MLflow's ``step`` is the epoch number): ``train_loss``, ``val_loss``, ``seconds``;
* on request, more metrics (the held-out figures of ``metrics.json``) and folders as artifacts
  (the run folder, the MLflow model).

It talks to MLflow through an ``MlflowClient`` and the run's id, never through MLflow's global
"active run", so it neither changes nor needs the caller's MLflow state: the tracking URI is the one
given, else MLflow's own (``MLFLOW_TRACKING_URI``, ``mlflow.set_tracking_uri``). Inside a
``with mlflow.start_run():`` block with no URI given, it logs into that run and leaves it open.

This module knows nothing of estimators: what to log comes in as plain dicts and folders. MLflow
is an optional extra (``pip install 'aekit[mlflow]'``: the ``mlflow-skinny`` client).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ArgumentTypeError, RunFailure, UsageError, one_line
from . import distributed

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "MLflow tracking needs the MLflow client: pip install 'aekit[mlflow]' (mlflow-skinny)"
)
EPOCH_METRICS = ("train_loss", "val_loss", "seconds")
MAX_PARAM = 6000  # MLflow's longest parameter value (characters)
SKIP = (
    "checkpoint",
)  # folders of a run not logged as artifacts: the optimizer state to resume from


def require_mlflow() -> None:
    """Raise one clear line when the MLflow client is missing (before any training starts)."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


# The first contact with a tracking server (the experiment, the new run) is tried once, each
# request given this many seconds: MLflow's defaults (7 retries with exponential backoff, a 120 s
# timeout) keep a command waiting about 4 minutes on a server that refuses connections, where a
# server that does not answer should stop the command at once (docs/guide/stack.md). Later calls,
# on a server that did answer, keep MLflow's retries. A value the user set in the environment wins.
FIRST_CONTACT_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


@contextlib.contextmanager
def _first_contact() -> Iterator[None]:
    """MLflow's HTTP retries and timeout capped (:data:`FIRST_CONTACT_ENV`) inside, restored after."""
    unset = [k for k in FIRST_CONTACT_ENV if k not in os.environ]
    os.environ.update({k: FIRST_CONTACT_ENV[k] for k in unset})
    try:
        yield
    finally:
        for k in unset:
            os.environ.pop(k, None)


@contextlib.contextmanager
def _quiet_retries() -> Iterator[None]:
    """urllib3's "Retrying (...)" warnings kept off the user's terminal: a failure is one line."""
    pool = logging.getLogger("urllib3.connectionpool")
    level = pool.level
    pool.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        pool.setLevel(level)


def _mlflow_call(what: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; an MLflow error (a bad URI, a server that does not answer) as one line."""
    try:
        with _quiet_retries():
            return fn(*args, **kwargs)
    except (UsageError, RunFailure):
        raise
    except Exception as exc:  # MlflowException, requests' errors, OSError of a file store
        raise RunFailure(f"MLflow: cannot {what}: {one_line(exc)[:600]}") from None


class MLflowLog:
    """A training-loop callback logging parameters, per-epoch metrics and artifacts to MLflow.

    Parameters
    ----------
    tracking_uri : str, optional
        The tracking server or store (``http://host:5000``, ``databricks``, ``file:/path``...);
        default MLflow's own: ``MLFLOW_TRACKING_URI``, else its default store.
    experiment : str, optional
        The experiment's name (made when missing); default ``MLFLOW_EXPERIMENT_NAME``, else MLflow's
        default experiment.
    run_name : str, optional
        The MLflow run's name (default: MLflow picks one).
    end_after_fit : bool, default True
        End the MLflow run when ``fit`` returns (False: the caller ends it with :meth:`end`, after
        logging more, as ``aekit train`` does with the held-out metrics and the run folder).

    Examples
    --------
    >>> est.fit(X, mlflow=MLflowLog("http://localhost:5000", experiment="ecg"))   # doctest: +SKIP
    >>> est.fit(X, mlflow=True)      # MLFLOW_TRACKING_URI, or MLflow's default   # doctest: +SKIP
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        *,
        end_after_fit: bool = True,
    ):
        require_mlflow()
        for name, value in (("tracking_uri", tracking_uri), ("experiment", experiment)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ArgumentTypeError(f"{name} must be a non-empty string, got {value!r}")
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_name = run_name
        self.end_after_fit = end_after_fit
        self.run_id: str | None = None
        self._client = None
        self._owned = False  # we created the run, so we end it
        self._ended = False

    # ---- the run -------------------------------------------------------------------------------
    def start(self) -> MLflowLog:
        """Create the MLflow run (or join the caller's active one); a second call does nothing."""
        if (self.run_id is not None and not self._ended) or not distributed.is_main_process():
            return self
        import mlflow

        active = mlflow.active_run() if self.tracking_uri is None else None
        self._client = _mlflow_call("connect", mlflow.MlflowClient, self.tracking_uri)
        if active is not None and self.experiment is None:
            self.run_id = active.info.run_id
            return self
        with _first_contact():  # a server that does not answer: one line at once
            experiment_id = self._experiment_id()
            run = _mlflow_call(
                f"start a run in {self._client.tracking_uri}",
                self._client.create_run,
                experiment_id,
                run_name=self.run_name,
                tags={"aekit": "1"},
            )
        self.run_id, self._owned, self._ended = run.info.run_id, True, False
        logger.info("MLflow run %s at %s", self.run_id, self._client.tracking_uri)
        return self

    def _experiment_id(self) -> str:
        name = self.experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if name is None:
            return os.environ.get("MLFLOW_EXPERIMENT_ID", "0")  # MLflow's "Default" experiment
        found = _mlflow_call("read the experiments", self._client.get_experiment_by_name, name)
        if found is not None:
            return found.experiment_id
        return _mlflow_call(f"create the experiment {name!r}", self._client.create_experiment, name)

    def end(self, status: str = "FINISHED") -> None:
        """End the MLflow run if this log created it (``status``: FINISHED, FAILED or KILLED)."""
        if self.run_id is not None and self._owned:
            _mlflow_call("end the run", self._client.set_terminated, self.run_id, status)
            self._owned, self._ended = False, True  # a second fit starts another run

    # ---- what is logged ------------------------------------------------------------------------
    def log_params(self, params: Mapping[str, Any], prefix: str = "") -> None:
        """Parameters as text (MLflow's params are strings; tuples read as ``(64, 32)``)."""
        if self.start().run_id is None:
            return
        from mlflow.entities import Param

        items = [Param(f"{prefix}{k}", str(v)[:MAX_PARAM]) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
            _mlflow_call(
                "log the parameters", self._client.log_batch, self.run_id, params=items[i : i + 100]
            )

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """The finite numbers among ``metrics`` (nested dicts as ``outer.inner``); the rest is skipped."""
        if self.start().run_id is None:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, v, now, step or 0) for k, v in _numbers(metrics)]
        for i in range(0, len(items), 1000):
            _mlflow_call(
                "log metrics", self._client.log_batch, self.run_id, metrics=items[i : i + 1000]
            )

    def log_folder(self, folder: str | Path, artifact_path: str | None = None) -> None:
        """The files of ``folder`` as the run's artifacts under ``artifact_path`` (``checkpoint/`` left out)."""
        if self.start().run_id is None:
            return
        folder = Path(folder)
        for item in sorted(folder.iterdir()):
            if item.name in SKIP or item.name.startswith("."):
                continue
            where = "/".join(p for p in (artifact_path, item.name if item.is_dir() else None) if p)
            log = self._client.log_artifacts if item.is_dir() else self._client.log_artifact
            _mlflow_call(f"log {item} as an artifact", log, self.run_id, str(item), where or None)

    # ---- the loop's hooks ----------------------------------------------------------------------
    def on_train_begin(self, epochs: int, steps: int) -> None:
        self.start()

    def on_epoch_end(self, record: dict) -> None:
        epoch = int(record["epoch"])
        self.log_metrics({k: record.get(k) for k in EPOCH_METRICS}, step=epoch)

    def fit_ended(self, failed: bool) -> None:
        """Called by the Trainer when ``fit`` ends: a failure ends the run as FAILED; success ends it
        when ``end_after_fit``."""
        if failed:
            self.end("FAILED")
        elif self.end_after_fit:
            self.end()


def _numbers(metrics: Mapping[str, Any], prefix: str = ""):
    """(key, float) for each finite number in ``metrics``, nested dicts flattened with dots."""
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _numbers(value, f"{name}.")
        elif _is_number(value) and math.isfinite(value):
            yield name, float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def mlflow_log(value: Any) -> MLflowLog | None:
    """The log a Trainer's ``mlflow`` field asks for: None/False none, True MLflow's defaults, a
    string a tracking URI, or an :class:`MLflowLog` as it is."""
    if value is None or value is False:
        return None
    if isinstance(value, MLflowLog):
        return value
    if value is True:
        return MLflowLog()
    if isinstance(value, str):
        return MLflowLog(value)
    raise ArgumentTypeError(
        f"mlflow must be True, a tracking URI or an aekit.mlflow.MLflowLog, got {value!r}"
    )
