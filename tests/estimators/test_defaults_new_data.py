"""Issue 21's acceptance: every family's defaults train to a useful result on small real data that
aekit was never tuned on: scikit-learn's digits (8x8 images) and breast-cancer table (raw units).

The size of the code (``latent_dim``) is the user's modelling choice and is set; every training
setting (epochs, learning rate, schedule, scaling, output activation) is the default.
"""

from __future__ import annotations

import numpy as np
import pytest

import aekit
from aekit.recipes.quality import sample_spread
from aekit.training.budget import holdout_indices


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16).astype(np.float32)[
        :, None
    ]  # (1797, 8, 8) -> (1797, 1, 8, 8) in [0, 1]
    x = x[
        np.random.default_rng(0).permutation(len(x))[:500]
    ]  # a seeded 500: a small set, a brief test
    train, val = holdout_indices(len(x), 0.2, 0)
    return x[train], x[val]


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()  # 569 rows, 30 features from 0.001 to 4254: raw units, not scaled
    train, val = holdout_indices(len(data.data), 0.2, 0)
    x, malignant = data.data.astype(np.float32), (data.target == 0).astype(np.int64)
    return x[train], x[val], malignant[train], malignant[val]


def test_basic_on_digit_images(digits):
    train, val = digits
    ae = aekit.Autoencoder(latent_dim=8, device="cpu").fit(train, validation_data=val)
    assert ae.scaler_.kind == "none" and ae.output_activation_ == "sigmoid"  # images in [0, 1]
    # the MSE of predicting the mean image
    variance = float(val.reshape(len(val), -1).var(0).mean())
    assert ae.evaluate(val)["val_mse"] < 0.5 * variance


def test_basic_on_a_raw_table(cancer):
    train, val, _, _ = cancer
    ae = aekit.Autoencoder(latent_dim=4, device="cpu").fit(train, validation_data=val)
    assert ae.scaler_.kind == "standard" and ae.output_activation_ == "linear"
    # standardised per feature: the scaled data's variance is 1 per feature (about 1 on held-out rows)
    scaled_variance = float(ae.scaler_.transform(val).var(0).mean())
    assert ae.evaluate(val)["val_mse"] < 0.5 * scaled_variance
    # in the raw units
    assert np.abs(ae.reconstruct(val) - val).mean() < np.abs(val - train.mean(0)).mean() / 3


def test_denoiser_beats_its_noisy_input(digits):
    train, val = digits
    metrics = aekit.Denoiser(device="cpu").fit(train, validation_data=val).evaluate(val)
    assert metrics["val_psnr"] > metrics["noisy_psnr"] + 1.0


def test_vae_samples_are_not_all_alike(digits):
    train, val = digits
    vae = aekit.VAE(device="cpu").fit(train, validation_data=val)
    assert sample_spread(vae.sample(64, seed=0), val) > 0.3  # a collapsed VAE: about 0
    assert vae.evaluate(val, k=5)["test_kl"] > 0.5  # its code carries information about each image


# issue 17's defaults: 0.938 (seeds 1, 2: 0.962, 0.953)
def test_anomaly_detector_on_breast_cancer(cancer):
    train, val, malignant_train, malignant_val = cancer
    # trained on benign rows only
    det = aekit.AnomalyDetector(device="cpu").fit(train[malignant_train == 0])
    assert det.evaluate(val, malignant_val)["roc_auc"] > 0.9
