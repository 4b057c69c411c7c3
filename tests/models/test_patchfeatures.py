"""The separable filter behind the texture features and SSIM: its two forms give the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.models import patchfeatures as pf


@pytest.mark.parametrize("shape", [(3, 1, 40, 33), (2, 1, 5, 7), (1, 1, 1, 9), (4, 1, 2, 2)])
@pytest.mark.parametrize(("sy", "sx", "order"), [(0.5, 0.5, 1), (2.0, 0.7, 2), (1.5, 1.5, 0)])
def test_shifted_sums_equal_the_convolutions_of_the_exported_graph(
    shape, sy, sx, order, monkeypatch
):
    """Run eagerly ``separable`` sums shifted slices; traced for ONNX it convolves: the same
    filter, edges reflected (on images smaller than the kernel's radius too)."""
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    ky, kx = pf.gaussian_kernel(sy, order), pf.gaussian_kernel(sx, 0)
    eager = pf.separable(x, ky, kx)
    monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)
    traced = pf.separable(x, ky, kx)
    assert eager.shape == traced.shape == x.shape
    torch.testing.assert_close(eager, traced, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("side", [1, 2, 3, 6, 7, 20])
def test_reflect_pad_is_numpys_reflect_on_every_size(side, traced, monkeypatch):
    """One rule for every size, eager or traced: the ONNX graph is traced at one size and must
    give the same numbers on images smaller than its filters' radius (r = 6 here)."""
    if traced:
        monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)
    x = torch.rand(2, 3, side, side + 4, generator=torch.Generator().manual_seed(1))
    got = pf.reflect_pad(x, 6, 2).numpy()
    want = np.pad(x.numpy(), ((0, 0), (0, 0), (6, 6), (0, 0)), mode="reflect")
    want = np.pad(want, ((0, 0), (0, 0), (0, 0), (2, 2)), mode="reflect")
    np.testing.assert_array_equal(got, want)
