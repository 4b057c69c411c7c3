"""Convolutional variational autoencoder (the TensorFlow "Convolutional VAE" tutorial) and its loss.

Network (for 28x28 inputs; other sizes work, see :class:`ConvVAE`):
    encoder: Conv2d 32 (3x3, stride 2, valid, relu) 28->13 -> Conv2d 64 (3x3, stride 2, valid, relu) 13->6
             -> Flatten -> Linear(2 * latent_dim)                          = (mean, logvar)
    decoder: Linear(7*7*32, relu) -> reshape (32, 7, 7) -> ConvTranspose2d 64 (3x3, stride 2, same, relu) 7->14
             -> ConvTranspose2d 32 (3x3, stride 2, same, relu) 14->28 -> ConvTranspose2d C (3x3, stride 1, same)
The decoder outputs Bernoulli logits (``likelihood="bernoulli"``, for binary data) or Gaussian
means (``likelihood="gaussian"``, for continuous data) with ONE learned log standard deviation
shared by all pixels (``log_scale``, starting at 0), so the reconstruction/KL balance is learned
rather than fixed by hand.

The loss is the negative evidence lower bound of Kingma & Welling (2014), "Auto-Encoding
Variational Bayes", ICLR: ``-ELBO = -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))`` in nats per
image (summed over pixels, averaged over the batch), with the KL in closed form (their eq. 10) or
as the single-sample Monte Carlo estimate ``log q(z|x) - log p(z)`` (their eq. 6 / the TF recipe).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .init import init_weights

LIKELIHOODS = ("bernoulli", "gaussian")
KL_ESTIMATES = ("analytic", "mc")
_LOG_2PI = math.log(2.0 * math.pi)
# two valid 3x3 stride-2 convs need 7 pixels a side; smaller images are padded up to it
MIN_SIDE = 7


@dataclass
class VAEConfig:
    """Settings of :class:`ConvVAE`.

    Examples
    --------
    >>> VAEConfig(input_shape=(3, 32, 32), latent_dim=16).channels
    (32, 64)
    """

    input_shape: tuple[int, int, int] = (
        1,
        28,
        28,
    )  # one image (C, H, W); sides under 7 are padded to 7
    latent_dim: int = 2  # size of z
    channels: tuple[int, int] = (32, 64)  # encoder conv widths; the decoder uses them reversed
    # "bernoulli" (logits; binary data) or "gaussian" (means, learned scalar sigma)
    likelihood: str = "bernoulli"
    beta: float = 1.0  # weight of the KL term (1 = the ELBO; >1 = beta-VAE)
    init: str = "glorot"  # "glorot" (Keras' defaults, see models/init.py) or "torch"


def _valid_out(n: int) -> int:
    return (n - 3) // 2 + 1  # Conv2d(k=3, stride=2, padding=0)


class GaussianLatentVAE(nn.Module):
    """What every VAE of aekit shares, whatever its networks: a Gaussian posterior ``q(z|x)`` given by
    ``encode(x) -> (mean, logvar)``, a standard normal prior, reparameterised samples, and a Bernoulli or
    Gaussian ``p(x|z)`` over what ``decode(z)`` returns (logits, or means with ONE learned log standard
    deviation ``log_scale`` shared by all values). Subclasses set ``likelihood`` and define ``encode``
    and ``decode``: :class:`ConvVAE` here, :class:`aekit.models.custom.CustomVAE` for a user's own networks.
    """

    likelihood = "bernoulli"

    def _add_likelihood(self, likelihood: str) -> None:
        """Record ``likelihood``; a Gaussian one learns its log sigma (one for all values, starting at 0)."""
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        self.likelihood = likelihood
        if likelihood == "gaussian":
            self.log_scale = nn.Parameter(torch.zeros(()))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def reparameterize(
        mean: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``z = mean + exp(logvar / 2) * eps``, ``eps ~ N(0, I)`` drawn from ``generator``."""
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + torch.exp(0.5 * logvar) * eps

    def mean_image(self, decoded: torch.Tensor) -> torch.Tensor:
        """The expected sample E[x|z]: sigmoid(logits) for Bernoulli, the means for Gaussian."""
        return torch.sigmoid(decoded) if self.likelihood == "bernoulli" else decoded

    def log_px(self, x: torch.Tensor, decoded: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per sample, summed over its values: (B, ...) x 2 -> (B,)."""
        if self.likelihood == "bernoulli":
            ll = -F.binary_cross_entropy_with_logits(decoded, x, reduction="none")
        else:
            ll = (
                -0.5 * ((x - decoded) * torch.exp(-self.log_scale)) ** 2
                - self.log_scale
                - 0.5 * _LOG_2PI
            )
        return ll.flatten(1).sum(1)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, samples: int = 1):
        """Posterior samples: ``(decoded, mean, logvar, z)``.

        ``samples=1``: one z per input, z (B, latent) and decoded (B, ...). ``samples=K``: K per input
        (the importance-weighted bound), z (K, B, latent) and decoded (K*B, ...), sample-major.
        """
        mean, logvar = self.encode(x)
        if samples == 1:
            z = self.reparameterize(mean, logvar, generator)
            return self.decode(z), mean, logvar, z
        # (K, B, latent): K draws of every input's posterior
        z = self.reparameterize(mean.expand(samples, *mean.shape), logvar, generator)
        return self.decode(z.reshape(-1, mean.shape[-1])), mean, logvar, z


class ConvVAE(GaussianLatentVAE):
    """Gaussian encoder ``q(z|x)``, standard normal prior and Bernoulli/Gaussian decoder ``p(x|z)``.

    For an input of H x W the encoder's flatten size is computed (two valid stride-2 convs) and the
    decoder starts at ceil(H/4) x ceil(W/4), doubles twice and crops to H x W. ``config.beta`` is
    recorded for reference; the loss function takes it as an argument.

    Examples
    --------
    >>> model = ConvVAE(VAEConfig(latent_dim=2))
    >>> mean, logvar = model.encode(torch.zeros(3, 1, 28, 28))
    >>> model.decode(mean).shape
    torch.Size([3, 1, 28, 28])
    """

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        c, h, w = (int(d) for d in config.input_shape)
        c1, c2 = (int(k) for k in config.channels)
        he, we = (
            max(h, MIN_SIDE),
            max(w, MIN_SIDE),
        )  # the encoder's input size, after padding small images
        self.encoder = nn.Sequential(
            nn.Conv2d(c, c1, 3, stride=2),
            nn.ReLU(),  # (B, C, H, W) -> (B, c1, H1, W1), valid padding
            nn.Conv2d(c1, c2, 3, stride=2),
            nn.ReLU(),  # -> (B, c2, H2, W2)
            nn.Flatten(),  # -> (B, c2*H2*W2)
            nn.Linear(
                c2 * _valid_out(_valid_out(he)) * _valid_out(_valid_out(we)), 2 * config.latent_dim
            ),
        )
        self.start = (c1, math.ceil(h / 4), math.ceil(w / 4))  # the decoder's first feature map
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, math.prod(self.start)),
            nn.ReLU(),
            nn.Unflatten(1, self.start),  # (B, c1*h0*w0) -> (B, c1, h0, w0)
            nn.ConvTranspose2d(c1, c2, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),  # -> 2*h0
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),  # -> 4*h0
            nn.ConvTranspose2d(c1, c, 3, stride=1, padding=1),
        )  # -> (B, C, 4*h0, 4*w0): logits or means
        self._add_likelihood(config.likelihood)  # a Gaussian p(x|z) adds log_scale
        init_weights(self, config.init)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) -> posterior ``mean`` and ``logvar``, each (B, latent_dim)."""
        ph, pw = max(0, MIN_SIDE - x.shape[-2]), max(0, MIN_SIDE - x.shape[-1])
        # rows as one-row images (1 x d): repeat the edge up to 7 x 7; the decoder crops back
        if ph or pw:
            # (B, C, H, W) -> (B, C, max(H, 7), max(W, 7))
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        mean, logvar = self.encoder(x).chunk(2, dim=1)  # (B, 2*latent) -> 2 x (B, latent)
        return mean, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> (B, C, H, W) Bernoulli logits or Gaussian means."""
        out = self.decoder(z)
        h, w = self.config.input_shape[1:]
        return out[:, :, :h, :w]  # crop 4*ceil(H/4) -> H


# ---- loss (pure functions) --------------------------------------------------------------------


def log_normal(
    z: torch.Tensor, mean: torch.Tensor | None = None, logvar: torch.Tensor | None = None
) -> torch.Tensor:
    """log N(z; mean, diag(exp(logvar))) summed over the last dimension; N(0, I) when mean is None.

    Examples
    --------
    >>> round(float(log_normal(torch.zeros(1, 2))[0]), 4)    # -log(2 pi)
    -1.8379
    """
    if mean is None:
        return -0.5 * (z**2 + _LOG_2PI).sum(-1)
    return -0.5 * ((z - mean) ** 2 * torch.exp(-logvar) + logvar + _LOG_2PI).sum(-1)


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per sample, closed form (Kingma & Welling 2014, app. B).

    Examples
    --------
    >>> float(gaussian_kl(torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2))[0])
    0.5
    """
    return 0.5 * (mean**2 + torch.exp(logvar) - 1.0 - logvar).sum(-1)


def _unwrapped(model: nn.Module) -> GaussianLatentVAE:
    """The VAE itself: a loss receives it wrapped in DistributedDataParallel under torchrun, which runs
    ``forward`` (and syncs the gradients) but does not pass on the VAE's other methods."""
    return getattr(model, "module", model)


def elbo_terms(
    model: GaussianLatentVAE,
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    kl: str = "analytic",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image ``(log p(x|z), KL)`` in nats with one reparameterised sample of z; both (B,).

    ``kl="analytic"``: the closed-form KL. ``kl="mc"``: ``log q(z|x) - log p(z)`` at the same
    sample (the TF recipe's single-sample estimate; unbiased, noisier).

    Examples
    --------
    >>> log_px, kl = elbo_terms(ConvVAE(VAEConfig()), torch.zeros(2, 1, 28, 28), torch.Generator().manual_seed(0))
    >>> log_px.shape, kl.shape
    (torch.Size([2]), torch.Size([2]))
    """
    if kl not in KL_ESTIMATES:
        raise ValueError(f"kl must be one of {KL_ESTIMATES}, got {kl!r}")
    decoded, mean, logvar, z = model(x, generator)
    log_px = _unwrapped(model).log_px(x, decoded)
    if kl == "analytic":
        return log_px, gaussian_kl(mean, logvar)
    return log_px, log_normal(z, mean, logvar) - log_normal(z)


def negative_elbo(
    model: GaussianLatentVAE,
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    beta: float = 1.0,
    kl: str = "analytic",
    free_bits: float = 0.0,
) -> torch.Tensor:
    """The VAE loss: ``mean_batch(-log p(x|z) + beta * KL)`` in nats per image (Kingma & Welling 2014).

    ``free_bits`` > 0: each latent dimension's KL (closed-form, or with ``kl="mc"`` the sampled
    code's log-ratio in that dimension), averaged over the batch, counts as at least ``free_bits``
    nats (Kingma et al. 2016), so the encoder loses nothing by carrying that much about its input
    in every dimension: the posterior cannot collapse onto the prior, which it otherwise does on
    data where the code buys the decoder little (gray textures, issue 33).

    Examples
    --------
    >>> model = ConvVAE(VAEConfig())
    >>> x = torch.zeros(4, 1, 28, 28)
    >>> negative_elbo(model, x, torch.Generator().manual_seed(0)).shape
    torch.Size([])
    """
    if free_bits > 0:
        decoded, mean, logvar, z = model(x, generator)
        if kl == "mc":  # log q(z_d|x) - log p(z_d) of the one code drawn, dimension by dimension
            per_dim = -0.5 * ((z - mean) ** 2 * torch.exp(-logvar) + logvar - z**2)  # (B, D)
        else:
            per_dim = 0.5 * (mean**2 + torch.exp(logvar) - 1.0 - logvar)  # (B, D)
        kept = torch.clamp(per_dim.mean(0), min=free_bits).sum()  # (B, D) -> (D,) -> ()
        return beta * kept - _unwrapped(model).log_px(x, decoded).mean()
    log_px, kl_term = elbo_terms(model, x, generator, kl)
    return (beta * kl_term - log_px).mean()


def negative_iw_bound(
    model: GaussianLatentVAE,
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    samples: int,
    beta: float = 1.0,
) -> torch.Tensor:
    """The importance-weighted loss with ``samples`` = K draws per input, in nats per sample (Burda, Grosse
    & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016):

        -mean_batch log (1/K) sum_k exp(log p(x|z_k) - beta * (log q(z_k|x) - log p(z_k))),  z_k ~ q(z|x)

    With ``beta=1`` it is the IWAE bound, a lower bound of log p(x) that tightens as K grows (K=1 is the
    ELBO with the single-sample Monte Carlo KL); ``beta`` weighs the log-ratio to the prior as in a beta-VAE.

    Examples
    --------
    >>> model = ConvVAE(VAEConfig())
    >>> loss = negative_iw_bound(model, torch.zeros(4, 1, 28, 28), torch.Generator().manual_seed(0), samples=5)
    >>> loss.shape
    torch.Size([])
    """
    # z (K, B, L), decoded (K*B, ...)
    decoded, mean, logvar, z = model(x, generator, samples=samples)
    xk = x.expand(samples, *x.shape).reshape(-1, *x.shape[1:])  # (B, ...) -> (K*B, ...)
    log_px = _unwrapped(model).log_px(xk, decoded).reshape(samples, -1)  # (K*B,) -> (K, B)
    log_w = log_px - beta * (log_normal(z, mean, logvar) - log_normal(z))  # (K, B)
    return -(torch.logsumexp(log_w, dim=0) - math.log(samples)).mean()
