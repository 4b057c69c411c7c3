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

    for channels in (1, 2, 4):  # Keras's x[..., None]; PIL's LA and RGBA (probe 55 inputs 7)
        nhwc = np.random.default_rng(0).random((4, 8, 8, channels)).astype(np.float32)
        for est in (aekit.Autoencoder(), aekit.Denoiser(), aekit.VAE()):
            with pytest.raises(DataError, match=rf"\(4, 8, 8, {channels}\): images with their"):
                est.set_params(epochs=1, threads=1).fit(nhwc)
        with pytest.raises(DataError, match="channels last"):
            aekit.ImageAnomalyDetector(bank_size=16).fit(nhwc)


def test_zero_epochs_is_named_in_a_note(caplog):
    """Probe 51 ae 9: Autoencoder(epochs=0).fit(X) returned an untrained model without a word (the
    CLI refuses --epochs 0)."""
    ae = aekit.Autoencoder(latent_dim=2, epochs=0, threads=1, device="cpu")
    lines = notes(caplog, lambda: ae.fit(X))
    assert ae.history_ == [] and any(line.startswith("epochs=0 trains nothing") for line in lines)


def test_seeded_builds_in_threads_are_the_serial_ones_and_load_leaves_the_rng(tmp_path):
    # torch's global generator is the process's: two fits seeding it at once took each other's
    # draws (a threaded grid search scored differently on each run)
    import threading

    import torch

    def weights(seed):
        m = aekit.VAE(seed=seed, channels=(4, 8), threads=1)
        m.input_shape_, m.n_features_in_ = (1, 28, 28), 784
        net = m._seeded_model(m._build_model)
        return torch.cat([p.detach().flatten() for p in net.parameters()])

    serial = {s: weights(s) for s in range(4)}
    for _ in range(5):
        got, start = {}, threading.Barrier(4)

        def build(s, got=got, start=start):
            start.wait()
            got[s] = weights(s)

        threads = [threading.Thread(target=build, args=(s,)) for s in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert all(torch.equal(got[s], serial[s]) for s in range(4))
    # a load builds the network before its weights: the caller's generator as it was
    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    aekit.Autoencoder(epochs=1, threads=1).fit(X).save(tmp_path / "m")
    torch.manual_seed(0)
    expected = torch.randn(3)
    torch.manual_seed(0)
    aekit.load(tmp_path / "m")
    assert torch.equal(torch.randn(3), expected)
