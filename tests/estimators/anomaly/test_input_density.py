"""The input density of the anomaly detector's score: the scaled row's LOF among the normal rows."""

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor

from aekit import AnomalyDetector


def _sines(n, seed=0):
    t = np.linspace(0, 2 * np.pi, 32, dtype=np.float32)
    rng = np.random.default_rng(seed)
    return np.sin(t + rng.uniform(0, 6, (n, 1))).astype(np.float32)


def test_the_score_is_the_code_score_times_the_rows_lof_factor():
    X = _sines(400)
    det = AnomalyDetector(epochs=3, device="cpu").fit(X)
    given = det.input_density_
    assert given is not None and given.gamma > 0 and given.k == 20
    # the reference is the training rows as scaled (those not held out), not their codes
    plan = det._plan_rows(len(X), own_validation=False)
    scaled = det.scaler_.transform(X[plan.fit])
    np.testing.assert_allclose(given.codes.numpy(), scaled, rtol=1e-6)
    x = np.r_[X[:5], _sines(3, seed=1) * 1.5]
    xs = torch.as_tensor(det.scaler_.transform(x))
    lof = LocalOutlierFactor(n_neighbors=given.k, novelty=True).fit(scaled)
    np.testing.assert_allclose(given.lof(xs).numpy(), -lof.score_samples(xs.numpy()), rtol=2e-3)
    factor = torch.exp(given.gamma * (torch.log(given.lof(xs)) - given.median_log_lof)).numpy()
    np.testing.assert_allclose(
        det.decision_function(x), det._scores(x, terms=("code",)) * factor, rtol=1e-4
    )
    plain = AnomalyDetector(epochs=3, input_density=0, device="cpu").fit(X)
    assert plain.input_density_ is None and plain.code_density_ is not None
    np.testing.assert_array_equal(plain.decision_function(x), plain._scores(x, terms=("code",)))


def test_a_row_in_a_sparse_part_of_the_input_scores_higher():
    """Normal rows: two tight groups on a line in 16 dimensions; the rows between them lie on the same
    line, which the network reconstructs as well as the groups (better: they are near the mean), but
    no normal row lies there. Without a density term they score lowest of all."""
    rng = np.random.default_rng(0)
    v = rng.normal(size=16) / 4

    def rows(t):
        return (t[:, None] * v + rng.normal(0, 0.05, (len(t), 16))).astype(np.float32)

    def groups(n):
        return np.r_[rng.normal(-2, 0.2, n), rng.normal(2, 0.2, n)]

    X, test = rows(groups(300)), np.r_[rows(groups(20)), rows(rng.uniform(-0.5, 0.5, 40))]
    y = np.r_[np.zeros(40), np.ones(40)]
    aucs = [
        roc_auc_score(
            y,
            AnomalyDetector(epochs=3, density=0, input_density=w, device="cpu")
            .fit(X)
            .decision_function(test),
        )
        for w in (0.0, 0.25)
    ]
    assert aucs[0] < 0.2 and aucs[1] > 0.9, aucs


def test_no_input_density_on_tiny_data_nor_in_the_presets():
    from aekit.estimators.anomaly.density import MIN_REFERENCE_ROWS

    X = _sines(MIN_REFERENCE_ROWS - 1)
    assert (
        AnomalyDetector(epochs=1, validation_fraction=0, device="cpu").fit(X).input_density_ is None
    )
    for name in ("recipe", "robust"):
        assert AnomalyDetector.from_preset(name).input_density == 0.0
