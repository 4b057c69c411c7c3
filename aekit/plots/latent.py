"""Latent-space map: codes scattered in 2-D (directly, or through PCA), coloured by label."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aekit.errors import DataError, DataTypeError
from aekit.plots._common import (
    _check_finite,
    _figures,
    _float_array,
    _save,
    _target,
    drawn,
)

MAX_POINTS = 10_000  # points drawn at most (a fixed-seed subsample beyond that)
_MAX_CLASSES = 20  # labels with more distinct values are drawn as a continuous colour scale


@drawn
def plot_latent_map(
    z: np.ndarray,
    labels: np.ndarray | None,
    path: str | os.PathLike,
    *,
    method: str = "pca",
    class_names: Sequence[str] | Mapping[Any, str] | None = None,
    title: str | None = "latent codes",
    overwrite: bool = False,
) -> Path:
    """Scatter latent codes in 2-D, coloured by label.

    Parameters
    ----------
    z : ndarray
        Codes, shape (n, d) with d >= 2. With d == 2 they are drawn as they are; otherwise
        they are projected on their first two principal components.
    labels : ndarray or None
        Shape (n,). Up to 20 distinct values are drawn as classes with a legend; more (e.g.
        a continuous target) with a colour bar.
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    method : {"pca"}
        Projection for d > 2.
    class_names : list or dict, optional
        Legend names: ``class_names[label]`` (a list indexed by integer labels, or a dict).
    title : str or None, default "latent codes"
        Axes title.

    Returns
    -------
    Path
        The file written.

    Notes
    -----
    At most 10,000 points are drawn, a subsample with a fixed seed; PCA is fitted on all.

    Examples
    --------
    >>> plot_latent_map(z_test, y_test, "latent.png", class_names=[str(i) for i in range(10)])  # doctest: +SKIP
    PosixPath('latent.png')
    """
    path = _target(path, overwrite)
    z, labels = _checked(z, labels, method)
    xy, axis_labels = _project(z)
    n = len(z)
    if n > MAX_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(n, MAX_POINTS, replace=False))
        xy = xy[keep]
        labels = labels[keep] if labels is not None else None
    size = 4 if len(xy) > 2000 else 12

    plt = _figures()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=size, alpha=0.7, linewidths=0)
    else:
        classes = np.unique(labels)
        numeric = np.issubdtype(labels.dtype, np.number) or labels.dtype == bool
        if len(classes) <= _MAX_CLASSES or not numeric:
            _scatter_classes(plt, ax, xy, labels, classes, size, class_names)
        else:
            sc = ax.scatter(
                xy[:, 0],
                xy[:, 1],
                c=labels.astype(float),
                s=size,
                alpha=0.7,
                linewidths=0,
                cmap="viridis",
            )
            fig.colorbar(sc, ax=ax, label="label")
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    if title:
        ax.set_title(title)
    return _save(fig, path)


def _checked(z: Any, labels: Any, method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``z`` as finite floats (n, d >= 2) and ``labels`` as an array (n,), or a one-line DataError."""
    z = _float_array(z, "z", "a numeric array (n, d)")
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] < 2:
        raise DataError(f"z must have shape (n, d) with n >= 1 and d >= 2, got {z.shape}")
    _check_finite(z, "z")
    if method != "pca":
        raise DataError(f"method must be 'pca', got {method!r}")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(z),):
            raise DataError(f"labels must have shape ({len(z)},) to match z, got {labels.shape}")
        try:
            np.unique(labels)  # sorted for the legend: text beside numbers does not sort
        except TypeError:
            raise DataTypeError(
                "labels mix numbers and text; give labels of one kind (all numbers or all text)"
            ) from None
    return z, labels


def _project(z: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    """The points to draw and their axis labels: ``z`` itself when 2-D, else its first two PCs."""
    if z.shape[1] == 2:
        return z, ("z1", "z2")
    if len(z) < 2:
        raise DataError("z needs at least 2 points for a PCA projection")
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, svd_solver="full")
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        xy = pca.fit_transform(z)
    first, second = (
        f"PC{k + 1} ({100 * r:.1f}% var)" if np.isfinite(r) else f"PC{k + 1}"
        for k, r in enumerate(pca.explained_variance_ratio_)
    )
    return xy, (first, second)


def _scatter_classes(plt, ax, xy, labels, classes, size, class_names) -> None:
    """One colour per class, with a legend beside the axes."""
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for k, c in enumerate(classes):
        mask = labels == c
        ax.scatter(
            xy[mask, 0],
            xy[mask, 1],
            s=size,
            alpha=0.7,
            linewidths=0,
            color=cmap(k % cmap.N),
            label=_class_name(c, class_names),
        )
    ax.legend(
        markerscale=8 / np.sqrt(size),
        fontsize="small",
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        frameon=False,
    )


def _class_name(c: Any, class_names: Sequence[str] | Mapping[Any, str] | None) -> str:
    """Legend name of label value ``c``: from ``class_names`` when it has one, else ``str(c)``."""
    key = c.item() if isinstance(c, np.generic) else c
    if isinstance(class_names, Mapping):
        return str(class_names.get(key, key))
    if (
        class_names is not None
        and isinstance(key, (int, np.integer))
        and 0 <= key < len(class_names)
    ):
        return str(class_names[key])
    if (
        class_names is not None
        and isinstance(key, float)
        and key.is_integer()
        and 0 <= key < len(class_names)
    ):
        return str(class_names[int(key)])
    return str(key)
