"""Anomaly maps over their images: the map in colour, a colour scale, and the threshold's contour.

An overlay keeps the image's own pixel grid (small images are enlarged by a whole factor, to at
least :data:`MIN_SIDE` pixels, so that the contour can be seen), so it lines up with the input.
The map is coloured on a fixed scale from 0 to ``scale`` (values above it saturate), the same for
every image, so that two overlays compare; the contour outlines the pixels above ``threshold``.
Drawn with NumPy and Pillow (matplotlib lends its colour table only): an overlay per image of a
folder costs milliseconds.

Examples
--------
>>> rgb = map_overlay(np.zeros((1, 32, 32)), np.eye(32), threshold=0.5, scale=1.0)
>>> rgb.shape[0], rgb.dtype
(192, dtype('uint8'))
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from aekit._io import write_with
from aekit.errors import DataError
from aekit.plots._common import (
    _check_finite,
    _check_not_8bit,
    _count,
    _float_array,
    _images,
    _matplotlib,
    _number,
    _suffix,
    _target,
)

MIN_SIDE = 192  # pixels: smaller images are enlarged by a whole factor up to this
MAX_ENLARGE = 8
ALPHA = 0.5  # the map's weight over the image
CONTOUR = (0, 255, 255)  # cyan: apart from every colour of the map's scale
COLOURS = "inferno"  # matplotlib's perceptually uniform colour table, dark = 0
BAR, GAP, LABELS = 12, 4, 64  # the colour scale: its width, the gap before it, its labels' width
# the file types an overlay is written as (Pillow's writers), named by the path's suffix
PIL_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".pdf": "PDF",
}
MAP_FORMATS = tuple(PIL_FORMATS)


def _colours(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) as RGB floats in [0, 1], shape ``values.shape + (3,)``."""
    table = _matplotlib().colormaps[COLOURS](np.linspace(0.0, 1.0, 256))[:, :3]
    return table[np.round(np.clip(values, 0.0, 1.0) * 255).astype(np.intp)]


def _outline(mask: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` with a 4-neighbour outside it (outside the image counts as outside)."""
    p = np.pad(mask, 1, constant_values=False)
    inner = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return mask & ~inner


def _enlarge(a: np.ndarray, k: int) -> np.ndarray:
    return a if k == 1 else np.repeat(np.repeat(a, k, axis=0), k, axis=1)


def _checked(image, amap, threshold: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(the image as (H, W, 3) floats in [0, 1], the map as (H, W) floats), or a DataError."""
    img = _float_array(image, "image", "a numeric array (C, H, W)")
    if img.ndim != 3:
        raise DataError(f"image must have shape (C, H, W), got shape {img.shape}")
    _check_not_8bit(image, "image")
    img = _images(img[None], "image")[0]
    m = _float_array(amap, "amap", "a numeric array (H, W)")
    if m.shape != img.shape[1:]:
        raise DataError(f"amap has shape {m.shape}; expected the image's (H, W) {img.shape[1:]}")
    _check_finite(m, "amap")
    threshold, scale = _number(threshold, "threshold"), _number(scale, "scale")
    if not scale > 0:
        raise DataError(
            f"threshold and scale must be finite and scale > 0, got {threshold}, {scale}"
        )
    rgb = np.repeat(img, 3, axis=0) if img.shape[0] == 1 else img
    return rgb.transpose(1, 2, 0), m


def map_overlay(
    image, amap, *, threshold: float, scale: float, colour_bar: bool = True
) -> np.ndarray:
    """The map over the image, its threshold's contour and (``colour_bar``) a labelled colour scale.

    Parameters
    ----------
    image : array (C, H, W)
        The image in [0, 1], C = 1 (gray) or 3 (RGB).
    amap : array (H, W)
        Its anomaly map (higher = more anomalous).
    threshold : float
        The pixel threshold: pixels above it are outlined.
    scale : float
        The map value drawn in the scale's last colour (0 in its first).
    colour_bar : bool, default True
        Append the colour scale, labelled 0, ``threshold`` and ``scale``.

    Returns
    -------
    ndarray of uint8, shape (H * k, W * k [+ the scale's width], 3)
        ``k`` the whole factor that brings the longer side to :data:`MIN_SIDE` (1 for large images).

    Examples
    --------
    >>> rgb = map_overlay(image, det.anomaly_maps(image[None])[0],
    ...                   threshold=det.pixel_threshold_, scale=2 * det.pixel_threshold_)  # doctest: +SKIP
    >>> rgb.shape                                                                      # doctest: +SKIP
    (192, 272, 3)
    """
    rgb, m = _checked(image, amap, threshold, scale)
    k = int(min(MAX_ENLARGE, max(1, -(-MIN_SIDE // max(m.shape)))))
    blend = _enlarge((1 - ALPHA) * rgb + ALPHA * _colours(m / scale), k)
    blend[_outline(_enlarge(m > threshold, k))] = np.asarray(CONTOUR) / 255
    out = np.round(blend * 255).astype(np.uint8)
    if not colour_bar:
        return out
    gap = np.zeros((out.shape[0], GAP, 3), np.uint8)
    return np.concatenate([out, gap, colour_scale(out.shape[0], threshold, scale)], axis=1)


def colour_scale(height: int, threshold: float, scale: float) -> np.ndarray:
    """The colour scale, ``scale`` at the top and 0 at the bottom, a contour-coloured tick at
    ``threshold``, labelled on its right: uint8 (height, BAR + LABELS, 3)."""
    from PIL import Image, ImageDraw, ImageFont

    values = np.linspace(1.0, 0.0, height)[:, None].repeat(BAR, axis=1)
    bar = np.round(_colours(values) * 255).astype(np.uint8)
    at = int(round((height - 1) * (1 - min(max(threshold / scale, 0.0), 1.0))))
    bar[max(0, at - 1) : at + 1] = CONTOUR
    panel = Image.new("RGB", (BAR + LABELS, height))
    panel.paste(Image.fromarray(bar), (0, 0))
    draw, font = ImageDraw.Draw(panel), ImageFont.load_default()
    line = 11  # the default font's height, about
    # the threshold's label between the others: at a threshold beyond the scale (its tick at an
    # end) it was written over the end's label, which then read as the threshold
    for value, y, lo, hi in (
        (scale, 0, 0, height - line),
        (threshold, at - line // 2, line, height - 2 * line),
        (0.0, height - line, 0, height - line),
    ):
        y = min(max(y, lo), max(hi, 0))
        draw.text((BAR + 3, y), f"{value:.3g}", fill=(255, 255, 255), font=font)
    return np.asarray(panel)


def plot_map_overlay(
    image,
    amap,
    path: str | os.PathLike,
    *,
    threshold: float,
    scale: float,
    overwrite: bool = False,
) -> Path:
    """Write :func:`map_overlay` of ``image`` and ``amap`` to ``path`` (atomically).

    Parameters
    ----------
    image : array (C, H, W)
        The image in [0, 1], C = 1 (gray) or 3 (RGB).
    amap : array (H, W)
        Its anomaly map.
    path : str or PathLike
        The file to write; its ending names the format (.png, .jpg, .tif, .pdf).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    threshold, scale : float
        As for :func:`map_overlay`.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_map_overlay(img, det.anomaly_maps(img[None])[0], "overlay.png",
    ...                  threshold=det.pixel_threshold_, scale=2 * det.pixel_threshold_)  # doctest: +SKIP
    PosixPath('overlay.png')
    """
    path = _target(path, overwrite, MAP_FORMATS)
    return _write_png(map_overlay(image, amap, threshold=threshold, scale=scale), path)


def plot_map_overlays(
    images,
    maps,
    path: str | os.PathLike,
    *,
    threshold: float,
    scale: float,
    n: int = 8,
    overwrite: bool = False,
) -> Path:
    """The first ``n`` images with their maps over them, side by side, and one colour scale.

    Parameters
    ----------
    images : array (m, C, H, W)
        Images in [0, 1], C = 1 (gray) or 3 (RGB).
    maps : array (m, H, W)
        Their anomaly maps.
    path : str or PathLike
        The file to write; its ending names the format (.png, .jpg, .tif, .pdf).
    overwrite : bool, default False
        Replace an existing file at ``path`` (else it is refused in one line).
    threshold, scale : float
        As for :func:`map_overlay`.
    n : int, default 8
        Images drawn, at most.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> plot_map_overlays(X[:8], det.anomaly_maps(X[:8]), "maps.png",
    ...                   threshold=det.pixel_threshold_, scale=2 * det.pixel_threshold_)  # doctest: +SKIP
    PosixPath('maps.png')
    """
    path = _target(path, overwrite, MAP_FORMATS)
    n = _count(n, "n")
    _check_not_8bit(images, "images")  # before the float copy, which hides 0-255 pixels
    images = _float_array(images, "images", "a numeric array (m, C, H, W) of one image size")
    maps = _float_array(maps, "maps", "a numeric array (m, H, W) of one map size")
    if images.ndim == 0 or maps.ndim == 0 or len(images) == 0 or len(images) != len(maps):
        raise DataError(
            f"images and maps must be as many and not none, got {len(images)}, {len(maps)}"
        )
    tiles = [
        map_overlay(img, m, threshold=threshold, scale=scale, colour_bar=False)
        for img, m in zip(images[:n], maps[:n])
    ]
    gap = np.full((tiles[0].shape[0], GAP, 3), 255, np.uint8)
    row = [part for tile in tiles for part in (tile, gap)]
    row.append(colour_scale(tiles[0].shape[0], threshold, scale))
    return _write_png(np.concatenate(row, axis=1), path)


def _write_png(rgb: np.ndarray, path: Path) -> Path:
    """``rgb`` written to ``path`` (checked by ``_target``) in the format its suffix names."""
    from PIL import Image

    kind = PIL_FORMATS[_suffix(path)]
    write_with(path, lambda tmp: Image.fromarray(rgb, "RGB").save(tmp, format=kind))
    return path
