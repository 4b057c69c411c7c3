"""ImageAnomalyDetector trained on a generated texture with generated, labelled defects.

The texture is a noisy sinusoidal grating (aekit.data.defects.grating), the defects those of the
benchmark; a detector that ignored the image (or a map that ignored where the defect is) fails the
bars below, which sit well under what the default reaches (image ROC-AUC 0.95, pixel 0.97).
"""

import json

import numpy as np
import pytest
import torch

import aekit
from aekit.data.defects import DEFECTS, add_defect, defect_dataset, grating
from aekit.errors import DataError, UsageError
from aekit.estimators.images import image_map_metrics
from aekit.estimators.images.detector import FIRST_SCALES
from aekit.models.patchbank import PatchBankConfig


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    donor = grating(192, np.random.default_rng(5), period=4.0)
    return defect_dataset(
        grating(192, rng), rng, size=32, n_train=60, n_good=20, n_per_defect=4, donor=donor
    )


@pytest.fixture(scope="module")
def detector(data):
    return aekit.ImageAnomalyDetector(bank_size=2048, threads=1).fit(data.train)


def test_the_default_finds_which_images_and_where(detector, data):
    out = detector.evaluate(data.test, masks=data.masks)
    assert out["image_roc_auc"] >= 0.85
    assert out["pixel_roc_auc"] >= 0.9
    assert out["pro"] >= 0.7
    maps = detector.anomaly_maps(data.test)
    assert maps.shape == data.masks.shape
    # a defective image's map is higher on its defect than off it
    inside = [m[k].mean() for m, k in zip(maps, data.masks) if k.any()]
    outside = [m[~k].mean() for m, k in zip(maps, data.masks) if k.any()]
    assert np.mean(np.greater(inside, outside)) >= 0.9


def test_a_map_that_ignores_the_image_would_fail(detector, data):
    """The bars can fail: maps shuffled between images score near chance."""
    maps = detector.anomaly_maps(data.test)[::-1]
    out = image_map_metrics(data.labels, maps.reshape(len(maps), -1).max(1), data.masks, maps)
    assert out["pixel_roc_auc"] < 0.9


def test_thresholds_scores_and_persistence(detector, data, tmp_path):
    good = data.test[data.labels == 0]
    assert detector.predict(good).mean() <= 0.3  # calibrated at fpr 0.01 on 12 held-out images
    assert detector.calibration_["images"] == 12
    p = detector.p_values(data.test)
    assert ((p > 0) & (p <= 1)).all()
    detector.save(tmp_path / "run")
    loaded = aekit.load(tmp_path / "run")
    np.testing.assert_allclose(
        loaded.anomaly_maps(data.test[:4]), detector.anomaly_maps(data.test[:4]), atol=1e-5
    )
    assert loaded.threshold_ == detector.threshold_
    assert loaded.pixel_threshold_ == detector.pixel_threshold_


def test_a_run_keeps_the_scales_its_bank_was_filled_with(detector, data, tmp_path):
    """The texture features' scales are saved with the run; a run saved before they were (its
    config.json without them) is read with the scales of that time, not today's defaults."""
    default = PatchBankConfig(in_channels=1)
    assert detector.filter_scales_ == {"sigmas": default.sigmas, "windows": default.windows}
    detector.save(tmp_path / "run")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["state"]["filter_scales"] == {
        "sigmas": list(default.sigmas),
        "windows": list(default.windows),
    }
    first = aekit.ImageAnomalyDetector(bank_size=512, threads=1).fit(data.train)
    first.filter_scales_ = FIRST_SCALES  # a bank filled with the first scales, saved without them
    first.model_ = first._build_model()
    first.model_.fill(torch.as_tensor(data.train), torch.Generator().manual_seed(0))
    first.filter_scales_ = None
    first.image_score_ = "max"  # and scored by the map's maximum, as then
    first.calibrate(data.train[:12])
    del first.image_score_
    first.save(tmp_path / "old")
    config = json.loads((tmp_path / "old" / "config.json").read_text())
    assert "filter_scales" not in config["state"] and "image_score" not in config["state"]
    loaded = aekit.load(tmp_path / "old")
    assert loaded.model_.config.sigmas == FIRST_SCALES["sigmas"] and loaded.image_score_ == "max"
    maps = loaded.anomaly_maps(data.test)
    np.testing.assert_allclose(
        loaded.decision_function(data.test), maps.reshape(len(maps), -1).max(1)
    )
    np.testing.assert_array_equal(loaded.calibration_scores_, first.calibration_scores_)
    np.testing.assert_allclose(
        loaded.anomaly_maps(data.test[:4]), first.anomaly_maps(data.test[:4]), atol=1e-5
    )


@pytest.mark.parametrize("method", ["pixels", "ssim"])
def test_the_peers_train_and_map(method, data):
    det = aekit.ImageAnomalyDetector(method=method, bank_size=512, epochs=2, threads=1)
    det.fit(data.train[:20])
    maps = det.anomaly_maps(data.test[:3, :, :20, :24])  # any height and width
    assert maps.shape == (3, 20, 24) and np.isfinite(maps).all()


def test_bad_input_is_one_line():
    det = aekit.ImageAnomalyDetector()
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        det.fit(np.full((4, 1, 8, 8), 3.0, np.float32))
    with pytest.raises(UsageError, match="method"):
        aekit.ImageAnomalyDetector(method="draem").fit(np.zeros((4, 8, 8), np.float32))
    fitted = aekit.ImageAnomalyDetector(bank_size=16).fit(np.zeros((4, 8, 8), np.float32))
    with pytest.raises(DataError, match="channels"):
        fitted.anomaly_maps(np.zeros((1, 3, 8, 8), np.float32))
    # the shape as given (one image was shown as (8, 1, 1, 8)), and the rule a shape broke
    with pytest.raises(DataError, match=r"shape \(8, 8\);.*one image: X\[None\]"):
        fitted.anomaly_maps(np.zeros((8, 8), np.float32))
    # width x height, as every other line writes a size (it said 1x8, height first)
    with pytest.raises(DataError, match=r"8x1 pixels \(width x height\); expected at least 2x2"):
        fitted.anomaly_maps(np.zeros((2, 1, 1, 8), np.float32))


@pytest.mark.parametrize(
    ("y", "needle"),
    [([0, 1], "y has 2 labels but X has 4"), (["good"] * 4, "'good'"), ([0, 2, 0, 1], "label 2")],
)
def test_evaluate_takes_labels_0_and_1_only(y, needle):
    """A label 2 was counted twice as a defect and the ROC-AUC dropped; text was int()'s error."""
    X = np.random.default_rng(0).random((4, 1, 8, 8), dtype=np.float32)
    det = aekit.ImageAnomalyDetector(bank_size=16).fit(X)
    with pytest.raises(DataError, match=needle):
        det.evaluate(X, np.array(y))
    with pytest.raises(DataError, match="NaN"):
        det.evaluate(X, masks=np.full((4, 8, 8), np.nan))
    assert det.evaluate(X, np.array([0, 1, 0, 1], bool))["n_defective"] == 2


def test_evaluate_says_what_is_wrong_with_the_masks(caplog):
    """Probe 61 labels #5 and #6: masks of different shapes raised numpy's ValueError; a mask with
    defect pixels for an image labelled good was used without a word."""
    import logging

    X = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    det = aekit.ImageAnomalyDetector(bank_size=16).fit(X)
    ragged = [np.zeros((8, 8)), np.zeros((8, 8)), np.zeros((5, 8))]
    with pytest.raises(DataError, match=r"different shapes .*; expected \(3, 8, 8\)"):
        det.evaluate(X, masks=ragged)
    masks = np.zeros((3, 8, 8))
    masks[1, 2:4, 2:4] = 1
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        det.evaluate(X, [0, 0, 1], masks)
        det.evaluate(X, [0, 1, 0], masks, names=["a.png", "b.png", "c.png"])  # they agree
    assert "1 image labelled good has defect pixels in its mask (the first: image 1)" in caplog.text
    assert caplog.text.count("labelled good") == 1
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        det.evaluate(X, [0, 0, 0], masks, names=["a.png", "b.png", "c.png"])
    assert "(the first: b.png)" in caplog.text
    masks[2, 0, 0] = 1  # two of them: said in the plural (review 1 F11)
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        det.evaluate(X, [0, 0, 0], masks)
    assert "2 images labelled good have defect pixels in their masks" in caplog.text
    assert "count them as good" in caplog.text


def test_every_defect_changes_the_image_inside_its_mask_only():
    rng = np.random.default_rng(3)
    image = grating(48, rng)
    for kind in DEFECTS:
        out, mask = add_defect(image, kind, rng, donor=grating(48, rng, period=3.0))
        assert mask.any() and out.shape == image.shape
        changed = np.abs(out - image).max(0) > 1e-6
        assert not (changed & ~mask).any(), kind
        assert changed[mask].mean() > 0.5, kind


def test_fit_predict_is_the_training_images_labels():
    import aekit

    X = np.random.default_rng(0).random((20, 1, 12, 12), dtype=np.float32)
    labels = aekit.ImageAnomalyDetector(bank_size=128).fit_predict(X)
    det = aekit.ImageAnomalyDetector(bank_size=128).fit(X)
    np.testing.assert_array_equal(labels, det.predict(X))
    assert labels.shape == (20,)


def test_image_scores_take_maps_n_h_w_of_finite_numbers_only():
    """Probe 55 inputs 12: one map (H, W) gave H scores, a NaN pixel a NaN score; a 1-D map, None,
    a string, a ragged list or a tensor that requires grad raised torch's or NumPy's own error."""
    X = np.random.default_rng(0).random((6, 1, 8, 8), dtype=np.float32)
    det = aekit.ImageAnomalyDetector(method="pixels", bank_size=64, patch=3).fit(X)
    maps = det.anomaly_maps(X)
    np.testing.assert_array_equal(det.image_scores(maps), det.decision_function(X))
    grad = torch.tensor(maps, requires_grad=True)
    np.testing.assert_array_equal(det.image_scores(grad), det.image_scores(maps))
    for bad, needle in [
        (maps[0], r"maps has shape \(8, 8\); expected anomaly maps \(n, H, W\).*maps\[None\]"),
        (maps[0, 0], r"shape \(8,\)"),
        (None, "dtype object"),
        ("abc", "dtype <U3"),
        ([[1, 2], [3]], "cannot be read as an array"),
        (np.where(np.arange(64).reshape(8, 8) == 9, np.nan, maps), r"non-finite value \(nan\)"),
    ]:
        with pytest.raises(DataError, match=needle):
            det.image_scores(bad)


def test_one_channels_last_image_is_not_scored_as_a_batch():
    """Probe 55 inputs 26: one RGB image (16, 16, 3) as PIL gives it got 16 scores (16 grayscale
    images of 16x3 pixels), predict 16 labels; (H, W, 4) the same."""
    rng = np.random.default_rng(0)
    det = aekit.ImageAnomalyDetector(method="pixels", bank_size=64, patch=3)
    det.fit(rng.random((6, 16, 16), dtype=np.float32))
    for channels in (3, 4):
        image = rng.random((16, 16, channels), dtype=np.float32)
        for call in (det.decision_function, det.predict, det.anomaly_maps):
            with pytest.raises(DataError, match=r"one image with its channels last.*\[None\]"):
                call(image)
    assert det.decision_function(rng.random((5, 16, 16), dtype=np.float32)).shape == (5,)


def test_a_smoothing_wider_than_the_images_is_one_line_not_a_huge_kernel():
    x = np.random.default_rng(0).random((6, 1, 12, 16), dtype=np.float32)
    with pytest.raises(UsageError, match=r"smoothing 1e\+09 px is wider than the images \(16x12\)"):
        aekit.ImageAnomalyDetector(method="pixels", bank_size=64, smoothing=1e9).fit(x)
    aekit.ImageAnomalyDetector(method="pixels", bank_size=64, smoothing=16).fit(x)  # as wide


def test_images_outside_0_1_are_told_to_divide_by_255_only_when_they_are_8_bit_pixels():
    """Probe 62 dtypes #12: 16-bit images and images in [-1, 1] were told to "divide 8-bit pixels
    by 255"; 16-bit ones so divided reach 257 and were told it again. The Denoiser's and the VAE's
    line now: the advice of the values at hand."""
    images = np.random.default_rng(0).random((6, 1, 16, 16))
    det = aekit.ImageAnomalyDetector(method="pixels", bank_size=64, patch=3)
    scale = r"; the ImageAnomalyDetector takes values in \[0, 1\]: scale them to \[0, 1\]$"
    for x in ((images * 65535).astype(np.uint16), images * 2 - 1):
        with pytest.raises(DataError, match=scale):
            det.fit(x)
    with pytest.raises(DataError, match=r"\[0, 254\]; .*: divide the 8-bit pixels by 255$"):
        det.fit(np.round(images * 254).astype(np.uint8))
    fitted = det.fit(images)
    with pytest.raises(DataError, match=scale):
        fitted.decision_function((images * 65535).astype(np.uint16) / 255)
