"""A memory bank of normal per-pixel features: a pixel's anomaly is its distance to the nearest.

Training keeps a random sample of the features of normal images' pixels
(:mod:`aekit.models.patchfeatures`: window statistics of a filter bank, or raw pixel patches),
each feature standardised by the training mean and spread so that no feature dominates by its
units. A new pixel's anomaly is the Euclidean distance from its features to the nearest kept
one, smoothed by a Gaussian (a defect raises every feature whose window covers it, so the raw map
is blocky). The idea of PatchCore (Roth et al., CVPR 2022), without a pretrained backbone.

    features (B, C, H, W) -> (B, D, H, W) -> rows (B*H*W, D) -> nearest of the bank (N, D)
    -> distances (B*H*W,) -> map (B, H, W) -> smoothed (B, H, W)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .patchfeatures import filter_statistics, gaussian_blur, pixel_patches

# Pixel-to-bank distances computed at a time: 1M floats (4 MB) stay in a CPU's cache between the
# matrix product that writes them and the minimum that reads them; a GPU has no such cache limit.
BLOCK_VALUES = 1 << 20
BLOCK_VALUES_GPU = 1 << 26
# Pixels whose features fill() computes at a time (32 crops of 64x64): a chunk of 512x512 RGB
# images took 32 of them at once, 4.8 GB for 40 images of 0.13 GB
FILL_PIXELS = 32 * 64 * 64


@dataclass
class PatchBankConfig:
    in_channels: int  # image channels: 1 (grayscale) or 3 (RGB)
    features: str = "filters"  # "filters" (window statistics) or "pixels" (raw patches)
    # "filters": the Gaussian derivatives' scales and the statistics' Gaussian windows, in pixels.
    # Fine: a scratch or a spot a pixel or two wide is a change of texture at that scale, and a
    # window of 2 pixels does not average it away with its normal surroundings (on the texture
    # benchmark, against (1, 2) and (2, 6), and (0.5, 1): ``docs/guide/images.md``)
    sigmas: tuple[float, ...] = (0.5,)
    windows: tuple[float, ...] = (0.7, 2.0)
    patch: int = 7  # "pixels": side of the square patch around each pixel (odd: centred)
    scales: tuple[int, ...] = (1,)  # "pixels": average-pooling factors whose patches are joined
    bank_size: int = 16384  # normal features kept (a random sample of the training pixels')
    smoothing: float = 2.0  # the Gaussian that smooths the map, in pixels (0: none)

    @property
    def dim(self) -> int:
        """D, the features of one pixel."""
        if self.features == "pixels":
            return self.in_channels * self.patch**2 * len(self.scales)
        return self.in_channels * len(self.windows) * (2 + 5 * len(self.sigmas))

    def validate(self) -> PatchBankConfig:
        if self.features not in ("filters", "pixels") or self.in_channels < 1:
            raise ValueError(f"need features 'filters' or 'pixels' and in_channels >= 1: {self}")
        if self.patch < 1 or self.patch % 2 == 0 or not self.scales or min(self.scales) < 1:
            raise ValueError(f"need an odd patch >= 1 and scales >= 1, got {self}")
        if not self.sigmas or not self.windows or min(*self.sigmas, *self.windows) <= 0:
            raise ValueError(f"need sigmas and windows > 0, got {self}")
        if self.bank_size < 1 or self.smoothing < 0:
            raise ValueError(f"need bank_size >= 1 and smoothing >= 0, got {self}")
        return self


class PatchBank(nn.Module):
    """Per-pixel features and their distance to a bank of normal ones; ``forward`` gives the map.

    Examples
    --------
    >>> bank = PatchBank(PatchBankConfig(in_channels=1, bank_size=64))
    >>> bank.fill(torch.rand(2, 1, 16, 16), torch.Generator().manual_seed(0))
    >>> bank(torch.rand(3, 1, 16, 16)).shape
    torch.Size([3, 16, 16])
    """

    def __init__(self, config: PatchBankConfig):
        super().__init__()
        self.config = config.validate()
        # learned state, saved with the weights: filled by fill()
        self.register_buffer("bank", torch.zeros(config.bank_size, config.dim))
        self.register_buffer("center", torch.zeros(config.dim))
        self.register_buffer("scale", torch.ones(config.dim))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, D, H, W), standardised by the training pixels' mean and spread."""
        c = self.config
        if c.features == "pixels":
            f = pixel_patches(x, c.patch, c.scales)
        else:
            f = filter_statistics(x, c.sigmas, c.windows)
        return (f - self.center.view(1, -1, 1, 1)) / self.scale.view(1, -1, 1, 1)

    @torch.no_grad()
    def fill(self, x: torch.Tensor, generator: torch.Generator, chunk: int | None = None) -> None:
        """Keep ``bank_size`` features of pixels drawn at random from normal images ``x``, and
        standardise the features by the mean and spread of those drawn.

        ``chunk`` images' features at a time (default: :data:`FILL_PIXELS` pixels' worth, at least
        one image), so memory follows the images' size, not their number times it.
        """
        n = x.shape[0]
        chunk = chunk or max(1, FILL_PIXELS // (x.shape[-2] * x.shape[-1]))
        self.center.zero_()
        self.scale.fill_(1.0)
        # each chunk of images gives its share of the bank: memory stays at one chunk's features
        share = -(-self.config.bank_size // -(-n // chunk))
        drawn = []
        for i in range(0, n, chunk):
            rows = self.rows(x[i : i + chunk])  # (b*H*W, D)
            drawn.append(rows[torch.randperm(len(rows), generator=generator)[:share]])
        raw = torch.cat(drawn)
        if self.config.features == "filters":  # raw pixels keep their common units
            self.center.copy_(raw.mean(0))
            self.scale.copy_(raw.std(0).clamp_min(1e-6))
        keep = torch.randperm(len(raw), generator=generator)[: self.config.bank_size]
        # fewer pixels than the bank: repeat some (duplicates do not change a nearest distance)
        keep = keep.repeat(-(-self.config.bank_size // len(keep)))[: self.config.bank_size]
        self.bank.copy_((raw[keep] - self.center) / self.scale)

    def rows(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B*H*W, D): one standardised feature row per pixel."""
        f = self.features(x.to(self.bank.device))  # (b, D, H, W)
        return f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])  # (b*H*W, D)

    def nearest(
        self, rows: torch.Tensor, bank_sq: torch.Tensor | None = None, parts: int = 1
    ) -> torch.Tensor:
        """(n, D) standardised features -> (n,) distances to their nearest bank feature.

        ``bank_sq``: the bank's squared norms, (N,), when the caller computed them once for many
        calls. ``parts``: the bank in that many slices, their minima combined, so that (n, N /
        parts) distances exist at a time, not (n, N): the ONNX graph, which has no loop over
        blocks of pixels, computes a 256x256 image's map in 0.5 GB instead of 4.7 GB.
        """
        if bank_sq is None:
            bank_sq = self.bank.square().sum(1)
        size = -(-self.bank.shape[0] // parts)
        near = None
        for lo in range(0, self.bank.shape[0], size):
            # ||q - m||^2 = ||q||^2 - 2 q.m + ||m||^2: the (n, size) block in one pass (addmm),
            # its row minimum, then ||q||^2, the same along a row
            bank = self.bank[lo : lo + size]
            part = torch.addmm(bank_sq[lo : lo + size], rows, bank.T, alpha=-2.0).amin(1)
            near = part if near is None else torch.minimum(near, part)
        return (near + rows.square().sum(1)).clamp_min(0).sqrt()

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, H, W): each pixel's distance to its nearest bank feature, unsmoothed.

        A block of pixels at a time, whose (pixels, bank_size) distances fit the CPU's cache: the
        block is written by the matrix product and read by the minimum while still there (a
        256x256 image against 16,384 features: 0.3 s in blocks of 64 pixels, 3.9 s in blocks of
        4,096, each block 268 MB that memory had to hold; 2 cores). A GPU takes larger blocks.
        """
        b, _, h, w = x.shape
        f = self.rows(x)  # (B*H*W, D)
        block = BLOCK_VALUES if f.device.type == "cpu" else BLOCK_VALUES_GPU
        step = max(1, block // self.bank.shape[0])
        bank_sq = self.bank.square().sum(1)  # (N,), once for all the blocks
        nearest = [self.nearest(f[i : i + step], bank_sq) for i in range(0, f.shape[0], step)]
        return torch.cat(nearest).view(b, h, w)

    def bytes_per_pixel(self) -> int:
        """Memory a map takes per pixel of its images, about: the features and their standardised
        rows (D floats each, twice over while one becomes the other), the filters' intermediate
        images, the distances and the map."""
        return 4 * (3 * self.config.dim + 8 * self.config.in_channels + 4)

    def smooth(self, distances: torch.Tensor) -> torch.Tensor:
        """(B, H, W) distances -> the (B, H, W) map."""
        return gaussian_blur(distances.unsqueeze(1), self.config.smoothing).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.smooth(self.distances(x))  # (B, C, H, W) -> (B, H, W)
