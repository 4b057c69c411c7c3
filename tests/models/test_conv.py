"""The convolutional autoencoder: the recipe's layout, shapes for any size, 1 or 3 channels."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from aekit.errors import DataError
from aekit.models.conv import ConvAutoencoder, ConvConfig, image_autoencoder


def test_recipe_layout_and_shapes():
    model = ConvAutoencoder(ConvConfig(in_channels=1))
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert [(type(m).__name__, m.in_channels, m.out_channels) for m in convs] == [
        ("Conv2d", 1, 16),
        ("Conv2d", 16, 8),
        ("ConvTranspose2d", 8, 8),
        ("ConvTranspose2d", 8, 16),
        ("Conv2d", 16, 1),
    ]
    x = torch.rand(2, 1, 28, 28)
    z = model.encode(x)
    assert model.encoder[:2](x).shape == (2, 16, 14, 14)
    assert z.shape == (2, 8, 7, 7)
    assert model.decoder[:2](z).shape == (2, 8, 14, 14)
    assert model.decode(z).shape == (2, 1, 28, 28)
    with torch.no_grad():
        out = model(x)
    assert out.shape == x.shape and float(out.min()) >= 0 and float(out.max()) <= 1


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [(28, 28), (20, 24), (17, 5), (1, 1), (31, 33)])
def test_any_size_and_channels(channels, size):
    model = ConvAutoencoder(ConvConfig(in_channels=channels))
    x = torch.rand(3, channels, *size)
    assert model(x).shape == x.shape
    assert model.encode(x).shape == (3, 8, -(-size[0] // 4), -(-size[1] // 4))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kernel_size", [1, 2, 4, 5])
def test_other_kernels_and_depths(kernel_size):
    model = ConvAutoencoder(ConvConfig(in_channels=3, channels=(8, 8, 4), kernel_size=kernel_size))
    x = torch.rand(2, 3, 19, 26)
    assert model(x).shape == x.shape
    assert model.multiple == 8


@pytest.mark.parametrize(
    "init, bound",
    [
        ("glorot", (6 / (9 + 144)) ** 0.5),  # sqrt(6 / (fan_in + fan_out))
        ("he", (6 / 9) ** 0.5),
    ],
)  # sqrt(2) * sqrt(3 / fan_in)
def test_init_zero_biases_and_seeded(init, bound):
    torch.manual_seed(0)
    a = ConvAutoencoder(ConvConfig(in_channels=1, init=init))
    torch.manual_seed(0)
    b = ConvAutoencoder(ConvConfig(in_channels=1, init=init))
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q)
        if name.endswith("bias"):
            assert not p.any()
    w = a.encoder[0].weight  # fan_in = 1 channel x 3 x 3, fan_out = 16 x 3 x 3
    assert float(w.detach().abs().max()) <= bound
    assert float(w.detach().abs().max()) > 0.8 * bound


@pytest.mark.parametrize("size", [(28, 28), (10, 6), (5, 13)])
def test_dense_code(size):
    model = image_autoencoder((3, *size), (8, 4), 6)
    x = torch.rand(2, 3, *size)
    assert model.encode(x).shape == (2, 6)
    assert model.decode(model.encode(x)).shape[:2] == (2, 3)
    assert model(x).shape == x.shape


def test_bad_config():
    with pytest.raises(ValueError):
        ConvAutoencoder(ConvConfig(in_channels=1, channels=()))
    with pytest.raises(ValueError, match="latent_dim needs"):
        ConvAutoencoder(ConvConfig(in_channels=1, latent_dim=4))  # no image size
    with pytest.raises(DataError, match="use architecture='dense'"):
        image_autoencoder((28,), (8,), 4)
    # probe 62 shapes #4: a grayscale batch (n, H, W) was told to drop the convolutions
    with pytest.raises(DataError, match=r"shape \(16, 12\); add the channel axis: X\[:, None\] gi"):
        image_autoencoder((16, 12), (8,), 4)
    with pytest.raises(ValueError):
        ConvAutoencoder(ConvConfig(in_channels=1, stride=1, kernel_size=2))
