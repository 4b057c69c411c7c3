"""Dense (fully connected) autoencoders: the basic recipe and stacked autoencoders.

``hidden=()`` is the classic recipe (TensorFlow's "Intro to Autoencoders"):
    Flatten -> Dense(latent, relu)  |  Dense(prod(input_shape), sigmoid) -> reshape
``hidden=(256, 128)`` is a stacked autoencoder whose decoder mirrors the encoder:
    Flatten -> 256 -> 128 -> latent  |  latent -> 128 -> 256 -> prod(input_shape) -> reshape
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .activations import activation
from .init import init_weights


@dataclass
class DenseConfig:
    input_shape: tuple[int, ...]  # one sample's shape, e.g. (1, 28, 28) or (140,)
    latent_dim: int = 64  # size of the code vector
    hidden: tuple[int, ...] = ()  # encoder widths before the code; the decoder mirrors them
    activation: str = "relu"  # after every hidden layer and on the code itself, as in the recipe
    output_activation: str = "sigmoid"  # sigmoid for data in [0, 1]; "linear" for standardised data
    init: str = "glorot"  # "glorot" (Keras' default, see models/init.py) or "torch"


def _mlp(widths: list[int], act: str) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation(act)]
    return layers


class DenseAutoencoder(nn.Module):
    """Encoder ``x -> z`` and decoder ``z -> x_hat``, each usable on its own."""

    def __init__(self, config: DenseConfig):
        super().__init__()
        self.config = config
        n_in = math.prod(config.input_shape)
        widths = [n_in, *config.hidden, config.latent_dim]
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp(widths, config.activation))
        back = widths[::-1]  # latent -> ... -> n_in
        decoder = _mlp(back[:-1], config.activation)
        decoder += [nn.Linear(back[-2], n_in), activation(config.output_activation)]
        decoder += [nn.Unflatten(1, tuple(config.input_shape))]  # (B, n_in) -> (B, *input_shape)
        self.decoder = nn.Sequential(*decoder)
        init_weights(self, config.init)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, *input_shape) -> (B, latent_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, latent_dim) -> (B, *input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
