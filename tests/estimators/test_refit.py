"""aekit.estimators.refit: a fit that fails or is stopped leaves the estimator as it was."""

from __future__ import annotations

import numpy as np
import pytest

import aekit

RNG = np.random.default_rng(0)


class Stop:
    """A callback that stops the fit at its first epoch (Ctrl-C in a notebook, a callback's error)."""

    def __init__(self, error: type[BaseException]):
        self.error = error

    def on_epoch_start(self, *args, **kwargs):
        raise self.error("stopped")


FAMILIES = [
    lambda: aekit.Autoencoder(latent_dim=2, epochs=2, threads=1),
    lambda: aekit.AnomalyDetector(epochs=2, threads=1),
    lambda: aekit.SeriesDetector(method="reconstruction", window=8, epochs=2, threads=1),
]


@pytest.mark.parametrize("make", FAMILIES)
@pytest.mark.parametrize("error", [KeyboardInterrupt, ValueError])
def test_a_stopped_refit_leaves_the_fitted_model_as_it_was(make, error):
    """Notebook probe #1: a refit stopped after it had set the new data's scaler and width kept the
    old model and threshold beside them: new rows scored by that mixture without a word."""
    est = make()
    X = RNG.normal(size=(200, 6)).astype(np.float32)
    est.fit(X)
    before = est.score_samples(X[:20]) if hasattr(est, "score_samples") else est.transform(X[:20])
    attrs = dict(vars(est))
    wider = RNG.normal(loc=50.0, scale=9.0, size=(200, 9)).astype(np.float32)
    with pytest.raises(error):
        est.fit(wider, callbacks=[Stop(error)])
    assert vars(est).keys() == attrs.keys() and all(vars(est)[k] is v for k, v in attrs.items())
    after = est.score_samples(X[:20]) if hasattr(est, "score_samples") else est.transform(X[:20])
    np.testing.assert_array_equal(after, before)


def test_a_stopped_first_fit_leaves_an_unfitted_estimator():
    est = aekit.Autoencoder(latent_dim=2, epochs=2, threads=1)
    with pytest.raises(KeyboardInterrupt):
        est.fit(RNG.normal(size=(50, 4)).astype(np.float32), callbacks=[Stop(KeyboardInterrupt)])
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
