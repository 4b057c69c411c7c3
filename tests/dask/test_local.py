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
