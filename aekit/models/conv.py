"""Convolutional autoencoders for images: the denoising recipe.

The default is TensorFlow's "Intro to Autoencoders" denoiser, for a 1x28x28 image:
    Conv2d(1->16, s2) relu -> Conv2d(16->8, s2) relu            (1x28x28 -> 16x14x14 -> 8x7x7)
    ConvTranspose2d(8->8, s2) relu -> ConvTranspose2d(8->16, s2) relu -> Conv2d(16->1) sigmoid
                                                                (8x7x7 -> 8x14x14 -> 16x28x28 -> 1x28x28)
The model is fully convolutional: any height and width works (the input is padded to a
multiple of ``stride ** depth`` and the output cropped back), with any number of channels. Its code
is a feature map with more numbers than a small image has, so it can learn to copy anything;
``latent_dim`` puts a dense code between the halves (flatten -> latent_dim -> unflatten), which
makes it reconstruct only what it was trained on (the anomaly detector's ``architecture="conv2d"``);
that needs the image ``size`` up front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DataError
from .activations import activation
from .init import init_weights


@dataclass
class ConvConfig:
    in_channels: int  # image channels: 1 (grayscale) or 3 (RGB)
    channels: tuple[int, ...] = (16, 8)  # encoder conv widths; the decoder mirrors them
    kernel_size: int = 3  # square kernels of every layer
    # each encoder layer divides height and width by this; each decoder layer multiplies
    stride: int = 2
    # "he" (Kaiming, for ReLU), "glorot" (Keras' default) or "torch"; see models/init.py
    init: str = "he"
    # sigmoid for images in [0, 1]; "linear" for data of any range
    output_activation: str = "sigmoid"
    # a dense code of this size between encoder and decoder; None: none (the code is a feature map)
    latent_dim: int | None = None
    # (height, width) of the images: needed with latent_dim only
    size: tuple[int, int] | None = None

    def validate(self) -> ConvConfig:
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
        if self.latent_dim is not None and (
            self.latent_dim < 1 or self.size is None or min(self.size) < 1
        ):
            raise ValueError(f"latent_dim needs latent_dim >= 1 and the image size, got {self}")
        return self


class ConvAutoencoder(nn.Module):
    """Strided conv encoder and transposed-conv decoder with a sigmoid output in [0, 1] (or ``output_activation``).

    ``encode`` and ``decode`` work on padded sizes (multiples of ``stride ** depth``);
    ``forward`` pads any image, runs both and crops back to the input's size.

    Examples
    --------
    >>> model = ConvAutoencoder(ConvConfig(in_channels=1))
    >>> model(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 1, 28, 28])
    >>> model.encode(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 8, 7, 7])
    >>> ConvAutoencoder(ConvConfig(in_channels=1, latent_dim=16, size=(28, 28))).encode(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 16])
    """

    def __init__(self, config: ConvConfig):
        super().__init__()
        self.config = config.validate()
        k, s = config.kernel_size, config.stride
        # "Same" padding: with p = (k - 1) // 2 a stride-s conv maps H -> H / s exactly (H a multiple
        # of s), and the transposed conv with output_padding s + 2p - k maps H -> H * s exactly.
        p = (k - 1) // 2
        out_pad = s + 2 * p - k
        widths = list(config.channels)

        encoder: list[nn.Module] = []
        for c_in, c_out in zip([config.in_channels, *widths[:-1]], widths):
            encoder += [nn.Conv2d(c_in, c_out, k, stride=s, padding=p), nn.ReLU()]
        self.encoder = nn.Sequential(*encoder)

        back = widths[::-1]  # (16, 8) -> decoder outputs 8, 16
        decoder: list[nn.Module] = []
        for c_in, c_out in zip([widths[-1], *back[:-1]], back):
            decoder += [
                nn.ConvTranspose2d(c_in, c_out, k, stride=s, padding=p, output_padding=out_pad),
                nn.ReLU(),
            ]
        decoder += [
            nn.Conv2d(widths[0], config.in_channels, k, padding=p if k % 2 else "same"),
            activation(config.output_activation),
        ]
        self.decoder = nn.Sequential(*decoder)
        self.bottleneck: nn.Module | None = None
        self.expand: nn.Module | None = None
        if config.latent_dim is not None:
            m = s ** len(widths)  # the code map of one image: its sides divided by m, rounded up
            code = (widths[-1], *(math.ceil(side / m) for side in config.size))
            self.bottleneck = nn.Sequential(
                nn.Flatten(), nn.Linear(math.prod(code), config.latent_dim), nn.ReLU()
            )  # (B, channels[-1], h, w) -> (B, latent_dim)
            self.expand = nn.Sequential(
                nn.Linear(config.latent_dim, math.prod(code)), nn.ReLU(), nn.Unflatten(1, code)
            )  # (B, latent_dim) -> (B, channels[-1], h, w)
        init_weights(self, config.init)

    @property
    def multiple(self) -> int:
        """Height and width must be multiples of this for ``encode``/``decode`` to round-trip."""
        return self.config.stride ** len(self.config.channels)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """Pad (B, C, H, W) at the bottom and right, repeating the edge, to multiples of ``multiple``."""
        m = self.multiple
        ph, pw = -x.shape[-2] % m, -x.shape[-1] % m
        if ph == 0 and pw == 0:
            return x
        return F.pad(x, (0, pw, 0, ph), mode="replicate")  # (B, C, H, W) -> (B, C, H + ph, W + pw)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) -> (B, channels[-1], ceil(H / m), ceil(W / m))
        z = self.encoder(self.pad(x))
        return z if self.bottleneck is None else self.bottleneck(z)  # -> (B, latent_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if self.expand is not None:
            z = self.expand(z)  # (B, latent_dim) -> (B, channels[-1], h, w)
        return self.decoder(z)  # (B, channels[-1], h, w) -> (B, C, h * m, w * m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        return self.decode(self.encode(x))[..., :h, :w]  # crop the padding: -> (B, C, H, W)


def image_autoencoder(
    input_shape,
    channels: tuple[int, ...],
    latent_dim: int,
    output_activation: str = "linear",
    init: str = "he",
) -> ConvAutoencoder:
    """The 2-D model for samples that are images, ``input_shape`` (C, H, W), with a dense code.

    What ``AnomalyDetector(architecture="conv2d")`` builds: ``channels`` are the conv widths.

    Examples
    --------
    >>> image_autoencoder((1, 28, 28), (32, 64), 16)(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 1, 28, 28])
    """
    if len(input_shape) != 3:
        shape = tuple(int(d) for d in input_shape)
        fix = (  # grayscale images without their channel axis, as (n, H, W) batches come
            f"add the channel axis: X[:, None] gives samples of shape (1, {shape[0]}, {shape[1]})"
            if len(shape) == 2
            else "use architecture='dense'"
        )
        raise DataError(
            f"a 2-D convolutional model takes samples that are images (n, C, H, W), got samples of "
            f"shape {shape}; {fix}"
        )
    c, h, w = (int(d) for d in input_shape)
    return ConvAutoencoder(
        ConvConfig(
            in_channels=c,
            channels=tuple(channels),
            output_activation=output_activation,
            init=init,
            latent_dim=int(latent_dim),
            size=(h, w),
        )
    )
