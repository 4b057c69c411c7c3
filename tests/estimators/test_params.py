"""The parameter tables (aekit/estimators/params.py): one per estimator, read by check_params and the CLI."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys

import numpy as np
import pytest

import aekit
from aekit.errors import UsageError
from aekit.estimators import params as P

ESTIMATORS = [
    aekit.Autoencoder,
    aekit.Denoiser,
    aekit.AnomalyDetector,
    aekit.VAE,
    aekit.SeriesDetector,
    aekit.ImageAnomalyDetector,
]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_each_table_declares_exactly_the_estimators_parameters(cls):
    assert set(cls.parameters) == set(inspect.signature(cls.__init__).parameters) - {"self"}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_default_passes_its_own_table(cls):
    cls().check_params()


def test_the_named_choices_agree_with_what_implements_them():
    from aekit.estimators.anomaly.scores import ERRORS
    from aekit.estimators.preprocessing import SCALERS
    from aekit.estimators.series.windows import AGGREGATES
    from aekit.estimators.thresholds import STRATEGIES
    from aekit.models.activations import ACTIVATIONS
    from aekit.models.init import INITS
    from aekit.models.vae import KL_ESTIMATES, LIKELIHOODS
    from aekit.training.loop import PRECISIONS

    assert set(P.ACTIVATIONS) == set(ACTIVATIONS)
    assert set(P.INITS) == set(INITS)
    assert set(P.SCALERS) == set(SCALERS)
    assert set(P.PRECISIONS) == set(PRECISIONS)
    assert set(P.THRESHOLDS) | {"fixed", "max"} == set(STRATEGIES)
    assert set(P.choices(P.ANOMALY_DETECTOR, "error")) == set(ERRORS)
    assert set(P.choices(P.SERIES_DETECTOR, "aggregate")) == {"auto", *AGGREGATES}
    assert set(P.choices(P.VAE, "likelihood")) == set(LIKELIHOODS)
    assert set(P.choices(P.VAE, "kl")) == set(KL_ESTIMATES)


def _documented(cls):
    """(name, choices in braces, default text) of each parameter line of ``cls``'s docstring."""
    for m in re.finditer(r"^(\w+) : (\{[^}]*\})?.*?(?:default (.*))?$", inspect.getdoc(cls), re.M):
        if m.group(1) in cls.parameters:
            yield m.groups()


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_the_docstrings_list_the_choices_and_defaults_the_tables_take(cls):
    """Probe 56 docs 8: help(aekit.Autoencoder) left out scaler "robust" and init "he", which it
    takes, and showed VAE's free_bits default as a constant's name."""
    defaults = inspect.signature(cls.__init__).parameters
    for name, braces, default in _documented(cls):
        taken = set(P.choices(cls.parameters, name))
        if braces and taken:
            listed = {o for o in ast.literal_eval(f"[{braces[1:-1]}]") if isinstance(o, str)}
            assert listed == taken, (name, listed, taken)
        if default is not None:
            value = ast.literal_eval(default)
            value = tuple(value) if isinstance(value, list) else value
            assert value == defaults[name].default, name


@pytest.mark.parametrize(
    "cls, name, value, message",
    [
        (
            aekit.Autoencoder,
            "latent_dim",
            0,
            "latent_dim must be a whole number >= 1 or 'auto', got 0",
        ),
        (aekit.Autoencoder, "latent_dim", True, "whole number"),
        (aekit.AnomalyDetector, "latent_dim", "big", "a whole number >= 1 or 'auto'"),
        (aekit.AnomalyDetector, "scaler", "zscore", "one of minmax, standard, robust"),
        (aekit.AnomalyDetector, "validation_fraction", 0.5, "a number in [0, 0.5)"),
        (aekit.AnomalyDetector, "density", float("nan"), "a number >= 0"),
        (aekit.AnomalyDetector, "threshold", "fixed", "threshold='fixed' needs a value"),
        (aekit.AnomalyDetector, "members", 3, None),  # allowed alone: with conv1d below
        (aekit.SeriesDetector, "threshold", "median", "one of max, fpr, pot, mean_std"),
        (aekit.SeriesDetector, "margin", 0, "margin must be a number > 0"),
        (aekit.VAE, "channels", (8,), "2 layer widths"),
        (aekit.Denoiser, "noise", 3, "a noise spec"),
        (aekit.Denoiser, "noise", "gaussian:-1", "gaussian"),
        (aekit.Autoencoder, "verbose", 3, "verbose must be"),
        (aekit.Autoencoder, "seed", -1, "seed must be a whole number in [0,"),
    ],
)
def test_a_bad_value_is_one_line_naming_what_would_do(cls, name, value, message):
    est = cls(**{name: value})
    if message is None:
        est.check_params()
        return
    with pytest.raises(UsageError, match=re.escape(message)) as info:
        est.check_params()
    assert "\n" not in str(info.value)


def test_combinations_the_table_cannot_say():
    with pytest.raises(UsageError, match="needs architecture='dense'"):
        aekit.AnomalyDetector(members=3, architecture="conv1d").check_params()


def test_the_tables_import_no_torch():
    code = (
        "import sys, aekit.estimators.params; print('torch' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_cli_offers_the_tables_choices(capsys):
    from aekit.cli.main import main

    with pytest.raises(SystemExit):
        main(["train", "anomaly", "--help"])
    text = capsys.readouterr().out
    assert "{" + ",".join(P.INITS) + "}" in text
    assert "{" + ",".join(P.SCALERS) + "}" in text


def test_a_seed_beyond_32_bits_is_refused_for_training_and_a_saved_one_still_loads(tmp_path):
    """Probe 52 rep 3: torch keeps 32 bits of a seed: seed=2**40 trained the model of seed=0."""
    import aekit
    from aekit.errors import UsageError

    X = np.random.default_rng(0).random((30, 4), dtype=np.float32)
    with pytest.raises(UsageError, match="seed must be below 2..32 to train.*as seed 0"):
        aekit.Autoencoder(epochs=1, seed=2**40).fit(X)
    ae = aekit.Autoencoder(epochs=1, seed=3).fit(X)
    ae.seed = 2**40  # a run saved before the limit: loaded as it is
    ae.save(tmp_path / "m")
    assert aekit.load(tmp_path / "m").seed == 2**40
