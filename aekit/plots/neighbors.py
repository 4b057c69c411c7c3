"""Search results as a picture: each query image beside its nearest neighbours, with their distances."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aekit.errors import DataError
from aekit.plots._common import _float_array, _images, _save
from aekit.plots.grid import panel_grid, show_image


def plot_neighbors(
    queries: Any,
    neighbors: Any,
    path: str | os.PathLike,
    *,
    distances: Any = None,
    labels: Sequence[Any] | None = None,
    title: str | None = None,
) -> Path:
    """One row per query: the query, then its neighbours nearest first, each titled with its distance.

    Parameters
    ----------
    queries : array (q, C, H, W), values in [0, 1]
    neighbors : array (q, k, C, H, W), values in [0, 1]
    path : str or Path
        The PNG written (atomically).
    distances : array (q, k), optional
        Shown above each neighbour.
    labels : sequence of length q * (k + 1), optional
        A label per panel (query first, then its neighbours), shown under it: same-label neighbours
        are easy to count.
    title : str, optional

    Returns
    -------
    Path

    Examples
    --------
    >>> plot_neighbors(np.zeros((2, 1, 8, 8)), np.ones((2, 3, 1, 8, 8)), "nn.png")   # doctest: +SKIP
    PosixPath('nn.png')
    """
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
    fig, axes = panel_grid(n_q * (k + 1), k + 1, (1.1, 1.3), extra_height=0.4 if title else 0.0)
    for r in range(n_q):
        for c in range(k + 1):
            ax = axes[r, c]
            show_image(ax, q[r] if c == 0 else nb[r, c - 1], frame=False)
            if c == 0:
                ax.set_title("query", fontsize=8, fontweight="bold")
            elif dist is not None:
                ax.set_title(f"{dist[r, c - 1]:.3g}", fontsize=7)
            if labels is not None:
                ax.set_xlabel(str(labels[r * (k + 1) + c]), fontsize=7)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
