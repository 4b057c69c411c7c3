"""Anomaly-detection plots: signal reconstructions, error histograms, the ROC curve and the features
that drove the scores."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aekit.errors import DataError
from aekit.plots._common import (
    _count,
    _figures,
    _float_array,
    _names,
    _number,
    _save,
    _target,
    _tight_layout,
    _vector,
    drawn,
)
from aekit.plots.grid import panel_grid


@drawn
def plot_signal_reconstructions(
    signals: Sequence[tuple[np.ndarray, np.ndarray, str]],
    path: str | os.PathLike,
    *,
    xlabel: str = "time step",
    ylabel: str = "value",
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Plot 1-D signals with their reconstructions, the error between them filled.

    Parameters
    ----------
    signals : list of (x, x_hat, title)
        One panel each: input ``x`` and reconstruction ``x_hat`` (1-D, same length).
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    xlabel, ylabel : str, default "time step", "value"
        Axis labels of every panel ("feature" for the rows of a table).
    title : str, optional
        Figure title over the panels.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_signal_reconstructions([(x[0], x_hat[0], "normal"), (x[1], x_hat[1], "anomalous")],
    ...                             "ecg.png")  # doctest: +SKIP
    PosixPath('ecg.png')
    """
    path = _target(path, overwrite)
    if len(signals) == 0:
        raise DataError("signals must be a non-empty list of (x, x_hat, title)")
    panels = []
    for i, item in enumerate(signals):
        if not isinstance(item, (tuple, list)) or len(item) != 3:
            raise DataError(f"signals[{i}] must be a tuple (x, x_hat, title)")
        x = _vector(item[0], f"signals[{i}] x")
        x_hat = _vector(item[1], f"signals[{i}] x_hat")
        if x.shape != x_hat.shape:
            raise DataError(f"signals[{i}]: x has {x.size} values but x_hat has {x_hat.size}")
        panels.append((x, x_hat, str(item[2])))

    fig, axes = panel_grid(len(panels), min(len(panels), 3), (5.0, 3.4))
    for ax, (x, x_hat, name) in zip(axes.flat, panels):
        t = np.arange(x.size)
        ax.plot(t, x, "b", label="Input")
        ax.plot(t, x_hat, "r", label="Reconstruction")
        ax.fill_between(t, x, x_hat, color="lightcoral", label="Error")
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    _tight_layout(fig)
    return _save(fig, path)


# scores whose largest is this many times their typical small one get a log axis
LOG_SPAN = 100.0


def _log_axis(scores: np.ndarray, threshold: float | None) -> bool:
    """Whether positive scores span orders of magnitude (the largest over the 5th percentile).

    Exact zeros (a perfect reconstruction) do not turn it off: they cannot be drawn on a log axis,
    and the legend counts them; a negative score or threshold does."""
    positive = scores[scores > 0]
    if positive.size < 2 or (scores < 0).any() or (threshold is not None and threshold <= 0):
        return False
    return float(positive.max()) > LOG_SPAN * float(np.percentile(positive, 5))


def _zeros(scores: np.ndarray, log: bool) -> str:
    """The legend's word on the scores a log axis leaves out: those at exactly 0."""
    zeros = int(np.sum(scores == 0)) if log else 0
    return f", {zeros} at 0 not drawn" if zeros else ""


def _infinite(scores: np.ndarray) -> str:
    """The legend's word on the scores that are inf, drawn as the bar past the axis's end."""
    count = int(np.isposinf(scores).sum())
    return f", {count} score inf: the bar at inf" if count else ""


def _threshold_label(
    threshold: float, normal: np.ndarray, target_rate: float | None, promised: float | None = None
) -> str:
    """The threshold line's legend: its value, the target false-alarm rate it stands for (and the
    larger one it can promise, when its calibration scores are too few for the target), and the
    share of normal scores above it."""
    label = f"threshold = {threshold:.4g}"
    if target_rate is not None and promised is not None:  # two lines: one was wider than the axes
        label += f"\n(false-alarm rate {target_rate:.3g} asked, {promised:.3g} promised)"
    elif target_rate is not None:
        label += f" (target false-alarm rate {target_rate:.3g})"
    if normal.size:
        label += f"; normal above: {np.mean(normal > threshold):.1%}"
    return label


def _check_histogram(normal, anomalous, bins, threshold, rates) -> tuple:
    """(bins, threshold, target_rate, promised_rate) as numbers, or one line saying which is wrong;
    ``rates``: (target_rate, promised_rate)."""
    if normal.size == 0 and anomalous.size == 0:
        raise DataError("scores_normal and scores_anomalous are both empty")
    bins = _count(bins, "bins")
    threshold = None if threshold is None else _number(threshold, "threshold")
    checked = []
    for rate, name in zip(rates, ("target_rate", "promised_rate")):
        rate = None if rate is None else _number(rate, name)
        if rate is not None and not 0 < rate < 1:
            raise DataError(f"{name} must be a fraction in (0, 1), got {rate}")
        checked.append(rate)
    return (bins, threshold, *checked)


def _scores(x: Any, name: str) -> np.ndarray:
    """``x`` as 1-D scores, or one line. A score may be inf (a row whose squared error overflows
    float32: the most anomalous there is, which the recipes warn of); NaN and -inf are no score."""
    a = _float_array(x, name, "a 1-D numeric array")
    if a.ndim != 1:
        raise DataError(f"{name} must be 1-D, got shape {a.shape}")
    if (np.isnan(a) | np.isneginf(a)).any():
        raise DataError(
            f"{name} contains NaN or -inf; expected scores (inf, a score past float32's range, is "
            f"drawn at the axis's end)"
        )
    return a


def _edges(every: np.ndarray, bins: int, threshold: float | None, log: bool | None) -> tuple:
    """(the bins' edges, whether the axis is log) for the finite scores and threshold ``every``."""
    if log is None:
        log = _log_axis(every, threshold)
    else:  # asked for: zeros left out as above, a negative value makes it linear
        log = bool(log) and bool((every >= 0).all()) and bool((every > 0).any())
        log = log and (threshold is None or threshold > 0)
    if log:
        positive = every[every > 0]
        return np.geomspace(positive.min(), positive.max(), int(bins) + 1), log
    return np.histogram_bin_edges(every, bins=int(bins)), log


# the bar of the inf scores: this share of the finite scores' span past their end, and as wide,
# so that its tick "inf" stands clear of the last number's
INF_GAP, INF_WIDTH = 0.06, 0.03


def _inf_bar(edges: np.ndarray, log: bool) -> np.ndarray:
    """The edges of the bar of the inf scores, past the last edge (the gap says the axis is cut)."""
    at = np.array([INF_GAP, INF_GAP + INF_WIDTH])
    if log:  # the shares of the log span; all scores equal: of a decade
        span = max(np.log(edges[-1] / edges[0]), np.log(10.0))
        return edges[-1] * np.exp(span * at)
    return edges[-1] + (edges[-1] - edges[0]) * at


def _draw_infinite(ax: Any, edges: np.ndarray, log: bool, classes: list) -> float | None:
    """The inf scores of each of ``classes`` ((scores, colour)) as a bar past the axis's end; its
    middle (None when no score is inf)."""
    counts = [int(np.isposinf(s).sum()) for s, _ in classes]
    if not any(counts):
        return None
    left, right = _inf_bar(edges, log)
    for count, (_, colour) in zip(counts, classes):
        if count:
            ax.bar(left, count, width=right - left, align="edge", alpha=0.5, color=colour)
    return float(np.sqrt(left * right) if log else (left + right) / 2)


def _mark_infinite(ax: Any, middle: float, end: float) -> None:
    """The inf bar's tick, "inf", on the score axis; no number's tick past the finite scores'
    ``end``, where it would read as the inf bar's value."""
    lo, hi = ax.get_xlim()
    ax.set_xticks([t for t in ax.get_xticks() if lo <= t <= end])
    ax.set_xticks([middle], labels=["inf"], minor=True)
    ax.set_xlim(lo, hi)  # as set: ticks outside it would widen it


@drawn
def plot_error_histogram(
    scores_normal: np.ndarray,
    scores_anomalous: np.ndarray,
    threshold: float | None,
    path: str | os.PathLike,
    *,
    bins: int = 50,
    xlabel: str = "reconstruction error",
    title: str | None = "reconstruction errors of held-out samples",
    target_rate: float | None = None,
    promised_rate: float | None = None,
    log: bool | None = None,
    overwrite: bool = False,
) -> Path:
    """Overlay histograms of the scores of normal and anomalous examples, with the threshold.

    Scores that span orders of magnitude (heavy tails: the largest over 100 times the 5th
    percentile) get a log axis and log-spaced bins, so that the bulk is not one bar beside a lone
    outlier; the threshold is always inside the axis and drawn over the bars. Scores that are inf
    (a row whose squared error overflows float32) are a bar past the axis's end, its tick "inf",
    counted in the legend; NaN is refused.

    Parameters
    ----------
    scores_normal, scores_anomalous : ndarray
        1-D anomaly scores; one of them may be empty. Both use the same bins.
    threshold : float or None
        Decision threshold, drawn as a vertical line (none when ``None``).
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    bins : int, default 50
        Number of bins.
    xlabel : str, default "reconstruction error"
        X-axis label.
    title : str or None, default "reconstruction errors of held-out samples"
        Axes title.
    target_rate : float, optional
        The false-alarm rate the threshold was set for (a calibrated threshold), named in its
        legend beside the share of normal scores above it.
    promised_rate : float, optional
        The larger false-alarm rate the threshold can promise when its calibration scores are too
        few for ``target_rate`` (``n`` scores promise ``1 / (n + 1)``), named beside it.
    log : bool, optional
        A log score axis; default: when the scores span orders of magnitude.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_error_histogram(err_normal, err_anomalous, 0.034, "errors.png", target_rate=0.01)  # doctest: +SKIP
    PosixPath('errors.png')
    """
    path = _target(path, overwrite)
    normal = _scores(scores_normal, "scores_normal")
    anomalous = _scores(scores_anomalous, "scores_anomalous")
    bins, threshold, target_rate, promised_rate = _check_histogram(
        normal, anomalous, bins, threshold, (target_rate, promised_rate)
    )
    every = np.concatenate([normal, anomalous])
    every = every[np.isfinite(every)]  # the inf scores: a bar of their own, past the axis
    if threshold is not None:  # the threshold inside the axis, whatever the scores
        every = np.append(every, float(threshold))
    edges, log = _edges(every, bins, threshold, log)

    plt = _figures()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    classes = [(normal, "tab:blue", "normal"), (anomalous, "tab:red", "anomalous")]
    for scores, colour, name in classes:
        if scores.size:
            label = f"{name} (n={scores.size}{_zeros(scores, log)}{_infinite(scores)})"
            ax.hist(scores[np.isfinite(scores)], bins=edges, alpha=0.5, color=colour, label=label)
    if threshold is not None:
        ax.axvline(
            float(threshold),
            color="black",
            linestyle="--",
            linewidth=1.5,
            zorder=5,
            label=_threshold_label(float(threshold), normal, target_rate, promised_rate),
        )
    middle = _draw_infinite(ax, edges, log, [(s, c) for s, c, _ in classes])
    lo, hi = edges[0], edges[-1] if middle is None else _inf_bar(edges, log)[1]
    if log:
        ax.set_xscale("log")
        ax.set_xlim(lo / 1.1, hi * 1.1)  # a threshold at the edge stays in sight
    else:
        pad = 0.02 * (edges[-1] - lo) or 0.5
        ax.set_xlim(lo - pad, hi + pad)
    if middle is not None:  # no finite score nor threshold: no number's tick either
        _mark_infinite(ax, middle, edges[-1] if every.size else -np.inf)
    ax.set_xlabel(xlabel + (" (log scale)" if log else ""))
    ax.set_ylabel("count")
    if title:
        ax.set_title(title)
    # below the axes, not inside them: three entries, one of two lines, covered the tallest bars
    # and the threshold line wherever matplotlib put them (review 66 #7); the figure is saved
    # with a tight box, which takes the legend in
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    return _save(fig, path)


@drawn
def plot_roc(
    y_true: np.ndarray,
    scores: np.ndarray,
    path: str | os.PathLike,
    *,
    title: str | None = "ROC curve",
    overwrite: bool = False,
) -> Path:
    """Plot the ROC curve of anomaly scores, with the AUC and the chance diagonal.

    Parameters
    ----------
    y_true : ndarray
        1-D binary labels, 1 (or True) for anomalous; both classes must occur.
    scores : ndarray
        1-D scores, higher meaning more anomalous (inf the highest); same length as ``y_true``.
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    title : str or None, default "ROC curve"
        Axes title.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_roc(y_test, err_test, "roc.png", title="ECG autoencoder")  # doctest: +SKIP
    PosixPath('roc.png')
    """
    path = _target(path, overwrite)
    y = _vector(y_true, "y_true")
    # an inf score ranks above every finite one: float64's largest, as the detectors' roc_auc takes it
    s = _scores(scores, "scores")
    s = np.where(np.isposinf(s), np.finfo(np.float64).max, s)
    if y.shape != s.shape:
        raise DataError(f"y_true has {y.size} values but scores has {s.size}")
    if not np.all((y == 0) | (y == 1)):
        raise DataError("y_true must contain only 0/1 (or False/True)")
    if y.min() == y.max():
        raise DataError("y_true must contain both classes (0 and 1) for a ROC curve")
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y.astype(int), s)
    auc = roc_auc_score(y.astype(int), s)

    plt = _figures()
    fig, ax = plt.subplots(figsize=(5.0, 5.0))
    ax.plot(fpr, tpr, color="tab:blue", label=f"ROC (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return _save(fig, path)


@drawn
def plot_feature_errors(
    errors: Any,
    path: str | os.PathLike,
    *,
    feature_names: Sequence[str] | None = None,
    row_names: Sequence[str] | None = None,
    xlabel: str = "feature",
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """A heat map of what drove each row's score: one line per row, one cell per feature, the
    feature's error (``AnomalyDetector.feature_errors``) on one log colour scale for all rows, so a
    row's brightest cells are its unusual features.

    Parameters
    ----------
    errors : array (n, features)
        Non-negative feature errors, one row per sample. An error that is inf (past float32's
        range) is drawn at the colour scale's top, and the title counts them; NaN is refused.
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    feature_names : sequence of str, optional
        The columns' names, written along the axis when there are at most 40.
    row_names : sequence of str, optional
        Each row's label (its id and score, say).
    xlabel : str, default "feature"
    title : str, optional

    Returns
    -------
    Path

    Examples
    --------
    >>> plot_feature_errors(det.feature_errors(X[:8]), "why.png", feature_names=columns)  # doctest: +SKIP
    PosixPath('why.png')
    """
    path = _target(path, overwrite)
    e = _float_array(errors, "errors", "a numeric array (n, features)")
    if e.ndim != 2 or e.size == 0:
        raise DataError(f"errors must be a non-empty array (n, features), got shape {e.shape}")
    if np.isnan(e).any():
        raise DataError("errors contains NaN; expected feature errors (>= 0, inf drawn as the top)")
    if (e < 0).any():
        raise DataError("errors must be >= 0 (squared or absolute residuals)")
    feature_names = _names(feature_names, "feature_names", e.shape[1], "feature")
    row_names = _names(row_names, "row_names", len(e), "row")
    from matplotlib.colors import LogNorm, Normalize

    infinite = np.isposinf(e)  # a squared error past float32: drawn at the scale's top, and said
    top = float(e[~infinite].max()) if not infinite.all() else 0.0
    # a log scale over four decades below the largest error (a linear one when all are zero)
    norm = LogNorm(vmin=top * 1e-4, vmax=top) if top > 0 else Normalize(0.0, 1.0)
    plt = _figures()
    fig, ax = plt.subplots(figsize=(min(12.0, 3.0 + 0.25 * e.shape[1]), 1.2 + 0.35 * len(e)))
    shown = np.where(infinite, top or 1.0, e)
    shown = np.maximum(shown, top * 1e-4) if top > 0 else shown
    image = ax.imshow(shown, aspect="auto", cmap="magma", norm=norm, interpolation="nearest")
    ax.set_yticks(range(len(e)))
    ax.set_yticklabels(
        list(row_names) if row_names is not None else [str(i) for i in range(len(e))]
    )
    if feature_names is not None and e.shape[1] <= 40:
        ax.set_xticks(range(e.shape[1]))
        ax.set_xticklabels([str(n) for n in feature_names], rotation=90)
    ax.set_xlabel(xlabel)
    fig.colorbar(image, ax=ax, label="feature error")
    count = int(infinite.sum())
    said = f"{count} inf error{'s' if count > 1 else ''} drawn at the colour scale's top"
    title = "\n".join(t for t in (title, said if count else None) if t)
    if title:
        ax.set_title(title)
    return _save(fig, path)
