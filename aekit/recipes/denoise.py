"""The denoising recipe (TensorFlow's "Intro to Autoencoders"): Fashion-MNIST, Gaussian noise 0.2,
a (16, 8) conv autoencoder, Adam 1e-3, batch 32, 10 epochs, MSE.

The default ``epochs="auto"`` gives Fashion-MNIST the recipe's 10 epochs and a few hundred photos up
to 100; ``--preset recipe`` pins the 10 epochs.

Metrics: ``val_mse``, ``val_psnr`` and ``noisy_psnr`` on the held-out images, noised once with
a fixed seed. Figures: ``denoised.png`` (noisy / denoised / clean for 10 held-out images) and
``loss.png``. A folder of the user's own images (grayscale or RGB, any size) trains the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import plots
from ..data import Data
from ..errors import UsageError
from ..estimators.base import as_images
from .base import Recipe, figure_indices, refuse_outside_unit_range, split_filled


class DenoiseRecipe(Recipe):
    """``aekit train denoise``.

    Examples
    --------
    >>> from aekit.recipes import DataSpec, train_run
    >>> spec = DataSpec(dataset="fashion-mnist")
    >>> est, metrics = train_run("denoise", {"epochs": 10}, spec, "runs/denoise")  # doctest: +SKIP
    """

    name = "denoise"
    takes_tables = False
    estimator = "Denoiser"
    default_dataset = "fashion-mnist"
    defaults: dict[
        str, Any
    ] = {}  # the Denoiser's defaults: the recipe's on Fashion-MNIST ("recipe" pins them)
    # "fast": the recipe's quality (val_mse <= 0.0071) in less time. A wider first layer (32 instead
    # of 16 channels; the 8x7x7 code is unchanged) learns more per epoch, and a one-cycle schedule at
    # 2e-3 ends the run in 5 epochs (docs/guide/denoise.md has the figures).
    presets = {
        "recipe": {"epochs": 10, "patience": None},
        "fast": {"channels": (32, 8), "lr": 2e-3, "schedule": "onecycle", "epochs": 5},
    }

    def build(self, params: dict[str, Any]):
        if "latent_dim" in params:  # the code of a conv model is a feature map, sized by --channels
            raise UsageError(
                "denoise has no --latent-dim; set the conv widths with --channels, e.g. --channels 16,8"
            )
        return super().build(params)

    def load_data(self, spec, seed: int) -> tuple[Data, Data]:
        """As every recipe, but a folder of images of mixed sizes trains on their central crops of
        one size (the model is convolutional: it then takes any size), in memory or streamed."""
        if spec.data is not None:
            data = self.require_images(spec.read_user(crop_mixed=True), spec.data)
            return split_filled(data, spec, seed)
        return super().load_data(spec, seed)

    def check_fit_data(self, est, train: Data) -> None:
        if est.output_activation == "sigmoid":  # the command has no option for another output
            refuse_outside_unit_range(train, "a sigmoid output", None)
        super().check_fit_data(est, train)

    def evaluate(self, est, data: Data) -> dict[str, Any]:
        return est.evaluate(data.x)

    def figures(self, est, data: Data, folder: Path) -> list[Path]:
        clean = as_images(data.x[figure_indices(data, 10, est.seed)])  # (n, H, W) -> (n, 1, H, W)
        noisy = est.add_noise(clean, seed=0)
        return [
            plots.plot_image_rows(
                [noisy, est.transform(noisy), clean],
                folder / "denoised.png",
                row_titles=["noisy", "denoised", "clean"],
                title=f"held-out images, noise {est.noise_.spec}",
                overwrite=True,
            ),
            plots.plot_history(
                est.history_,
                folder / "loss.png",
                ylabel="MSE to the clean images",
                title="denoising autoencoder: training",
                overwrite=True,
            ),
        ]

    def quality_warnings(self, est, metrics: dict[str, Any], data: Data) -> list[str]:
        from .quality import denoised_worse, lr_too_high, own_network

        found = denoised_worse(
            metrics.get("val_psnr", float("nan")),
            metrics.get("noisy_psnr", float("nan")),
            own_network(est),
            lr_too_high(est.history_, est.lr),
        )
        return super().quality_warnings(est, metrics, data) + ([found] if found else [])


RECIPE = DenoiseRecipe()
