"""The code density of the anomaly detector's score (aekit/estimators/anomaly/density.py)."""

import json
import math

import numpy as np
import pytest
import torch
from sklearn.neighbors import LocalOutlierFactor

import aekit
from aekit import AnomalyDetector
from aekit.errors import AekitError, UsageError
from aekit.estimators.anomaly.defaults import training_steps
from aekit.estimators.anomaly.density import CodeDensity, reference_rows


def _clusters(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return np.r_[rng.normal(size=(n, 4)), rng.normal(3, 0.2, size=(n // 6, 4))].astype(np.float32)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_lof_matches_scikit_learn(k):
    ref, query = (
        _clusters(),
        np.random.default_rng(1).normal(1, 2, size=(100, 4)).astype(np.float32),
    )
    ours = CodeDensity.fit(torch.as_tensor(ref), k)
    theirs = LocalOutlierFactor(n_neighbors=k, novelty=True).fit(ref)
    np.testing.assert_allclose(
        ours.lof(torch.as_tensor(query)).numpy(), -theirs.score_samples(query), rtol=2e-3
    )
    np.testing.assert_allclose(
        ours.lof(torch.as_tensor(ref), of_reference=True).numpy(),
        -theirs.negative_outlier_factor_,
        rtol=2e-3,
    )


def test_lof_in_blocks_matches_one_block(monkeypatch):
    import aekit.estimators.anomaly.density as mod

    ref, query = torch.as_tensor(_clusters()), torch.as_tensor(_clusters(50, seed=2))
    whole = CodeDensity.fit(ref, 10).lof(query)
    # two queries at a time against 350 reference rows
    monkeypatch.setattr(mod, "BLOCK_VALUES", 700)
    blocked = CodeDensity.fit(ref, 10)
    torch.testing.assert_close(blocked.lof(query), whole)
    torch.testing.assert_close(blocked.k_distance, CodeDensity.fit(ref, 10).k_distance)


def test_neighbours_stay_local_on_small_data_and_the_reference_is_bounded():
    assert CodeDensity.fit(torch.randn(41, 3), 40).k == 20  # k near N would make every LOF ~1
    assert CodeDensity.fit(torch.randn(500, 3), 40).k == 40
    assert len(reference_rows(100, 8)) == 100
    idx = reference_rows(1_000_000, 8)
    assert len(idx) == 2048 and idx[0] == 0 and idx[-1] == 999_999 and np.all(np.diff(idx) > 0)
    assert len(reference_rows(1_000_000, 4096)) == 1024  # wide codes: at most 4M values


def test_calibrate_puts_the_lof_on_the_errors_scale_and_apply_multiplies():
    d = CodeDensity.fit(torch.as_tensor(_clusters()), 10)
    rng = np.random.default_rng(0)
    errors, lofs = np.exp(rng.normal(0, 0.5, 200)), np.exp(rng.normal(0.05, 0.1, 200))
    d.calibrate(errors, lofs, density=0.5)
    spread = lambda v: np.subtract(*np.percentile(np.log(v), [75, 25]))  # noqa: E731
    assert d.gamma == pytest.approx(0.5 * spread(errors) / spread(lofs))
    assert d.median_log_lof == pytest.approx(np.median(np.log(lofs)))
    codes = torch.as_tensor(_clusters(12, seed=3))
    e = torch.ones(len(codes))
    expected = torch.exp(d.gamma * (torch.log(d.lof(codes)).double() - d.median_log_lof)).float()
    torch.testing.assert_close(d.apply(e, codes), expected)
    # No spread in the LOFs (or errors): the density says nothing, the error stays as it is.
    assert d.calibrate(errors, np.ones(200), 0.5).gamma == 0.0
    torch.testing.assert_close(d.apply(e, codes), e)
    # Near-identical LOFs: the exponent is bounded and the score finite.
    d.calibrate(errors, 1 + 1e-9 * rng.normal(size=200), 0.5)
    assert 0 < d.gamma <= 10.0 and torch.isfinite(d.apply(e * 1e12, codes * 100)).all()


def test_the_detector_scores_sparse_codes_higher_and_density_zero_is_reconstruction_alone():
    t = np.linspace(0, 2 * np.pi, 32, dtype=np.float32)
    rng = np.random.default_rng(0)
    X = np.sin(t + rng.uniform(0, 6, (400, 1))).astype(np.float32)
    det = AnomalyDetector(epochs=3, device="cpu").fit(X)
    plain = AnomalyDetector(epochs=3, density=0, device="cpu").fit(X)
    assert (
        det.code_density_ is not None
        and det.code_density_.gamma > 0
        and plain.code_density_ is None
    )
    x = np.r_[X[:5], np.sin(2 * t)[None].repeat(3, 0)].astype(np.float32)
    with torch.no_grad():  # plain: the mean of the members' nmse; det: that times the LOF factor
        xs = det.scaler_.torch_transform(torch.as_tensor(x))
        codes = det.model_.encode(xs)
    rec = det._scores(x, terms=())
    np.testing.assert_allclose(
        det._scores(x, terms=("code",)),
        det.code_density_.apply(torch.as_tensor(rec), codes).numpy(),
        rtol=1e-5,
    )
    assert np.all(plain.decision_function(x) > 0)
    # The threshold comes from the calibration rows' combined scores, as the scores it is compared to.
    plan = det._plan_rows(len(X), own_validation=False)
    np.testing.assert_allclose(
        det.calibration_scores_, np.sort(det.decision_function(X[plan.calibration])), rtol=1e-5
    )


def test_no_density_on_tiny_data():
    from aekit.estimators.anomaly.density import MIN_REFERENCE_ROWS

    X = np.random.default_rng(0).normal(size=(MIN_REFERENCE_ROWS + 2, 5)).astype(np.float32)
    small = AnomalyDetector(epochs=1, validation_fraction=0, device="cpu").fit(
        X[: MIN_REFERENCE_ROWS - 1]
    )
    assert small.code_density_ is None and small.input_density_ is None
    np.testing.assert_allclose(small.decision_function(X), small._scores(X, terms=()))
    # Too few held-out rows to set the exponent on (2 here): the reference rows, each without itself.
    assert AnomalyDetector(epochs=1, device="cpu").fit(X).code_density_ is not None


@pytest.mark.parametrize(
    "saved_before, params_then, terms",
    [
        # before the code density (and so the input density): scored by reconstruction error alone
        (("code_density", "input_density"), ("density", "n_neighbors", "input_density"), ()),
        # before the input density: scored with the code density alone
        (("input_density",), ("input_density", "input_neighbors"), ("code",)),
    ],
)
def test_the_densities_survive_save_and_load(tmp_path, saved_before, params_then, terms):
    X = np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32)
    det = AnomalyDetector(epochs=2, device="cpu").fit(X)
    det.save(tmp_path / "m")
    back = aekit.load(tmp_path / "m")
    for attr in ("code_density_", "input_density_"):
        assert getattr(back, attr).state() == getattr(det, attr).state()
    np.testing.assert_array_equal(back.decision_function(X[:20]), det.decision_function(X[:20]))
    # A model saved before a term (no state for it) scores without it.
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    for key in saved_before:
        del config["state"][key]
    for key in params_then:
        del config["params"][key]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    old = aekit.load(tmp_path / "m")
    assert old.input_density == 0.0 and old.input_density_ is None
    assert (old.code_density_ is None) == (old.density == 0.0) == ("code" not in terms)
    np.testing.assert_allclose(
        old.decision_function(X[:20]), det._scores(X[:20], terms=terms), rtol=1e-6
    )


@pytest.mark.parametrize("key, words", [("code_density", "code"), ("input_density", "input")])
def test_a_damaged_density_is_refused_in_one_line(tmp_path, key, words):
    det = AnomalyDetector(epochs=1, device="cpu").fit(
        np.random.default_rng(0).normal(size=(100, 5))
    )
    det.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["state"][key]["n_neighbors"] = 10_000
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(AekitError, match=f"{words} density is inconsistent") as info:
        aekit.load(tmp_path / "m")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [-0.5, math.nan, math.inf, "high", True])
def test_bad_density_is_a_usage_error(bad):
    with pytest.raises(UsageError, match="density must be a number >= 0"):
        AnomalyDetector(density=bad).fit(np.zeros((10, 3)))
    with pytest.raises(UsageError, match="n_neighbors"):
        AnomalyDetector(n_neighbors=0).fit(np.zeros((10, 3)))


def test_the_step_budget_falls_with_the_rows():
    assert training_steps(10, 150, 1000) == training_steps(99, 150, 1000) == 1000
    assert training_steps(2110, 150, 1000) == 218
    assert training_steps(4445, 150, 1000) == training_steps(10**7, 150, 1000) == 150
    steps = [training_steps(n, 150, 1000) for n in range(1, 10_000, 97)]
    assert all(a >= b for a, b in zip(steps, steps[1:]))


def test_repeated_rows_do_not_blow_the_density_up():
    # a table of flags repeats rows: a code with more than k copies had a density of 1 / EPS and
    # normal rows beside it scores of 1e22 (ROC-AUC 0.85; 0.998 without the density terms)
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(100)
    p = np.array([0.1, 0.15, 0.2, 0.3, 0.1, 0.25, 0.05, 0.4])
    X = (rng.random((1500, 8)) < p).astype(np.float32)
    normal = (rng.random((500, 8)) < p).astype(np.float32)
    odd = (rng.random((60, 8)) < 1 - p).astype(np.float32)
    det = AnomalyDetector(seed=0, threads=1, verbose=0).fit(X)
    s = det.score_samples(np.r_[normal, odd])
    assert s.max() < 1e6 and det.threshold_ < 1e6
    assert roc_auc_score(np.r_[np.zeros(500), np.ones(60)], s) > 0.97


def test_rows_sharing_a_code_are_one_reference_code():
    # 41 distinct rows in a ReLU's dead zone share the code 0: copies with a k-distance of 0
    from aekit.estimators.anomaly.density import fit_code_density

    rows = np.arange(60, dtype=np.float32)[:, None]
    density = fit_code_density(lambda r: torch.as_tensor(np.maximum(r - 40, 0)), iter([rows]), 5)
    assert len(density.codes) == 20 and bool((density.k_distance > 0).all())
    assert density.codes[:, 0].tolist() == list(range(20))  # the first copies, in their order
