"""What a fitted estimator answers for rows, as named columns: the one definition that the MLflow
model (:mod:`aekit.mlflow`) and Dask scoring (:mod:`aekit.dask`) both read.

======================  ==============================================================================
estimator               columns
======================  ==============================================================================
``AnomalyDetector``     ``score`` (float64), ``is_anomaly`` (int64: score above ``threshold_``), and
                        ``p_value`` (float64: the scores' conformal p-values against the
                        detector's ``calibration_scores_``, one pass of the network for both)
``ImageAnomalyDetector``  the same per image (from its map's highest values; the maps themselves are
                        ``anomaly_maps``, and ``aekit serve``'s ``map``)
``Autoencoder``, ``VAE``  ``z1`` ... ``zk`` (float32): the latent vectors of :meth:`transform`
======================  ==============================================================================

A table's columns are picked by name when the model knows its feature names
(:func:`aekit.data.columns_by_name`, as ``aekit score`` does: others are ignored, a missing one is
one line); images come as arrays of the training images' shape.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from typing import Any

import numpy as np

from ..data import Data, columns_by_name
from ..data.checks import fail, to_float32
from ..data.encoding import SEPARATOR
from ..errors import UsageError
from .thresholds import p_values

#: The estimators whose outputs have columns, and what they give.
KINDS = {
    "AnomalyDetector": "scores",
    "ImageAnomalyDetector": "scores",
    "Autoencoder": "latents",
    "VAE": "latents",
}


def output_kind(est: Any) -> str:
    """``"scores"`` or ``"latents"``; one line for an estimator without row outputs.

    Examples
    --------
    >>> output_kind(aekit.AnomalyDetector())       # doctest: +SKIP
    'scores'
    """
    kind = KINDS.get(type(est).__name__)
    if kind is None:
        raise UsageError(
            f"a {type(est).__name__} has no per-row outputs to serve; expected a run of "
            f"'aekit train anomaly' (scores, of rows or images) or of basic, stacked or vae "
            f"(latent vectors)"
        )
    return kind


def input_columns(est: Any) -> list[str] | None:
    """The names of the table columns the model reads, in order (None: images, or no names known)."""
    names = getattr(est, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def is_table(est: Any) -> bool:
    """Whether the model reads rows of numbers (a table) rather than images."""
    return len(est.input_shape_) == 1


def output_columns(est: Any) -> list[tuple[str, str]]:
    """(name, numpy dtype) of each output column, in order."""
    if output_kind(est) == "scores":
        calibrated = getattr(est, "calibration_scores_", None) is not None
        extra = [("p_value", "float64")] if calibrated else []
        return [("score", "float64"), ("is_anomaly", "int64"), *extra]
    code = math.prod(est.latent_shape_)  # latent_dim may be 'auto', or the user's encoder's
    return [(f"z{i + 1}", "float32") for i in range(code)]


def outputs(est: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """The output columns (:func:`output_columns`) for the samples ``x`` (raw rows or images).

    Examples
    --------
    >>> outputs(det, X)["score"]                    # doctest: +SKIP
    array([0.021, 0.087])
    """
    columns = output_columns(est)
    if len(x) == 0:
        return {name: np.empty(0, dtype) for name, dtype in columns}
    if output_kind(est) == "latents":
        z = est.transform(x)
        return {name: z[:, i] for i, (name, _) in enumerate(columns)}
    scores = est.decision_function(x)
    out = {
        "score": scores.astype(np.float64),
        "is_anomaly": (scores > est.threshold_).astype(np.int64),
    }
    if "p_value" in dict(columns):
        out["p_value"] = p_values(est.calibration_scores_, scores)  # as est.p_values(x), once
    return out


def table_rows(
    est: Any,
    frame: Any,
    *,
    id_column: str | None = None,
    source: str = "input",
    prepare: dict | None = None,
    first_row: int = 1,
):
    """The model's columns of a pandas DataFrame as float32 rows, picked by name when it knows them.

    Without known names the frame's columns are taken in order (``id_column`` left out). A column
    that is not numbers, a missing value or a missing column is one line (:class:`DataError`).
    With ``prepare`` (the run's recorded ``categorical`` and ``fill_values``), rows with anything to
    prepare are read as ``aekit score`` reads a chunk of a table
    (:func:`aekit.data.parquet.read_frame`, which needs pyarrow): the categorical columns one-hot
    encoded, missing cells filled (rows numbered from ``first_row`` in messages).
    """
    names = input_columns(est)
    if prepare is not None and names is not None and not _plain(frame, names, prepare):
        return _prepared_rows(frame, names, source, prepare, first_row)
    labels = {str(c): c for c in frame.columns}
    if names is None:
        have = [c for c in labels if c != id_column]
    else:
        have = [n for n in names if n in labels]
    parts = []
    for name in have:
        values = frame[labels[name]].to_numpy()
        if values.dtype.kind not in "biuf":
            raise fail(f"{source}: column {name!r} has type {values.dtype}; expected numbers")
        parts.append(values)
    x = np.column_stack(parts) if parts else np.empty((len(frame), 0), np.float32)

    def where(index) -> str:
        return f"at row {index[0]}, column {have[index[1]]!r}"

    data = Data(x=to_float32(x, source, where), feature_names=have, source=source)
    return columns_by_name(data, names)


def raw_columns(names: list[str], categorical: Any) -> list[tuple[str, tuple[bool, bool]]]:
    """(column, (text, required)) of the table a user gives a model of features ``names`` whose run
    encodes the ``categorical`` columns: an encoded feature (``color=red``, a date's days) is its
    text column, as ``aekit score`` reads a table (an MLflow signature or a served model that asked
    for the one-hot names refused a table of the run's own columns). A ``color=red`` stays too,
    optional: a number column of the user's by that name is read as itself when the table has it.

    Examples
    --------
    >>> raw_columns(["a", "color=red", "color=blue", "day"], ["color", "day"])
    [('a', (False, True)), ('color', (True, True)), ('color=red', (False, False)), \
('color=blue', (False, False)), ('day', (True, True))]
    """
    text = {str(c) for c in categorical or ()}
    columns: dict[str, tuple[bool, bool]] = {}
    for name in names:
        prefix = name.split(SEPARATOR, 1)[0]
        if prefix in text and prefix != name:
            columns.setdefault(prefix, (True, True))
            columns.setdefault(name, (False, False))
        else:
            columns.setdefault(name, (name in text, True))
    return list(columns.items())


def recorded_preparation(run: Any) -> dict:
    """How the run reads a table's rows besides their columns, as recorded at training (as
    ``aekit score`` reads them): its ``categorical`` columns and the ``fill_values`` of missing
    cells (:func:`table_rows`' ``prepare``); none for a fitted estimator (its columns only)."""
    if not isinstance(run, (str, os.PathLike)):
        return {}
    from .persistence import read_config

    return preparation(read_config(run))


def preparation(config: dict | None) -> dict:
    """:func:`recorded_preparation` from a run's config (``config.json``, read already)."""
    data = (config or {}).get("data") or {}
    return {"categorical": data.get("categorical"), "fill_values": data.get("fill_values")}


def _plain(frame, names: list[str], prepare: dict) -> bool:
    """Whether ``frame`` holds the model's columns as finite numbers, none to encode: nothing for
    the data layer to prepare, whose reading needs pyarrow (probe 64 packaging #1: a DataFrame
    given to an MLflow model of aekit failed without it; review 64 #2: every table run records
    fill values, so what is recorded cannot tell)."""
    labels = {str(c): c for c in frame.columns}
    if prepare.get("categorical") or any(n not in labels for n in names):
        return False
    columns = (frame[labels[n]].to_numpy() for n in names)
    return all(v.dtype.kind in "biuf" and np.isfinite(v.astype(np.float64)).all() for v in columns)


def _prepared_rows(frame, names: list[str], source: str, prepare: dict, first_row: int):
    """:func:`table_rows` through the data layer's preparation of a table chunk."""
    from ..data.missing import fill_missing
    from ..data.parquet import read_frame

    labels = {str(c): c for c in frame.columns}
    encoded = {str(c) for c in prepare.get("categorical") or ()} & set(labels)
    needed, missing = [], []
    for name in names:  # the frame's columns that hold the model's (NAME=VALUE: column NAME)
        base = name if name in labels else name.partition(SEPARATOR)[0]
        if base not in labels or (base != name and base not in encoded):
            missing.append(name)
        elif base not in needed:
            needed.append(base)
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise fail(f"{source}: missing the model's columns {', '.join(missing[:5])}{more}")
    for name in needed:
        kind = frame[labels[name]].to_numpy().dtype.kind
        if name not in encoded and kind not in "biuf":
            raise fail(
                f"{source}: column {name!r} has type {frame[labels[name]].dtype}; expected numbers"
            )
    if len(frame) == 0:
        return np.empty((0, len(names)), np.float32)
    data = read_frame(
        frame[[labels[n] for n in needed]],
        source=source,
        columns=names,
        categorical=sorted(encoded) or None,
        fill_values=prepare.get("fill_values"),
        first_row=first_row,
    )
    x = fill_missing(data.x, None, data.feature_names, source, "none")  # no recorded fill: refused
    return columns_by_name(replace(data, x=x), names)


def output_frame(est: Any, frame: Any, *, id_column: str | None = None, **read: Any):
    """The outputs of ``est`` for the rows of ``frame`` as a DataFrame with ``frame``'s index, the id
    column first when ``frame`` has it; the rows read by :func:`table_rows` (``read``: its
    ``source``, ``prepare`` and ``first_row``).

    Examples
    --------
    >>> output_frame(det, df, id_column="id").columns.tolist()     # doctest: +SKIP
    ['id', 'score', 'is_anomaly']
    """
    import pandas as pd

    rows = table_rows(est, frame, id_column=id_column, **read)
    cols = outputs(est, rows)
    out = pd.DataFrame(cols, index=frame.index)
    if id_column is not None and id_column in frame.columns:
        out.insert(0, id_column, frame[id_column].to_numpy())
    return out
