"""scikit-learn's estimator contract: check_estimator on all four estimators, model selection,
feature names, pandas output, sparse input and scikit-learn's error wording."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit
from aekit.errors import DataError, NotFittedError, UsageError
from aekit.estimators.base import (
    BATCH_POSITION_CHECKS,
    OUTSIDE_UNIT_RANGE_CHECKS,
    expected_failed_checks,
)

# check_estimator fits ~40 times: keep each fit tiny
TINY = dict(epochs=1, batch_size=64, device="cpu")

# The estimators as the checks take them: the checks' data are tables of any range, which the Denoiser
# (rows as one-row images, linear output) and the VAE (Gaussian likelihood) take with these settings.
CHECKED = [
    aekit.Autoencoder(latent_dim=2, **TINY),
    aekit.AnomalyDetector(hidden=(4,), latent_dim=2, **TINY),
    aekit.Denoiser(channels=(4,), output_activation="linear", **TINY),
    aekit.VAE(latent_dim=2, channels=(4, 4), likelihood="gaussian", **TINY),
]


# Every check on all four, at the tiny settings above: ~6 s for the two convolutional estimators on a busy machine
# (rows as one-row images, 4 channels, 1 epoch). benchmarks/check_sklearn.py --defaults also runs them at the
# estimators' defaults, where the declared checks are expected to fail.
@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failed_checks)
def test_scikit_learn_check_estimator(estimator, check):
    """scikit-learn's check_estimator, one check per test (the declared expected failures are xfail)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_only_the_last_bit_of_a_sigmoid_is_declared_for_the_checked_settings():
    # The defaults scale tables and choose a linear output for them: every check passes as is.
    assert [set(expected_failed_checks(est)) for est in CHECKED] == [set()] * 4
    sigmoid = aekit.Autoencoder(output_activation="sigmoid")
    assert set(expected_failed_checks(sigmoid)) == set(BATCH_POSITION_CHECKS)
    linear = [
        aekit.Autoencoder(output_activation="linear"),
        aekit.AnomalyDetector(scaler="standard"),
    ]
    assert all(expected_failed_checks(est) == {} for est in linear)


@pytest.mark.parametrize(
    "est", [aekit.Denoiser(channels=(4,), **TINY), aekit.VAE(channels=(4, 4), **TINY)]
)
def test_models_of_unit_range_data_declare_the_checks_they_refuse(est):
    """With a sigmoid output / Bernoulli likelihood the checks' data outside [0, 1] are refused by design:
    declared, with the reason (benchmarks/check_sklearn.py shows every other check passing)."""
    failed = expected_failed_checks(est)
    assert set(failed) == set(OUTSIDE_UNIT_RANGE_CHECKS)
    assert all("[0, 1]" in reason for reason in failed.values())
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        est.fit(3 * _table())


def _table(n=120, d=6, seed=0):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


def test_grid_search_picks_a_latent_size():
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(aekit.Autoencoder(epochs=2), {"latent_dim": [4, 8]}, cv=2).fit(_table())
    assert search.best_params_["latent_dim"] in (4, 8)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: aekit.Autoencoder(latent_dim=2, **TINY),
        lambda: aekit.AnomalyDetector(hidden=(4,), latent_dim=2, **TINY),
        lambda: aekit.Denoiser(channels=(4,), **TINY),
        lambda: aekit.VAE(latent_dim=2, channels=(4, 4), **TINY),
    ],
)
def test_score_is_higher_for_better_fitting_data(make):
    X = _table(200, 16)
    est = make().fit(X)
    assert np.isfinite(est.score(X))
    assert est.score(X) > est.score(_noisier(X))


@pytest.mark.parametrize("make", [aekit.Autoencoder, aekit.AnomalyDetector])
def test_score_is_the_reconstruction_error_in_the_datas_own_units(make):
    """Probe 52 skl 1-2: score was -mean score_samples, in the scaled units (or the detector's
    `error` with its density terms): a search over the scaler picked the one that shrank the data
    most (minmax, 7.5x worse in X's units), one over `error` the smallest units."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(150, 6)) * [1, 10, 100, 1, 1, 1]).astype(np.float32)
    scores = {}
    for scaler in ("standard", "minmax"):
        est = make(hidden=(8,), latent_dim=2, scaler=scaler, **TINY).fit(X)
        expect = -np.mean(np.mean((est.reconstruct(X).astype(np.float64) - X) ** 2, axis=1))
        scores[scaler] = est.score(X)
        assert scores[scaler] == pytest.approx(expect, rel=1e-5)
    assert scores["minmax"] < -1.0 and scores["standard"] < -1.0  # X's units, not [0, 1]'s


def _noisier(X):
    """The same rows with strong noise, still in [0, 1]: a worse fit for any of the models."""
    return np.clip(X + np.random.default_rng(1).normal(0, 0.4, X.shape), 0, 1).astype(np.float32)


@pytest.mark.parametrize("make", [aekit.Autoencoder, aekit.Denoiser, aekit.VAE])
def test_set_params_of_an_unknown_name_is_aekits_one_line_error(make):
    """Probe 51 ae 9: scikit-learn's plain ValueError, listing every parameter's repr."""
    with pytest.raises(UsageError, match="has no parameter .foo.; its parameters are: .*epochs"):
        make().set_params(foo=1)
    with pytest.raises(ValueError):  # still what scikit-learn's callers catch
        make().set_params(foo__bar=1)
    assert make().set_params(epochs=3).epochs == 3


@pytest.mark.parametrize("make", [aekit.Autoencoder, aekit.AnomalyDetector, aekit.SeriesDetector])
def test_set_params_into_a_parameter_that_is_no_estimator_is_aekits_one_line_error(make):
    """Probe 66 sklearn 4: ``lr__x`` (a GridSearchCV grid's slip) gave scikit-learn's
    "AttributeError: 'float' object has no attribute 'set_params'"."""
    name = next(n for n in ("lr", "window") if n in make().get_params())
    with pytest.raises(UsageError, match=f"'{name}__x': {name} is a .*not an estimator"):
        make().set_params(**{f"{name}__x": 1})
    spec = aekit.network("torch.nn:Identity")
    with pytest.raises(
        UsageError, match=r"encoder is a network spec .*aekit\.network\(\.\.\., ARG"
    ):
        aekit.Autoencoder(encoder=spec, decoder=spec).set_params(encoder__latent_dim=3)


def test_not_fitted_error_is_scikit_learns():
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    with pytest.raises(SklearnNotFittedError):
        aekit.Autoencoder().transform(_table())
    assert issubclass(NotFittedError, SklearnNotFittedError) and issubclass(
        NotFittedError, UsageError
    )


@pytest.mark.parametrize("method", ["transform", "reconstruct", "score_samples", "score"])
def test_reordered_or_renamed_columns_are_refused(method):
    pd = pytest.importorskip("pandas")
    cols = [f"f{i}" for i in range(6)]
    df = pd.DataFrame(_table(), columns=cols)
    ae = aekit.Autoencoder(latent_dim=2, **TINY).fit(df)
    assert list(ae.feature_names_in_) == cols
    getattr(ae, method)(df)  # the same columns: fine
    with pytest.raises(DataError, match="same order"):
        getattr(ae, method)(df[cols[::-1]])
    with pytest.raises(DataError, match="unseen at fit time"):
        getattr(ae, method)(df.rename(columns={"f0": "zzz"}))


@pytest.mark.parametrize("method", ["decision_function", "predict", "score_samples", "reconstruct"])
def test_the_detector_checks_names_on_every_method(method):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(_table(), columns=list("abcdef"))
    det = aekit.AnomalyDetector(hidden=(4,), latent_dim=2, **TINY).fit(df)
    with pytest.raises(DataError, match="same order"):
        getattr(det, method)(df[list("fedcba")])


@pytest.mark.parametrize(
    "make",
    [
        lambda: aekit.Autoencoder(latent_dim=2, **TINY),
        lambda: aekit.AnomalyDetector(hidden=(4,), latent_dim=2, **TINY),
        lambda: aekit.VAE(latent_dim=2, channels=(4, 4), likelihood="gaussian", **TINY),
    ],
)
def test_validation_data_with_other_columns_is_refused(make):
    """Probe 52 skl 4: fit's validation_data was taken by position: reordered or renamed columns
    gave the validation loss and early stopping other features."""
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(_table(), columns=list("abcdef"))
    train, val = df.iloc[:80], df.iloc[80:]
    make().fit(train, validation_data=val)  # the same columns: fine
    make().fit(train, validation_data=val.to_numpy())  # an array: in X's order
    with pytest.raises(DataError, match="validation_data: .*same order"):
        make().fit(train, validation_data=val[list("fedcba")])
    with pytest.raises(DataError, match="validation_data: .*unseen at fit time"):
        make().fit(train, validation_data=val.rename(columns=str.upper))


def test_the_detector_fit_predicts_its_training_labels():
    X = _table()
    labels = aekit.AnomalyDetector(hidden=(4,), latent_dim=2, **TINY).fit_predict(X)
    det = aekit.AnomalyDetector(hidden=(4,), latent_dim=2, **TINY).fit(X)
    np.testing.assert_array_equal(labels, det.labels_)
    assert labels.shape == (len(X),) and set(np.unique(labels)) <= {0, 1}


def test_feature_names_survive_save_and_load(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(_table(), columns=list("abcdef"))
    aekit.Autoencoder(latent_dim=2, **TINY).fit(df).save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    assert list(loaded.feature_names_in_) == list("abcdef")
    with pytest.raises(DataError, match="same order"):
        loaded.transform(df[list("fedcba")])


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(_table(), columns=list("abcdef"), index=np.arange(100, 220))
    out = (
        aekit.Autoencoder(latent_dim=3, **TINY).set_output(transform="pandas").fit(df).transform(df)
    )
    assert isinstance(out, pd.DataFrame) and list(out.columns) == [
        "autoencoder0",
        "autoencoder1",
        "autoencoder2",
    ]
    assert list(out.index) == list(df.index)
    den = aekit.Denoiser(channels=(4,), **TINY).set_output(transform="pandas").fit(df)
    assert list(den.transform(df).columns) == list("abcdef")
    vae = aekit.VAE(latent_dim=2, channels=(4, 4), **TINY).set_output(transform="pandas").fit(df)
    assert list(vae.transform(df).columns) == ["vae0", "vae1"]


def test_pandas_output_passes_images_through_as_arrays():
    """Probe 52 skl 5: a Denoiser of images under set_output(transform="pandas") (or
    set_config(transform_output="pandas")) failed with pandas' "Must pass 2-d input"."""
    from sklearn import config_context

    images = np.random.default_rng(0).random((12, 1, 6, 6), dtype=np.float32)
    den = aekit.Denoiser(channels=(4,), **TINY).set_output(transform="pandas").fit(images)
    out = den.transform(images)
    assert isinstance(out, np.ndarray) and out.shape == images.shape
    assert not hasattr(den, "get_feature_names_out")
    with config_context(transform_output="pandas"):
        assert aekit.Denoiser(channels=(4,), **TINY).fit_transform(images).shape == images.shape


def test_a_vae_fitted_on_rows_gives_rows_back():
    """Probe 52 skl 6: (n, 1, 1, d) one-row images, and inverse_transform(transform(X)) - X
    broadcast to (n, 1, n, d)."""
    X = _table()
    vae = aekit.VAE(latent_dim=2, channels=(4, 4), likelihood="gaussian", **TINY).fit(X)
    assert vae.inverse_transform(vae.transform(X)).shape == X.shape
    assert vae.reconstruct(X).shape == X.shape and vae.sample(3).shape == (3, X.shape[1])
    assert vae.interpolate(X[0], X[1], steps=4).shape == (4, X.shape[1])
    images = np.random.default_rng(0).random((20, 1, 8, 8), dtype=np.float32)
    assert aekit.VAE(latent_dim=2, channels=(4, 4), **TINY).fit(images).sample(2).shape == (
        2,
        1,
        8,
        8,
    )


def test_a_dataframes_bad_column_is_named():
    """Probe 52 skl 9: a date column got numpy's 400-character promotion message, a category of
    text scikit-learn's "could not convert string to float", pd.NA no row or column."""
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(_table(), columns=list("abcdef"))
    cases = {
        "dtype datetime64": df.assign(b=pd.date_range("2020", periods=len(df))),
        "dtype category": df.assign(b=np.where(df.b > 0.5, "x", "y")).astype({"b": "category"}),
        "row 3, column 'c'": df.astype("Float64").mask(
            (df.index == 3)[:, None] & (df.columns == "c")[None, :]
        ),
    }
    for needle, bad in cases.items():
        with pytest.raises(
            DataError, match=f"column 'b' has {needle}" if "dtype" in needle else needle
        ):
            aekit.Autoencoder(latent_dim=2, **TINY).fit(bad)
    # another error of a frame with a missing value is that error, not the value's
    fitted = aekit.Autoencoder(latent_dim=2, **TINY).fit(df)
    with pytest.raises(DataError, match="feature names") as wrong_width:
        fitted.transform(cases["row 3, column 'c'"].drop(columns="f"))
    assert "non-finite" not in str(wrong_width.value)
    flags = df.assign(a=(df.a > 0.5).astype("boolean"), b=df.b.astype("category"))  # numbers
    assert aekit.Autoencoder(latent_dim=2, **TINY).fit(flags).transform(flags).shape == (len(df), 2)


def test_float64_in_float32_out_as_the_tags_say():
    from sklearn.utils import get_tags

    ae = aekit.Autoencoder(latent_dim=2, **TINY).fit(_table().astype(np.float64))
    assert ae.transform(_table().astype(np.float64)).dtype == np.float32
    assert get_tags(ae).transformer_tags.preserves_dtype == ["float32"]
    assert get_tags(ae).input_tags.sparse and get_tags(aekit.AnomalyDetector()).input_tags.sparse
    assert not get_tags(aekit.Denoiser()).input_tags.sparse


@pytest.mark.parametrize(
    "X, words",
    [
        (np.zeros((0, 4)), ["0 sample(s)", "minimum of 1"]),
        (np.zeros((4, 0)), ["0 feature(s)", "minimum of 1"]),
        (np.ones((4, 3)) + 1j, ["Complex data not supported"]),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ["expected numbers"]),
        (np.ones(5), ["Reshape your data", "expected at least 2 dimensions"]),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ["contains NaN", "non-finite", "(0, 1)"]),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ["infinity", "non-finite"]),
    ],
)
def test_bad_input_uses_scikit_learns_words_on_one_line(X, words):
    with pytest.raises(DataError) as info:
        aekit.Autoencoder(**TINY).fit(X)
    message = str(info.value)
    assert "\n" not in message
    for w in words:
        assert w in message, message


def test_an_object_array_of_dicts_is_a_type_error():
    X = np.ones((4, 2), dtype=object)
    X[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match="argument must be a string or a real number"):
        aekit.Autoencoder(**TINY).fit(X)


# ---- sparse input ------------------------------------------------------------------------------


def _sparse(n=2000, d=300, density=0.01):
    import scipy.sparse as sp

    return sp.random(n, d, density=density, format="csr", dtype=np.float32, random_state=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: aekit.Autoencoder(
            latent_dim=4, output_activation="linear", epochs=2, batch_size=64, device="cpu"
        ),
        lambda: aekit.AnomalyDetector(
            hidden=(8,), latent_dim=4, epochs=2, batch_size=64, device="cpu"
        ),
    ],
)
def test_sparse_input_trains_and_scores_as_the_dense_array_does(make):
    X = _sparse()
    a, b = make().fit(X), make().fit(X.toarray())
    for method in ("score_samples", "reconstruct"):
        np.testing.assert_allclose(
            getattr(a, method)(X), getattr(b, method)(X.toarray()), rtol=1e-4, atol=1e-6
        )
    assert a.history_[-1]["train_loss"] == pytest.approx(b.history_[-1]["train_loss"], rel=1e-4)


def test_sparse_input_is_made_dense_one_batch_at_a_time():
    """NumPy reports its allocations to tracemalloc: the peak (a chunk of at most 16 MB being checked and
    scaled, see ``iter_chunks``) stays well below the dense matrix's 80 MB."""
    import tracemalloc

    X = _sparse(20_000, 1_000, 0.002)  # dense: 80 MB of float32; CSR: ~0.5 MB
    ae = aekit.Autoencoder(
        latent_dim=4, output_activation="linear", epochs=1, batch_size=256, device="cpu"
    )
    tracemalloc.start()
    try:
        Z = ae.fit(X).transform(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Z.shape == (20_000, 4)
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.1f} MB"


def test_sparse_input_is_refused_in_one_line_by_the_image_models():
    with pytest.raises(DataError, match="Sparse data was passed"):
        aekit.Denoiser(**TINY).fit(_sparse(50, 16))
