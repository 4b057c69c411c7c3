"""The VAE recipe (TensorFlow's "Convolutional Variational Autoencoder"): binarized MNIST, latent 2.

The tutorial: latent 2, batch 32, Adam lr 1e-4, 10 epochs, Bernoulli decoder on MNIST thresholded
at 0.5; ``--preset recipe`` pins it. The defaults differ where the tutorial fails on small image
sets: Adam 1e-3 with a one-cycle schedule, and ``epochs="auto"`` (10 epochs on MNIST, up to 100 on a
few thousand images), since at 1e-4 and 10 epochs a small image set can collapse to one grey
image (docs/guide/vae.md).
``--dataset mnist`` is binarized too when the likelihood is Bernoulli (the recipe's data;
``--likelihood gaussian`` keeps the gray levels). The preset ``strong`` (latent 32, lr 1e-3
one-cycle, batch 128, 30 epochs) fits far better.

``metrics.json``: ``test_elbo`` (nats per image, higher is better; analytic KL), ``test_reconstruction``
(-E_q log p(x|z)), ``test_kl``, ``test_nll_iw`` (-log p(x), importance-weighted with ``k`` = 100
samples on the first ``n_iw`` = 1000 test images, which bounds its time on a CPU; see
docs/guide/vae.md).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..data import Data
from ..training.trainer import Trainer
from .base import Recipe, class_names, figure_indices, refuse_outside_unit_range

IW_SAMPLES = 100  # k of the importance-weighted log-likelihood
IW_IMAGES = 1000  # test images it is computed on (recorded as n_iw)
MANIFOLD_SIDE = 20  # the 2-D manifold figure is MANIFOLD_SIDE x MANIFOLD_SIDE decoded images


def binarize_for(est, data: Data) -> Data:
    """MNIST for a Bernoulli VAE is the recipe's binarized MNIST (pixels > 0.5 -> 1, else 0).

    Examples
    --------
    >>> binarize_for(aekit.VAE(), load_builtin("mnist", "test")).source      # doctest: +SKIP
    'binarized-mnist:test'
    """
    if est.likelihood == "bernoulli" and data.source.split(":")[0] == "mnist":
        return replace(data, x=(data.x > 0.5).astype(np.float32), source="binarized-" + data.source)
    return data


def _two_classes(data: Data) -> tuple[int, int]:
    """Indices of two test images to interpolate between: the first two of different labels."""
    if data.y is not None:
        for j in range(1, len(data)):
            if data.y[j] != data.y[0]:
                return 0, j
    return 0, min(1, len(data) - 1)


def manifold_latents(side: int = MANIFOLD_SIDE) -> np.ndarray:
    """A side x side grid of z over the prior's quantiles 0.05..0.95, row-major, z2 decreasing down.

    Examples
    --------
    >>> manifold_latents(20).shape
    (400, 2)
    """
    import torch

    q = (
        torch.distributions.Normal(0.0, 1.0)
        .icdf(torch.linspace(0.05, 0.95, side, dtype=torch.float64))
        .numpy()
    )
    z1, z2 = np.meshgrid(q, q[::-1])  # (side, side) each: columns vary z1, rows z2
    return np.stack([z1.ravel(), z2.ravel()], 1).astype(np.float32)  # (side*side, 2)


def training_objective(est) -> str:
    """What ``history_``'s ``train_loss`` is, for ``loss.png``'s legend: the -ELBO only with
    ``free_bits=0``, ``beta=1`` and ``iw_samples=1``. With the default free bits it sat
    ``0.5 * latent_dim`` nats above the validation -ELBO on the same images, which read as a gap.

    Examples
    --------
    >>> training_objective(aekit.VAE())       # doctest: +SKIP
    'training objective (free bits 0.5 nats/dim)'
    """
    samples, beta, free = int(est.iw_samples), float(est.beta), float(est.free_bits)
    terms = [f"-IW bound, K={samples}"] if samples > 1 else []
    if samples == 1 and free > 0:  # the IW bound has no KL term to keep free bits in
        terms.append(f"free bits {free:g} nats/dim")
    if beta != 1:
        terms.append(f"beta {beta:g}")
    return f"training objective ({', '.join(terms)})" if terms else "training -ELBO"


class VAERecipe(Recipe):
    """``aekit train vae``: fit, metrics (ELBO parts, importance-weighted NLL) and figures.

    Examples
    --------
    >>> est, metrics = train_run("vae", {}, DataSpec(), "runs/vae")        # doctest: +SKIP
    """

    name = "vae"
    takes_tables = False
    estimator = "VAE"
    default_dataset = "binarized-mnist"
    defaults: dict[
        str, Any
    ] = {}  # the estimator's defaults; the tutorial's exact settings are the "recipe" preset
    presets = {
        "recipe": {
            "free_bits": 0.0,
            "lr": 1e-4,
            "schedule": "constant",
            "epochs": 10,
            "batch_size": 32,
            "patience": None,
        },
        "strong": {
            "latent_dim": 32,
            "lr": 1e-3,
            "batch_size": 128,
            "epochs": 30,
            "schedule": "onecycle",
        },
    }

    def fit(self, est, train: Data, val: Data, trainer: Trainer):
        return est.fit(
            binarize_for(est, train).x, validation_data=binarize_for(est, val).x, trainer=trainer
        )

    def check_fit_data(self, est, train: Data) -> None:
        if est.likelihood == "bernoulli":
            refuse_outside_unit_range(train, "a Bernoulli likelihood", "--likelihood gaussian")
        super().check_fit_data(est, train)

    def evaluate(self, est, data: Data) -> dict[str, Any]:
        return est.evaluate(binarize_for(est, data).x, k=IW_SAMPLES, n_iw=IW_IMAGES)

    def figures(self, est, data: Data, folder: Path) -> list[Path]:
        data = binarize_for(est, data)
        x = data.x[figure_indices(data, 10, est.seed)]
        written = [
            plots.plot_image_grid(
                est.sample(64), folder / "samples.png", title="samples z ~ N(0, I)", overwrite=True
            ),
            plots.plot_image_rows(
                [x, est.reconstruct(x)],
                folder / "reconstructions.png",
                row_titles=["original", "reconstructed"],
                title="held-out images",
                overwrite=True,
            ),
            plots.plot_history(
                est.history_,
                folder / "loss.png",
                ylabel="nats per image",
                labels={"train_loss": training_objective(est), "val_loss": "validation -ELBO"},
                title="VAE: training",
                overwrite=True,
            ),
        ]
        if len(data) >= 2:
            i, j = _two_classes(data)
            written.append(
                plots.plot_strip(
                    est.interpolate(data.x[i], data.x[j], steps=10),
                    folder / "interpolation.png",
                    title=f"test image {i} -> {j}",
                    overwrite=True,
                )
            )
        if math.prod(est.latent_shape_) == 2:
            z = manifold_latents()
            written.append(
                plots.plot_manifold(
                    est.inverse_transform(z),
                    z[:MANIFOLD_SIDE, 0],
                    z[::MANIFOLD_SIDE, 1],
                    folder / "manifold.png",
                    title="decoded prior quantiles",
                    overwrite=True,
                )
            )
        if len(data) >= 3 and math.prod(est.latent_shape_) >= 2:  # a code of one number has no map
            n = min(len(data), 10000)
            title = "test posterior means" + ("" if math.prod(est.latent_shape_) == 2 else " (PCA)")
            written.append(
                plots.plot_latent_map(
                    est.transform(data.x[:n]),
                    None if data.y is None else data.y[:n],
                    folder / "latent_map.png",
                    class_names=class_names(data),
                    title=title,
                    overwrite=True,
                )
            )
        return written

    def quality_warnings(self, est, metrics: dict[str, Any], data: Data) -> list[str]:
        from .quality import (
            own_network,
            reconstruction_spread,
            sample_spread,
            unscaled_data,
            vae_alike,
            vae_collapsed,
        )

        x = binarize_for(est, data).x
        kl = metrics.get("test_kl", float("nan"))
        shown = x[figure_indices(data, 256, est.seed)]  # what the user sees: reconstructions
        spread = reconstruction_spread(est.reconstruct(shown), shown)
        fix = unscaled_data(x, est.likelihood)  # the cause, whatever beta or the code's width
        found = vae_alike(spread, kl, est.lr, own_network(est), fix)
        if found is None and kl < 1.0:  # only then are samples worth drawing
            found = vae_collapsed(kl, sample_spread(est.sample(64), x), est.lr, fix)
        return super().quality_warnings(est, metrics, data) + ([found] if found else [])


RECIPE = VAERecipe()
