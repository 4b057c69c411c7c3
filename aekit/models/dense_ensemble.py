"""A few dense autoencoders of one shape trained side by side: an ensemble at about the cost of one.

    x (B, *input_shape) -> flatten -> expand to K members (K, B, n_in)
      -> K x [n_in -> hidden... -> latent | latent -> ...hidden -> n_in] -> (K, B, *input_shape)

Each member is a :class:`aekit.models.dense.DenseAutoencoder` with its own weights; a layer holds
all members' weights in one tensor and runs them as one batched matrix product, so a step of K
small members costs about one step of one (the step of a small dense network is mostly fixed
overhead, not arithmetic). The members share nothing but the batches they see; a loss that is the
mean of the members' losses trains each as if it were alone (Adam is invariant to the 1/K scale of
its gradient). Averaging the members' anomaly scores cuts the variance a single network owes to
its random initialisation (``docs/guide/anomaly.md``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .activations import activation
from .dense import DenseConfig
from .init import INITS


class MemberLinear(nn.Module):
    """K independent linear layers, one per member: (K, B, fan_in) -> (K, B, fan_out)."""

    def __init__(self, members: int, fan_in: int, fan_out: int, init: str = "glorot"):
        super().__init__()
        self.in_features, self.out_features = fan_in, fan_out  # as nn.Linear's, per member
        self.weight = nn.Parameter(torch.empty(members, fan_in, fan_out))  # (K, in, out): x @ W
        # (K, 1, out): one row, broadcast over B
        self.bias = nn.Parameter(torch.zeros(members, 1, fan_out))
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; expected one of {INITS}")
        # Each member drawn as models/init.py draws an nn.Linear of the same fans.
        if init == "glorot":
            bound = math.sqrt(6.0 / (fan_in + fan_out))
        elif init == "he":
            bound = math.sqrt(6.0 / fan_in)
        else:  # "torch": nn.Linear's own (Kaiming uniform with a=sqrt(5), uniform biases)
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, h, self.weight)  # (K, B, in) @ (K, in, out) + (K, 1, out)


def _stack(members: int, widths: list[int], act: str, init: str) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [MemberLinear(members, fan_in, fan_out, init), activation(act)]
    return layers


class DenseEnsemble(nn.Module):
    """``members`` dense autoencoders of ``config``'s shape; ``forward`` gives every member's
    reconstruction, (B, *input_shape) -> (members, B, *input_shape)."""

    def __init__(self, config: DenseConfig, members: int):
        super().__init__()
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        self.config, self.members = config, members
        n_in = math.prod(config.input_shape)
        widths = [n_in, *config.hidden, config.latent_dim]
        self.encoder = nn.Sequential(*_stack(members, widths, config.activation, config.init))
        back = widths[::-1]  # latent -> ... -> n_in
        decoder = _stack(members, back[:-1], config.activation, config.init)
        decoder += [
            MemberLinear(members, back[-2], n_in, config.init),
            activation(config.output_activation),
        ]
        self.decoder = nn.Sequential(*decoder)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Each sample's code: its members' codes side by side, (B, *shape) -> (B, members * latent_dim)."""
        b = x.shape[0]
        h = x.reshape(1, b, -1).expand(self.members, b, -1)  # (B, *shape) -> (K, B, n_in), no copy
        # (K, B, L) -> (B, K, L) -> (B, K * L)
        return self.encoder(h).transpose(0, 1).reshape(b, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        h = x.reshape(1, b, -1).expand(self.members, b, -1)  # (B, *shape) -> (K, B, n_in), no copy
        # (K, B, n_in) -> (K, B, *shape)
        return self.decoder(self.encoder(h)).reshape(self.members, *x.shape)
