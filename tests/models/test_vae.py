"""The convolutional VAE model and its loss (aekit.models.vae)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from aekit.models.vae import ConvVAE, VAEConfig, elbo_terms, gaussian_kl, log_normal, negative_elbo


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 30, 33), (1, 7, 9)])
def test_shapes(shape):
    model = ConvVAE(VAEConfig(input_shape=shape, latent_dim=3))
    x = torch.rand(5, *shape)
    mean, logvar = model.encode(x)
    assert mean.shape == logvar.shape == (5, 3)
    assert model.decode(mean).shape == (5, *shape)
    decoded, m, lv, z = model(x, _gen())
    assert decoded.shape == (5, *shape) and z.shape == (5, 3)


def test_tutorial_architecture():
    model = ConvVAE(VAEConfig())
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.padding for c in convs] == [(0, 0), (0, 0)]  # TF "valid": 28 -> 13 -> 6
    assert model.encoder[-1].in_features == 64 * 6 * 6 and model.encoder[-1].out_features == 4
    assert model.decoder[0].out_features == 7 * 7 * 32
    assert not hasattr(model, "log_scale")
    assert all(
        float(m.bias.detach().abs().max()) == 0
        for m in model.modules()
        if isinstance(m, torch.nn.Linear)
    )  # glorot
    assert isinstance(ConvVAE(VAEConfig(likelihood="gaussian")).log_scale, torch.nn.Parameter)


def test_kl_closed_form_known_case():
    mean = torch.tensor([[1.0, 2.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)]])
    expected = 0.5 * (1 + 1 - 1 - 0) + 0.5 * (4 + 4 - 1 - math.log(4.0))
    assert gaussian_kl(mean, logvar).item() == pytest.approx(expected, rel=1e-6)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    assert gaussian_kl(mean, logvar).item() == pytest.approx(
        torch.distributions.kl_divergence(q, p).sum().item(), rel=1e-6
    )
    assert gaussian_kl(torch.zeros(1, 4), torch.zeros(1, 4)).item() == 0.0


def test_log_normal_matches_torch():
    z, mean, logvar = (
        torch.randn(4, 3, generator=_gen(1)),
        torch.randn(4, 3, generator=_gen(2)),
        torch.randn(4, 3, generator=_gen(3)),
    )
    ref = torch.distributions.Normal(mean, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    torch.testing.assert_close(log_normal(z, mean, logvar), ref)
    torch.testing.assert_close(
        log_normal(z), torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    )


def test_mc_kl_mean_close_to_analytic():
    mean, logvar = torch.tensor([[0.5, -1.0, 2.0]]), torch.tensor([[-1.0, 0.3, -2.0]])
    z = ConvVAE.reparameterize(mean.expand(200_000, 3), logvar.expand(200_000, 3), _gen(4))
    mc = (log_normal(z, mean, logvar) - log_normal(z)).mean().item()
    assert mc == pytest.approx(gaussian_kl(mean, logvar).item(), abs=0.03)


def test_negative_elbo_terms_and_beta():
    model = ConvVAE(VAEConfig(latent_dim=4))
    x = (torch.rand(6, 1, 28, 28, generator=_gen(5)) > 0.5).float()
    loss1 = negative_elbo(model, x, _gen(6))
    decoded, mean, logvar, _ = model(x, _gen(6))  # the same draw of z
    manual = (
        F.binary_cross_entropy_with_logits(decoded, x, reduction="none").sum((1, 2, 3))
        + gaussian_kl(mean, logvar)
    ).mean()
    torch.testing.assert_close(loss1, manual)
    loss3 = negative_elbo(model, x, _gen(6), beta=3.0)
    torch.testing.assert_close(
        loss3 - loss1, 2.0 * gaussian_kl(mean, logvar).mean(), atol=1e-3, rtol=1e-3
    )
    loss0 = negative_elbo(model, x, _gen(6), beta=0.0)
    torch.testing.assert_close(loss0, -model.log_px(x, decoded).mean())
    log_px, kl_mc = elbo_terms(model, x, _gen(6), kl="mc")
    assert log_px.shape == kl_mc.shape == (6,)
    with pytest.raises(ValueError):
        elbo_terms(model, x, _gen(6), kl="exact")


def test_gaussian_log_px_matches_torch():
    model = ConvVAE(VAEConfig(likelihood="gaussian"))
    with torch.no_grad():
        model.log_scale.fill_(-1.3)
    x, mu = torch.rand(2, 1, 28, 28, generator=_gen(7)), torch.rand(2, 1, 28, 28, generator=_gen(8))
    ref = torch.distributions.Normal(mu, math.exp(-1.3)).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(model.log_px(x, mu), ref)


def test_reparameterize_gradient_and_determinism():
    mean = torch.zeros(3, 2, requires_grad=True)
    logvar = torch.zeros(3, 2, requires_grad=True)
    z = ConvVAE.reparameterize(mean, logvar, _gen(9))
    (z**2).sum().backward()
    assert mean.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0
    torch.testing.assert_close(ConvVAE.reparameterize(mean, logvar, _gen(9)), z)

    model = ConvVAE(VAEConfig())
    negative_elbo(model, torch.rand(4, 1, 28, 28), _gen(10)).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.encoder[-1].weight.grad.abs().sum() > 0  # the encoder learns through z


def test_free_bits_read_the_kl_estimate_asked_for():
    """kl="mc" under free bits (the default 0.5) was the closed form: --kl mc changed nothing."""
    model = ConvVAE(VAEConfig(latent_dim=4))
    x = (torch.rand(6, 1, 28, 28, generator=_gen(5)) > 0.5).float()
    analytic = negative_elbo(model, x, _gen(6), kl="analytic", free_bits=0.01)
    mc = negative_elbo(model, x, _gen(6), kl="mc", free_bits=0.01)
    decoded, mean, logvar, z = model(x, _gen(6))  # the same draw of z
    per_dim = (
        log_normal(z[:, :, None], mean[:, :, None], logvar[:, :, None]) - log_normal(z[:, :, None])
    ).mean(0)  # (B, D, 1) -> (D,): each dimension alone
    manual = torch.clamp(per_dim, min=0.01).sum() - model.log_px(x, decoded).mean()
    torch.testing.assert_close(mc, manual)
    assert not torch.isclose(mc, analytic)
