"""The dense ensemble: each member is exactly a dense autoencoder, and the members train independently."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from aekit.models import DenseAutoencoder, DenseConfig, DenseEnsemble

CONFIG = DenseConfig(input_shape=(2, 5), latent_dim=3, hidden=(8, 4), output_activation="linear")


def test_each_member_is_a_dense_autoencoder():
    torch.manual_seed(0)
    ens = DenseEnsemble(CONFIG, members=3)
    x = torch.randn(6, 2, 5)
    out = ens(x)
    assert out.shape == (3, 6, 2, 5)
    single = DenseAutoencoder(CONFIG)
    for k in range(3):  # member k's weights in the single network's layers give member k's output
        grouped = [m for m in ens.modules() if type(m).__name__ == "MemberLinear"]
        linear = [m for m in single.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for g, lin in zip(grouped, linear, strict=True):
                lin.weight.copy_(g.weight[k].T)  # (in, out) -> nn.Linear's (out, in)
                lin.bias.copy_(g.bias[k, 0])
        torch.testing.assert_close(out[k], single(x))
    assert not torch.allclose(out[0], out[1])  # members start from different weights


def test_a_members_loss_moves_only_its_own_weights():
    ens = DenseEnsemble(CONFIG, members=2)
    ens(torch.randn(4, 2, 5))[1].square().mean().backward()
    for p in ens.parameters():
        assert p.grad[0].abs().sum() == 0 and p.grad[1].abs().sum() > 0


def test_members_must_be_positive():
    with pytest.raises(ValueError, match="members"):
        DenseEnsemble(CONFIG, members=0)


def test_encode_gives_each_sample_its_members_codes_side_by_side():
    torch.manual_seed(0)
    model = DenseEnsemble(DenseConfig(input_shape=(6,), hidden=(4,), latent_dim=2), members=3)
    x = torch.randn(5, 6)
    z = model.encode(x)
    assert z.shape == (5, 3 * 2)
    member_codes = model.encoder(x.reshape(1, 5, 6).expand(3, 5, 6))  # (K, B, L)
    # the second member's code, for every sample
    torch.testing.assert_close(z[:, 2:4], member_codes[1])
