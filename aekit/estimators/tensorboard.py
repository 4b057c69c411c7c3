"""What an estimator shows in TensorBoard: the plain functions that :class:`aekit.training.tensorboard.TensorBoardLog`
calls (the training layer knows nothing of estimators).

* images: for image data, the held-out samples over the model's outputs (reconstructions; for the
  Denoiser the noisy inputs over the denoised images; the VAE adds samples from the prior);
* embedding: the model's code of the held-out samples (the VAE's posterior means, the Denoiser's
  flattened code maps), with the images for the projector's sprite;
* the learning rate of the schedule at each step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..training.loop import TrainConfig, lr_at

IMAGES_SHOWN = 8  # held-out images drawn each time (one row of originals, one of outputs)


def _first(data: Any, n: int, device: torch.device) -> torch.Tensor:
    """The first ``n`` samples of a device tensor or a row store, as a tensor on ``device``."""
    if isinstance(data, torch.Tensor):
        return data[:n]
    return torch.from_numpy(data.rows(0, min(n, len(data)))).to(device)


def _code(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    z = model.encode(x)
    z = z[0] if isinstance(z, tuple) else z  # the VAE's (mean, logvar): the posterior mean
    return z.flatten(1)  # (n, ...) -> (n, k): the Denoiser's code maps flattened


def reconstructions(model: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Originals over outputs (images only), for the Autoencoder, the Denoiser and the detector."""
    out = model(x)
    if x.dim() != 4 or not isinstance(out, torch.Tensor) or out.shape != x.shape:
        return {}
    return {
        "reconstructions": torch.cat([x, out])
    }  # 2n images: the first row originals, the second outputs


def views(
    est: Any, model: torch.nn.Module, inputs: Any, val: Any, config: TrainConfig
) -> dict[str, Any]:
    """``TensorBoardLog.bind`` arguments for ``est`` training ``model`` on ``inputs`` (held-out: ``val``)."""
    device = next(model.parameters()).device
    shown, shown_targets = (val[0], val[1]) if val is not None else (inputs, inputs)
    draw = getattr(est, "_tensorboard_images", None) or reconstructions

    def run(fn):
        was = model.training
        model.eval()
        try:
            with torch.inference_mode():
                return fn()
        finally:
            model.train(was)

    def images() -> dict[str, np.ndarray]:
        x = _first(shown, IMAGES_SHOWN, device).float().contiguous()
        return {k: v.float().cpu().numpy() for k, v in run(lambda: draw(model, x)).items()}

    def embedding(n: int) -> tuple[np.ndarray, np.ndarray | None]:
        x = _first(shown, n, device).float().contiguous()
        z = run(lambda: torch.cat([_code(model, x[i : i + 1024]) for i in range(0, len(x), 1024)]))
        target = _first(shown_targets, n, device)
        return z.float().cpu().numpy(), target.float().cpu().numpy() if target.dim() == 4 else None

    return {
        "images": images,
        "embedding": embedding,
        "lr": lambda step, total: lr_at(config, step, total),
    }
