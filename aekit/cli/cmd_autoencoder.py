"""``aekit train basic`` and ``aekit train stacked``: dense autoencoders."""

from __future__ import annotations

import argparse
from typing import Any

from .types import int_list


def _options(p: argparse.ArgumentParser, default_hidden: str) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--hidden", type=int_list, metavar="W1,W2", help=f"encoder widths before the code; the "
                                                                   f"decoder mirrors them (default {default_hidden})")
    g.add_argument("--activation", help="hidden activation (default relu)")
    g.add_argument("--output-activation", help="reconstruction activation (default sigmoid; linear for "
                                               "data outside [0, 1])")
    g.add_argument("--init", choices=("glorot", "torch"), help="weight initialisation (default glorot)")


TRAIN_OPTIONS = {
    "basic": lambda p: _options(p, "none: the classic recipe"),
    "stacked": lambda p: _options(p, "256,128"),
}
HELP = {"basic": "dense autoencoder: images or rows to a latent vector (Fashion-MNIST recipe)",
        "stacked": "stacked dense autoencoder with symmetric hidden layers"}


def train_params(family: str, args: argparse.Namespace) -> dict[str, Any]:
    names = {"hidden": "hidden", "activation": "activation", "output_activation": "output_activation",
             "init": "init"}
    return {p: getattr(args, a) for a, p in names.items() if getattr(args, a, None) is not None}


def register(subparsers) -> None:
    """No extra commands: encode and reconstruct are generic (aekit/cli/main.py)."""
