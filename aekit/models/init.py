"""Weight initialisation shared by the model families.

Why this matters: the classic Keras recipes initialise Dense and Conv kernels with
Glorot (Xavier) uniform and biases with zeros. PyTorch's default (Kaiming uniform with
a=sqrt(5), and uniform biases) gives the 784->64->784 autoencoder much smaller encoder
weights and random biases, and in the same 10 epochs of Adam it stalls well short of the
recipe's error (the figures are in docs/guide/autoencoder.md).
"""

from __future__ import annotations

from torch import nn

INITS = ("glorot", "he", "torch")


def init_weights(module: nn.Module, scheme: str = "glorot") -> None:
    """Initialise every Linear/Conv layer of ``module`` in place.

    ``"glorot"``: Xavier-uniform weights and zero biases (Keras' defaults).
    ``"he"``: Kaiming-uniform weights for ReLU (gain sqrt(2)) and zero biases.
    ``"torch"``: leave PyTorch's own initialisation.
    """
    if scheme == "torch":
        return
    if scheme not in INITS:
        raise ValueError(f"unknown init {scheme!r}; expected one of {INITS}")
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)):
            if scheme == "he":
                nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
