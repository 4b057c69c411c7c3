"""Grids: figures of panels laid out in rows, and images drawn in them or tiled into one.

The image plots (rows of images, sample grids, strips) and the signal plots (one panel per
signal) lay out and draw their panels through these functions, so every grid looks alike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aekit.plots._common import _figures


def panel_grid(
    n: int, ncols: int, panel_size: tuple[float, float], *, extra_height: float = 0.0
) -> tuple[Any, Any]:
    """A figure of ``n`` panels, ``ncols`` to a row, the axes after the ``n``-th turned off.

    Parameters
    ----------
    n : int
        Panels used, filled row by row.
    ncols : int
        Panels per row.
    panel_size : (float, float)
        Width and height of one panel in inches.
    extra_height : float, default 0.0
        Inches added to the figure's height (room for a title).

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of Axes, shape (rows, ncols)
        Always two-dimensional, even for a single row or column.

    Examples
    --------
    >>> fig, axes = panel_grid(5, 3, (5.0, 3.4))  # two rows; the last axes is blank
    """
    nrows = math.ceil(n / ncols)
    width, height = panel_size
    fig, axes = _figures().subplots(
        nrows, ncols, squeeze=False, figsize=(ncols * width, nrows * height + extra_height)
    )
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    return fig, axes


def show_image(ax: Any, img: np.ndarray, *, frame: bool = True) -> None:
    """Draw one (C, H, W) image in [0, 1] on ``ax``: gray for C == 1, RGB for C == 3.

    ``frame=False`` hides the ticks and the border but keeps the axis labels (a row title).
    """
    if img.shape[0] == 1:
        ax.imshow(img[0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(np.transpose(img, (1, 2, 0)), interpolation="nearest")
    if not frame:
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)


def montage(images: np.ndarray, ncols: int, pad: int = 1) -> np.ndarray:
    """Tile (n, C, H, W) images row-major into one (C, H', W') image, white padding."""
    n, c, h, w = images.shape
    nrows = math.ceil(n / ncols)
    out = np.ones((c, nrows * (h + pad) - pad, ncols * (w + pad) - pad))
    for k in range(n):
        r, q = divmod(k, ncols)
        out[:, r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = images[k]
    return out
