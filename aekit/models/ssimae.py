"""The SSIM autoencoder's anomaly map (Bergmann et al., VISAPP 2019): what a reconstruction lost.

A convolutional autoencoder (:class:`aekit.models.conv.ConvAutoencoder`) trained on normal images
rebuilds their structure; where a defect is, it rebuilds the normal texture instead, and the map
``1 - SSIM(x, reconstruction)`` (:func:`aekit.models.ssim.ssim_map`) is high.

    x (B, C, H, W) -> autoencoder -> (B, C, H, W) -> 1 - SSIM -> (B, H, W) -> smoothed (B, H, W)
"""

from __future__ import annotations

import torch
from torch import nn

from .conv import ConvAutoencoder
from .patchfeatures import gaussian_blur
from .ssim import ssim_map


class ReconstructionMap(nn.Module):
    """An autoencoder and its ``1 - SSIM`` map; ``forward`` gives the (B, H, W) map."""

    def __init__(self, autoencoder: ConvAutoencoder, smoothing: float = 2.0):
        super().__init__()
        self.autoencoder = autoencoder
        self.smoothing = smoothing  # the Gaussian that smooths the map, in pixels (0: none)

    def dissimilarity(self, x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) twice -> the (B, H, W) map, smoothed."""
        dissimilar = 1 - ssim_map(x, reconstruction).unsqueeze(1)  # (B, 1, H, W)
        return gaussian_blur(dissimilar, self.smoothing).squeeze(1)  # (B, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dissimilarity(x, self.autoencoder(x))
