"""Say when a result is bad: checks of a finished run, each a one-line warning with a likely fix.

A run can finish without error and still be useless: a validation loss that never improved, a
reconstruction no better than predicting the mean, a denoiser whose output is worse than its noisy
input, a VAE whose posterior collapsed onto the prior (KL near 0, every sample alike). Recipes call
these from :meth:`aekit.recipes.base.Recipe.quality_warnings`; ``train_run`` records the warnings in
``metrics.json`` (``"warnings"``) and ``aekit train`` prints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# nats per image: a posterior this close to the prior carries almost nothing of x
KL_COLLAPSED = 0.5
SPREAD_COLLAPSED = 0.25  # samples' per-pixel spread over the data's: below this they all look alike


def never_improved(history: Sequence[dict], lr: Any) -> str | None:
    """The validation loss of every epoch after the first is no better than the first's.

    Examples
    --------
    >>> never_improved([{"val_loss": 1.0}, {"val_loss": 1.2}, {"val_loss": 1.1}], 1e-3) is not None
    True
    """
    vals = [r.get("val_loss") for r in history]
    vals = [float(v) for v in vals if v is not None]
    if len(vals) < 3 or min(vals[1:]) < vals[0]:
        return None
    lower = (
        f"a lower --lr (e.g. {float(lr) / 10:g})"
        if isinstance(lr, (int, float))
        else "a lower --lr"
    )
    return (
        f"the validation loss never improved on epoch 1's {vals[0]:.4g} over {len(vals)} epochs; "
        f"the model learned nothing that holds on held-out data: try {lower}, or check the data"
    )


def no_better_than_mean(val_mse: float, baseline: float, scaled: bool) -> str | None:
    """The held-out reconstruction error is no better than predicting every feature's mean.

    Examples
    --------
    >>> no_better_than_mean(1.2, 1.0, True) is not None, no_better_than_mean(0.1, 1.0, True)
    (True, None)
    """
    if not (np.isfinite(val_mse) and np.isfinite(baseline)) or val_mse < baseline:
        return None
    fix = (
        "train longer (--epochs), or raise --latent-dim"
        if scaled
        else "let aekit scale the data (--scaler auto) and pick the output (--output-activation auto), "
        "or train longer"
    )
    return (
        f"val_mse {val_mse:.4g} is no better than predicting each feature's mean ({baseline:.4g}): "
        f"the model reconstructs nothing; {fix}"
    )


def denoised_worse(val_psnr: float, noisy_psnr: float) -> str | None:
    """The denoised held-out images are further from the clean ones than the noisy inputs were.

    Examples
    --------
    >>> denoised_worse(13.3, 16.2) is not None
    True
    """
    if not (np.isfinite(val_psnr) and np.isfinite(noisy_psnr)) or val_psnr > noisy_psnr:
        return None
    return (
        f"the denoised images are worse than the noisy input (val_psnr {val_psnr:.1f} dB <= noisy_psnr "
        f"{noisy_psnr:.1f} dB): train longer (--epochs), or widen the model (--channels 32,16)"
    )


def sample_spread(samples: np.ndarray, data: np.ndarray) -> float:
    """How much samples differ from each other, relative to the data: mean per-value std of each, as a ratio.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((50, 4))
    >>> round(sample_spread(np.repeat(x[:1], 8, 0), x), 3)
    0.0
    """
    s = np.asarray(samples, np.float64).reshape(len(samples), -1)
    d = np.asarray(data, np.float64).reshape(len(data), -1)
    return float(s.std(0).mean() / max(d.std(0).mean(), 1e-12))


def vae_collapsed(kl: float, spread: float, lr: Any) -> str | None:
    """The VAE's posterior fell onto the prior: KL near 0 and the samples all alike.

    Examples
    --------
    >>> vae_collapsed(0.01, 0.02, 1e-4) is not None, vae_collapsed(6.0, 0.8, 1e-3)
    (True, None)
    """
    if not (kl < KL_COLLAPSED and spread < SPREAD_COLLAPSED):
        return None
    faster = (
        "" if not isinstance(lr, (int, float)) or lr >= 1e-3 else f" (--lr 1e-3 rather than {lr:g})"
    )
    return (
        f"the VAE collapsed: KL {kl:.3g} nats and samples alike (spread {spread:.2f} of the data's); "
        f"raise the learning rate{faster}, train longer (--epochs), or lower --beta"
    )
