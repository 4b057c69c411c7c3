"""Image plots: rows of images, grids (samples, latent manifold) and strips (interpolation)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aekit.errors import DataError
from aekit.plots._common import _figures, _images, _save, _target, _vector, drawn
from aekit.plots.grid import montage, panel_grid, show_image

_TILE_IN = 1.0  # inches per image tile
_MAX_IN = 20.0  # largest figure side, in inches


@drawn
def plot_image_rows(
    rows: Sequence[np.ndarray],
    path: str | os.PathLike,
    *,
    row_titles: Sequence[str] | None = None,
    n: int = 10,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Plot sets of images one above another, column ``j`` showing image ``j`` of each set.

    Parameters
    ----------
    rows : list of ndarray
        Image sets, each shaped (m, C, H, W) with the same shape, C = 1 (gray) or 3 (RGB),
        values in [0, 1] (clipped).
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    row_titles : list of str, optional
        One label per row, shown left of the row.
    n : int, default 10
        Number of images per row (the first ``min(n, m)``).
    title : str, optional
        Figure title.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_image_rows([x, x_hat], "recon.png", row_titles=["original", "reconstructed"])  # doctest: +SKIP
    PosixPath('recon.png')
    """
    path = _target(path, overwrite)
    if isinstance(rows, np.ndarray) or len(rows) == 0:
        raise DataError("rows must be a non-empty list of image arrays (n, C, H, W)")
    arrays = [_images(r, f"rows[{i}]") for i, r in enumerate(rows)]
    if any(a.shape != arrays[0].shape for a in arrays):
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise DataError(f"rows must all have the same shape, got {shapes}")
    if row_titles is not None and len(row_titles) != len(arrays):
        raise DataError(f"row_titles has {len(row_titles)} entries for {len(arrays)} rows")
    if int(n) < 1:
        raise DataError(f"n must be at least 1, got {n}")
    ncols = min(int(n), arrays[0].shape[0])

    # inches: a long row is shrunk to _MAX_IN
    tile = _TILE_IN * min(1.0, _MAX_IN / (ncols * _TILE_IN))
    fig, axes = panel_grid(len(arrays) * ncols, ncols, (tile, tile), extra_height=0.3)
    for i, images in enumerate(arrays):
        for j in range(ncols):
            show_image(axes[i, j], images[j], frame=False)
        if row_titles is not None:
            axes[i, 0].set_ylabel(str(row_titles[i]))
    if title:
        fig.suptitle(title)
    return _save(fig, path)


@drawn
def plot_image_grid(
    images: np.ndarray,
    path: str | os.PathLike,
    *,
    ncols: int | None = None,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Plot images as one grid without axes, filled row by row.

    Parameters
    ----------
    images : ndarray
        Shape (n, C, H, W), C = 1 (gray) or 3 (RGB), values in [0, 1] (clipped).
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    ncols : int, optional
        Images per grid row; default ``ceil(sqrt(n))`` (a square grid). For a decoded latent
        manifold pass the images in row-major order and the number of grid columns.
    title : str, optional
        Figure title.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_image_grid(samples, "samples.png", title="VAE samples")  # doctest: +SKIP
    PosixPath('samples.png')
    >>> plot_image_grid(manifold, "manifold.png", ncols=20)  # doctest: +SKIP
    PosixPath('manifold.png')
    """
    path = _target(path, overwrite)
    a = _images(images)
    n = a.shape[0]
    if ncols is None:
        ncols = math.ceil(math.sqrt(n))
    elif int(ncols) < 1:
        raise DataError(f"ncols must be at least 1, got {ncols}")
    ncols = min(int(ncols), n)
    nrows = math.ceil(n / ncols)

    plt = _figures()
    scale = min(1.0, _MAX_IN / (max(ncols, nrows) * _TILE_IN))
    fig, ax = plt.subplots(
        figsize=(max(ncols * _TILE_IN * scale, 2.0), max(nrows * _TILE_IN * scale, 1.0))
    )
    show_image(ax, montage(a, ncols))  # one image with white lines between the tiles
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_strip(
    images: np.ndarray,
    path: str | os.PathLike,
    *,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Plot images in one row, e.g. decodings along a latent interpolation.

    Parameters
    ----------
    images : ndarray
        Shape (n, C, H, W), C = 1 (gray) or 3 (RGB), values in [0, 1] (clipped).
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    title : str, optional
        Figure title.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_strip(decoded_steps, "interpolation.png", title="3 -> 8")  # doctest: +SKIP
    PosixPath('interpolation.png')
    """
    path = _target(path, overwrite)
    a = _images(images)
    return plot_image_grid(a, path, ncols=a.shape[0], title=title, overwrite=overwrite)


@drawn
def plot_manifold(
    images: np.ndarray,
    z1: Sequence[float],
    z2: Sequence[float],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    max_ticks: int = 7,
    overwrite: bool = False,
) -> Path:
    """Plot images decoded from a grid of 2-D latent points, with the latent axes labelled z1 and z2.

    Parameters
    ----------
    images : ndarray
        Shape (len(z2) * len(z1), C, H, W) in row-major order: row ``r`` decodes ``z2[r]``, column
        ``q`` decodes ``z1[q]``; C = 1 (gray) or 3 (RGB), values in [0, 1] (clipped).
    z1 : sequence of float
        The latent values along the columns (left to right).
    z2 : sequence of float
        The latent values along the rows (top to bottom).
    path : str or PathLike
        The file to write; its ending names the format (.png, .pdf, .svg, .jpg, .tif, .eps).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    title : str, optional
        Axes title.
    max_ticks : int, default 7
        Most tick labels per axis (every k-th grid value is labelled).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> q = np.linspace(-2, 2, 20)
    >>> plot_manifold(vae.inverse_transform(grid), q, q[::-1], "manifold.png")     # doctest: +SKIP
    PosixPath('manifold.png')
    """
    path = _target(path, overwrite)
    a = _images(images)
    z1, z2 = _vector(z1, "z1", allow_empty=True), _vector(z2, "z2", allow_empty=True)
    if len(z1) == 0 or len(z2) == 0 or a.shape[0] != len(z1) * len(z2):
        raise DataError(
            f"images must hold len(z2) * len(z1) = {len(z2)} * {len(z1)} decoded images, "
            f"got {a.shape[0]}"
        )
    _, _, h, w = a.shape
    plt = _figures()
    scale = min(1.0, _MAX_IN / (max(len(z1), len(z2)) * _TILE_IN))
    side = _TILE_IN * scale
    fig, ax = plt.subplots(figsize=(max(len(z1) * side, 2.0) + 0.8, max(len(z2) * side, 1.0) + 0.6))
    show_image(ax, montage(a, len(z1)))
    step1, step2 = max(1, math.ceil(len(z1) / max_ticks)), max(1, math.ceil(len(z2) / max_ticks))
    cols, rows = np.arange(0, len(z1), step1), np.arange(0, len(z2), step2)
    # tile centres (1 px padding)
    ax.set_xticks(cols * (w + 1) + (w - 1) / 2, [f"{v:.2g}" for v in z1[cols]])
    ax.set_yticks(rows * (h + 1) + (h - 1) / 2, [f"{v:.2g}" for v in z2[rows]])
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    if title:
        ax.set_title(title)
    return _save(fig, path)
