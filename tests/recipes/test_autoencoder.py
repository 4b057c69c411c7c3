"""The basic and stacked autoencoder recipes (aekit.recipes.autoencoder)."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.recipes import DataSpec, train_run
from aekit.recipes.autoencoder import mean_baseline


def test_the_mean_baseline_is_the_training_mean_or_no_check_for_one_row():
    """probe 61 degenerate #3: the baseline was one held-out row's variance around itself, 0, so
    every run with one held-out row "reconstructed nothing"."""
    one = np.array([[0.5, -2.0]])
    assert mean_baseline("standard", one) == pytest.approx((0.25 + 4.0) / 2)
    assert np.isnan(mean_baseline("robust", one)) and np.isnan(mean_baseline("none", one))
    assert mean_baseline("robust", np.array([[0.0], [2.0]])) == pytest.approx(1.0)


@pytest.mark.parametrize("scaler", ["auto", "standard"])
def test_one_held_out_row_is_not_called_no_better_than_the_mean(tmp_path, scaler):
    """probe 61 degenerate #3: a rank-1 table of 5 rows (one held out), reconstructed to 3e-4."""
    t = np.array([[1.0], [2.0], [4.0], [8.0], [16.0]]) * np.array([[1, 2, 3, -1, 0.5]])
    np.save(tmp_path / "r.npy", t.astype(np.float32))
    _, metrics = train_run(
        "basic", {"latent_dim": 1, "epochs": 300, "device": "cpu", "threads": 1, "scaler": scaler},
        DataSpec(data=str(tmp_path / "r.npy")), tmp_path / "r", figures=False,
    )  # fmt: skip
    assert not [w for w in metrics["warnings"] if "feature's mean" in w], metrics
