"""PRO and pixel ROC-AUC on hand-made masks and maps, whose values are worked out by hand."""

import numpy as np
import pytest

from aekit.errors import DataError
from aekit.estimators.images import image_map_metrics, pixel_roc_auc, pro_curve, pro_score


def _two_regions():
    """One 10x10 image: a big region (20 pixels) and a small one (2 pixels)."""
    masks = np.zeros((1, 10, 10), bool)
    masks[0, :4, :5] = True  # 20 pixels
    masks[0, 8, 8:] = True  # 2 pixels, not touching the first
    return masks


def test_perfect_map_scores_one():
    masks = _two_regions()
    maps = masks.astype(float) + 0.01 * np.random.default_rng(0).random(masks.shape)
    assert pro_score(masks, maps) == pytest.approx(1.0, abs=1e-2)
    assert pixel_roc_auc(masks, maps) == 1.0


def test_pro_weighs_regions_equally_where_pixel_auc_does_not():
    """The map finds the big region only: pixel ROC-AUC is high (20 of 22 defect pixels), PRO about
    half (one of two regions), since PRO averages the regions' overlaps."""
    masks = _two_regions()
    maps = np.zeros(masks.shape)
    maps[0, :4, :5] = 1.0
    # normal pixels get distinct low values, the small region the lowest of all
    normal = ~masks[0]
    maps[0][normal] = np.linspace(0.1, 0.5, normal.sum())
    maps[0, 8, 8:] = 0.0
    # the small region is never above a threshold with fpr <= 0.3: overlap (1 + 0) / 2 from fpr 0 on
    fpr, overlap = pro_curve(masks, maps)
    assert overlap[0] == pytest.approx(0.5) and overlap[-1] == pytest.approx(0.5)
    assert fpr[-1] == pytest.approx(0.3, abs=0.02)
    assert pro_score(masks, maps) == pytest.approx(0.5, abs=1e-6)
    assert pixel_roc_auc(masks, maps) == pytest.approx(20 / 22, abs=1e-9)


def test_random_map_scores_about_fpr_over_two():
    """A map unrelated to the masks: the overlap equals the fpr, so PRO is about 0.3 / 2 / 0.3."""
    rng = np.random.default_rng(1)
    masks = np.zeros((20, 32, 32), bool)
    masks[:, 8:24, 8:24] = True
    maps = rng.random(masks.shape)
    assert pro_score(masks, maps) == pytest.approx(0.15, abs=0.02)
    assert pixel_roc_auc(masks, maps) == pytest.approx(0.5, abs=0.03)


def _reference_pro(masks, maps, max_fpr=0.3):
    """PRO as the MVTec AD evaluation code computes it: every distinct map value a threshold
    (flagged: at or above it), the curve's trapezoids up to max_fpr, the last one cut on its line."""
    from scipy import ndimage

    regions = []
    for mask, m in zip(masks, maps):
        lab, n = ndimage.label(mask, structure=np.ones((3, 3)))
        regions += [m[lab == k] for k in range(1, n + 1)]
    normal = maps[~masks]
    points = [(0.0, 0.0)]
    for t in np.unique(maps)[::-1]:
        points.append(((normal >= t).mean(), np.mean([(r >= t).mean() for r in regions])))
    fpr, overlap = np.array(points).T
    cut = np.searchsorted(fpr, max_fpr, side="right")
    at = np.interp(max_fpr, fpr[cut - 1 : cut + 1], overlap[cut - 1 : cut + 1])
    fpr, overlap = np.append(fpr[:cut], max_fpr), np.append(overlap[:cut], at)
    return np.sum(np.diff(fpr) * (overlap[1:] + overlap[:-1]) / 2) / max_fpr


@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_pro_follows_the_reference_on_maps_of_tied_values(decimals):
    """Maps of few distinct values (rounded, clipped) put the curve's points far apart: the last
    overlap held flat to fpr 0.3 gave 0.26 for integer maps where the reference gives 0.42."""
    rng = np.random.default_rng(5)
    masks = np.zeros((2, 32, 32), bool)
    masks[0, 5:10, 5:10] = True
    masks[1, 20:22, 10:25] = True
    maps = rng.normal(size=masks.shape) + masks
    maps = maps if decimals is None else np.round(maps, decimals)
    assert pro_score(masks, maps) == pytest.approx(_reference_pro(masks, maps), abs=2e-3)
    floor = np.maximum(maps, np.quantile(maps, 0.85))  # 85% of the pixels share the lowest value
    assert pro_score(masks, floor) == pytest.approx(_reference_pro(masks, floor), abs=2e-3)


def test_image_metrics_and_bad_input():
    masks = _two_regions()
    out = image_map_metrics(
        [0, 1], [0.1, 0.9], np.concatenate([masks * 0, masks]), np.ones((2, 10, 10))
    )
    assert out["image_roc_auc"] == 1.0 and out["pixel_roc_auc"] == 0.5
    with pytest.raises(DataError):
        pro_score(np.zeros((1, 4, 4), bool), np.zeros((1, 4, 4)))  # no defect pixels
    with pytest.raises(DataError):
        pixel_roc_auc(np.zeros((1, 4, 4), bool), np.zeros((1, 4, 5)))
