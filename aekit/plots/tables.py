"""A table's rows beside their reconstructions, feature by feature, named by column and row id."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aekit.errors import DataError
from aekit.plots._common import _float_array, _names, _save, _target, _tight_layout, drawn
from aekit.plots.grid import panel_grid

MAX_FEATURES = 40  # a row of more features reads better as a signal (plot_signal_reconstructions)


@drawn
def plot_table_reconstructions(
    original: Any,
    reconstructed: Any,
    path: str | os.PathLike,
    *,
    feature_names: Sequence[str],
    row_names: Sequence[str] | None = None,
    center: Any = None,
    scale: Any = None,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """One panel per row: each feature's value (dot) and its reconstruction (cross), joined by the
    error, the features named along the axis; values in standard units of each column, so that
    columns of different units (euros beside counts) share one axis.

    Parameters
    ----------
    original, reconstructed : array (n, features)
        The rows and their reconstructions, in the data's units.
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    feature_names : sequence of str
        The columns' names, one per feature.
    row_names : sequence of str, optional
        Each row's id (its id column's value), shown as the panel's title.
    center, scale : array (features,), optional
        Each column's typical value and spread (default: the rows' mean and standard deviation).
    title : str, optional
        Figure title over the panels.

    Returns
    -------
    Path

    Examples
    --------
    >>> plot_table_reconstructions(x[:4], x_hat[:4], "rows.png", feature_names=["age", "income"],
    ...                            row_names=["U1", "U2", "U3", "U4"])   # doctest: +SKIP
    PosixPath('rows.png')
    """
    path = _target(path, overwrite)
    x = _float_array(original, "original", "a numeric array (n, features)")
    x_hat = _float_array(reconstructed, "reconstructed", "a numeric array (n, features)")
    if x.ndim != 2 or x.shape != x_hat.shape or len(x) == 0:
        raise DataError(
            f"original and reconstructed must be two arrays (n, features) of one shape, got "
            f"{x.shape} and {x_hat.shape}"
        )
    feature_names = _names(feature_names, "feature_names", x.shape[1], "feature")
    row_names = _names(row_names, "row_names", len(x), "row")
    mu = x.mean(0) if center is None else np.asarray(center, np.float64).reshape(-1)
    sd = x.std(0) if scale is None else np.asarray(scale, np.float64).reshape(-1)
    sd = np.where(sd > 0, sd, 1.0)
    zx, zr = (x - mu) / sd, (x_hat - mu) / sd
    k = np.arange(x.shape[1])
    width = max(5.0, 0.45 * x.shape[1])
    fig, axes = panel_grid(len(x), 1, (width, 2.6), extra_height=0.4 if title else 0.0)
    for r, ax in enumerate(axes.flat[: len(x)]):
        ax.vlines(k, zx[r], zr[r], color="lightcoral", linewidth=3, label="error")
        ax.plot(k, zx[r], "o", color="tab:blue", label="value")
        ax.plot(k, zr[r], "x", color="tab:red", label="reconstruction")
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.set_xticks(k)
        ax.set_xticklabels([str(n) for n in feature_names], rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("standard units", fontsize=8)
        ax.set_title(str(row_names[r]) if row_names is not None else f"row {r}", fontsize=9)
        if r == 0:
            ax.legend(fontsize="x-small", ncol=3, loc="upper right")
    if title:
        fig.suptitle(title)
    _tight_layout(fig)
    return _save(fig, path)
