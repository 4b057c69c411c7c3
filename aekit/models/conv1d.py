"""1-D convolutional autoencoders: windows of a long series, and fixed-length signals.

The default, for windows of C channels and any length L:
    Conv1d(C->32, k7, s2) relu -> Conv1d(32->16, k7, s2) relu              (C x L -> 32 x L/2 -> 16 x L/4)
    ConvTranspose1d(16->16, s2) relu -> ConvTranspose1d(16->32, s2) relu -> Conv1d(32->C, k7)
                                                                          (16 x L/4 -> 32 x L -> C x L)
The convolutions take any length, as the 2-D ones in ``models/conv.py``: the input is padded to
a multiple of ``stride ** depth`` (repeating the last step) and the output cropped back, and any
number of channels works. Fully convolutional, though, the code is as long as the window over
four with 16 channels: more numbers than a one-channel window holds, so the network can learn to
copy any shape, anomalies included. ``latent_dim`` puts a dense code between the two halves
(flatten -> latent_dim -> unflatten), which makes the model reconstruct only the shapes it was
trained on; it needs the window ``length`` up front. The output is linear by default, for series
scaled to zero mean and unit variance per channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DataError
from .activations import ACTIVATIONS, activation
from .init import init_weights


@dataclass
class Conv1dConfig:
    in_channels: int  # the series' channels (1 for a single signal)
    channels: tuple[int, ...] = (32, 16)  # encoder conv widths; the decoder mirrors them
    kernel_size: int = 7  # taps of every layer: wide enough to see a slope and a bump at once
    stride: int = 2  # each encoder layer divides the length by this; each decoder layer multiplies
    # "linear" for standardised data; "sigmoid" for data in [0, 1]
    output_activation: str = "linear"
    init: str = "he"  # "he" (Kaiming, for ReLU), "glorot" or "torch"; see models/init.py
    # a dense code of this size between encoder and decoder; None: none
    latent_dim: int | None = None
    length: int | None = None  # the window length (steps); needed with latent_dim only

    def validate(self) -> Conv1dConfig:
        if self.in_channels < 1 or not self.channels or min(self.channels) < 1:
            raise ValueError(
                f"need in_channels >= 1 and at least one channel width >= 1, got {self}"
            )
        if (
            self.kernel_size < 1
            or self.stride < 1
            or (self.stride == 1 and self.kernel_size % 2 == 0)
        ):
            raise ValueError(
                f"need kernel_size >= 1, stride >= 1 and an odd kernel when stride is 1, got {self}"
            )
        if self.output_activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown output_activation {self.output_activation!r}; expected one of "
                f"{sorted(ACTIVATIONS)}"
            )
        if self.latent_dim is not None and (
            self.latent_dim < 1 or self.length is None or self.length < 1
        ):
            raise ValueError(
                f"latent_dim needs latent_dim >= 1 and the window length >= 1, got {self}"
            )
        return self


class Conv1dAutoencoder(nn.Module):
    """Strided Conv1d encoder and ConvTranspose1d decoder for (B, C, L) windows.

    ``encode`` and ``decode`` work on padded lengths (multiples of ``stride ** depth``);
    ``forward`` pads any length, runs both and crops back to the input's length.

    Examples
    --------
    >>> model = Conv1dAutoencoder(Conv1dConfig(in_channels=2))
    >>> model(torch.rand(4, 2, 150)).shape
    torch.Size([4, 2, 150])
    >>> model.encode(torch.rand(4, 2, 150)).shape
    torch.Size([4, 16, 38])
    >>> Conv1dAutoencoder(Conv1dConfig(in_channels=1, latent_dim=8, length=150)).encode(torch.rand(4, 1, 150)).shape
    torch.Size([4, 8])
    """

    def __init__(self, config: Conv1dConfig):
        super().__init__()
        self.config = config.validate()
        k, s = config.kernel_size, config.stride
        # "Same" padding as in the 2-D model: p = (k - 1) // 2 maps L -> L / s exactly (L a multiple
        # of s), and the transposed conv with output_padding s + 2p - k maps L -> L * s exactly.
        p = (k - 1) // 2
        out_pad = s + 2 * p - k
        widths = list(config.channels)

        encoder: list[nn.Module] = []
        for c_in, c_out in zip([config.in_channels, *widths[:-1]], widths):
            encoder += [nn.Conv1d(c_in, c_out, k, stride=s, padding=p), nn.ReLU()]
        self.encoder = nn.Sequential(*encoder)

        back = widths[::-1]  # (32, 16) -> the decoder outputs 16, then 32
        decoder: list[nn.Module] = []
        for c_in, c_out in zip([widths[-1], *back[:-1]], back):
            decoder += [
                nn.ConvTranspose1d(c_in, c_out, k, stride=s, padding=p, output_padding=out_pad),
                nn.ReLU(),
            ]
        decoder += [
            nn.Conv1d(widths[0], config.in_channels, k, padding=p if k % 2 else "same"),
            activation(config.output_activation),
        ]
        self.decoder = nn.Sequential(*decoder)
        self.bottleneck: nn.Module | None = None
        self.expand: nn.Module | None = None
        if config.latent_dim is not None:
            code = (
                widths[-1],
                math.ceil(config.length / self.multiple),
            )  # the conv code of one window
            self.bottleneck = nn.Sequential(
                nn.Flatten(), nn.Linear(math.prod(code), config.latent_dim), nn.ReLU()
            )
            self.expand = nn.Sequential(
                nn.Linear(config.latent_dim, math.prod(code)), nn.ReLU(), nn.Unflatten(1, code)
            )  # (B, latent_dim) -> (B, channels[-1], l)
        init_weights(self, config.init)

    @property
    def multiple(self) -> int:
        """Lengths must be multiples of this for ``encode``/``decode`` to round-trip."""
        return self.config.stride ** len(self.config.channels)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """Pad (B, C, L) at the end, repeating the last step, to a multiple of ``multiple``."""
        pad = -x.shape[-1] % self.multiple
        if pad == 0:
            return x
        return F.pad(x, (0, pad), mode="replicate")  # (B, C, L) -> (B, C, L + pad)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(self.pad(x))  # (B, C, L) -> (B, channels[-1], ceil(L / m))
        return z if self.bottleneck is None else self.bottleneck(z)  # -> (B, latent_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if self.expand is not None:
            z = self.expand(z)  # (B, latent_dim) -> (B, channels[-1], l)
        return self.decoder(z)  # (B, channels[-1], l) -> (B, C, l * m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))[..., : x.shape[-1]]  # crop the padding: -> (B, C, L)


class SignalConv1dAutoencoder(nn.Module):
    """A :class:`Conv1dAutoencoder` for one-channel signals stored as rows (B, L), such as ECG beats.

    Examples
    --------
    >>> model = SignalConv1dAutoencoder(Conv1dConfig(in_channels=1, output_activation="sigmoid"))
    >>> model(torch.rand(3, 140)).shape
    torch.Size([3, 140])
    """

    def __init__(self, config: Conv1dConfig):
        super().__init__()
        if config.in_channels != 1:
            raise ValueError(
                f"signals stored as rows have one channel, got in_channels={config.in_channels}"
            )
        self.net = Conv1dAutoencoder(config)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        # (B, L) -> (B, 1, L) -> (B, channels[-1], ceil(L / m))
        return self.net.encode(x.unsqueeze(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.decode(z).squeeze(1)  # (B, channels[-1], l) -> (B, l * m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.unsqueeze(1)).squeeze(1)  # (B, L) -> (B, 1, L) -> (B, L)


def signal_autoencoder(
    input_shape,
    channels: tuple[int, ...],
    latent_dim: int,
    output_activation: str = "linear",
    init: str = "he",
) -> SignalConv1dAutoencoder:
    """The 1-D model for samples that are one signal each, ``input_shape`` (length,), with a dense code.

    What ``AnomalyDetector(architecture="conv1d")`` builds: ``channels`` are the conv widths.

    Examples
    --------
    >>> signal_autoencoder((140,), (32, 16), 8)(torch.rand(2, 140)).shape
    torch.Size([2, 140])
    """
    if len(input_shape) != 1:
        shape = tuple(int(d) for d in input_shape)
        # one signal with an axis of 1 ((n, 1, L) as PyTorch holds it, (n, L, 1) as Keras does)
        fix = (
            f"drop the axis of 1: X.reshape(len(X), -1) gives samples of shape ({max(shape)},)"
            if len(shape) == 2 and 1 in shape
            else "use architecture='dense'"
        )
        raise DataError(
            f"a 1-D convolutional model takes samples that are one signal (n, length), got samples of "
            f"shape {shape}; {fix}"
        )
    return SignalConv1dAutoencoder(
        Conv1dConfig(
            in_channels=1,
            channels=tuple(channels),
            latent_dim=int(latent_dim),
            length=int(input_shape[0]),
            output_activation=output_activation,
            init=init,
        )
    )
