"""Warnings that fire (issue 33): overfitting, a code as wide as its input, a collapsed VAE judged by
its reconstructions, a series flagged over most of its steps; each recorded in metrics.json."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.recipes import DataSpec, train_run
from aekit.recipes.quality import alarms_everywhere, identity_code, overfitting, vae_alike


def test_the_checks_fire_and_stay_quiet():
    steady = [{"train_loss": 0.1 - i * 0.001, "val_loss": 0.12 - i * 0.001} for i in range(6)]
    assert overfitting(steady) is None
    assert "8.0x the training loss" in overfitting([{"train_loss": 0.0027, "val_loss": 0.0216}] * 2)
    rising = steady + [{"train_loss": 0.09, "val_loss": 0.16}]
    assert "rose from its best" in overfitting(rising)
    assert "--latent-dim below 9" in identity_code(64, 9) and identity_code(8, 9) is None
    assert "collapsed" in vae_alike(0.02, 2.6, 1e-3) and vae_alike(0.6, 0.1, 1e-3) is None
    assert "80% of the recording" in alarms_everywhere(0.8) and alarms_everywhere(0.1) is None


def test_an_identity_code_gets_its_warning(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "t.npy", rng.normal(size=(120, 9)).astype(np.float32))
    _, metrics = train_run(
        "basic", {"latent_dim": 12, "epochs": 1, "device": "cpu"},
        DataSpec(data=str(tmp_path / "t.npy")), tmp_path / "r", figures=False,
    )  # fmt: skip
    assert any("as wide as or wider than the input (9 features)" in w for w in metrics["warnings"])


def test_an_overfitting_run_gets_its_warning(tmp_path):
    # 40 rows of noise and a wide decoder: it learns the 32 training rows by heart, nothing else
    rng = np.random.default_rng(0)
    np.save(tmp_path / "t.npy", rng.random((40, 24)).astype(np.float32))
    params = {"latent_dim": 4, "hidden": (256,), "epochs": 400, "batch_size": 8, "device": "cpu"}
    _, metrics = train_run(
        "stacked", params, DataSpec(data=str(tmp_path / "t.npy")), tmp_path / "r", figures=False
    )
    assert any("overfitting" in w for w in metrics["warnings"]), metrics["warnings"]


def textures(n_per=40, size=32, seed=0):
    """Small grayscale texture patches: gratings, checks and smoothed noise of several scales
    (n_per patches of each, in [0, 1]). Made here whatever is installed: scikit-image's photographed
    textures, tried when installed, made the default VAE collapse in 60 passes (it warns, rightly),
    so the test's outcome hung on an optional package."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:128] / 128
    walk = np.cumsum(np.cumsum(rng.standard_normal((128, 128)), 0), 1)
    sources = [
        0.5 + 0.4 * np.sin(2 * np.pi * 10 * xx),
        0.5 + 0.4 * np.sin(2 * np.pi * (6 * xx + 6 * yy)),
        ((np.floor(xx * 8) + np.floor(yy * 8)) % 2) * 0.8 + 0.1,
        (walk - walk.min()) / np.ptp(walk),
    ]
    patches = []
    for src in sources:
        for _ in range(n_per):
            y, x = rng.integers(0, src.shape[0] - size), rng.integers(0, src.shape[1] - size)
            patches.append(src[y : y + size, x : x + size])
    return np.stack(patches)[:, None].astype(np.float32)


@pytest.fixture(scope="module")
def texture_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tex") / "textures.npy"
    np.save(path, textures())
    return path


def test_the_vae_defaults_reconstruct_textures_that_differ(texture_file, tmp_path):
    est, metrics = train_run(
        "vae",
        {"epochs": 60, "device": "cpu"},
        DataSpec(data=str(texture_file)),
        tmp_path / "r",
        figures=False,
    )  # fmt: skip  (the defaults, shortened: 60 passes over 128 images)
    x = np.load(texture_file)[:64]
    rec = est.reconstruct(x).reshape(64, -1)
    assert rec.std(0).mean() > 0.25 * x.reshape(64, -1).std(0).mean()  # inputs come back different
    assert not any("collapsed" in w for w in metrics["warnings"])


def test_a_collapsed_vae_gets_the_warning(texture_file, tmp_path):
    _, metrics = train_run(
        "vae", {"latent_dim": 1, "beta": 1000.0, "epochs": 5, "device": "cpu"},
        DataSpec(data=str(texture_file)), tmp_path / "r", figures=False,
    )  # fmt: skip
    assert any("VAE collapsed" in w for w in metrics["warnings"]), metrics["warnings"]


@pytest.mark.parametrize("family", ["basic", "vae"])
def test_a_code_of_one_number_trains_with_its_figures(family, texture_file, tmp_path):
    """The latent map needs two numbers a code: with one the run still ends with its other figures
    (the trial's collapsed VAE, latent_dim 1, failed at the map after training)."""
    est, _ = train_run(
        family, {"latent_dim": 1, "epochs": 1, "device": "cpu"},
        DataSpec(data=str(texture_file)), tmp_path / "r",
    )  # fmt: skip
    figures = {p.name for p in (tmp_path / "r" / "figures").iterdir()}
    assert "latent_map.png" not in figures and "loss.png" in figures


def test_the_alarms_warning_advises_only_what_was_not_given(tmp_path):
    """Probe 56 advice #8: a detector trained with --train-steps and --threshold percentile --q 99
    was told to use both; its cause was a channel held constant while training."""
    import pandas as pd

    from aekit.estimators.thresholds import get_threshold

    rng = np.random.default_rng(0)
    t = np.arange(2000)
    v = np.sin(t / 10) + rng.normal(scale=0.05, size=2000)
    held = np.r_[np.zeros(1000), rng.normal(size=1000)]
    pd.DataFrame({"v": v, "c": held}).to_csv(tmp_path / "held.csv", index=False)
    pd.DataFrame({"v": np.r_[v[:1000], 3 * v[1000:]]}).to_csv(tmp_path / "amp.csv", index=False)
    given = {"threshold": "percentile", "q": 99.0}
    found = {}
    for name in ("held", "amp"):
        spec = DataSpec(data=str(tmp_path / f"{name}.csv"), train_steps=900)
        _, metrics = train_run("series", given, spec, tmp_path / name, figures=False)
        found[name] = [w for w in metrics["warnings"] if "flags" in w]
    assert "channel c held one value" in found["held"][0], found
    assert found["amp"][0].endswith("raise the threshold (--threshold max)"), found
    for text in (*found["held"], *found["amp"]):
        assert "--train-steps" not in text and "--q 99" not in text, text
    whole = alarms_everywhere(0.8, get_threshold("max", margin=1.5))
    assert "--train-steps N" in whole and whole.endswith("(--margin 3)")
