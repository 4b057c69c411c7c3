"""The caller's array is never changed, whatever the network does with its input."""

from __future__ import annotations

import numpy as np
from torch import nn

import aekit


class InPlace(nn.Module):
    """An encoder that normalises its input in place, as hand-written networks do."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(6, 2)

    def forward(self, x):
        return self.linear(x.clamp_(0, 0.5))


def test_a_network_that_works_in_place_leaves_the_callers_array_as_it_was():
    X = np.random.default_rng(0).random((40, 6), dtype=np.float32)
    kept = X.copy()
    ae = aekit.Autoencoder(encoder=InPlace(), decoder=nn.Linear(2, 6), epochs=1, device="cpu",
                           threads=1, seed=0).fit(X)  # fmt: skip
    ae.transform(X)
    ae.score(X)
    np.testing.assert_array_equal(X, kept)
