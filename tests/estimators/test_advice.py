"""A fit that ends in a useless model says so in Python, as `aekit train` does on the command line
(stop 61's left item: the Python API gave no warning where the CLI warned)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import aekit
from aekit.errors import QualityWarning
from aekit.estimators.advice import findings


def _rows(n: int = 60, d: int = 5) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)


def test_a_code_as_wide_as_the_input_warns_at_the_callers_fit_with_the_parameter():
    with pytest.warns(QualityWarning, match="as wide as or wider than the input") as said:
        aekit.Autoencoder(latent_dim=8, epochs=1, device="cpu").fit(_rows())
    assert len(said) == 1 and said[0].filename == __file__  # the user's line, not aekit's
    assert "use latent_dim below 5" in str(said[0].message) and "--" not in str(said[0].message)


def test_a_useful_fit_says_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error", QualityWarning)
        aekit.Autoencoder(latent_dim=2, epochs=2, device="cpu").fit(_rows())


class _Fitted:
    lr = 20.0
    history_ = [
        {"train_loss": 15.06, "val_loss": 6.98},
        {"train_loss": 8277.0, "val_loss": 8269.0},
    ]


def test_the_histories_findings_name_the_parameters_as_python_takes_them():
    unstable = findings(_Fitted())
    assert len(unstable) == 1 and "lower the learning rate (lr=20: try 0.001)" in unstable[0]
    flat = _Fitted()
    flat.lr, flat.history_ = 1e-3, [{"val_loss": v, "train_loss": 1.0} for v in (1.0, 1.2, 1.1)]
    assert findings(flat) == [
        "the validation loss never improved on epoch 1's 1 over 3 epochs; the model learned "
        "nothing that holds on held-out data: try a lower lr (e.g. 0.0001), or check the data"
    ]


class _Twice(aekit.Autoencoder):
    def fit(self, X, y=None, **kwargs):  # a fit that calls another: its own says it once
        aekit.Autoencoder(latent_dim=8, epochs=1, device="cpu").fit(X)
        return super().fit(X, y, **kwargs)


def test_a_fit_inside_a_fit_leaves_the_saying_to_the_outer_one():
    with pytest.warns(QualityWarning) as said:
        _Twice(latent_dim=8, epochs=1, device="cpu").fit(_rows())
    assert len(said) == 1


def test_a_run_says_its_warnings_once_in_its_own_words(tmp_path):
    from aekit.recipes.run import train_run
    from aekit.recipes.spec import DataSpec

    np.save(tmp_path / "rows.npy", _rows())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, metrics = train_run(
            "basic", {"latent_dim": 8, "epochs": 1, "device": "cpu"},
            DataSpec(data=str(tmp_path / "rows.npy")), tmp_path / "run", figures=False,
        )  # fmt: skip
    assert not [w for w in caught if issubclass(w.category, QualityWarning)]
    assert any("--latent-dim below 5" in w for w in metrics["warnings"]), metrics["warnings"]


def test_a_pipeline_or_fit_transform_warns_at_the_users_line():
    """review 1 F6: the warning pointed into scikit-learn's or aekit's code for fit_transform, a
    Pipeline and a search, not at the line that called them."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for fit in (
        lambda: aekit.Autoencoder(latent_dim=8, epochs=1, device="cpu").fit_transform(_rows()),
        lambda: make_pipeline(
            StandardScaler(), aekit.Autoencoder(latent_dim=8, epochs=1, device="cpu")
        ).fit(_rows()),
    ):
        with pytest.warns(QualityWarning) as said:
            fit()
        assert [w.filename for w in said] == [__file__]


def test_a_detectors_validation_data_may_hold_anomalies_without_a_warning():
    """review 1 F3: anomalies in an AnomalyDetector's validation_data (which its docstring allows)
    made their high loss read as "overfitting, use a smaller model"."""
    normal = _rows(200, 5)
    odd = normal[:40] * 30  # anomalies, far from every normal row
    with warnings.catch_warnings():
        warnings.simplefilter("error", QualityWarning)
        aekit.AnomalyDetector(epochs=6, patience=None, members=1, device="cpu", seed=0).fit(
            normal, validation_data=odd
        )
    overfit = _Fitted()
    overfit.lr, overfit.history_ = (
        1e-3,
        [
            {"train_loss": 0.2, "val_loss": 0.3},
            {"train_loss": 0.05, "val_loss": 0.4},
        ],
    )
    assert findings(overfit) and not findings(overfit, judged=False)


def test_one_feature_is_not_told_a_code_below_one():
    with pytest.warns(QualityWarning, match="one feature leaves nothing to compress") as said:
        aekit.Autoencoder(latent_dim=2, epochs=1, device="cpu").fit(_rows(60, 1))
    assert "below 1" not in str(said[0].message)
