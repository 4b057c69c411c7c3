"""``AnomalyDetector.compare``: its figures are scikit-learn's, run directly on the same scaled rows."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from aekit.errors import DataError
from aekit.estimators.anomaly import AnomalyDetector, baselines
from aekit.estimators.anomaly.baselines import Comparison, sample_rows

torch.set_num_threads(1)
WIDTH = 16


def table(n_normal: int, n_anomalous: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows near a 2-D plane in 16 features; anomalies off it. y: 1 = anomaly."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(99).normal(size=(2, WIDTH))
    x = rng.normal(size=(n_normal + n_anomalous, 2)) @ basis
    x += rng.normal(0, 0.1, x.shape)
    x[n_normal:] += rng.normal(0, 1.0, (n_anomalous, WIDTH))
    return x.astype(np.float32), np.r_[np.zeros(n_normal), np.ones(n_anomalous)].astype(np.int64)


@pytest.fixture(scope="module")
def fitted():
    x_train, _ = table(300, 0, seed=0)
    det = AnomalyDetector(epochs=3, members=1, density=0.0, seed=3, device="cpu").fit(x_train)
    return det, x_train


@pytest.fixture(scope="module")
def labelled():
    return table(120, 30, seed=1)


def direct(det, x_train, x, y) -> dict[str, tuple[float, float]]:
    """Each method's (ROC-AUC, PR-AUC) from scikit-learn called here, on the detector's scaled rows."""
    train, rows = det.scaler_.transform(x_train), det.scaler_.transform(x)
    scores = {
        "aekit": det.decision_function(x),
        "kNN distance (k=5)": NearestNeighbors(n_neighbors=5).fit(train).kneighbors(rows)[0][:, 4],
        "IsolationForest": -IsolationForest(random_state=det.seed).fit(train).score_samples(rows),
        "LOF (novelty)": -LocalOutlierFactor(novelty=True).fit(train).score_samples(rows),
    }
    return {k: (roc_auc_score(y, s), average_precision_score(y, s)) for k, s in scores.items()}


def figures(comparison: Comparison) -> dict[str, tuple[float, float]]:
    return {r["method"]: (r["roc_auc"], r["pr_auc"]) for r in comparison.rows}


def test_figures_are_scikit_learns_on_the_same_rows(fitted, labelled):
    det, x_train = fitted
    x, y = labelled
    comparison = det.compare(x, y, X_train=x_train)
    assert figures(comparison) == direct(
        det, x_train, x, y
    )  # exactly: the same calls, the same rows
    assert [r["method"] for r in comparison.rows][0] == "aekit"
    assert (comparison.n_train, comparison.n_rows, comparison.n_anomalies) == (300, 150, 30)
    assert "sample" not in comparison.caption()
    text = str(comparison)
    assert "IsolationForest" in text and "ROC-AUC" in text and "150 labelled rows" in text


def test_scaled_rows_not_raw_ones(fitted, labelled):
    """The baselines see the detector's scaled numbers: one feature 1000 times wider changes the raw
    kNN distance's figures, not theirs (a per-feature robust scaler undoes it)."""
    _, x_train = fitted
    x, y = labelled
    wide = np.ones(WIDTH, np.float32)
    wide[0] = 1000.0
    knn = "kNN distance (k=5)"
    ours = [
        figures(
            AnomalyDetector(epochs=1, members=1, density=0.0, scaler="robust", device="cpu")
            .fit(x_train * w)
            .compare(x * w, y, X_train=x_train * w)
        )[knn]
        for w in (1.0, wide)
    ]
    raw = NearestNeighbors(n_neighbors=5).fit(x_train * wide).kneighbors(x * wide)[0][:, 4]
    assert ours[1] == pytest.approx(ours[0], abs=1e-3)
    assert roc_auc_score(y, raw) < ours[1][0] - 0.05


def test_large_data_is_a_seeded_sample_for_every_method(fitted, labelled, monkeypatch):
    det, x_train = fitted
    x, y = labelled
    monkeypatch.setattr(baselines, "MAX_TRAIN_ROWS", 100)
    monkeypatch.setattr(baselines, "MAX_ROWS", 60)
    comparison = det.compare(x, y, X_train=x_train)
    fit_rows = sample_rows(len(x_train), 100, det.seed)
    rows = sample_rows(len(x), 60, det.seed, y)
    assert len(fit_rows) == 100 and len(rows) == 60 and y[rows].sum() == 12  # stratified: 1 in 5
    assert figures(comparison) == direct(det, x_train[fit_rows], x[rows], y[rows])
    assert (comparison.n_train, comparison.n_train_total) == (100, 300)
    assert (comparison.n_rows, comparison.n_rows_total) == (60, 150)
    assert "100 normal training rows (a seeded sample of 300)" in comparison.caption()
    assert "60 labelled rows (a seeded sample of 150)" in comparison.caption()
    assert figures(det.compare(x, y, X_train=x_train)) == figures(comparison)  # seeded


def test_sparse_rows_score_as_dense(fitted, labelled):
    det, x_train = fitted
    x, y = labelled
    dense = figures(det.compare(x, y, X_train=x_train))
    assert figures(det.compare(sp.csr_matrix(x), y, X_train=sp.csr_matrix(x_train))) == dense


def rows_of(aekit: float, knn: float, forest: float = 0.5, lof: float = 0.5) -> Comparison:
    rows = [
        {"method": m, "roc_auc": r, "pr_auc": 0.5, "seconds": 0.0}
        for m, r in zip(["aekit", *baselines.BASELINES], [aekit, knn, forest, lof])
    ]
    return Comparison(rows, 10, 10, 10, 10, 3, seed=7)


def test_hint_only_when_a_baseline_is_clearly_better():
    assert rows_of(0.88, 0.90).hint() is None  # within 0.02: no hint
    hint = rows_of(0.88, 0.93).hint()
    assert hint.startswith("kNN distance (k=5) beats aekit here (ROC-AUC 0.930 vs 0.880)")
    assert "NearestNeighbors(n_neighbors=5)" in hint
    hint = rows_of(0.80, 0.83, forest=0.9).hint()  # the best baseline is named, with its seed
    assert "IsolationForest beats aekit" in hint and "IsolationForest(random_state=7)" in hint
    assert rows_of(0.95, 0.99).table().splitlines()[-1] == rows_of(0.95, 0.99).hint()
    assert rows_of(0.95, 0.96).table().splitlines()[-1].startswith("LOF (novelty)")
    assert rows_of(0.95, 0.99).to_dict()["hint"] == rows_of(0.95, 0.99).hint()


@pytest.mark.parametrize(
    "y, needle",
    [
        (np.zeros(150), "all normal rows"),
        (np.ones(150), "all anomalies"),
        (np.zeros(149), "y has 149 labels but X has 150"),
        (np.full(150, 2), "0 (normal) and 1 (anomaly)"),
    ],
)
def test_bad_labels_one_line(fitted, labelled, y, needle):
    det, x_train = fitted
    x, _ = labelled
    with pytest.raises(DataError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        det.compare(x, y, X_train=x_train)


def test_training_rows_of_another_shape_one_line(fitted, labelled):
    det, x_train = fitted
    x, y = labelled
    with pytest.raises(DataError, match="has 15 features"):
        det.compare(x, y, X_train=x_train[:, 1:])


def test_one_training_row_one_line(fitted, labelled):
    det, x_train = fitted
    x, y = labelled
    with pytest.raises(DataError, match="at least 2 normal training rows"):
        det.compare(x, y, X_train=x_train[:1])
