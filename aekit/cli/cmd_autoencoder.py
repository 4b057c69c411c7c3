"""``aekit train basic`` and ``aekit train stacked``: dense autoencoders."""

from __future__ import annotations

import argparse
from typing import Any

from ..estimators import params as P
from .options import add_table_options
from .types import int_list

TABLE = P.AUTOENCODER  # the estimator's parameters: the options' choices come from it


def _options(p: argparse.ArgumentParser) -> None:
    add_table_options(p)
    g = p.add_argument_group("model")
    g.add_argument(
        "--hidden",
        type=int_list,
        metavar="W1,W2",
        help="encoder widths before the code; the decoder mirrors them (none: one layer each way)",
    )
    g.add_argument("--activation", choices=P.choices(TABLE, "activation"), help="hidden activation")
    g.add_argument(
        "--output-activation",
        choices=P.choices(TABLE, "output_activation") + ("auto",),
        help="reconstruction activation; auto: sigmoid for (scaled) data in [0, 1], else linear",
    )
    g.add_argument(
        "--scaler",
        choices=P.choices(TABLE, "scaler"),
        help="input scaling saved with the model; auto: none for data in "
        "[0, 1], per-feature standardisation for tables, global min-max for other images",
    )
    g.add_argument("--init", choices=P.choices(TABLE, "init"), help="weight initialisation")


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
