"""PatchBank's nearest-feature distances: blocks of pixels and slices of the bank change nothing."""

from __future__ import annotations

import pytest
import torch

import aekit.models.patchbank as pb
from aekit.models.patchbank import PatchBank, PatchBankConfig


@pytest.fixture(scope="module")
def bank() -> PatchBank:
    torch.manual_seed(0)
    bank = PatchBank(PatchBankConfig(in_channels=2, bank_size=300))
    bank.fill(torch.rand(6, 2, 12, 12), torch.Generator().manual_seed(0))
    return bank


def brute(bank: PatchBank, x: torch.Tensor) -> torch.Tensor:
    """(B, H, W): each pixel's distance to its nearest bank feature, by torch.cdist."""
    b, _, h, w = x.shape
    return torch.cdist(bank.rows(x).double(), bank.bank.double()).amin(1).view(b, h, w)


@pytest.mark.parametrize("block", [1, 300 * 7, 1 << 20])
def test_distances_in_blocks_of_pixels_are_the_nearest_distances(bank, block, monkeypatch):
    """One pixel a block, 7 pixels a block (the last one short), all pixels in one block."""
    monkeypatch.setattr(pb, "BLOCK_VALUES", block)
    x = torch.rand(3, 2, 9, 11)
    torch.testing.assert_close(bank.distances(x).double(), brute(bank, x), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("parts", [2, 7, 300, 1000])
def test_the_bank_in_slices_gives_the_same_nearest_distances(bank, parts):
    """The ONNX graph's form (the bank in slices, their minima combined), 300 features in 2, 7
    (the last slice short), one feature a slice, and more slices than features."""
    rows = bank.rows(torch.rand(2, 2, 8, 8))
    torch.testing.assert_close(bank.nearest(rows, parts=parts), bank.nearest(rows))
