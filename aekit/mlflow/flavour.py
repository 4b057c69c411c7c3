"""An aekit run as an MLflow model: :func:`save_model`, :func:`log_model`, :func:`model_signature`.

The model folder MLflow writes holds no pickle: ``MLmodel`` (the ``python_function`` flavour with
its signature), ``model_code.py`` (MLflow's "models from code": it names
:class:`aekit.mlflow.pyfunc.AekitModel`), ``artifacts/run/`` (the run's ``config.json`` and
``model.safetensors``, read by :func:`aekit.load`) and the environment files (``requirements.txt``,
``python_env.yaml``, ``conda.yaml``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .._manifest import check_replaceable
from .._outputs import check_save_target
from .._transaction import followed, readable, staged_folder
from .._version import __version__
from ..errors import ArgumentTypeError, UsageError
from ..estimators.outputs import (
    input_columns,
    output_columns,
    output_kind,
    raw_columns,
    recorded_preparation,
)
from ..estimators.persistence import CONFIG, WEIGHTS, as_path, load
from ..training.mlflow import require_mlflow

CODE = Path(__file__).with_name("model_code.py")
RUN_FILES = (CONFIG, WEIGHTS, "metrics.json")  # what the model carries of a run folder
_COLUMN_TYPES = {"float64": "double", "int64": "long", "float32": "float"}


def model_signature(est: Any, categorical: Any = None):
    """The MLflow signature of a fitted estimator's model: its inputs and outputs.

    A table with column names: one ``double`` column per feature, by name (extra columns are
    ignored; integers up to 32 bits are accepted, cast 64-bit ones to float), and one ``string``
    column per ``categorical`` column the run encodes (``color`` for its ``color=red``, ...).
    Images, or a table fitted without names: one float32 tensor of the training samples' shape.
    Outputs: the columns of :func:`aekit.estimators.outputs.output_columns`.

    Parameters
    ----------
    est : estimator
        A fitted AnomalyDetector, ImageAnomalyDetector, Autoencoder or VAE.
    categorical : list of str, optional
        The text columns the run encodes (``--categorical``, recorded in its config.json).

    Returns
    -------
    mlflow.models.ModelSignature

    Examples
    --------
    >>> print(model_signature(aekit.load("runs/ecg")).outputs)    # doctest: +SKIP
    ['score': double (required), 'is_anomaly': long (required)]
    """
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    output_kind(est)  # one line for an estimator without row outputs
    names = input_columns(est)
    if names is not None:
        columns = raw_columns(names, categorical)
        inputs = Schema(
            [ColSpec("string" if text else "double", n, required=r) for n, (text, r) in columns]
        )
    else:
        inputs = Schema([TensorSpec(np.dtype(np.float32), (-1, *est.input_shape_))])
    outputs = Schema([ColSpec(_COLUMN_TYPES[t], n) for n, t in output_columns(est)])
    return ModelSignature(inputs=inputs, outputs=outputs)


def default_requirements() -> list[str]:
    """What a serving environment installs: this aekit with its MLflow extra (pandas, and pyarrow
    for a run's categorical and filled columns) and torch (MLflow adds itself)."""
    import torch

    return [f"aekit[mlflow]=={__version__}", f"torch=={torch.__version__.split('+')[0]}"]


@contextlib.contextmanager
def model_artifact(run_or_estimator: Any) -> Iterator[tuple[Path, Any]]:
    """(a temporary folder with the files of the run that the model carries, the estimator).

    A run folder (or a model saved by ``est.save``) is copied; a fitted estimator is saved.
    """
    with tempfile.TemporaryDirectory(prefix="aekit-mlflow-") as tmp:
        folder = Path(tmp) / "run"
        if isinstance(run_or_estimator, (str, os.PathLike)):
            est = load(run_or_estimator, device="cpu")
            source = readable(Path(run_or_estimator))
            folder.mkdir()
            for name in RUN_FILES:
                if (source / name).is_file():
                    shutil.copyfile(source / name, folder / name)
        elif hasattr(run_or_estimator, "save") and hasattr(run_or_estimator, "get_params"):
            est = run_or_estimator
            output_kind(est)  # before saving: a Denoiser is refused, fitted or not
            est.save(folder)
        else:
            raise ArgumentTypeError(
                f"expected a run folder or a fitted aekit estimator, got {run_or_estimator!r}"
            )
        output_kind(est)
        yield folder, est


def _pyfunc_options(est: Any, folder: Path, pip_requirements, extra_pip_requirements, metadata):
    return {
        "python_model": str(CODE),
        "artifacts": {"run": str(folder)},
        "signature": model_signature(est, recorded_preparation(folder).get("categorical")),
        "pip_requirements": default_requirements()
        if pip_requirements is None and extra_pip_requirements is None
        else pip_requirements,
        "extra_pip_requirements": extra_pip_requirements,
        "metadata": {
            "aekit_version": __version__,
            "estimator": type(est).__name__,
            **(metadata or {}),
        },
    }


def save_model(
    run_or_estimator: Any,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write an MLflow model of a run (or of a fitted estimator) into the folder ``path``.

    The folder is built beside ``path`` and swapped in whole once complete, with aekit's manifest
    (:mod:`aekit._manifest`), as a run folder is (:mod:`aekit._transaction`). ``overwrite``
    replaces only what aekit wrote: the files of yours in an MLflow model aekit wrote are kept in
    the new one, a folder aekit did not write (another library's MLflow model) is refused, and a
    symbolic link to a folder stays a link: the folder it names is replaced.

    Parameters
    ----------
    run_or_estimator : str, Path or estimator
        A run folder of ``aekit train`` (or a model saved by ``est.save``), or a fitted
        AnomalyDetector, ImageAnomalyDetector, Autoencoder or VAE.
    path : str or Path
        The model folder to write (new, empty, or an MLflow model of aekit's to replace with
        ``overwrite``).
    overwrite : bool, default False
        Replace the MLflow model that aekit wrote at ``path`` (its files only).
    pip_requirements, extra_pip_requirements : list of str, optional
        The serving environment's packages (MLflow's meaning); default ``aekit`` and ``torch`` at
        this machine's versions.
    metadata : dict, optional
        Added to the model's metadata (beside ``aekit_version`` and ``estimator``).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> aekit.mlflow.save_model("runs/ecg", "ecg-model")               # doctest: +SKIP
    >>> mlflow.pyfunc.load_model("ecg-model").predict(df)              # doctest: +SKIP
    """
    require_mlflow()
    import mlflow

    path = followed(as_path(path, "path"))  # a link to a folder: that folder is written
    _check_model_path(path, overwrite)
    with model_artifact(run_or_estimator) as (folder, est):
        options = _pyfunc_options(est, folder, pip_requirements, extra_pip_requirements, metadata)
        with staged_folder(path, "mlflow") as work:
            # MLflow writes only into a new folder, and the staging folder holds aekit's marker:
            # a folder inside it, whose files are then moved up (it is gone before the commit)
            model = work / ".mlflow-model.tmp"
            with _quiet():
                mlflow.pyfunc.save_model(str(model), **options)
            for entry in model.iterdir():
                os.rename(entry, work / entry.name)
            model.rmdir()
    return path


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No progress bar from MLflow copying the run's files (unless the user asked for one), no warning
    that the model has no input example (its signature is explicit)."""
    import warnings

    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    mine = key not in os.environ
    if mine:
        os.environ[key] = "false"
    try:
        with warnings.catch_warnings():  # the signature is given, so no example is needed
            warnings.filterwarnings("ignore", message=".*input example was not provided")
            yield
    finally:
        if mine:
            os.environ.pop(key, None)


def _check_model_path(path: Path, overwrite: bool) -> None:
    """``path`` is new, an empty folder, or (with ``overwrite``) an MLflow model that aekit wrote; a
    folder of the user's is said first (overwrite would not replace it either)."""
    check_save_target(path, overwrite, "an MLflow model")
    if os.path.lexists(path) and not path.is_dir():
        raise UsageError(f"cannot save an MLflow model to {path}: it is a file; expected a folder")
    check_replaceable(path, "mlflow", option="save to", shown=str(path))
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise UsageError(f"{path} already exists; pass overwrite=True to replace it")


def log_model(
    run_or_estimator: Any,
    name: str = "model",
    *,
    registered_model_name: str | None = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
):
    """Log an MLflow model of a run (or of a fitted estimator) to the active MLflow run.

    MLflow's own ``mlflow.pyfunc.log_model`` with aekit's model (see :func:`save_model`): the
    tracking URI and run are MLflow's (``mlflow.set_tracking_uri``, ``with mlflow.start_run()``).

    Parameters
    ----------
    run_or_estimator : str, Path or estimator
        A run folder, a saved model, or a fitted AnomalyDetector, ImageAnomalyDetector, Autoencoder or VAE.
    name : str, default "model"
        The model's name in the run.
    registered_model_name : str, optional
        Also register it in the model registry under this name.
    pip_requirements, extra_pip_requirements, metadata
        As in :func:`save_model`.

    Returns
    -------
    mlflow.models.model.ModelInfo
        ``.model_uri`` loads it: ``mlflow.pyfunc.load_model(info.model_uri)``.

    Examples
    --------
    >>> with mlflow.start_run():                                          # doctest: +SKIP
    ...     info = aekit.mlflow.log_model("runs/ecg", registered_model_name="ecg")
    """
    require_mlflow()
    import mlflow

    with model_artifact(run_or_estimator) as (folder, est):
        options = _pyfunc_options(est, folder, pip_requirements, extra_pip_requirements, metadata)
        with _quiet():
            return mlflow.pyfunc.log_model(
                name=name, registered_model_name=registered_model_name, **options
            )
