"""aekit.VAE: fit, encode, generate, bounds, persistence; the vae recipe; a short real-data run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import aekit
import aekit.data
from aekit.data import Data
from aekit.errors import DataError, NotFittedError, UsageError
from aekit.recipes import DataSpec, train_run
from aekit.recipes import vae as vae_recipe
from aekit.recipes.vae import RECIPE, binarize_for, manifold_latents


def _bars(n: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Binary images: one horizontal or vertical bar at a random place; label = orientation."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, size, size), np.float32)
    y = rng.integers(0, 2, n)
    pos = rng.integers(2, size - 6, n)
    for i in range(n):
        if y[i]:
            x[i, 0, :, pos[i] : pos[i] + 4] = 1
        else:
            x[i, 0, pos[i] : pos[i] + 4, :] = 1
    return x, y


@pytest.fixture(scope="module")
def bars():
    return _bars(384)


@pytest.fixture(scope="module")
def fitted(bars):
    torch.set_num_threads(1)
    return aekit.VAE(epochs=2, lr=1e-3, batch_size=32, device="cpu").fit(
        bars[0][:320], validation_data=bars[0][320:]
    )


def test_fit_transform_sample_interpolate(fitted, bars):
    x = bars[0]
    assert (
        len(fitted.history_) == 2
        and fitted.history_[1]["val_loss"] < fitted.history_[0]["train_loss"]
    )
    assert fitted.transform(x[:5]).shape == (5, 2)
    assert fitted.transform(x[0]).shape == (1, 2)  # one (C, H, W) image
    rec = fitted.reconstruct(x[:5])
    assert rec.shape == (5, 1, 28, 28) and rec.min() >= 0 and rec.max() <= 1
    s = fitted.sample(16, seed=3)
    assert s.shape == (16, 1, 28, 28) and s.dtype == np.float32 and s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(s, fitted.sample(16, seed=3))
    # seed=None: the estimator's seed
    np.testing.assert_array_equal(fitted.sample(4), fitted.sample(4))
    assert not np.array_equal(s, fitted.sample(16, seed=4))
    for method in ("linear", "slerp"):
        strip = fitted.interpolate(x[0], x[1], steps=7, method=method)
        assert strip.shape == (7, 1, 28, 28) and strip.min() >= 0 and strip.max() <= 1
        np.testing.assert_allclose(
            strip[0], fitted.inverse_transform(fitted.transform(x[:1]))[0], atol=1e-5
        )
        np.testing.assert_allclose(strip[-1], fitted.reconstruct(x[1:2])[0], atol=1e-5)


def test_bounds_and_evaluate(fitted, bars):
    x = bars[0][320:336]
    elbo = fitted.elbo(x)
    assert elbo.shape == (16,) and np.all(elbo < 0)
    np.testing.assert_array_equal(elbo, fitted.elbo(x))  # deterministic (estimator's seed)
    np.testing.assert_array_equal(
        fitted.log_likelihood(x[:4], k=20, seed=1), fitted.log_likelihood(x[:4], k=20, seed=1)
    )
    iw1 = fitted.log_likelihood(x, k=1).mean()
    iw = fitted.log_likelihood(x, k=100, seed=1)
    assert iw.shape == (16,)
    # The importance-weighted bound tightens with k: log p(x) >= IWAE_k >= IWAE_1 = ELBO (in expectation).
    assert iw.mean() >= elbo.mean() - 0.5 and iw.mean() >= iw1
    m = fitted.evaluate(x, k=100, n_iw=4)
    assert set(m) == {"test_elbo", "test_reconstruction", "test_kl", "test_nll_iw", "k", "n_iw"}
    assert m["k"] == 100 and m["n_iw"] == 4 and m["test_kl"] >= 0
    assert m["test_elbo"] == pytest.approx(-(m["test_reconstruction"] + m["test_kl"]))
    assert m["test_elbo"] == pytest.approx(float(elbo.mean()))


def test_determinism_and_round_trip(fitted, bars, tmp_path):
    x = bars[0]
    again = aekit.VAE(epochs=2, lr=1e-3, batch_size=32, device="cpu").fit(
        x[:320], validation_data=x[320:]
    )
    np.testing.assert_array_equal(again.transform(x[:20]), fitted.transform(x[:20]))
    fitted.save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    assert type(loaded).__name__ == "VAE" and loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.transform(x[:20]), fitted.transform(x[:20]))
    np.testing.assert_array_equal(loaded.sample(8, seed=2), fitted.sample(8, seed=2))
    np.testing.assert_array_equal(loaded.elbo(x[:20]), fitted.elbo(x[:20]))
    assert loaded.history_ == fitted.history_


def test_gaussian_and_other_sizes():
    # outside [0, 1]: fine
    x = np.random.default_rng(0).random((64, 3, 30, 33)).astype(np.float32) * 4 - 2
    vae = aekit.VAE(
        likelihood="gaussian",
        kl="mc",
        beta=0.5,
        latent_dim=3,
        channels=(8, 16),
        epochs=1,
        device="cpu",
    ).fit(x)
    assert vae.reconstruct(x[:2]).shape == (2, 3, 30, 33)
    assert vae.sample(3, seed=0).shape == (3, 3, 30, 33)
    assert np.isfinite(vae.evaluate(x[:4], k=5)["test_nll_iw"])


@pytest.mark.parametrize(
    "params",
    [
        {"likelihood": "poisson"},
        {"kl": "exact"},
        {"beta": -1},
        {"channels": (8,)},
        {"latent_dim": 0},
        {"init": "nope"},
        {"lr": 0},
    ],
)
def test_bad_params(params, bars):
    with pytest.raises(UsageError):
        aekit.VAE(epochs=1, **params).fit(bars[0][:8])


def test_bad_data(fitted, bars):
    with pytest.raises(DataError, match="images"):  # rows (n, d) are one-row images; 5-D is nothing
        aekit.VAE(epochs=1).fit(np.zeros((8, 1, 2, 28, 28), np.float32))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        aekit.VAE(epochs=1).fit(bars[0][:8] * 2)
    with pytest.raises(DataError):
        fitted.transform(np.zeros((2, 1, 20, 20), np.float32))
    with pytest.raises(NotFittedError):
        aekit.VAE().sample(2)
    with pytest.raises(UsageError):
        fitted.interpolate(bars[0][0], bars[0][1], method="cubic")
    with pytest.raises(UsageError):
        fitted.log_likelihood(bars[0][:2], k=0)


def test_interpolate_reads_its_ends_as_transform_does(fitted, bars):
    """Probe 55 inputs 3: an end given as a tensor that requires grad raised torch's "Can't call
    numpy() on Tensor that requires grad" (transform takes it); a ragged list NumPy's ValueError."""
    x = bars[0]
    strip = fitted.interpolate(torch.tensor(x[0], requires_grad=True), x[1].tolist(), steps=3)
    np.testing.assert_array_equal(strip, fitted.interpolate(x[0], x[1], steps=3))
    with pytest.raises(DataError, match="x_b cannot be read as an array"):
        fitted.interpolate(x[0], [[0, 1], [1]], steps=3)


def test_interpolate_checks_a_dataframes_columns_by_name_as_transform_does():
    """Probe 62 dtypes #6: a row of a DataFrame with its columns reordered (df.iloc[[i]], or the
    Series df.iloc[i]) was interpolated by position without a word; transform refuses that row."""
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.random((64, 6)).astype(np.float32), columns=list("abcdef"))
    vae = aekit.VAE(epochs=1, channels=(4, 4), seed=0, verbose=0).fit(df)
    strip = vae.interpolate(df.to_numpy()[0], df.to_numpy()[1], steps=3)
    np.testing.assert_array_equal(vae.interpolate(df.iloc[[0]], df.iloc[[1]], steps=3), strip)
    np.testing.assert_array_equal(vae.interpolate(df.iloc[0], df.iloc[1], steps=3), strip)
    rev = df[list("fedcba")]
    for a, b in (
        (rev.iloc[[0]], rev.iloc[[1]]),
        (rev.iloc[0], rev.iloc[1]),
        (df.iloc[0], rev.iloc[1]),
    ):
        with pytest.raises(
            DataError, match=r"^x_[ab]: The feature names should match .* in X's order$"
        ):
            vae.interpolate(a, b, steps=3)
    with pytest.raises(DataError, match=r"x_a: expected one sample \(6,\), got 2 samples"):
        vae.interpolate(df.iloc[[0, 1]], df.iloc[[1]], steps=3)


def test_recipe_binarizes_mnist_and_manifold():
    est = aekit.VAE()
    gray = Data(x=np.array([[[[0.2, 0.7]]]], np.float32), source="mnist:test")
    np.testing.assert_array_equal(binarize_for(est, gray).x, [[[[0.0, 1.0]]]])
    assert binarize_for(aekit.VAE(likelihood="gaussian"), gray) is gray
    assert binarize_for(est, Data(x=gray.x, source="fashion-mnist:test")).x[
        0, 0, 0, 0
    ] == np.float32(0.2)
    z = manifold_latents(4)
    assert z.shape == (16, 2) and z[0, 0] < z[1, 0] and z[0, 1] > z[4, 1]
    assert (
        RECIPE.default_dataset == "binarized-mnist" and RECIPE.presets["strong"]["latent_dim"] == 32
    )


def test_train_run_writes_metrics_and_figures(bars, tmp_path, monkeypatch):
    monkeypatch.setattr(vae_recipe, "IW_IMAGES", 10)
    x, y = bars
    np.savez(tmp_path / "bars.npz", x=x[:200], y=y[:200])
    est, metrics = train_run(
        "vae",
        {"epochs": 1, "lr": 1e-3, "device": "cpu"},
        DataSpec(data=str(tmp_path / "bars.npz"), npz_key="x"),
        tmp_path / "run",
    )
    assert {
        "test_elbo",
        "test_reconstruction",
        "test_kl",
        "test_nll_iw",
        "k",
        "n_iw",
        "epochs",
        "train_seconds",
    } <= set(metrics)
    assert metrics["k"] == 100 and metrics["n_iw"] == 10 and metrics["epochs"] == 1
    assert (
        json.loads((tmp_path / "run" / "metrics.json").read_text())["test_elbo"]
        == metrics["test_elbo"]
    )
    figures = {p.name for p in (tmp_path / "run" / "figures").iterdir()}
    assert {
        "samples.png",
        "interpolation.png",
        "reconstructions.png",
        "manifold.png",
        "latent_map.png",
        "loss.png",
    } <= figures


def test_binarized_mnist_one_epoch(shared_data):
    """1 epoch of the recipe's network on 10k binarized MNIST images (lr 1e-3), scored on 1k test images."""
    torch.set_num_threads(1)
    train = aekit.data.load_builtin("binarized-mnist", "train")
    test = aekit.data.load_builtin("binarized-mnist", "test")
    vae = aekit.VAE(epochs=1, lr=1e-3, schedule="constant", batch_size=64, device="cpu").fit(
        train.x[:10000]
    )
    elbo = vae.elbo(test.x[:1000]).mean()
    # measured -196.1 (seed 0; 31 s on one busy core); the full 10-epoch recipe reaches about -157
    assert -205 < elbo < -150
    # and log p(x) by importance weighting (k=100) lies above the ELBO: measured -187.8 vs -191.7 on 50 images
    assert vae.log_likelihood(test.x[:50], k=100).mean() > vae.elbo(test.x[:50]).mean()


def test_the_iw_bound_names_the_kl_options_it_leaves_unused(bars, caplog):
    """kl and free_bits were taken, recorded and without effect under iw_samples > 1."""
    x = bars[0][:64]
    with caplog.at_level("WARNING", logger="aekit.notes"):
        aekit.VAE(epochs=1, iw_samples=2, kl="mc", free_bits=1.0, device="cpu").fit(x)
    notes = [r.getMessage() for r in caplog.records if "iw_samples=2" in r.getMessage()]
    assert len(notes) == 1 and "kl='mc'" in notes[0] and "free_bits=1.0" in notes[0]
    caplog.clear()
    with caplog.at_level("WARNING", logger="aekit.notes"):
        aekit.VAE(epochs=1, iw_samples=2, device="cpu").fit(x)  # the defaults: nothing to say
    assert not [r for r in caplog.records if "iw_samples" in r.getMessage()]


def test_a_gaussian_vae_on_data_far_from_unit_scale_is_said(caplog):
    # 8-bit images trained to an ELBO of -2e27 without a word: the first loss was already enormous
    import logging

    X = np.random.default_rng(0).random((40, 1, 8, 8)).astype(np.float32)
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.VAE(epochs=1, likelihood="gaussian", channels=(4, 8), threads=1).fit(X * 255)
    assert "root mean square" in caplog.text and "divide 8-bit images by 255" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.VAE(epochs=1, likelihood="gaussian", channels=(4, 8), threads=1).fit(X)
    assert "root mean square" not in caplog.text


def test_values_outside_0_1_get_the_advice_of_the_situation(caplog):
    """Probe 56 advice #4: 8-bit images were advised likelihood='gaussian', which collapsed them (loss
    3e16) under a warning that blamed beta; a fitted VAE was advised a training parameter."""
    x = np.random.default_rng(0).random((16, 1, 8, 8)).astype(np.float32)
    with pytest.raises(DataError, match=r"divide the 8-bit pixels by 255$"):
        aekit.VAE(epochs=1).fit(np.round(x * 255))
    with pytest.raises(DataError, match=r"scale them to \[0, 1\], or use likelihood='gaussian'$"):
        aekit.VAE(epochs=1).fit(x - 0.5)
    fitted = aekit.VAE(epochs=1, latent_dim=2, verbose=0).fit(x)
    with pytest.raises(
        DataError, match=r"trained with a Bernoulli likelihood.*: scale them to \[0, 1\]$"
    ):
        fitted.transform(x - 0.5)
    from aekit.recipes.quality import unscaled_data, vae_alike

    fix = unscaled_data(np.round(x * 255), "gaussian")
    assert "divide 8-bit images by 255" in vae_alike(0.0, 1e7, 1e-3, fix=fix)
    assert "--beta" not in vae_alike(0.0, 1e7, 1e-3, fix=fix)
    assert unscaled_data(x, "gaussian") is None and unscaled_data(x * 255, "bernoulli") is None


class _RowEncoder(torch.nn.Module):
    """q(z|x) of 4-value rows: a linear map to (mean, logvar) of a 2-D code."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x):
        return tuple(self.linear(x).chunk(2, -1))


@pytest.fixture(scope="module")
def rows_vae():
    """A Gaussian VAE of the user's own networks, fitted on rows (n, 4)."""
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((200, 4)).astype(np.float32)
    vae = aekit.VAE(
        likelihood="gaussian",
        encoder=_RowEncoder(),
        decoder=torch.nn.Linear(2, 4),
        epochs=1,
        threads=1,
    )
    return vae.fit(x), x


def _iw_reference(vae, x, k, seed):
    """log_likelihood as it was computed before probe 60: every log-weight of every image kept in
    an (n, k) float64 array, one logsumexp per image; the z drawn in the same passes."""
    from aekit.estimators.vae import DECODE_BUDGET
    from aekit.models.vae import log_normal

    gen, model = torch.Generator().manual_seed(seed), vae.model_
    images, kc, log_w = max(1, DECODE_BUDGET // k), min(k, DECODE_BUDGET), []
    with torch.inference_mode():
        for i in range(0, len(x), images):
            xb = torch.tensor(x[i : i + images])
            mean, logvar = model.encode(xb)
            chunks = []
            for j in range(0, k, kc):
                kk = min(kc, k - j)
                z = mean + torch.exp(0.5 * logvar) * torch.randn(kk, *mean.shape, generator=gen)
                decoded = model.decode(z.reshape(-1, mean.shape[1]))
                xr = xb.expand(kk, *xb.shape).reshape(-1, *xb.shape[1:])
                log_px = model.log_px(xr, decoded).reshape(kk, -1).double()
                chunks.append(log_px - (log_normal(z, mean, logvar) - log_normal(z)).double())
            log_w.append(torch.cat(chunks).T)  # (B, k)
    return (torch.logsumexp(torch.cat(log_w), 1) - np.log(k)).numpy()


@pytest.mark.parametrize("k", [7, 3000])  # one pass for all; two passes per image
def test_log_likelihood_is_the_same_figure_reduced_pass_by_pass(rows_vae, k):
    """probe 60 generate 2: the log-likelihood keeps a running log-sum per image, not an (n, k) array;
    the figures are today's to float64 rounding."""
    vae, x = rows_vae
    np.testing.assert_allclose(
        vae.log_likelihood(x[:5], k=k, seed=3), _iw_reference(vae, x[:5], k, 3), rtol=1e-12
    )


def test_log_likelihood_memory_does_not_grow_with_k(rows_vae):
    """probe 60 generate 2: log_likelihood allocated an (n, k, 2) float64 array, 480 MB at n=1,000
    and k=20,000, though its docstring promised memory bounded for any k."""
    import tracemalloc

    vae, x = rows_vae

    def peak(k: int) -> int:
        tracemalloc.start()
        try:
            vae.log_likelihood(x, k=k)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # 200 images x 4,000 samples held as float64 pairs: 12.8 MB; a running log-sum: 1.6 KB
    assert peak(4000) < peak(10) + 1_000_000


def test_sample_m_is_the_first_m_of_sample_n(fitted):
    """probe 60 generate 6: torch fills blocks of 16 values otherwise than a shorter tail, so the
    first m of sample(64, seed) were other images than sample(m, seed) for most m."""
    from aekit.estimators.vae import prior_draws

    big = fitted.sample(64, seed=1)
    codes = prior_draws(64, 2, torch.Generator().manual_seed(1))
    for m in (1, 3, 7, 9, 33):
        np.testing.assert_array_equal(
            prior_draws(m, 2, torch.Generator().manual_seed(1)), codes[:m]
        )
        # decoded in another batch: the same images to float32 rounding
        np.testing.assert_allclose(fitted.sample(m, seed=1), big[:m], rtol=0, atol=1e-6)


def test_sample_draws_as_before_where_the_draw_was_whole_blocks(fitted):
    """probe 60 generate 6: sample(64, seed) (a run's samples.png) and every m with m * latent_dim
    a multiple of 16 draw exactly the codes torch.randn(m, latent_dim) drew."""
    for m, seed in ((64, 1), (8, 0), (16, 5)):
        z = torch.randn(m, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float32)
        np.testing.assert_array_equal(
            fitted.sample(m, seed=seed), fitted.inverse_transform(z.numpy())
        )


def test_a_vae_fitted_on_height_by_width_gives_that_form_back(tmp_path):
    """probe 60 generate 3: fitted on (n, H, W), reconstruct gave (n, 1, H, W), so reconstruct(X) - X
    broadcast to (n, n, H, W); interpolate read one (H, W) image as H images."""
    x = (np.random.default_rng(0).random((48, 12, 12)) > 0.5).astype(np.float32)
    vae = aekit.VAE(epochs=1, channels=(4, 8), threads=1).fit(x)
    assert (vae.reconstruct(x[:5]) - x[:5]).shape == (5, 12, 12)
    assert vae.sample(3).shape == vae.inverse_transform(vae.transform(x[:3])).shape == (3, 12, 12)
    assert vae.interpolate(x[0], x[1], steps=3).shape == (3, 12, 12)
    vae.save(tmp_path / "m")
    assert aekit.load(tmp_path / "m").reconstruct(x[:2]).shape == (2, 12, 12)
    # fitted on (n, 1, H, W): images as they are, and a gray (H, W) image is one of them
    images = aekit.VAE(epochs=1, channels=(4, 8), threads=1).fit(x[:, None])
    assert images.reconstruct(x[:2, None]).shape == (2, 1, 12, 12)
    assert images.interpolate(x[0], x[1], steps=3).shape == (3, 1, 12, 12)


def test_interpolate_takes_one_row_with_your_own_networks(rows_vae):
    """probe 60 generate 4: with the user's networks fitted on rows, a row (d,) was refused as a
    table of one dimension, though the docstring offers rows (d,)."""
    vae, x = rows_vae
    strip = vae.interpolate(x[0], x[1], steps=3)
    np.testing.assert_array_equal(strip, vae.interpolate(x[0:1], x[1:2], steps=3))
    assert strip.shape == (3, 4)
    with pytest.raises(DataError, match=r"x_a: expected one sample \(4,\), got 2 samples"):
        vae.interpolate(x[:2], x[1], steps=3)


def test_the_iw_bound_does_not_name_free_bits_0(bars, caplog):
    """probe 60 generate 7: --preset recipe --iw-samples K said "free_bits=0.0 not used", a value the
    user never set: the plain ELBO, which the bound generalises."""
    with caplog.at_level("WARNING", logger="aekit.notes"):
        aekit.VAE(epochs=1, iw_samples=2, free_bits=0.0, device="cpu").fit(bars[0][:32])
    assert not [r for r in caplog.records if "iw_samples" in r.getMessage()]


@pytest.mark.parametrize(
    "params, label",
    [
        ({}, "training objective (free bits 0.5 nats/dim)"),
        ({"free_bits": 0.0}, "training -ELBO"),
        ({"free_bits": 0.0, "beta": 4.0}, "training objective (beta 4)"),
        ({"iw_samples": 5}, "training objective (-IW bound, K=5)"),
        ({"free_bits": 1.0, "beta": 0.5}, "training objective (free bits 1 nats/dim, beta 0.5)"),
    ],
)
def test_loss_png_names_the_training_objective(params, label):
    """probe 60 generate 1: loss.png called the free-bits (beta, IW) objective "-ELBO": with the
    defaults it sat latent_dim x 0.5 nats above the validation -ELBO on the same images."""
    assert vae_recipe.training_objective(aekit.VAE(**params)) == label


def test_images_all_the_same_are_refused_before_training():
    """probe 61 degenerate #3: a table of identical rows is refused for basic/stacked/vae alike."""
    vae = aekit.VAE(epochs=1, threads=1)
    with pytest.raises(DataError, match="its 12 samples are all the same"):
        vae.fit(np.full((12, 1, 8, 8), 0.5, np.float32))
    with pytest.raises(DataError, match="its 12 samples are all the same"):
        vae.check_fit_data(np.full((12, 1, 8, 8), 0.5, np.float32))


def test_one_image_is_taken_as_an_array_a_tensor_or_lists_and_said_by_its_given_shape():
    """probe 62 shapes #5: one (C, H, W) image was taken as an ndarray only; a tensor or lists of
    it, and a channels-last image, were refused with shapes the caller never gave."""
    rng = np.random.default_rng(0)
    images = rng.random((16, 3, 8, 8), dtype=np.float32)
    vae = aekit.VAE(latent_dim=2, epochs=1, channels=(4, 4), device="cpu").fit(images)
    one = images[0]
    expected = vae.transform(one[None])
    for given in (one, torch.from_numpy(one), one.tolist()):
        np.testing.assert_allclose(vae.transform(given), expected, rtol=1e-6)
    gray = aekit.VAE(latent_dim=2, epochs=1, channels=(4, 4), device="cpu").fit(images[:, :1])
    with pytest.raises(DataError, match=r"shape \(8, 8, 1\): one image with its channels last"):
        gray.transform(images[0, :1].transpose(1, 2, 0))
    with pytest.raises(DataError, match=r"sample shape \(1, 8, 8\), got \(64,\)"):
        gray.transform(images[:, :1].reshape(16, -1))


def test_a_bernoulli_vae_takes_min_max_scaled_data_past_one_by_float32s_rounding():
    """MinMaxScaler's float32 output reaches 1.0000001: make_pipeline(MinMaxScaler(), VAE()) was
    refused with "X has values in [0, 1]; ... takes values in [0, 1]"; a real excess still is, and
    its line shows the digits that pass 1."""
    from sklearn.preprocessing import MinMaxScaler

    rows = np.random.default_rng(0).normal(size=(133, 16)).astype(np.float32)
    X = MinMaxScaler().fit_transform(rows)  # in float32, as the rows are
    assert X.max() > 1
    vae = aekit.VAE(epochs=1, device="cpu", seed=0).fit(X)
    assert np.isfinite(vae.score(X))
    with pytest.raises(DataError, match=r"values in \[0, 1\.0002\d*\]; a Bernoulli"):
        aekit.VAE(epochs=1, device="cpu").fit(X * np.float32(1.0002))
