"""A Dask DataFrame scored (or encoded) by a run: one ``map_partitions``, the model on the workers."""

from __future__ import annotations

import copy
import os
import threading
from typing import Any

from ..errors import ArgumentTypeError, UsageError, naming
from ..estimators.outputs import (
    is_table,
    output_columns,
    output_frame,
    output_kind,
    recorded_preparation,
)
from ..estimators.persistence import load, read_config
from ..estimators.thresholds import unread_rule_params
from .models import Shipped, key_of, model, model_files


def score(run: Any, ddf: Any, *, id_column: str | None = None, client: Any = None, **params):
    """Anomaly scores of every row of a Dask DataFrame, as a lazy Dask DataFrame.

    Parameters
    ----------
    run : str, Path or AnomalyDetector
        A run folder of ``aekit train anomaly`` (or a saved or fitted detector).
    ddf : dask.dataframe.DataFrame
        The rows: the model's columns by name (others are ignored).
    id_column : str, optional
        A column carried into the output first; default the run's recorded id column, when ``ddf``
        has it.
    client : distributed.Client, optional
        The cluster; default the current client, else Dask's local scheduler in this process.
    **params
        Threshold settings for this scoring (``threshold``, ``q``, ``k``, ``contamination``).

    Returns
    -------
    dask.dataframe.DataFrame
        ``[id,] score, is_anomaly[, p_value]`` with ``ddf``'s partitions and index.

    Examples
    --------
    >>> scores = aekit.dask.score("runs/ecg", dd.read_parquet("data/*.parquet"))   # doctest: +SKIP
    >>> scores.compute().head()                                                   # doctest: +SKIP
    """
    return _map(run, ddf, "scores", id_column, client, params)


def encode(run: Any, ddf: Any, *, id_column: str | None = None, client: Any = None):
    """Latent vectors ``z1 ... zk`` of every row of a Dask DataFrame (a basic, stacked or vae run).

    Parameters
    ----------
    run : str, Path or estimator
        A run folder of a table's autoencoder (or a saved or fitted one).
    ddf : dask.dataframe.DataFrame
        The rows: the model's columns by name.
    id_column : str, optional
        As in :func:`score`.
    client : distributed.Client, optional
        As in :func:`score`.

    Returns
    -------
    dask.dataframe.DataFrame
        ``[id,] z1, ..., zk`` with ``ddf``'s partitions and index.

    Examples
    --------
    >>> z = aekit.dask.encode("runs/table", ddf).compute()        # doctest: +SKIP
    """
    return _map(run, ddf, "latents", id_column, client, {})


def estimator(run: Any, kind: str, params: dict[str, Any]) -> Any:
    """The run's estimator for outputs of ``kind`` on tables, with ``params`` set (one line otherwise)."""
    if isinstance(run, (str, os.PathLike)):
        est = load(run, device="cpu")
    elif hasattr(run, "get_params") and hasattr(run, "save"):
        # a copy: this scoring's settings are not the caller's model's (a threshold given here
        # stayed set on it), and the lazy frame scores the model as it is now on any scheduler
        # (the local one read the caller's object at compute(), after any set_params or refit)
        est = copy.deepcopy(run)
    else:
        raise ArgumentTypeError(f"expected a run folder or a fitted aekit estimator, got {run!r}")
    if output_kind(est) != kind or not is_table(est):
        what = "an anomaly run" if kind == "scores" else "a basic, stacked or vae run"
        raise UsageError(f"{run} cannot be used here: expected {what} trained on a table")
    if params:
        est.set_params(**params)
        est.check_params()
        _refuse_unread(est, params)
    return est


def _refuse_unread(est: Any, params: dict[str, Any]) -> None:
    """A rule's parameter the run's threshold rule does not read (``k=2`` with ``fpr:0.05``): one
    line, as ``aekit score`` says it here (on the cluster it was dropped without a word)."""
    if not hasattr(est, "threshold_rule"):
        return
    given = [name for name in ("k", "q", "contamination") if name in params]
    for name, why in unread_rule_params(est, given).items():
        said = (
            f"does not apply to the threshold rule {est.threshold_rule().name!r}"
            if why == "unread"
            else f"is not used: threshold={est.threshold!r} carries its own value"
        )
        raise naming(UsageError(f"{name}={params[name]!r} {said}; drop {name}"), name)


def recorded_id_column(run: Any, columns) -> str | None:
    """The run's recorded id column when ``columns`` has it."""
    if not isinstance(run, (str, os.PathLike)):
        return None
    name = (read_config(run).get("data") or {}).get("id_column")
    return name if name in list(columns) else None


def ship(est: Any, client: Any = None, *, name: str | None = None) -> Shipped:
    """Make ``est`` available to the tasks: to every worker of ``client`` (a worker plugin that loads
    it once per worker, :mod:`aekit.dask.models`; ``name``: the plugin's, default one per model),
    else in this process (the tasks carry it); what the tasks carry."""
    files = model_files(est)
    key = key_of(files)
    if client is None:
        return Shipped(key, (est, threading.Lock()))
    from .plugin import ModelPlugin

    client.register_plugin(ModelPlugin(key, files), name=name or plugin_name(key))
    return Shipped(key)


def plugin_name(key: str) -> str:
    """The worker plugin of the model ``key`` shipped by :func:`score` or :func:`encode` (one per
    model: shipping it again replaces it)."""
    return f"aekit-model-{key}"


def current_client(client: Any = None) -> Any:
    """``client``, else the current dask.distributed client, else None."""
    if client is not None:
        return client
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _map(run: Any, ddf: Any, kind: str, id_column, client, params):
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd

    if not isinstance(ddf, dd.DataFrame):
        raise ArgumentTypeError(
            f"expected a Dask DataFrame, got {type(ddf).__module__}.{type(ddf).__qualname__}; "
            f"wrap a pandas DataFrame with dask.dataframe.from_pandas(df, npartitions=...)"
        )
    est = estimator(run, kind, params)
    id_column = id_column or recorded_id_column(run, ddf.columns)
    meta = pd.DataFrame({n: np.empty(0, t) for n, t in output_columns(est)})
    if id_column is not None:
        if id_column not in ddf.columns:
            raise UsageError(f"id_column {id_column!r} is not a column of the data")
        meta.insert(0, id_column, pd.Series([], dtype=ddf.dtypes[id_column]))
    prepare = recorded_preparation(run)
    shipped = ship(est, current_client(client))
    return ddf.map_partitions(_partition, shipped, id_column, prepare, meta=meta)


def _partition(frame: Any, shipped: Shipped, id_column: str | None, prepare: dict):
    """One partition's outputs, on a worker: its rows read as ``aekit score`` reads a chunk."""
    est, lock = model(shipped)
    with lock:
        return output_frame(est, frame, id_column=id_column, source="a partition", prepare=prepare)
