"""The basic and stacked autoencoder recipes: Fashion-MNIST, MSE, latent 64.

The defaults train on any data: ``epochs="auto"`` gives Fashion-MNIST the recipe's 10 epochs and
small data up to 100, tables are standardised per feature, and the output activation follows the
data. ``--preset recipe`` pins the classic recipe's settings (10 epochs, no scaling, a sigmoid
output), so the tutorial reproduces whatever the defaults become; all but its constant learning
rate: the schedule stays the default ``onecycle`` (``--schedule constant`` gives the tutorial's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..data import Data
from ..training.trainer import Trainer
from .base import Recipe, class_names, figure_indices, model_columns


def reconstruction_figure(
    original,
    reconstructed,
    folder: Path,
    name: str = "reconstructions.png",
    title: str | None = None,
    data: Data | None = None,
    rows: np.ndarray | None = None,
    population: np.ndarray | None = None,
) -> Path:
    """Originals over reconstructions (images); a table's rows feature by feature, named by column
    and id (``data``: the rows' table, ``rows`` their indices in it), in standard units of
    ``population`` (all held-out rows); other rows as signals, each named by its id or held-out row."""
    if original.ndim == 4:
        return plots.plot_image_rows(
            [original[:10], reconstructed[:10]],
            folder / name,
            row_titles=["original", "reconstructed"],
            title=title,
            overwrite=True,
        )
    names = data.feature_names if data is not None else None
    if names is not None and len(names) == original.shape[1] <= TABLE_FEATURES:
        n = min(4, len(original))
        # the units of the data's columns, as the anomaly recipe's: the drawn rows' own spread
        # made every column look ordinary (a value 5 SD out drawn at -1.5)
        every = original if population is None else population
        return plots.plot_table_reconstructions(
            original[:n],
            reconstructed[:n],
            folder / name,
            feature_names=names,
            row_names=row_names(data, rows, n),
            center=np.median(every, axis=0),
            scale=np.std(every, axis=0),
            title=title,
            overwrite=True,
        )
    n = min(3, len(original))
    # named as the table's rows are: "sample 0" was the first drawn, held-out row 4 (probe 66 #7)
    titles = row_names(data, rows, n) if data is not None else [f"sample {i}" for i in range(n)]
    return plots.plot_signal_reconstructions(
        [(original[i].ravel(), reconstructed[i].ravel(), titles[i]) for i in range(n)],
        folder / name,
        overwrite=True,
    )


TABLE_FEATURES = 40  # rows of at most this many named features are drawn as a table, not a signal


def row_names(data: Data, rows: np.ndarray | None, n: int) -> list[str]:
    """How a figure names the first ``n`` of the ``rows`` of ``data``: its id column, else the row."""
    rows = np.arange(n) if rows is None else np.asarray(rows)[:n]
    if data.ids is not None:
        return [f"{data.id_name or 'id'} {data.ids[i]}" for i in rows]
    return [f"held-out row {int(i)}" for i in rows]


class AutoencoderRecipe(Recipe):
    estimator = "Autoencoder"
    default_dataset = "fashion-mnist"
    evaluates_on_disk = True

    def __init__(self, name: str, defaults: dict[str, Any], presets: dict[str, dict[str, Any]]):
        self.name = name
        self.defaults = defaults
        self.presets = presets

    def fit(self, est, train: Data, val: Data, trainer: Trainer):
        return est.fit(
            train.x, validation_data=val.x, feature_names=train.feature_names, trainer=trainer
        )

    def evaluate(self, est, data: Data) -> dict[str, Any]:
        return est.evaluate(model_columns(est, data))

    def figures(self, est, data: Data, folder: Path) -> list[Path]:
        x_all = model_columns(est, data)
        rows = figure_indices(data, 10, est.seed)
        x = x_all[rows]
        written = [
            reconstruction_figure(
                x,
                est.reconstruct(x),
                folder,
                title=f"{self.name} autoencoder: held-out samples",
                data=data,
                rows=rows,
                population=x_all,
            ),
            plots.plot_history(
                est.history_,
                folder / "loss.png",
                ylabel=f"{est.loss.upper()} loss",
                title=f"{self.name} autoencoder: training",
                overwrite=True,
            ),
        ]
        if len(data) >= 3 and est.latent_dim_ >= 2:  # a code of one number has no map
            n = min(len(data), 5000)
            written.append(
                plots.plot_latent_map(
                    est.transform(x_all[:n]),
                    None if data.y is None else data.y[:n],
                    folder / "latent_map.png",
                    class_names=class_names(data),
                    title="held-out latent codes" + (" (PCA)" if int(est.latent_dim_) > 2 else ""),
                    overwrite=True,
                )
            )
        return written

    def quality_warnings(self, est, metrics: dict[str, Any], data: Data) -> list[str]:
        from .quality import identity_code, lr_too_high, no_better_than_mean, own_network

        x = model_columns(est, data)
        xs = est.scaler_.transform(x) if est.scaler_.kind != "none" else np.asarray(x, np.float64)
        baseline = mean_baseline(est.scaler_.kind, np.asarray(xs, np.float64).reshape(len(xs), -1))
        own = own_network(est)
        lr_fix = lr_too_high(est.history_, est.lr)
        latent, width = int(est.latent_dim_), int(est.n_features_in_)
        # a code one number wider must stay narrower than the input, or it is a copy of it
        found = no_better_than_mean(
            metrics.get("val_mse", np.nan), baseline, _changes(est), own, lr_fix, latent + 1 < width
        )
        copy = identity_code(latent, width, own)
        return super().quality_warnings(est, metrics, data) + [w for w in (found, copy) if w]


def mean_baseline(scaler: str, xs: np.ndarray) -> float:
    """The MSE of predicting each feature's mean on the held-out rows ``xs`` (scaled, flat): the
    training rows' mean where the scaler holds it (standard: 0 in its units); else their own, and
    NaN (no check) for one row, whose own mean is itself: every such run "reconstructed nothing".

    Examples
    --------
    >>> mean_baseline("standard", np.array([[1.0, -1.0]])), mean_baseline("robust", np.ones((1, 2)))
    (1.0, nan)
    """
    if scaler == "standard":
        return float(np.mean(xs**2))
    return float(xs.var(0).mean()) if len(xs) > 1 else float("nan")


def _changes(est) -> list[str]:
    """What a run that reconstructs nothing could change, of what it does not use already: the
    data unscaled by a chosen scaler, an output activation chosen by hand (the warning suggested
    --scaler auto to runs using it: [0, 1] images, which auto leaves unscaled)."""
    if est.scaler_.kind != "none":
        return []
    changes = [] if est.scaler == "auto" else ["let aekit scale the data (--scaler auto)"]
    if getattr(est, "output_activation", "auto") != "auto":
        changes.append("pick the output (--output-activation auto)")
    return changes


# "recipe": the classic Keras recipe's settings (10 epochs, no input scaling, a sigmoid output) but
# not its constant rate: the schedule stays the default onecycle (--schedule constant gives the
# Keras recipe's). The defaults give Fashion-MNIST the same, and train on any other data too.
RECIPE_SETTINGS = {
    "epochs": 10,
    "latent_dim": 64,
    "scaler": "none",
    "output_activation": "sigmoid",
    "patience": None,
}
# "fast": the recipe's quality (val MSE <= 0.0089) in the least time on a CPU: batch 128 (a step of
# 128 rows costs under twice one of 32) at a one-cycle peak rate of 1e-2, 5 epochs: an eighth of
# the recipe's steps (benchmarks/bench_basic.py --preset fast; figures in docs/guide/autoencoder.md).
FAST = {"batch_size": 128, "lr": 1e-2, "schedule": "onecycle", "epochs": 5}
# The stacked network needs its 10 epochs at a lower peak for the same quality.
FAST_STACKED = {"batch_size": 128, "lr": 4e-3, "schedule": "onecycle", "epochs": 10}
BASIC = AutoencoderRecipe("basic", {}, {"recipe": RECIPE_SETTINGS, "fast": FAST})
STACKED = AutoencoderRecipe(
    "stacked",
    {"hidden": (256, 128)},
    {"recipe": {**RECIPE_SETTINGS, "hidden": (256, 128)}, "fast": FAST_STACKED},
)
