"""``aekit train basic`` and ``aekit train stacked``: dense autoencoders."""

from __future__ import annotations

import argparse
from typing import Any

from .types import int_list

# The names of aekit.models.activations.ACTIVATIONS and aekit.estimators.preprocessing.SCALERS, here so that
# building the parser imports no torch (tests/cli/test_help.py checks that they agree).
ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "linear")
SCALERS = ("auto", "standard", "robust", "minmax", "none")


def _options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--hidden",
        type=int_list,
        metavar="W1,W2",
        help="encoder widths before the code; the decoder mirrors them (none: one layer each way)",
    )
    g.add_argument("--activation", choices=ACTIVATIONS, help="hidden activation")
    g.add_argument(
        "--output-activation",
        choices=("auto", *ACTIVATIONS),
        help="reconstruction activation; auto: sigmoid for (scaled) data in [0, 1], else linear",
    )
    g.add_argument(
        "--scaler",
        choices=SCALERS,
        help="input scaling saved with the model; auto: none for data in "
        "[0, 1], per-feature standardisation for tables, global min-max for other images",
    )
    g.add_argument("--init", choices=("glorot", "torch"), help="weight initialisation")


TRAIN_OPTIONS = {"basic": _options, "stacked": _options}
HELP = {
    "basic": "dense autoencoder: images or rows to a latent vector (Fashion-MNIST recipe)",
    "stacked": "stacked dense autoencoder with symmetric hidden layers",
}


def train_params(family: str, args: argparse.Namespace) -> dict[str, Any]:
    names = {
        "hidden": "hidden",
        "activation": "activation",
        "output_activation": "output_activation",
        "scaler": "scaler",
        "init": "init",
    }
    return {p: getattr(args, a) for a, p in names.items() if getattr(args, a, None) is not None}


def register(subparsers) -> None:
    """No extra commands: encode and reconstruct are generic (aekit/cli/main.py)."""
