"""Where a sample departs from the normal rows: each feature's part of the score, and image maps."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import aekit
from aekit import AnomalyDetector
from aekit.errors import UsageError
from aekit.estimators.anomaly.scores import feature_errors, sample_scores

NO_DENSITY = {"density": 0, "input_density": 0}


@pytest.mark.parametrize("error", ["nmse", "mse", "mae"])
@pytest.mark.parametrize("members", [None, 3])
def test_the_features_parts_average_to_the_samples_score(error, members):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 2, 6, generator=gen)  # (B, C, T)
    x_hat = torch.randn(5, 2, 6, generator=gen) if members is None else torch.randn(3, 5, 2, 6)
    scale = torch.rand(x_hat.shape[:1] + x.shape[1:] if members else x.shape[1:]) + 0.5
    parts = feature_errors(x_hat, x, error, scale)
    assert parts.shape == x.shape
    torch.testing.assert_close(parts.flatten(1).mean(1), sample_scores(x_hat, x, error, scale))


def _rows(n, seed):
    """Rows of 8 columns on a line (each a multiple of one hidden value) plus a little noise."""
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, 1))
    return (t * np.linspace(1, 2, 8) + 0.05 * rng.normal(size=(n, 8))).astype(np.float32)


def test_a_fitted_detectors_parts_are_its_score_and_name_the_odd_column(tmp_path):
    det = AnomalyDetector(epochs=20, device="cpu", **NO_DENSITY).fit(_rows(300, 0))
    X = _rows(40, 1)
    X[:, 3] += 2.0  # one column off the line
    parts = det.feature_errors(X)
    assert parts.shape == X.shape
    np.testing.assert_allclose(parts.mean(axis=1), det.score_samples(X), rtol=1e-5)
    assert np.mean(parts.argmax(axis=1) == 3) >= 0.9
    det.save(tmp_path / "m")
    np.testing.assert_array_equal(aekit.load(tmp_path / "m").feature_errors(X), parts)


def _stripes(n, rng, channels):
    """(n, C, 16, 16) images of vertical stripes at a random phase."""
    xx = np.arange(16)[None, None, None, :]
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1, 1))
    return np.broadcast_to(0.5 + 0.3 * np.sin(xx / 2 + phase), (n, channels, 16, 16)).astype(
        np.float32
    )


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("architecture", ["dense", "conv2d"])
def test_anomaly_maps_of_images_light_up_a_pasted_square(channels, architecture):
    rng = np.random.default_rng(0)
    det = AnomalyDetector(architecture=architecture, epochs=20, device="cpu")
    det.fit(_stripes(200, rng, channels))
    images, masks = _stripes(20, rng, channels).copy(), np.zeros((20, 16, 16), bool)
    for i in range(10):  # half get a bright 4x4 square
        y, x = rng.integers(0, 12, 2)
        images[i, :, y : y + 4, x : x + 4] = 1.0
        masks[i, y : y + 4, x : x + 4] = True
    maps = det.anomaly_maps(images)
    assert maps.shape == (20, 16, 16)
    np.testing.assert_allclose(maps, det.feature_errors(images).mean(axis=1), rtol=1e-6)
    assert roc_auc_score(masks[:10].ravel(), maps[:10].ravel()) > 0.95
    assert roc_auc_score(masks.any(axis=(1, 2)), det.score_samples(images)) > 0.95


def test_anomaly_maps_are_refused_for_a_detector_of_rows():
    det = AnomalyDetector(epochs=1, device="cpu", **NO_DENSITY).fit(_rows(40, 0))
    with pytest.raises(UsageError, match=r"trained on samples shaped \(8,\): use feature_errors"):
        det.anomaly_maps(_rows(2, 1))
