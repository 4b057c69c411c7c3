"""What every estimator's training shares (aekit/estimators/base.py)."""

import numpy as np

import aekit

X = np.random.default_rng(0).normal(size=(120, 6)).astype(np.float32)


def notes(caplog, fit):
    caplog.clear()
    with caplog.at_level("WARNING", logger="aekit.notes"):
        fit()
    return [r.getMessage() for r in caplog.records if r.name == "aekit.notes"]


def test_patience_without_validation_data_is_named_in_a_note(caplog):
    ae = aekit.Autoencoder(latent_dim=2, epochs=2, patience=1, threads=1, device="cpu")
    lines = notes(caplog, lambda: ae.fit(X))
    assert len(lines) == 1 and lines[0].startswith("patience=1 is not used"), lines
    assert "validation_data" in lines[0]
    # with validation data it is used, and without patience there is nothing to say
    assert notes(caplog, lambda: ae.fit(X, validation_data=X[:40])) == []
    assert notes(caplog, lambda: ae.set_params(patience=None).fit(X)) == []


def test_every_image_family_refuses_images_with_their_channels_last():
    """Probe 51 ae 6: Denoiser().fit of an (n, H, W, 1) array trained a model of 28-channel 28x1
    images, no error, no warning."""
    import pytest

    from aekit.errors import DataError

    nhwc = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    for est in (aekit.Autoencoder(), aekit.Denoiser(), aekit.VAE()):
        with pytest.raises(DataError, match=r"\(4, 8, 8, 1\): images with their channels last"):
            est.set_params(epochs=1, threads=1).fit(nhwc)


def test_zero_epochs_is_named_in_a_note(caplog):
    """Probe 51 ae 9: Autoencoder(epochs=0).fit(X) returned an untrained model without a word (the
    CLI refuses --epochs 0)."""
    ae = aekit.Autoencoder(latent_dim=2, epochs=0, threads=1, device="cpu")
    lines = notes(caplog, lambda: ae.fit(X))
    assert ae.history_ == [] and any(line.startswith("epochs=0 trains nothing") for line in lines)
