"""Training curves: losses (or any metric) against epoch."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aekit.errors import DataError
from aekit.plots._common import _figures, _save, _target, drawn


@drawn
def plot_history(
    history: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    *,
    keys: Sequence[str] = ("train_loss", "val_loss"),
    ylabel: str = "loss",
    log: bool = False,
    title: str | None = "loss per epoch",
    overwrite: bool = False,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Plot metrics from a training history against epoch, one line per key.

    Parameters
    ----------
    history : list of dict
        One record per epoch with an ``"epoch"`` entry (else its position, from 1) and the
        metrics; a missing, ``None`` or non-finite value is skipped, and so is a key with
        no values at all.
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    keys : sequence of str, default ("train_loss", "val_loss")
        Metrics to draw.
    ylabel : str, default "loss"
        Y-axis label.
    log : bool, default False
        Logarithmic y axis.
    title : str or None, default "loss per epoch"
        Axes title.
    labels : mapping of str to str, optional
        Legend text per key, where the key's name does not say what the curve is (a VAE's
        ``train_loss`` is its training objective, not always the -ELBO); the others show their key.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> history = [{"epoch": 1, "train_loss": 0.9, "val_loss": 1.0},
    ...            {"epoch": 2, "train_loss": 0.5, "val_loss": None}]
    >>> plot_history(history, "history.png", log=True)
    PosixPath('history.png')
    """
    path = _target(path, overwrite)
    if isinstance(history, Mapping) or len(history) == 0:
        raise DataError("history must be a non-empty list of per-epoch dicts")
    if isinstance(keys, str):
        keys = (keys,)
    if labels is not None and not isinstance(labels, Mapping):
        raise DataError(f"labels must map keys to legend texts, got {type(labels).__name__}")
    series = {key: _points(history, key, log) for key in keys}
    series = {key: points for key, points in series.items() if points[1]}
    if not series:
        raise DataError(
            f"history has no {'positive ' if log else ''}finite values for keys {list(keys)}"
        )

    plt = _figures()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for key, (xs, ys) in series.items():
        ax.plot(
            xs,
            ys,
            marker="o" if len(xs) <= 30 else None,
            markersize=3,
            label=(labels or {}).get(key, key.replace("_", " ")),
        )
    if log:
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    epochs = {x for xs, _ in series.values() for x in xs}
    if len(epochs) == 1:  # the locator finds no whole number around one point: 0.945 ... 1.050
        (epoch,) = epochs
        ax.set_xticks([epoch])
        ax.set_xlim(epoch - 0.5, epoch + 0.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(fig, path)


def _points(
    history: Sequence[Mapping[str, Any]], key: str, log: bool
) -> tuple[list[float], list[float]]:
    """(epochs, values) of ``key``: the records with a finite value (a positive one when ``log``)."""
    xs: list[float] = []
    ys: list[float] = []
    for i, record in enumerate(history):
        if not isinstance(record, Mapping):
            raise DataError(f"history[{i}] must be a dict, got {type(record).__name__}")
        value = record.get(key)
        if value is None:
            continue
        try:
            x, y = float(record.get("epoch", i + 1)), float(value)
        except (TypeError, ValueError):
            raise DataError(f"history[{i}] has a non-numeric epoch or {key!r}") from None
        if math.isfinite(y) and (y > 0 or not log):
            xs.append(x)
            ys.append(y)
    return xs, ys
