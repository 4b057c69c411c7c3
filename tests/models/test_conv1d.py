"""The 1-D convolutional autoencoder: the layout, any length and channels, the dense code, one-channel rows."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from aekit.errors import DataError
from aekit.models.conv1d import (
    Conv1dAutoencoder,
    Conv1dConfig,
    SignalConv1dAutoencoder,
    signal_autoencoder,
)


def test_default_layout_and_shapes():
    model = Conv1dAutoencoder(Conv1dConfig(in_channels=1))
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]
    assert [(type(m).__name__, m.in_channels, m.out_channels, m.stride[0]) for m in convs] == [
        ("Conv1d", 1, 32, 2),
        ("Conv1d", 32, 16, 2),
        ("ConvTranspose1d", 16, 16, 2),
        ("ConvTranspose1d", 16, 32, 2),
        ("Conv1d", 32, 1, 1),
    ]
    x = torch.randn(2, 1, 64)
    assert model.encode(x).shape == (2, 16, 16)
    assert model.decode(model.encode(x)).shape == (2, 1, 64)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("length", [1, 7, 64, 183, 250])
def test_any_length_and_channels(channels, length):
    model = Conv1dAutoencoder(Conv1dConfig(in_channels=channels))
    x = torch.randn(3, channels, length)
    assert model(x).shape == x.shape
    assert model.encode(x).shape == (3, 16, -(-length // 4))


@pytest.mark.parametrize("length", [5, 140, 183])
def test_dense_code(length):
    model = Conv1dAutoencoder(
        Conv1dConfig(in_channels=2, channels=(8, 8, 4), latent_dim=6, length=length)
    )
    x = torch.randn(4, 2, length)
    assert model.encode(x).shape == (4, 6)
    assert model(x).shape == x.shape
    assert model.multiple == 8


def test_signal_rows_and_output_activation():
    model = SignalConv1dAutoencoder(
        Conv1dConfig(in_channels=1, output_activation="sigmoid", latent_dim=8, length=140)
    )
    with torch.no_grad():
        out = model(torch.randn(5, 140))
    assert out.shape == (5, 140) and float(out.min()) >= 0 and float(out.max()) <= 1
    assert model.encode(torch.randn(5, 140)).shape == (5, 8)


def test_seeded_weights_and_zero_biases():
    torch.manual_seed(0)
    a = Conv1dAutoencoder(Conv1dConfig(in_channels=1))
    torch.manual_seed(0)
    b = Conv1dAutoencoder(Conv1dConfig(in_channels=1))
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q)
        if name.endswith("bias"):
            assert not p.any()


@pytest.mark.parametrize(
    "config",
    [
        dict(in_channels=0),
        dict(in_channels=1, channels=()),
        dict(in_channels=1, stride=1, kernel_size=2),
        dict(in_channels=1, latent_dim=4),
        dict(in_channels=1, output_activation="nope"),
    ],
)
def test_bad_config(config):
    with pytest.raises(ValueError):
        Conv1dAutoencoder(Conv1dConfig(**config))
    with pytest.raises(ValueError):
        SignalConv1dAutoencoder(Conv1dConfig(in_channels=2))


@pytest.mark.parametrize("shape", [(1, 40), (40, 1)])
def test_one_signal_with_an_axis_of_one_is_told_the_reshape(shape):
    """probe 62 shapes #4: (n, 1, L) and (n, L, 1), the usual one-channel layouts, were told to
    use architecture='dense'."""
    with pytest.raises(DataError, match=r"drop the axis of 1: X.reshape\(len\(X\), -1\) gives"):
        signal_autoencoder(shape, (8,), 4)
    with pytest.raises(DataError, match="use architecture='dense'"):
        signal_autoencoder((3, 40), (8,), 4)  # several channels: no reshape makes them one signal
