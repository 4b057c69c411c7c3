"""Anomaly maps over their images: the contour where the map passes the threshold, a colour scale."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aekit.errors import DataError
from aekit.plots import map_overlay, plot_map_overlay, plot_map_overlays
from aekit.plots.maps import BAR, CONTOUR, GAP, LABELS


def test_the_contour_outlines_the_pixels_above_the_threshold():
    amap = np.zeros((32, 32))
    amap[8:16, 10:20] = 1.0
    rgb = map_overlay(np.full((1, 32, 32), 0.5), amap, threshold=0.5, scale=1.0, colour_bar=False)
    assert rgb.shape == (192, 192, 3)  # enlarged 6 times
    cyan = np.all(rgb == CONTOUR, axis=-1)
    k = 6
    rows, cols = np.nonzero(cyan)
    assert rows.min() == 8 * k and rows.max() == 16 * k - 1
    assert cols.min() == 10 * k and cols.max() == 20 * k - 1
    assert not cyan[8 * k + 3, 10 * k + 3 : 20 * k - 3].any()  # an outline, not a fill
    # the map's high values are drawn in the scale's bright colours
    assert rgb[9 * k, 12 * k].sum() > rgb[2 * k, 2 * k].sum()


def test_a_colour_scale_and_the_files(tmp_path):
    rgb = map_overlay(np.zeros((3, 300, 200)), np.zeros((300, 200)), threshold=1, scale=2)
    assert rgb.shape == (300, 200 + GAP + BAR + LABELS, 3)  # large images keep their size
    path = plot_map_overlay(
        np.zeros((1, 5, 5)), np.eye(5), tmp_path / "a" / "o.png", threshold=0.5, scale=1
    )
    assert Image.open(path).mode == "RGB"
    many = plot_map_overlays(
        np.zeros((3, 1, 8, 8)), np.zeros((3, 8, 8)), tmp_path / "m.png", threshold=1, scale=2
    )
    assert Image.open(many).size[0] > 3 * 8


def test_bad_input_is_one_line():
    with pytest.raises(DataError, match="expected the image's"):
        map_overlay(np.zeros((1, 4, 4)), np.zeros((4, 5)), threshold=1, scale=2)
    with pytest.raises(DataError, match="scale > 0"):
        map_overlay(np.zeros((1, 4, 4)), np.zeros((4, 4)), threshold=1, scale=0)
    with pytest.raises(DataError, match="NaN"):
        map_overlay(np.zeros((1, 4, 4)), np.full((4, 4), np.nan), threshold=1, scale=2)


def test_a_threshold_beyond_the_scale_leaves_the_scales_own_labels(tmp_path):
    """Probe 55 F9: a threshold >= scale had its label written over the scale's at the top."""
    from aekit.plots.maps import colour_scale

    inside = colour_scale(192, 0.5, 1.0)
    for beyond in (1.5, -0.5):
        bar = colour_scale(192, beyond, 1.0)
        assert np.array_equal(bar[:11, BAR:], inside[:11, BAR:])  # "1" alone at the top
        assert np.array_equal(bar[-11:, BAR:], inside[-11:, BAR:])  # "0" alone at the bottom


def test_overlays_bad_input_is_aekits_own_line(tmp_path):
    """Probe 55 F16: n=0 was an IndexError, images of two sizes NumPy's ValueError, and a (H, W)
    image was said to need shape (n, C, H, W)."""
    x, m = np.zeros((2, 1, 8, 8)), np.zeros((2, 8, 8))
    with pytest.raises(DataError, match="n must be at least 1"):
        plot_map_overlays(x, m, tmp_path / "m.png", threshold=1, scale=2, n=0)
    with pytest.raises(DataError, match="of one image size"):
        ragged = [np.zeros((1, 8, 8)), np.zeros((1, 8, 12))]
        plot_map_overlays(ragged, m, tmp_path / "m.png", threshold=1, scale=2)
    with pytest.raises(DataError, match=r"image must have shape \(C, H, W\), got shape \(8, 8\)"):
        map_overlay(np.zeros((8, 8)), np.zeros((8, 8)), threshold=1, scale=2)
    with pytest.raises(DataError, match="threshold must be a number"):
        map_overlay(np.zeros((1, 8, 8)), np.zeros((8, 8)), threshold="abc", scale=2)
