"""Weight initialisation shared by the model families.

Why this matters: the classic Keras recipes initialise Dense and Conv kernels with
Glorot (Xavier) uniform and biases with zeros. PyTorch's default (Kaiming uniform with
a=sqrt(5), and uniform biases) gives the 784->64->784 autoencoder much smaller encoder
weights and random biases, and in the same 10 epochs of Adam it stalls well short of the
recipe's error (the figures are in docs/guide/autoencoder.md).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch
from torch import nn

INITS = ("glorot", "he", "torch")

# torch's default dtype is the process's: one switch at a time, so two builds in threads do not
# restore each other's setting in the middle of a build
_DEFAULT_DTYPE = threading.RLock()


@contextlib.contextmanager
def float32_default() -> Iterator[None]:
    """Build networks in float32 whatever the process's default dtype: aekit's data path is float32,
    and a user's ``torch.set_default_dtype(torch.float64)`` built float64 weights that every batch
    then failed on (torch's "mat1 and mat2 must have the same dtype"). The default is switched only
    when it is not float32 already (other threads see float32 for that time) and restored after."""
    with _DEFAULT_DTYPE:
        previous = torch.get_default_dtype()
        if previous == torch.float32:
            yield
            return
        torch.set_default_dtype(torch.float32)
        try:
            yield
        finally:
            torch.set_default_dtype(previous)


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
