"""Small networks of a user's own, for the tests of ``encoder=``/``decoder=`` (aekit.models.custom).

Importable as ``tests.nets`` from the repository root, as a user's ``mypkg.nets`` would be.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class MLPEncoder(nn.Module):
    """(B, *input_shape) -> (B, latent_dim): one hidden layer."""

    def __init__(self, input_shape, latent_dim: int = 4, hidden: int = 8):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(input_shape), hidden),
            nn.ReLU(),
            nn.Linear(hidden, latent_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLPDecoder(nn.Module):
    """(B, latent_dim) -> (B, *input_shape)."""

    def __init__(self, input_shape, latent_dim: int, hidden: int = 8):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, math.prod(input_shape)),
            nn.Unflatten(1, tuple(input_shape)),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class GaussianEncoder(MLPEncoder):
    """(B, *input_shape) -> (mean, logvar), each (B, latent_dim): a VAE's encoder."""

    def __init__(self, input_shape, latent_dim: int = 2, hidden: int = 8):
        super().__init__(input_shape, 2 * latent_dim, hidden)

    def forward(self, x: torch.Tensor):
        mean, logvar = self.net(x).chunk(2, dim=1)
        return mean, logvar


class ShortDecoder(MLPDecoder):
    """A decoder one value short in each image side: (B, latent) -> (B, C, H-1, W-1)."""

    def __init__(self, input_shape, latent_dim: int, hidden: int = 8):
        c, h, w = input_shape
        super().__init__((c, h - 1, w - 1), latent_dim, hidden)


class Configured(nn.Module):
    """A module the user builds, with ``get_config()``: recorded by import path and arguments."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.linear = nn.Linear(n_in, n_out)

    def get_config(self) -> dict:
        return {"n_in": self.n_in, "n_out": self.n_out}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class Branchy(MLPEncoder):
    """Data-dependent Python control flow: not traceable for ONNX."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.net(x)
        if float(z.sum()) > 0:
            return z
        return -z


class Aliased(MLPEncoder):
    """The same layers registered under two names (``alias``): two state-dict entries, one memory."""

    def __init__(self, input_shape, latent_dim: int = 4, hidden: int = 8):
        super().__init__(input_shape, latent_dim, hidden)
        self.alias = self.net


class Dropping(MLPEncoder):
    """Randomness of its own while training: dropout, from torch's global generator."""

    def __init__(self, input_shape, latent_dim: int = 4, hidden: int = 8):
        super().__init__(input_shape, latent_dim, hidden)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.net(x))


class TiedEncoder(nn.Module):
    """A linear encoder whose weight the :class:`TiedDecoder` uses transposed (a tied autoencoder)."""

    def __init__(self, n_in: int, latent_dim: int):
        super().__init__()
        self.linear = nn.Linear(n_in, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class TiedDecoder(nn.Module):
    """The encoder's weight, transposed, and a bias of its own."""

    def __init__(self, encoder: TiedEncoder):
        super().__init__()
        self.encoder = encoder
        self.bias = nn.Parameter(torch.zeros(encoder.linear.in_features))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.encoder.linear.weight + self.bias


class Parameterless(nn.Module):
    """No parameters: the first ``latent_dim`` values (an encoder), or zeros padded back (a decoder)."""

    def __init__(self, input_shape, latent_dim: int = 2):
        super().__init__()
        self.n, self.k = math.prod(input_shape), latent_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == self.n:
            return x[:, : self.k]
        return torch.nn.functional.pad(x, (0, self.n - x.shape[1]))


class Picky(MLPEncoder):
    """Passes the shape check on zeros, then refuses inputs above 50 when not training."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training and bool((x.abs() > 50).any()):
            raise ValueError("input out of range for this network")
        return self.net(x)


class Slow(MLPEncoder):
    """Takes 30 s over inputs above 50 when not training: a request still running at a server's stop."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training and bool((x.abs() > 50).any()):
            import time

            time.sleep(30)
        return self.net(x)


class ConvEncoder(nn.Module):
    """Images (B, C, H, W) -> a code that is not flat: (B, 2, H/2, W/2)."""

    def __init__(self, input_shape):
        super().__init__()
        self.net = nn.Conv2d(input_shape[0], 2, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder(nn.Module):
    """(B, 2, H/2, W/2) -> images (B, C, H, W)."""

    def __init__(self, input_shape):
        super().__init__()
        self.net = nn.ConvTranspose2d(2, input_shape[0], 4, stride=2, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
