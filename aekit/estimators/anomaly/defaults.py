"""The anomaly detector's data-driven defaults: the network's size from the data, and named presets.

The defaults of :class:`aekit.AnomalyDetector` must hold on any table or set of signals, so
what depends on the data is worked out from it at ``fit``:

* the network (``hidden="auto"``, ``latent_dim="auto"``): :func:`dense_size` below;
* how long to train (``epochs="auto"``): a budget of optimizer steps, :func:`training_steps`
  (see :mod:`aekit.training.budget`), which early stopping on a held-out part of the normal rows
  may cut short;
* the ensemble (``members="auto"``): ``AnomalyDetector.auto_members`` dense networks.

:data:`PRESETS` keeps other complete settings by name: ``recipe`` is the TensorFlow ECG5000
tutorial (but for its min-max, learned here on the normal beats the detector is given, there on
the whole training split: scores about 5% apart, the same accuracy), ``robust`` its earlier
tuned variant. Use them as ``AnomalyDetector.from_preset("recipe")`` or
``aekit train anomaly --preset recipe``.
"""

from __future__ import annotations

import math
from typing import Any


def _pow2(x: float) -> int:
    """The power of two nearest to ``x`` (in log scale)."""
    return 2 ** max(0, round(math.log2(max(1.0, x))))


def dense_size(n_features: int) -> tuple[tuple[int, ...], int]:
    """``(hidden, latent_dim)`` of the default dense network for ``n_features`` inputs.

    Two hidden layers, then the code. The first width is the power of two nearest half the
    inputs, between 32 and 256 (wide enough for short tables, bounded for long signals so a step
    stays cheap); the second is half of it; the code is the power of two nearest half the square
    root of the inputs, between 2 and 16: a narrow bottleneck keeps the main directions of
    variation of normal data and not the rest, so what is unusual is reconstructed badly (wider
    codes and layers scored lower: ``docs/guide/anomaly.md``).

    Examples
    --------
    >>> dense_size(140)      # ECG5000 heartbeats
    ((64, 32), 8)
    >>> dense_size(30)       # scikit-learn's breast cancer table
    ((32, 16), 2)
    """
    n = max(1, int(n_features))
    first = min(256, max(32, _pow2(n / 2)))
    latent = min(16, max(2, _pow2(math.sqrt(n) / 2)))
    return (first, max(latent, first // 2)), latent


STEPS_SCALE = 10_000  # training_steps: the budget is this / sqrt(rows), clipped


def training_steps(n_rows: int, least: int, most: int) -> int:
    """Optimizer steps of ``epochs="auto"``: ``STEPS_SCALE / sqrt(n_rows)``, between ``least`` and ``most``.

    Fewer rows, more passes: tiny data needs hundreds of passes to be learned at all (the
    tutorial's 20 epochs of batch 512 gave 69 rows 20 steps), while a long training on large data
    teaches the network to reconstruct the anomalies too. A hundred rows or fewer get ``most``
    (1,000 for the detector), 4,444 or more ``least`` (150): at batch 32 that is 320 passes over
    100 rows, 3.6 over 2,000 and one over 4,800 (against flat budgets: ``docs/guide/anomaly.md``).

    Examples
    --------
    >>> training_steps(69, 150, 1000), training_steps(2110, 150, 1000), training_steps(60_000, 150, 1000)
    (1000, 218, 150)
    """
    return int(min(most, max(least, round(STEPS_SCALE / math.sqrt(max(1, n_rows))))))


#: Complete settings by name (every parameter that differs from the defaults, so that a preset
#: means the same whatever the defaults become).
PRESETS: dict[str, dict[str, Any]] = {
    # TensorFlow's ECG5000 tutorial: global min-max, 140-32-16-8-16-32-140 with a sigmoid output,
    # MAE, 20 epochs of batch 512, no hold-out, threshold mean + 1 std of the training errors.
    "recipe": {
        "hidden": (32, 16),
        "latent_dim": 8,
        "members": 1,
        "scaler": "minmax",
        "error": "mae",
        "density": 0.0,
        "input_density": 0.0,
        "loss": "mae",
        "threshold": "mean_std",
        "k": 1.0,
        "epochs": 20,
        "batch_size": 512,
        "validation_fraction": 0.0,
        "patience": None,
    },
    # The recipe widened and trained longer, scored by MSE, threshold the 95th percentile of the training errors.
    "robust": {
        "hidden": (64, 32),
        "latent_dim": 16,
        "members": 1,
        "scaler": "minmax",
        "error": "mse",
        "density": 0.0,
        "input_density": 0.0,
        "loss": "mae",
        "threshold": "percentile",
        "q": 95.0,
        "epochs": 100,
        "batch_size": 64,
        "validation_fraction": 0.0,
        "patience": None,
    },
}
