"""``aekit.dask.score`` and ``encode`` without a cluster: Dask's local scheduler in this process, the
model put in this process's table (no distributed client here)."""

from __future__ import annotations

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

import aekit  # noqa: E402
import aekit.dask  # noqa: E402
from aekit.errors import ArgumentTypeError, DataError, UsageError  # noqa: E402

FEATURES = ["a", "b", "c", "d"]


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))).astype(np.float32), columns=FEATURES)
    df.insert(0, "key", [f"k{i}" for i in range(n)])
    return df


@pytest.fixture(scope="module")
def fitted():
    train = frame(300, 0)[FEATURES]
    det = aekit.AnomalyDetector(epochs=2, members=1, density=0.0, device="cpu").fit(train)
    ae = aekit.Autoencoder(latent_dim=2, epochs=1, device="cpu").fit(train)
    return det, ae


def test_score_and_encode_in_this_process(fitted):
    det, ae = fitted
    rows = frame(500, 1)
    ddf = dd.from_pandas(rows[["key", *reversed(FEATURES)]], npartitions=3)  # by name
    got = aekit.dask.score(det, ddf, id_column="key").compute()
    x = rows[FEATURES].to_numpy()
    assert list(got.columns) == ["key", "score", "is_anomaly", "p_value"]
    assert got["key"].tolist() == rows["key"].tolist()
    np.testing.assert_allclose(got["score"], det.decision_function(x), rtol=0, atol=1e-6)
    z = aekit.dask.encode(ae, ddf, id_column="key").compute()
    assert list(z.columns) == ["key", "z1", "z2"]
    np.testing.assert_allclose(z[["z1", "z2"]].to_numpy(), ae.transform(x), rtol=0, atol=1e-6)


def test_a_scorings_threshold_is_its_own_and_the_lazy_frame_scores_the_model_as_it_was():
    """Probe 66 stack 1: ``score(det, ddf, threshold=...)`` set the threshold on the caller's
    detector (its predict flagged 108 rows, not 22, after); 2: the lazy frame read the caller's
    object at ``compute()`` here, where a cluster scores the model shipped at ``score()``."""
    det = aekit.AnomalyDetector(epochs=2, members=1, density=0.0, device="cpu")
    det.fit(frame(300, 0)[FEATURES])
    rows = frame(300, 0)[FEATURES]
    before = (det.threshold, det.threshold_, det.predict(rows).sum())
    ddf = dd.from_pandas(rows, npartitions=3)
    loose = aekit.dask.score(det, ddf, threshold="fpr:0.3").compute()
    assert (det.threshold, det.threshold_, det.predict(rows).sum()) == before
    assert loose.is_anomaly.sum() > before[2]
    lazy = aekit.dask.score(det, ddf)
    det.set_params(threshold="fpr:0.3")
    assert lazy.compute().is_anomaly.sum() == before[2]


def test_wrong_runs_and_rows_are_one_line(fitted):
    det, ae = fitted
    ddf = dd.from_pandas(frame(20, 2).drop(columns="c"), npartitions=2)
    with pytest.raises(DataError, match="missing the model's columns c"):
        aekit.dask.score(det, ddf).compute()
    with pytest.raises(UsageError, match="expected an anomaly run"):
        aekit.dask.score(ae, ddf)
    with pytest.raises(UsageError, match="not a column"):
        aekit.dask.score(det, ddf, id_column="nope")
    text = dd.from_pandas(frame(20, 3).astype({"b": str}), npartitions=1)
    with pytest.raises(DataError, match="column 'b' has type"):
        aekit.dask.score(det, text).compute()


def test_a_pandas_dataframe_is_refused_in_one_line(fitted):
    det, ae = fitted
    rows = frame(10, 4)
    for call, est in ((aekit.dask.score, det), (aekit.dask.encode, ae)):
        with pytest.raises(
            ArgumentTypeError, match=r"expected a Dask DataFrame, got pandas.*from_pandas"
        ):
            call(est, rows)


def prepared_table(n: int, seed: int) -> pd.DataFrame:
    """Rows with a categorical column ``plan`` and missing cells in ``b``."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, 3)).round(3), columns=["a", "b", "c"])
    df.insert(0, "uid", [f"u{i}" for i in range(n)])
    df["plan"] = [("basic", "pro", "free")[i % 3] for i in range(n)]
    df.loc[[3, n // 2 + 1], "b"] = np.nan
    return df


@pytest.fixture(scope="module")
def prepared_runs(tmp_path_factory):
    """An anomaly run and a basic run trained with --categorical plan on rows with missing cells, and
    each one's in-process output for the same rows (``aekit score`` / ``aekit encode``)."""
    from ..cli.helpers import cli_here

    root = tmp_path_factory.mktemp("prepared")
    prepared_table(120, 0).to_csv(root / "train.csv", index=False)
    rows = prepared_table(40, 1)
    rows.to_csv(root / "rows.csv", index=False)
    common = ["--data", root / "train.csv", "--id-column", "uid", "--categorical", "plan"]
    common += ["--epochs", "1", "--threads", "1", "--quiet", "--no-figures"]
    cli_here("train", "anomaly", *common, "--out", root / "an")
    cli_here("train", "basic", *common, "--latent-dim", "2", "--out", root / "ae")
    cli_here("score", root / "an", "--input", root / "rows.csv", "--output", root / "s.csv")
    cli_here("encode", root / "ae", "--input", root / "rows.csv", "--output", root / "z.csv")
    return root, rows, pd.read_csv(root / "s.csv"), pd.read_csv(root / "z.csv")


def test_partitions_are_read_as_aekit_score_reads_them(prepared_runs):
    """The run's one-hot columns and fill values apply to each partition: the scores and latent
    vectors equal the in-process commands' on the same rows."""
    root, rows, scores, latents = prepared_runs
    ddf = dd.from_pandas(rows, npartitions=3)  # a missing cell in two partitions
    got = aekit.dask.score(str(root / "an"), ddf).compute()
    assert got["uid"].tolist() == scores["uid"].tolist()
    np.testing.assert_allclose(got["score"], scores["score"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got["is_anomaly"], scores["is_anomaly"])
    z = aekit.dask.encode(root / "ae", ddf).compute()
    zs = [c for c in latents.columns if c.startswith("z")]
    assert z["uid"].tolist() == latents["uid"].tolist() and list(z.columns[1:]) == zs
    np.testing.assert_allclose(z[zs].to_numpy(), latents[zs].to_numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(DataError, match="a partition: missing the model's columns plan=basic"):
        aekit.dask.score(root / "an", dd.from_pandas(rows.drop(columns="plan"), 2)).compute()
