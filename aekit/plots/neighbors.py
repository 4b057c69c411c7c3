"""Search results as a picture: each query image beside its nearest neighbours, with their distances."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aekit.errors import DataError
from aekit.plots._common import (
    _float_array,
    _images,
    _save,
    _target,
    drawn,
)
from aekit.plots.grid import panel_grid, show_image


@drawn
def plot_neighbors(
    queries: Any,
    neighbors: Any,
    path: str | os.PathLike,
    *,
    distances: Any = None,
    labels: Sequence[Any] | None = None,
    title: str | None = None,
    query_names: Sequence[Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """One row per query: the query, then its neighbours nearest first, each titled with its distance.

    Parameters
    ----------
    queries : array (q, C, H, W), values in [0, 1]
    neighbors : array (q, k, C, H, W), values in [0, 1]
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps). Written atomically.
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    distances : array (q, k), optional
        Shown above each neighbour.
    labels : sequence of length q * (k + 1), optional
        A label per panel (query first, then its neighbours), shown under it: same-label neighbours
        are easy to count.
    title : str, optional
    query_names : sequence of length q, optional
        Each query's name (its file name or id), shown above it.

    Returns
    -------
    Path

    Examples
    --------
    >>> plot_neighbors(np.zeros((2, 1, 8, 8)), np.ones((2, 3, 1, 8, 8)), "nn.png")   # doctest: +SKIP
    PosixPath('nn.png')
    """
    path = _target(path, overwrite)
    q = _images(queries, "queries")
    nb = _float_array(neighbors, "neighbors", "a numeric array (q, k, C, H, W)")
    if nb.ndim != 5 or len(nb) != len(q) or nb.shape[2:] != q.shape[1:]:
        raise DataError(
            f"neighbors must have shape ({len(q)}, k, {', '.join(map(str, q.shape[1:]))}), got {nb.shape}"
        )
    n_q, k = nb.shape[:2]
    # checked and clipped
    nb = _images(nb.reshape(n_q * k, *nb.shape[2:]), "neighbors").reshape(nb.shape)
    dist = (
        None
        if distances is None
        else _float_array(distances, "distances", "a numeric array (q, k)")
    )
    if dist is not None and dist.shape != (n_q, k):
        raise DataError(f"distances must have shape ({n_q}, {k}), got {dist.shape}")
    if labels is not None and len(labels) != n_q * (k + 1):
        raise DataError(
            f"labels must have {n_q * (k + 1)} entries (a query and its {k} neighbours per row), "
            f"got {len(labels)}"
        )
    if query_names is not None and len(query_names) != n_q:
        raise DataError(
            f"query_names must have {n_q} entries, one per query, got {len(query_names)}"
        )
    fig, axes = panel_grid(n_q * (k + 1), k + 1, (1.1, 1.3), extra_height=0.4 if title else 0.0)
    for r in range(n_q):
        for c in range(k + 1):
            ax = axes[r, c]
            show_image(ax, q[r] if c == 0 else nb[r, c - 1], frame=False)
            ax.set_title(
                _panel_title(r, c, dist, query_names),
                fontsize=7,
                fontweight="bold" if c == 0 else "normal",
            )
            if labels is not None:
                ax.set_xlabel(str(labels[r * (k + 1) + c]), fontsize=7)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _panel_title(r: int, c: int, dist, query_names) -> str:
    """A query's name (or "query") over it; each neighbour's distance over it."""
    if c == 0:
        return "query" if query_names is None else _short(str(query_names[r]))
    return "" if dist is None else f"{dist[r, c - 1]:.3g}"


def _short(name: str, most: int = 18) -> str:
    """A query's name cut to fit above its panel (the end kept: file names differ there)."""
    return name if len(name) <= most else "..." + name[-(most - 3) :]
