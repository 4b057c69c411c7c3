"""AnomalyDetector: synthetic sines vs spikes, thresholds without retraining, save/load, batching, the defaults."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import DataError, NotFittedError, UsageError
from aekit.estimators.anomaly import AnomalyDetector, anomaly_metrics, score_table
from aekit.estimators.preprocessing import Scaler

torch.set_num_threads(1)
LENGTH = 48


def sines(n: int, seed: int = 0) -> np.ndarray:
    """Normal samples: sines with random phase and amplitude, a little noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, LENGTH)
    phase, amp = rng.uniform(0, 2 * np.pi, (n, 1)), rng.uniform(0.8, 1.2, (n, 1))
    # (n, LENGTH)
    return (amp * np.sin(t + phase) + rng.normal(0, 0.05, (n, LENGTH))).astype(np.float32)


def spikes(n: int, seed: int = 1) -> np.ndarray:
    """Anomalies: sines with a few large spikes."""
    rng = np.random.default_rng(seed)
    x = sines(n, seed)
    for row in x:
        row[rng.choice(LENGTH, 3, replace=False)] += rng.choice([-1, 1], 3) * rng.uniform(
            1.5, 2.5, 3
        )
    return x


@pytest.fixture(scope="module")
def fitted() -> AnomalyDetector:
    # The tutorial's settings (global min-max, mean + 1 std): the figures below are checked by formula.
    return AnomalyDetector.from_preset("recipe", epochs=40, batch_size=32, device="cpu").fit(
        sines(600), validation_data=sines(100, 5)
    )


@pytest.fixture(scope="module")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([sines(200, 7), spikes(100)])
    return x, np.r_[np.zeros(200, np.int64), np.ones(100, np.int64)]


def test_the_recipe_preset_is_the_ecg_tutorial():
    p = AnomalyDetector.from_preset("recipe").get_params()
    assert (
        p["hidden"],
        p["latent_dim"],
        p["error"],
        p["loss"],
        p["epochs"],
        p["batch_size"],
        p["lr"],
        p["threshold"],
        p["k"],
        p["scaler"],
        p["init"],
        p["validation_fraction"],
        p["patience"],
    ) == ((32, 16), 8, "mae", "mae", 20, 512, 1e-3, "mean_std", 1.0, "minmax", "glorot", 0.0, None)
    # the same, spelled out
    assert AnomalyDetector(**AnomalyDetector.presets["recipe"]).get_params() == p
    assert AnomalyDetector.from_preset("recipe", epochs=3).epochs == 3
    with pytest.raises(UsageError):
        AnomalyDetector.from_preset("nope")


def test_fit_scores_and_predicts(fitted, test_set):
    x, y = test_set
    assert fitted.decision_scores_.shape == (600,)
    assert fitted.labels_.shape == (600,) and set(np.unique(fitted.labels_)) <= {0, 1}
    scores = fitted.decision_function(x)
    m = fitted.evaluate(x, y)
    assert m["roc_auc"] > 0.97, m
    assert m["accuracy"] > 0.85, m
    np.testing.assert_array_equal(fitted.predict(x), (scores > fitted.threshold_).astype(int))
    assert fitted.threshold_ == pytest.approx(
        fitted.decision_scores_.mean() + fitted.decision_scores_.std(), rel=1e-5
    )
    assert len(fitted.history_) == 40 and fitted.history_[-1]["val_loss"] is not None
    assert fitted.reconstruct(x[:4]).shape == (4, LENGTH)


def test_threshold_changes_without_retraining(fitted):
    det = AnomalyDetector(**fitted.get_params())
    det.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    weights = {k: v.clone() for k, v in det.model_.state_dict().items()}
    base = det.threshold_
    det.set_threshold("percentile", q=99)
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 99))
    assert det.get_params()["threshold"] == "percentile" and det.get_params()["q"] == 99
    # set_params works too (lazy threshold_)
    det.set_params(threshold="contamination", contamination=0.2)
    assert det.labels_.mean() == pytest.approx(0.2, abs=0.01)
    det.set_threshold("mad", k=4)
    det.set_threshold("fixed", value=0.123)
    assert det.threshold_ == 0.123 and det.get_params()["threshold"] == 0.123
    det.set_params(threshold="mean_std", k=1.0)
    assert det.threshold_ == base
    for k, v in det.model_.state_dict().items():
        assert torch.equal(v, weights[k])
    with pytest.raises(UsageError):
        det.set_threshold("percentile", q=101)
    assert det.threshold_ == base  # a refused change leaves the detector as it was


def test_fit_threshold_on_labelled_validation(fitted, test_set):
    x, y = test_set
    det = AnomalyDetector(**fitted.get_params())
    det.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    det.fit_threshold(x, y, metric="f1")
    assert isinstance(det.threshold, float) and det.threshold_fit_["metric"] == "f1"
    assert det.evaluate(x, y)["f1"] == pytest.approx(det.threshold_fit_["value"])
    assert det.evaluate(x, y)["f1"] >= fitted.evaluate(x, y)["f1"]
    with pytest.raises(UsageError):
        det.fit_threshold(x, y, metric="auc")


def test_save_load_round_trip(fitted, test_set, tmp_path):
    x, _ = test_set
    fitted.set_threshold("percentile", q=97.5)
    try:
        fitted.save(tmp_path / "m")
        loaded = aekit.load(tmp_path / "m", device="cpu")
        assert isinstance(loaded, AnomalyDetector)
        np.testing.assert_array_equal(loaded.decision_function(x), fitted.decision_function(x))
        np.testing.assert_array_equal(loaded.decision_scores_, fitted.decision_scores_)
        assert loaded.threshold_ == fitted.threshold_
        assert loaded.scaler_.kind == "minmax" and loaded.scaler_.offset_ == fitted.scaler_.offset_
        loaded.set_threshold("mean_std", k=2)  # still adjustable after loading
        assert loaded.threshold_ > 0
    finally:
        fitted.set_params(threshold="mean_std", k=1.0)


def test_scoring_is_batched(fitted, test_set, monkeypatch):
    x, _ = test_set
    full = fitted.decision_function(x)
    seen = []
    forward = fitted.model_.forward
    monkeypatch.setattr(fitted.model_, "forward", lambda xb: (seen.append(len(xb)), forward(xb))[1])
    np.testing.assert_allclose(
        fitted.decision_function(x, batch_size=64), full, rtol=1e-5, atol=1e-7
    )
    assert max(seen) == 64 and sum(seen) == len(x)
    seen.clear()
    big = np.repeat(x, 30, axis=0)  # 9000 samples: more than one default inference batch
    fitted.decision_function(big)
    from aekit.estimators.base import INFERENCE_BATCH

    assert max(seen) == INFERENCE_BATCH and sum(seen) == len(big)


def test_standard_scaler_and_linear_output():
    x = sines(300) * 50 + 1000  # far outside [0, 1]
    det = AnomalyDetector(
        scaler="standard", error="mse", epochs=30, batch_size=32, device="cpu"
    ).fit(x)
    assert det._output_activation() == "linear"
    assert det.scaler_.offset_.shape == (LENGTH,)
    xa = spikes(100) * 50 + 1000
    y = np.r_[np.zeros(100), np.ones(100)]
    assert det.evaluate(np.concatenate([sines(100, 9) * 50 + 1000, xa]), y)["roc_auc"] > 0.95


def test_scaler_state():
    x = np.array([[0.0, 10.0], [5.0, -10.0]], np.float32)
    mm = Scaler("minmax").fit(x)
    assert float(mm.offset_) == -10 and float(mm.scale_) == 20  # the global min and max
    st = Scaler("standard").fit(np.array([[1.0, 3.0], [1.0, 5.0]], np.float32))
    # a constant feature is only centred
    np.testing.assert_allclose(st.transform([[1.0, 4.0]]), [[0.0, 0.0]])
    for s in (mm, st, Scaler("none").fit(x)):
        back = Scaler.from_state(s.get_state())
        np.testing.assert_array_equal(back.transform(x), s.transform(x))
        np.testing.assert_allclose(s.inverse_transform(s.transform(x)), x, atol=1e-5)
        np.testing.assert_allclose(
            s.torch_transform(torch.as_tensor(x)).numpy(), s.transform(x), atol=1e-6
        )
    with pytest.raises(UsageError):
        Scaler("zscore")


@pytest.mark.parametrize(
    "params",
    [
        {"scaler": "zscore"},
        {"error": "l1"},
        {"loss": "bce"},
        {"threshold": "median"},
        {"threshold": "fixed"},
        {"threshold": "percentile", "q": 150},
        {"threshold": "contamination", "contamination": 0},
        {"hidden": (0,)},
        {"latent_dim": 0},
        {"architecture": "lstm"},
        {"output_activation": "soft"},
        {"validation_fraction": 0.5},
        {"validation_fraction": -0.1},
        {"hidden": "big"},
        {"epochs": "long"},
        {"members": 0},
        {"members": 2, "architecture": "conv1d"},
        {"architecture": "conv2d"},  # rows, not images
    ],
)
def test_bad_parameters(params):
    with pytest.raises(UsageError) as info:
        AnomalyDetector(**params).fit(sines(20))
    assert "\n" not in str(info.value)


def test_not_fitted_and_wrong_shape(fitted):
    with pytest.raises(NotFittedError):
        AnomalyDetector().decision_function(sines(3))
    assert not hasattr(AnomalyDetector(), "threshold_")
    with pytest.raises(DataError):
        fitted.decision_function(np.zeros((3, LENGTH + 1), np.float32))


def test_feature_names_and_score_table():
    names = [f"v{i}" for i in range(LENGTH)]
    det = AnomalyDetector(epochs=1, batch_size=64, device="cpu").fit(sines(64), feature_names=names)
    assert list(det.feature_names_in_) == names
    text = score_table(det, sines(3), ids=np.array(["a", "b", "c"]))
    lines = text.splitlines()
    assert (
        lines[0] == "id,score,is_anomaly,p_value" and len(lines) == 4 and lines[1].startswith("a,")
    )
    p = np.array([float(line.split(",")[-1]) for line in lines[1:]])
    np.testing.assert_allclose(p, det.p_values(sines(3)), rtol=1e-5)
    with pytest.raises(DataError):
        AnomalyDetector(epochs=1).fit(sines(8), feature_names=["x"])


@pytest.mark.parametrize("sep", [",", "\t"])
def test_score_table_with_feature_errors_reads_back(sep):
    det = AnomalyDetector(epochs=1, batch_size=64, device="cpu").fit(sines(64))
    X, ids = sines(4), np.array(['a"1', f"b{sep}2", "c\n3", "d"])  # ids that must be quoted
    rows = list(
        csv.reader(io.StringIO(score_table(det, X, ids=ids, sep=sep, features=True)), delimiter=sep)
    )
    assert rows[0] == [
        "id",
        "score",
        "is_anomaly",
        "p_value",
        *[f"error_{i}" for i in range(LENGTH)],
    ]
    assert [r[0] for r in rows[1:]] == list(ids) and {len(r) for r in rows} == {3 + 1 + LENGTH}
    values = np.array([r[1:] for r in rows[1:]], float)
    np.testing.assert_allclose(values[:, 0], det.decision_function(X), rtol=1e-6)
    np.testing.assert_array_equal(values[:, 1], det.predict(X))
    np.testing.assert_allclose(values[:, 3:], det.feature_errors(X), rtol=1e-5)


def test_score_table_numbers_read_back_equal():
    """The feature errors (float32) in 9 digits and the p-values (float64) in repr: ``%.6g`` read
    back differed in the 6th digit (0.961938 for 0.96193772)."""
    det = AnomalyDetector(epochs=1, batch_size=64, device="cpu").fit(sines(64))
    X = sines(20, seed=1)
    rows = list(csv.reader(io.StringIO(score_table(det, X, features=True))))
    values = np.array(rows[1:], float)
    np.testing.assert_array_equal(values[:, 2], det.p_values(X))
    np.testing.assert_array_equal(values[:, 3:].astype(np.float32), det.feature_errors(X))


def test_anomaly_metrics_conventions():
    m = anomaly_metrics([0, 0, 0, 1, 1], [0.1, 0.2, 0.6, 0.7, 0.3], 0.5)
    assert m["confusion_matrix"] == [[2, 1], [1, 1]]
    assert m["precision"] == 0.5 and m["recall"] == 0.5
    assert m["precision_normal"] == pytest.approx(2 / 3) and m["recall_normal"] == pytest.approx(
        2 / 3
    )
    assert m["threshold"] == 0.5 and 0 <= m["roc_auc"] <= 1 and m["pr_auc"] is not None
    assert anomaly_metrics([0, 0], [0.1, 0.9], 0.5)["roc_auc"] is None


def test_anomaly_metrics_of_one_class_are_null_where_undefined():
    """Probe 61 labels #2: labels with no anomaly gave recall, f1 and precision 0 (read as every
    anomaly missed) with no word of why, where the mirror case's false_alarm_rate was null."""
    m = anomaly_metrics([0, 0, 0, 0], [0.1, 0.9, 0.2, 0.3], 0.5)
    assert m["precision"] is None and m["recall"] is None and m["f1"] is None
    assert m["false_alarm_rate"] == 0.25 and m["accuracy"] == 0.75 and m["recall_normal"] == 0.75
    assert "no sample is labelled anomalous (1)" in m["warnings"][0]
    m = anomaly_metrics([1, 1], [0.1, 0.9], 0.5)
    assert m["precision_normal"] is None and m["recall_normal"] is None and m["recall"] == 0.5
    assert "no sample is labelled normal (0)" in m["warnings"][0]
    assert "warnings" not in anomaly_metrics([0, 1], [0.1, 0.9], 0.5)


# ---- the data-driven defaults ---------------------------------------------------------------------


def test_robust_scaler_ignores_outliers_and_auto_shares_one_scale_for_a_signal():
    rng = np.random.default_rng(0)
    table = np.c_[
        rng.normal(10, 2, 400), rng.normal(0, 0.01, 400)
    ]  # columns of very different spread
    table[:5, 0] = 1e6  # a few wild rows
    s = Scaler("robust").fit(table)
    np.testing.assert_allclose(s.offset_, np.median(table, axis=0), rtol=1e-5)
    # IQR / 1.349 ~ the std of the clean rows
    np.testing.assert_allclose(s.scale_, [2.0, 0.01], rtol=0.15)
    # what the wild rows do to a standard deviation
    assert Scaler("standard").fit(table).scale_[0] > 1e4
    # mixed units: per column
    np.testing.assert_array_equal(Scaler("auto").fit(table).scale_, s.scale_)
    signal = sines(300)
    shared = Scaler("auto").fit(signal)
    # one scale for the whole curve
    assert shared.offset_.shape == (LENGTH,) and np.ptp(shared.scale_) == 0
    for kind in ("robust", "auto"):
        back = Scaler.from_state(Scaler(kind).fit(signal).get_state())
        np.testing.assert_array_equal(
            back.transform(signal), Scaler(kind).fit(signal).transform(signal)
        )


def test_auto_shares_one_scale_for_images_given_as_rows():
    """Pixels: a blank border (IQR 0), strokes that reach the full range wherever they fall.

    Their IQRs run from 0 to the whole range, but every pixel that varies does so over the same
    range: one shared scale (the median IQR of the pixels that vary in most rows), so a pixel that a
    stroke crosses once in a while is not blown up by its tiny standard deviation."""
    rng = np.random.default_rng(0)
    images = np.zeros((400, 8, 8), np.float32)
    images[:, 2:6, 2:6] = rng.uniform(0, 255, (400, 4, 4))  # the centre: varies in every image
    images[rng.random(400) < 0.03, 0, 3] = 255.0  # a stroke that reaches the border now and then
    rows = images.reshape(400, 64)
    s = Scaler("auto").fit(rows)
    assert np.ptp(s.scale_) == 0
    centre = images[:, 2:6, 2:6].reshape(400, -1)
    q1, q3 = np.percentile(centre, [25.0, 75.0], axis=0)
    assert s.scale_[0] == pytest.approx(np.median(q3 - q1) / 1.349, rel=1e-5)
    assert s.transform(rows)[:, 3].max() < 5  # per pixel the rare stroke came out near 6 stds
    assert np.ptp(Scaler("robust").fit(rows).scale_) > 0
    # a table whose columns differ in range stays per column
    table = np.c_[rng.normal(0, 1, 400), rng.normal(0, 1000, 400), np.zeros(400)]
    assert np.ptp(Scaler("auto").fit(table).scale_) > 0


def test_robust_scaler_from_chunks_matches_and_stays_bounded(monkeypatch):
    import aekit.estimators.preprocessing as pre

    x = np.random.default_rng(1).gamma(2.0, 1.0, (1000, 6)).astype(np.float32)
    exact = Scaler("robust").fit(x)
    chunked = Scaler("robust").fit_chunks(x[i : i + 128] for i in range(0, 1000, 128))
    np.testing.assert_array_equal(chunked.scale_, exact.scale_)  # below the sample limit: exact
    monkeypatch.setattr(pre, "ROBUST_SAMPLE_VALUES", 600)  # 100 rows of 6 values
    sampled = Scaler("robust").fit_chunks(x[i : i + 128] for i in range(0, 1000, 128))
    np.testing.assert_allclose(sampled.offset_, exact.offset_, rtol=0.2)
    np.testing.assert_allclose(sampled.scale_, exact.scale_, rtol=0.3)


def test_the_network_is_sized_from_the_data():
    from aekit.estimators.anomaly.defaults import dense_size

    assert dense_size(140) == ((64, 32), 8) and dense_size(30) == ((32, 16), 2)
    assert dense_size(5000) == ((256, 128), 16) and dense_size(1) == ((32, 16), 2)
    det = AnomalyDetector(epochs=1, device="cpu").fit(sines(64))
    assert (det.hidden_, det.latent_dim_) == dense_size(LENGTH)
    assert det.model_.encoder[-2].out_features == det.latent_dim_
    own = AnomalyDetector(hidden=(20,), latent_dim=3, epochs=1, device="cpu").fit(sines(64))
    assert (own.hidden_, own.latent_dim_) == ((20,), 3)


def test_the_threshold_comes_from_held_out_normal_rows():
    det = AnomalyDetector(epochs=30, threshold="percentile", device="cpu").fit(sines(300))
    # a tenth held out: half validates, half calibrates
    assert det.calibration_ == {"method": "split", "rows": 15} and len(det.decision_scores_) == 300
    assert det.threshold_ == pytest.approx(np.percentile(det.calibration_scores_, 95))
    # early stopping watches the validation rows
    assert all(r["val_loss"] is not None for r in det.history_)
    x = np.concatenate([sines(200, 7), spikes(100)])
    assert det.evaluate(x, np.r_[np.zeros(200), np.ones(100)])["roc_auc"] > 0.95
    none = AnomalyDetector(epochs=5, validation_fraction=0, threshold="percentile", device="cpu")
    none.fit(sines(100))
    assert none.calibration_["method"] == "training" and none.threshold_ == pytest.approx(
        np.percentile(none.decision_scores_, 95)
    )


def test_save_load_keeps_the_new_state(tmp_path):
    det = AnomalyDetector(epochs=5, device="cpu").fit(sines(200))
    det.save(tmp_path / "m")
    back = aekit.load(tmp_path / "m", device="cpu")
    assert back.hidden == "auto" and (back.hidden_, back.latent_dim_) == (
        det.hidden_,
        det.latent_dim_,
    )
    np.testing.assert_array_equal(back.calibration_scores_, det.calibration_scores_)
    assert back.calibration_ == det.calibration_
    assert back.threshold_ == det.threshold_ and back.scaler_.kind == "auto"
    assert det.error == "nmse" and det.residual_scale_.shape == (
        3,
        LENGTH,
    )  # each member's own, (K, features)
    assert type(back.model_).__name__ == "DenseEnsemble" and back.model_.members == 3
    np.testing.assert_array_equal(back.residual_scale_, det.residual_scale_)
    np.testing.assert_array_equal(
        back.decision_function(spikes(20)), det.decision_function(spikes(20))
    )


def test_nmse_keeps_features_noisy_in_normal_data_from_drowning_the_others():
    def noisy(x, seed):  # the first 8 columns carry noise no model can reconstruct
        x = x.copy()
        x[:, :8] += np.random.default_rng(seed).normal(0, 1.0, (len(x), 8)).astype(np.float32)
        return x

    def bumps(n, seed):  # anomalies: a small step on 3 of the quiet columns
        rng, x = np.random.default_rng(seed), sines(n, seed)
        for row in x:
            row[rng.choice(np.arange(8, LENGTH), 3, replace=False)] += 0.5
        return x

    x = np.concatenate([noisy(sines(200, 7), 2), noisy(bumps(100, 9), 3)])
    y = np.r_[np.zeros(200), np.ones(100)]
    train = noisy(sines(400), 1)
    auc = {
        error: AnomalyDetector(error=error, epochs=20, device="cpu")
        .fit(train)
        .evaluate(x, y)["roc_auc"]
        for error in ("mae", "nmse")
    }
    # measured: nmse 0.87, mae 0.64
    assert auc["nmse"] > 0.8 and auc["nmse"] > auc["mae"] + 0.15, auc
    with pytest.raises(UsageError, match="nmse"):
        AnomalyDetector(error="mae", epochs=1, device="cpu").fit(sines(50)).set_params(
            error="nmse"
        ).predict(x)


def test_an_ensembles_score_is_its_members_mean_each_in_its_own_units():
    # reconstruction alone
    det = AnomalyDetector(members=2, density=0, input_density=0, epochs=3, device="cpu").fit(
        sines(64)
    )
    x = spikes(5)
    with torch.no_grad():
        xs = det.scaler_.torch_transform(torch.as_tensor(x))
        out = det.model_(xs)  # (2, 5, LENGTH): each member's reconstruction
        own = [
            ((out[k] - xs) / torch.as_tensor(det.residual_scale_[k])).square().mean(1)
            for k in range(2)
        ]
    np.testing.assert_allclose(det.decision_function(x), ((own[0] + own[1]) / 2).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        det.reconstruct(x), det.scaler_.inverse_transform(out.mean(0).numpy()), atol=1e-5
    )
    assert (
        type(AnomalyDetector(members=1, epochs=1, device="cpu").fit(sines(20)).model_).__name__
        == "DenseAutoencoder"
    )


def test_a_model_saved_before_ensembles_loads_as_one_network(tmp_path):
    det = AnomalyDetector(members=1, error="mae", epochs=2, device="cpu").fit(sines(40))
    det.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    del (
        config["params"]["members"],
        config["state"]["network"]["members"],
    )  # as an earlier aekit wrote it
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    back = aekit.load(tmp_path / "m", device="cpu")
    np.testing.assert_array_equal(
        back.decision_function(spikes(4)), det.decision_function(spikes(4))
    )


def test_evaluate_takes_labels_0_and_1_only():
    """A label 2 was counted as two anomalies (n_anomalies) and no ROC-AUC came out."""
    X = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    det = aekit.AnomalyDetector(epochs=1, hidden=(4,), latent_dim=2).fit(X)
    with pytest.raises(DataError, match="label 2; expected 0"):
        det.evaluate(X[:4], [0, 2, 0, 1])
    with pytest.raises(DataError, match="'ok'"):
        det.evaluate(X[:2], ["ok", "bad"])


@pytest.mark.parametrize("threshold", [[1], "max"])
def test_a_threshold_set_after_fit_is_checked_as_at_fit(threshold):
    """set_params(threshold=[1]) gave a raw TypeError at threshold_; 'max', the series detector's
    rule, which the constructor refuses, was applied."""
    X = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    det = aekit.AnomalyDetector(epochs=1, hidden=(4,), latent_dim=2).fit(X)
    det.set_params(threshold=threshold)
    with pytest.raises(UsageError, match="threshold must be one of fpr"):
        _ = det.threshold_


def test_a_finite_row_whose_score_overflows_is_the_most_anomalous():
    """A finite row far out (3e38: a float's sentinel) overflowed to a NaN score, labelled normal."""
    det = AnomalyDetector(epochs=2, seed=0, device="cpu", threads=1).fit(sines(64))
    x = sines(4, 5)
    x[1] = 3e38
    scores, p = det.decision_function(x), det.p_values(x)
    assert scores[1] == np.inf and det.predict(x)[1] == 1 and p[1] == p.min()
    assert np.isfinite(scores[[0, 2, 3]]).all()


def test_figures_of_labelled_rows_scored_infinite_are_computed():
    # a logger's 4294967295 scores inf: evaluate and compare met scikit-learn's refusal of infinity
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(300, 4)) * [1, 2, 3, 4] + [10, 20, 30, 40]).astype(np.float64)
    T = rng.normal(size=(100, 4)) * [1, 2, 3, 4] + [10, 20, 30, 40]
    y = np.zeros(100, int)
    T[:5, 1], y[:5] = 4294967295.0, 1
    T[5:10, 2], y[5:10] = -9999.0, 1
    det = aekit.AnomalyDetector(epochs=3, seed=0, threads=1, verbose=0).fit(X)
    assert np.isinf(det.score_samples(T[:5])).all()
    report = det.evaluate(T, y)
    assert report["roc_auc"] > 0.9 and report["recall"] == 1.0
    table = det.compare(T, y, X_train=X)
    assert table.rows[0]["roc_auc"] > 0.9
