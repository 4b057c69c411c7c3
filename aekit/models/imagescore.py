"""An image's anomaly score from its per-pixel map, (B, H, W) -> (B,): one definition for the
estimator and its ONNX graph.

``"top"`` (the default): the mean of the map's highest values, the top :data:`TOP_FRACTION` of the
pixels and at most :data:`TOP_MOST` of them. A defect lights up a patch of pixels; a good image of
a busy texture has a few lone high pixels, which decide the maximum but not a mean over a patch's
worth (on the texture benchmark the maximum ranked good grass crops above defective ones:
``docs/guide/images.md``). The cap keeps a small defect of a large image from being averaged away.
``"max"``: the map's maximum (runs saved before the top mean).

Written with tensor operations only (a sort, a cumulative sum, a mask), no size-dependent ``k``:
the ONNX graph keeps any height and width.
"""

from __future__ import annotations

import torch

RULES = ("top", "max")
TOP_FRACTION = 0.05  # "top": the share of an image's pixels whose mean is its score ...
TOP_MOST = 256  # ... and at most this many pixels


def image_score(maps: torch.Tensor, rule: str = "top") -> torch.Tensor:
    """Each image's score from its map, (B, H, W) -> (B,)."""
    flat = maps.flatten(1)  # (B, H, W) -> (B, H*W)
    if rule == "max":
        return flat.amax(dim=1)
    if rule != "top":
        raise ValueError(f"unknown image score {rule!r}; expected one of {RULES}")
    ones = torch.ones_like(flat)
    n = ones.sum(dim=1, keepdim=True)  # (B, 1): pixels per image, as a tensor (no Python int)
    k = (n * TOP_FRACTION).floor().clamp(1, TOP_MOST)  # (B, 1)
    highest = torch.sort(flat, dim=1, descending=True).values  # (B, H*W)
    keep = ones.cumsum(dim=1) <= k  # the first k of each row
    return (highest * keep).sum(dim=1) / k.squeeze(1)
