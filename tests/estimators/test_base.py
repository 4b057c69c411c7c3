"""What every estimator's training shares (aekit/estimators/base.py)."""

import contextlib

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


def test_patience_of_a_detector_with_no_rows_held_out_says_to_hold_some_out(caplog):
    """Probe 67 cli #8: the advice was to pass fit validation_data, which a command line cannot;
    a detector holds out its own rows by validation_fraction."""
    det = aekit.AnomalyDetector(epochs=1, patience=3, validation_fraction=0, threads=1)
    lines = notes(caplog, lambda: det.set_params(device="cpu", hidden=(8,)).fit(X))
    assert {n for n in lines if n.startswith("patience=3 is not used")} == {
        "patience=3 is not used: early stopping watches the validation loss, and this fit has no "
        "validation data; give validation_fraction above 0 to stop early"
    }  # (said by each cross-fitted copy too)


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


def _families():
    """(name, estimator, data, output) of every family, tiny, with the method that maps data."""
    rng = np.random.default_rng(0)
    rows = rng.random((120, 12), dtype=np.float32)
    imgs = rng.random((12, 1, 12, 12), dtype=np.float32)
    series = np.sin(np.arange(400) / 7.0).astype(np.float32)
    small = dict(epochs=1, threads=1)
    return [
        ("ae", aekit.Autoencoder(latent_dim=3, hidden=(8,), **small), rows, "transform"),
        ("ad", aekit.AnomalyDetector(members=2, **small), rows, "score_samples"),
        ("den", aekit.Denoiser(channels=(4, 4), **small), imgs, "transform"),
        ("vae", aekit.VAE(channels=(4, 4), likelihood="gaussian", **small), imgs, "transform"),
        (
            "ser",
            aekit.SeriesDetector(method="reconstruction", window=16, **small),
            series,
            "score_samples",
        ),
        (
            "img",
            aekit.ImageAnomalyDetector(method="ssim", channels=(4, 4), **small),
            imgs,
            "score_samples",
        ),
        ("bank", aekit.ImageAnomalyDetector(bank_size=16, threads=1), imgs, "score_samples"),
    ]


def _weights(est):
    return [p.detach().clone() for p in est.model_.parameters()]


def test_every_family_trains_and_loads_in_float32_under_a_float64_default(tmp_path):
    """Probe 57 citizen #1: with the user's torch.set_default_dtype(torch.float64) every fit and a
    loaded model's transform failed with torch's "mat1 and mat2 must have the same dtype"."""
    import torch

    for name, est, data, method in _families():
        expected = getattr(est.fit(data), method)(data)
        weights = _weights(est)
        torch.set_default_dtype(torch.float64)
        try:
            again = getattr(est.fit(data), method)(data)
            est.save(tmp_path / name)
            loaded = getattr(aekit.load(tmp_path / name), method)(data)
            assert torch.get_default_dtype() == torch.float64, name  # the user's, after each
        finally:
            torch.set_default_dtype(torch.float32)
        assert np.array_equal(again, expected) and np.array_equal(loaded, expected), name
        assert all(torch.equal(a, b) for a, b in zip(_weights(est), weights)), name
    vae = aekit.load(tmp_path / "vae")
    torch.set_default_dtype(torch.float64)
    try:
        sample, elbo = vae.sample(3, seed=0), vae.elbo(data[:4], seed=0)
    finally:
        torch.set_default_dtype(torch.float32)
    assert np.array_equal(sample, vae.sample(3, seed=0))
    assert np.array_equal(elbo, vae.elbo(data[:4], seed=0))


def test_fit_trains_under_the_callers_no_grad_and_inference_mode():
    """Probe 57 citizen #2: fit inside torch.no_grad(), after torch.set_grad_enabled(False) or in
    torch.inference_mode() failed with "element 0 of tensors does not require grad"."""
    import torch

    def grad_off():
        torch.set_grad_enabled(False)
        return contextlib.ExitStack()

    modes = {"no_grad": torch.no_grad, "inference_mode": torch.inference_mode, "off": grad_off}
    for name, est, data, _ in _families()[:6]:
        expected = _weights(est.fit(data))
        for mode, enter in modes.items():
            try:
                with enter():
                    est.fit(data)
                    assert not torch.is_grad_enabled(), (name, mode)  # the caller's mode after
            finally:
                torch.set_grad_enabled(True)
            assert all(torch.equal(a, b) for a, b in zip(_weights(est), expected)), (name, mode)
