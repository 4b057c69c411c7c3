"""Say when a result is bad: each check fires on a bad result and stays quiet on a good one; runs record them."""

from __future__ import annotations

import json

import numpy as np

from aekit.recipes import DataSpec, train_run
from aekit.recipes.quality import (
    denoised_worse,
    identity_code,
    lr_too_high,
    never_improved,
    no_better_than_mean,
    overfitting,
    sample_spread,
    vae_alike,
    vae_collapsed,
)


def test_never_improved():
    flat = [{"val_loss": v} for v in (1.0, 1.1, 1.0, 1.3)]
    assert "never improved" in never_improved(
        flat, 1e-3
    ) and "--lr (e.g. 0.0001)" in never_improved(flat, 1e-3)
    assert never_improved([{"val_loss": v} for v in (1.0, 0.9, 1.2)], 1e-3) is None
    assert never_improved([{"val_loss": None}] * 5, 1e-3) is None  # no validation: nothing to say
    assert never_improved(flat[:2], 1e-3) is None  # too short to tell


def test_no_better_than_mean_and_denoised_worse():
    change = ["let aekit scale the data (--scaler auto)"]
    assert "no better than predicting" in no_better_than_mean(52679.6, 0.1, change)
    assert "--scaler auto" in no_better_than_mean(52679.6, 0.1, change)
    assert "--scaler" not in no_better_than_mean(52679.6, 0.1)  # nothing of the run's to change
    assert no_better_than_mean(0.05, 1.0) is None
    assert "worse than the noisy input" in denoised_worse(13.3, 16.2)
    assert denoised_worse(21.0, 16.2) is None


def test_a_run_of_the_users_own_network_is_not_advised_the_built_in_networks_options():
    over = [{"train_loss": 0.01, "val_loss": 0.02}, {"train_loss": 0.002, "val_loss": 0.03}]
    advice = [
        no_better_than_mean(1.2, 1.0, own=True),
        denoised_worse(13.3, 16.2, own=True),
        overfitting(over, own=True),
        identity_code(784, 784, own=True),
        vae_alike(0.05, 2.6, 1e-3, own=True),
    ]
    for text in advice:
        assert "--encoder-args" in text, text
        assert not any(o in text for o in ("--latent-dim", "--hidden", "--channels")), text
    assert "--latent-dim" in identity_code(784, 784) and "--channels" in denoised_worse(13.3, 16.2)


def test_a_far_too_high_learning_rate_is_the_advice_not_training_longer(tmp_path):
    """Probe 51 ae 8: --lr 50 on [0, 1] images (a sigmoid output bounds the loss: no divergence)
    ended with "train longer (--epochs), or raise --latent-dim"."""
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((60, 1, 6, 6)).astype(np.float32))
    _, metrics = train_run(
        "basic",
        {"epochs": 2, "lr": 50.0, "latent_dim": 2, "threads": 1},
        DataSpec(data=str(tmp_path / "x.npy")),
        tmp_path / "run",
        figures=False,
    )
    useless = [w for w in metrics["warnings"] if "no better than predicting" in w]
    assert useless and "lower the learning rate (--lr 50 is far above" in useless[0], metrics
    assert "train longer" not in useless[0]
    rose = [{"train_loss": 0.1}, {"train_loss": 0.3}]
    assert "try --lr 0.0001" in denoised_worse(13.3, 16.2, lr_fix=lr_too_high(rose, 1e-3))
    assert lr_too_high(rose[::-1], 1e-3) is None


def test_vae_collapsed_needs_kl_near_zero_and_alike_samples():
    data = np.random.default_rng(0).random((100, 1, 8, 8))
    alike = np.repeat(data[:1], 64, 0) + 1e-3
    assert sample_spread(alike, data) < 0.01 and sample_spread(data, data) == 1.0
    assert "collapsed" in vae_collapsed(0.01, sample_spread(alike, data), 1e-4)
    assert "--lr 1e-3" in vae_collapsed(0.01, 0.0, 1e-4)
    assert vae_collapsed(0.01, 0.9, 1e-3) is None and vae_collapsed(5.0, 0.0, 1e-3) is None


def test_train_run_records_and_the_cli_prints_the_warnings(tmp_path, capsys):
    from aekit.cli.main import main

    rng = np.random.default_rng(0)
    low_rank = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(
        size=(300, 6)
    )
    # values around 150, 2 directions
    np.save(tmp_path / "t.npy", (150 + 50 * low_rank).astype(np.float32))
    # a sigmoid output cannot reach values near 100: the reconstruction is useless, and the run says so
    code = main(
        [
            "train",
            "basic",
            "--data",
            str(tmp_path / "t.npy"),
            "--scaler",
            "none",
            "--output-activation",
            "sigmoid",
            "--epochs",
            "1",
            "--latent-dim",
            "2",
            "--no-figures",
            "--quiet",
            "--out",
            str(tmp_path / "bad"),
        ]
    )
    assert code == 0
    warnings = json.loads((tmp_path / "bad" / "metrics.json").read_text())["warnings"]
    assert len(warnings) == 1 and "no better than predicting" in warnings[0]
    assert "aekit: warning: val_mse" in capsys.readouterr().err
    # the defaults (scaled, a linear output) but 2,000 steps: brief (tests/estimators/test_defaults_new_data.py
    # trains with every default)
    _, metrics = train_run(
        "basic",
        {"latent_dim": 4, "epochs": 250, "device": "cpu"},
        DataSpec(data=str(tmp_path / "t.npy")),
        tmp_path / "good",
        figures=False,
    )
    # standardised: 1.0 = the mean's error
    assert metrics["warnings"] == [] and metrics["val_mse"] < 0.5


def test_an_untrained_denoiser_is_worse_than_its_input(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "im.npy", rng.random((40, 1, 8, 8)).astype(np.float32) * 0.2 + 0.7)
    _, metrics = train_run(
        "denoise",
        # one epoch at a rate that changes nothing: untrained (train_run refuses --epochs 0)
        {"epochs": 1, "lr": 1e-30, "device": "cpu"},
        DataSpec(data=str(tmp_path / "im.npy")),
        tmp_path / "den",
        figures=False,
    )
    assert any("worse than the noisy input" in w for w in metrics["warnings"])


def test_the_mean_warning_suggests_only_settings_not_in_use():
    """[0, 1] images under the default --scaler auto (left unscaled) were told to use --scaler auto."""
    from types import SimpleNamespace

    from aekit.recipes.autoencoder import _changes

    unscaled = SimpleNamespace(kind="none")
    auto = SimpleNamespace(scaler_=unscaled, scaler="auto", output_activation="auto")
    assert _changes(auto) == []
    chosen = SimpleNamespace(scaler_=unscaled, scaler="none", output_activation="sigmoid")
    assert [c.split("(")[1] for c in _changes(chosen)] == [
        "--scaler auto)",
        "--output-activation auto)",
    ]


def test_a_code_at_the_inputs_width_is_not_advised_to_widen(tmp_path):
    """Probe 56 advice #6: a code of 5 or 6 numbers for 6 features was told "raise --latent-dim", and
    the run at 6 was told that and "use --latent-dim below 6" at once."""
    assert no_better_than_mean(1.3, 0.9, room=False).endswith("train longer (--epochs)")
    assert no_better_than_mean(1.3, 0.9).endswith("or raise --latent-dim")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(300, 6)).astype(np.float32))
    for latent in (5, 6, 12):
        _, metrics = train_run(
            "basic",
            {"epochs": 2, "latent_dim": latent, "threads": 1},
            DataSpec(data=str(tmp_path / "x.npy")),
            tmp_path / f"run{latent}",
            figures=False,
        )
        useless = [w for w in metrics["warnings"] if "no better than predicting" in w]
        assert useless and "raise --latent-dim" not in useless[0], metrics["warnings"]


def test_a_training_loss_that_rose_with_the_validation_loss_is_unstable_not_overfitting():
    """Probe 56 advice #7: at --lr 20 both losses rose 500-fold from the best epoch, and the warning
    said "while the training loss fell (overfitting); use a smaller model"."""
    losses = [(366.9, 20.5), (15.06, 6.98), (1954.0, 4606.0), (6063.9, 7667.0), (8276.7, 8269.2)]
    history = [{"train_loss": t, "val_loss": v} for t, v in losses]
    found = overfitting(history, lr=20.0)
    assert "unstable, not overfitting" in found and "--lr 20: try 0.001" in found, found
    assert "smaller model" not in found and "fell" not in found
    fell = [{"train_loss": t / (i + 1), "val_loss": v} for i, (t, v) in enumerate(losses)]
    fell[1]["train_loss"] = 1e5  # the training loss at the best epoch above the last one's
    assert "(overfitting)" in overfitting(fell, lr=20.0)


def test_a_code_wider_than_the_input_is_not_called_as_wide():
    """probe 61 degenerate #4: --latent-dim 1000 on 5 features was "as wide as" the input."""
    assert "is as wide as or wider than the input (5 features)" in identity_code(1000, 5)
    assert "is as wide as the input (5 features)" in identity_code(5, 5)


def test_a_detector_trained_on_one_row_records_a_warning(tmp_path):
    """probe 61 degenerate #5: one training row gave threshold 0 and anomaly_rate 1, and
    metrics.json said "warnings": [] (only a note on stderr)."""
    np.save(tmp_path / "r2.npy", np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32))
    spec = DataSpec(data=str(tmp_path / "r2.npy"))
    _, metrics = train_run(
        "anomaly", {"epochs": 1, "device": "cpu", "threads": 1}, spec, tmp_path / "r", figures=False
    )
    assert any("the one training row's own score" in w for w in metrics["warnings"]), metrics
    saved = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert saved["warnings"] == metrics["warnings"]
    _, metrics = train_run(
        "anomaly", {"epochs": 1, "device": "cpu", "threads": 1, "threshold": 1.0}, spec,
        tmp_path / "f", figures=False,
    )  # fmt: skip
    assert not any("training row" in w for w in metrics["warnings"]), metrics
