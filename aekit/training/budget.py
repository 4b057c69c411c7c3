"""How long to train: a budget of optimizer steps instead of a number of passes over the data.

A fixed number of epochs trains small data far too little (69 rows at batch 512 is one step an
epoch: 20 epochs are 20 steps) and large data needlessly long. A budget of steps does not depend on
the data's size: ``epochs_for_steps`` turns it into whole epochs for the data at hand, bounded
below (every sample is seen) and above (large data is not over-trained). Estimators accept
``epochs="auto"`` for this; early stopping on a held-out part then ends training when the
validation loss stops improving, and the best epoch's weights are kept.
"""

from __future__ import annotations

import math

import numpy as np

AUTO = "auto"


def epochs_for_steps(
    n_samples: int,
    batch_size: int,
    steps: int,
    *,
    min_epochs: int = 1,
    max_epochs: int | None = None,
    passes: int = 1,
) -> int:
    """Whole epochs (of ``passes`` passes each) that give at least ``steps`` optimizer steps on ``n_samples``.

    Examples
    --------
    >>> epochs_for_steps(69, 32, 1000)          # 3 steps an epoch
    334
    >>> epochs_for_steps(60_000, 32, 1000, max_epochs=50)
    1
    """
    per_epoch = max(1, math.ceil(n_samples / max(1, batch_size))) * max(1, passes)
    epochs = max(min_epochs, math.ceil(steps / per_epoch))
    return epochs if max_epochs is None else max(1, min(epochs, max_epochs))


def passes_for_steps(n_samples: int, batch_size: int, steps: int) -> int:
    """Passes over the data an epoch must hold to give at least ``steps`` optimizer steps.

    Tiny data has epochs of one step, and the work done once an epoch (validation, the history,
    keeping the best weights) then costs more than the training itself; packing several passes
    into one epoch amortises it.

    Examples
    --------
    >>> passes_for_steps(9, 64, 20)             # one step a pass
    20
    >>> passes_for_steps(2_000, 64, 20)         # 32 steps a pass
    1
    """
    per_pass = max(1, math.ceil(n_samples / max(1, batch_size)))
    return max(1, math.ceil(steps / per_pass))


def holdout_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, held-out) row numbers, each sorted; the held-out part has at least one row.

    Examples
    --------
    >>> train, val = holdout_indices(10, 0.2, 0)
    >>> len(train), len(val)
    (8, 2)
    """
    n_val = min(n - 1, max(1, round(n * fraction)))
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
