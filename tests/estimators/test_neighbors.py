"""Search by latent vector: LatentIndex against brute force, cosine and euclidean, faiss, save and load."""

from __future__ import annotations

import json

import numpy as np
import pytest

import aekit
from aekit.errors import DataError, NotFittedError, RunFailure, UsageError
from aekit.estimators.neighbors import INDEX_CONFIG, LatentIndex


def _brute(items, queries, k, metric):
    if metric == "cosine":
        a = items / np.linalg.norm(items, axis=1, keepdims=True)
        b = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        d = 1 - b @ a.T
    else:
        d = np.sqrt(((queries[:, None, :] - items[None]) ** 2).sum(-1))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, 1), idx


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("backend", ["sklearn", "faiss"])
def test_the_nearest_items_are_those_of_brute_force(metric, backend):
    if backend == "faiss":
        pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    items, queries = (
        rng.normal(size=(300, 8)).astype(np.float32),
        rng.normal(size=(20, 8)).astype(np.float32),
    )
    index = LatentIndex(metric=metric, backend=backend).fit(items)
    assert index.backend_ == backend
    dist, idx = index.kneighbors(queries, k=5)
    want_d, want_i = _brute(items, queries, 5, metric)
    np.testing.assert_array_equal(idx, want_i)
    np.testing.assert_allclose(dist, want_d, rtol=1e-4, atol=1e-5)


def test_auto_uses_faiss_only_for_a_large_index():
    faiss = pytest.importorskip("faiss")  # noqa: F841
    items = np.random.default_rng(0).random((50, 4), dtype=np.float32)
    assert LatentIndex(faiss_min=100).fit(items).backend_ == "sklearn"
    assert LatentIndex(faiss_min=50).fit(items).backend_ == "faiss"


def test_with_an_encoder_it_takes_samples_and_keeps_ids(tmp_path):
    X = np.random.default_rng(1).random((120, 12), dtype=np.float32)
    ae = aekit.Autoencoder(latent_dim=3, epochs=1, device="cpu").fit(X)
    names = [f"item{i}.png" for i in range(120)]
    index = LatentIndex(encoder=ae).fit(X, ids=names)
    dist, idx = index.kneighbors(X[:4], k=3)
    assert [index.ids_[i] for i in idx[:, 0]] == names[:4]  # each item is its own nearest
    np.testing.assert_allclose(dist[:, 0], 0, atol=1e-5)

    index.save(tmp_path / "ix")
    config = json.loads((tmp_path / "ix" / INDEX_CONFIG).read_text())
    assert config["metric"] == "euclidean" and config["ids"] == names
    again = LatentIndex.load(tmp_path / "ix", encoder=ae)
    np.testing.assert_array_equal(again.kneighbors(X[:4], k=3)[1], idx)
    with pytest.raises(UsageError, match="overwrite"):
        index.save(tmp_path / "ix")


def test_bad_use_is_one_clear_error(tmp_path):
    items = np.random.default_rng(0).random((10, 4), dtype=np.float32)
    with pytest.raises(NotFittedError):
        LatentIndex().kneighbors(items, 2)
    with pytest.raises(UsageError, match="metric"):
        LatentIndex(metric="manhattan").fit(items)
    index = LatentIndex().fit(items)
    with pytest.raises(UsageError, match="at most"):
        index.kneighbors(items, k=11)
    with pytest.raises(DataError, match="dimensions"):
        index.kneighbors(items[:, :3], k=2)
    with pytest.raises(DataError, match="one id per sample"):
        LatentIndex().fit(items, ids=["a"])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / INDEX_CONFIG).write_text('{"format": "something else"}')
    with pytest.raises(RunFailure, match="not an aekit index"):
        LatentIndex.load(tmp_path / "bad")
    with pytest.raises(UsageError, match="no index.json"):
        LatentIndex.load(tmp_path)


@pytest.mark.parametrize("ids", [[("a", 1)] * 6, [True] * 6, [None] * 6])
def test_ids_the_index_file_cannot_hold_are_refused_at_save_not_written_unreadable(tmp_path, ids):
    idx = LatentIndex().fit(np.eye(6, dtype=np.float32), ids=ids)
    with pytest.raises(TypeError, match="id 0 is .*give str or number ids"):
        idx.save(tmp_path / "idx")
    assert not (tmp_path / "idx").exists()
    names = LatentIndex().fit(np.eye(6, dtype=np.float32), ids=list("abcdef") + [])
    assert LatentIndex.load(names.save(tmp_path / "ok")).ids_ == list("abcdef")


def test_the_index_keeps_its_own_copy_of_the_callers_vectors():
    import torch

    rng = np.random.default_rng(0)
    for given in (rng.random((30, 4), dtype=np.float32), torch.rand(30, 4)):
        before = np.asarray(given).copy()  # np.array(copy=True) of a tensor: NumPy 2 warns
        idx = LatentIndex().fit(given)
        expected = idx.kneighbors(before[:1], k=3)[1]
        given[:] = 0  # the caller reuses its buffer
        np.testing.assert_array_equal(idx.kneighbors(before[:1], k=3)[1], expected)
        np.testing.assert_array_equal(idx.vectors_, before)


def _notes(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aekit.notes"]


def test_a_cosine_index_says_which_vectors_are_all_zeros(caplog):
    """probe 60 search M1: cosine distance is undefined for an all-zero code (a relu code often is
    one): the item was never found, not even by itself, and a zero query got the first rows, silently."""
    import logging

    Z = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    Z[[2, 4]] = 0
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        index = LatentIndex(metric="cosine").fit(Z, ids=list("abcdef"))
        index.kneighbors(Z[[0, 4]], k=2, ids=["q0", "q4"])
        LatentIndex().fit(Z).kneighbors(Z, k=2)  # euclidean: defined for zeros, nothing said
    said = _notes(caplog)
    assert len(said) == 2, said
    assert "2 of 6 items' vectors are all zeros (the first: 'c')" in said[0]
    assert "metric='euclidean'" in said[0]
    assert "1 of 2 queries' vectors are all zeros (the first: 'q4')" in said[1]


def _fitted(seed):
    X = np.random.default_rng(1).random((60, 5), dtype=np.float32)
    return X, aekit.Autoencoder(latent_dim=2, epochs=1, seed=seed, device="cpu").fit(X)


def test_load_refuses_an_encoder_other_than_the_one_that_encoded_the_items(tmp_path):
    """probe 60 search M2: LatentIndex.load(path, encoder=) took any encoder of the same code width
    (every answer wrong), and an index saved from Python recorded no model to check against."""
    from aekit._manifest import sha256_file

    X, ae = _fitted(0)
    _, other = _fitted(7)
    built = LatentIndex(encoder=ae).fit(X)
    built.save(tmp_path / "ix")
    ae.save(tmp_path / "model")
    recorded = json.loads((tmp_path / "ix" / INDEX_CONFIG).read_text())["model"]
    assert recorded["sha256"] == sha256_file(tmp_path / "model" / "model.safetensors")
    with pytest.raises(UsageError, match=r"the encoder \(Autoencoder, weights sha256 \w{12}\) is "
                       r"not the model that encoded the items \(another model, sha256 \w{12}\)"):  # fmt: skip
        LatentIndex.load(tmp_path / "ix", encoder=other)
    want = built.kneighbors(X[:9], 3)[1]
    for same in (ae, aekit.load(tmp_path / "model")):  # the model, or the same weights read back
        again = LatentIndex.load(tmp_path / "ix", encoder=same)
        np.testing.assert_array_equal(again.kneighbors(X[:9], 3)[1], want)
    # an index without a record loads with any encoder, as before
    LatentIndex().fit(ae.transform(X)).save(tmp_path / "plain")
    LatentIndex.load(tmp_path / "plain", encoder=other)


class _Overflowing:
    """An encoder whose code of row 2 is not finite (as huge inputs make a real model's)."""

    def transform(self, X):
        Z = np.asarray(X, np.float32)[:, :2].copy()
        Z[2:, 1] = np.inf
        return Z


def test_codes_that_are_not_finite_name_their_row_not_the_inputs_cell():
    """probe 60 search L2: a non-finite code from finite inputs was reported as the query's cell
    at the code's coordinates ("Input X contains NaN ... at index (0, 0)")."""
    X = np.eye(4, dtype=np.float32)
    with pytest.raises(DataError, match=r"X: the code of row 2 \(id 'c'\) is not finite \(2 of 4"):
        LatentIndex(encoder=_Overflowing()).fit(X, ids=list("abcd"))
    index = LatentIndex(encoder=_Overflowing()).fit(X[:2])
    with pytest.raises(DataError, match=r"query: the code of row 2 is not finite.*training data"):
        index.kneighbors(X, k=1)


def test_faiss_min_is_checked_at_fit_whether_faiss_is_installed_or_not(tmp_path):
    """probe 60 search L3: without faiss any faiss_min was taken and saved, then refused at load
    as a damaged index."""
    for bad in (0, "x"):
        with pytest.raises(UsageError, match="faiss_min must be a whole number >= 1"):
            LatentIndex(faiss_min=bad).fit(np.eye(5, dtype=np.float32))


def test_save_writes_what_the_index_was_built_with(tmp_path):
    """probe 60 search L4: an attribute changed after fit was saved, so the loaded index answered
    by another metric than the one in memory."""
    rng = np.random.default_rng(0)
    Z = (rng.normal(size=(50, 4)) * [1, 1, 10, 10]).astype(np.float32)
    q = Z[:3] + rng.normal(size=(3, 4)).astype(np.float32)
    index = LatentIndex(metric="euclidean").fit(Z)
    index.metric, index.faiss_min = "cosine", 0
    before = index.kneighbors(q, 3)[1]
    again = LatentIndex.load(index.save(tmp_path / "ix"))
    assert again.metric == "euclidean" and again.faiss_min == 20000
    np.testing.assert_array_equal(again.kneighbors(q, 3)[1], before)


def test_an_encoder_without_transform_is_one_clear_error():
    """probe 60 search L5: a run's path or an AnomalyDetector as encoder was a bare AttributeError."""
    from aekit.errors import ArgumentTypeError

    X = np.random.default_rng(0).random((40, 6), dtype=np.float32)
    with pytest.raises(ArgumentTypeError, match=r"got the path 'runs/t'; load it with aekit.load"):
        LatentIndex(encoder="runs/t").fit(X)
    detector = aekit.AnomalyDetector(epochs=1, latent_dim=2, device="cpu", threshold=0.9)
    with pytest.raises(ArgumentTypeError, match="type AnomalyDetector, without a latent space"):
        LatentIndex(encoder=detector).fit(X)


def test_repeated_and_empty_ids_are_said(caplog):
    """probe 60 search L6: an index's answer is its id; repeated or empty ids were taken silently."""
    import logging

    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        LatentIndex().fit(np.eye(5, dtype=np.float32), ids=["a", "b", "", "b", "a"])
        LatentIndex().fit(np.eye(3, dtype=np.float32), ids=["a", "b", "c"])
    said = _notes(caplog)
    assert len(said) == 2, said
    assert "row 2 has an empty id" in said[0] and "the id 'b' names more than one item" in said[1]


def test_a_gap_in_a_nullable_id_column_is_an_empty_id(caplog):
    """probe 62 dtypes #10: pandas' NA in an Int64 id column ended fit in "boolean value of NA is
    ambiguous"."""
    import logging

    pd = pytest.importorskip("pandas")
    ids = pd.Series([101, 102, None, 104, 105], dtype="Int64")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        index = LatentIndex().fit(np.eye(5, dtype=np.float32), ids=ids)
    assert index.ids_ == [101, 102, None, 104, 105]
    assert "row 2 has an empty id" in _notes(caplog)[0]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_ties_come_in_the_order_of_the_index_rows(metric):
    """probe 60 search L7: items at the same distance came in any order, so the query item was not
    first among its exact copies, and which copies made the k was arbitrary."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(5000, 4)).astype(np.float32)
    Z[::97] = Z[0]  # 52 exact copies of row 0
    index = LatentIndex(metric=metric).fit(Z)
    dist, idx = index.kneighbors(Z[[0, 97, 1]], k=5)
    assert idx[0].tolist() == idx[1].tolist() == [0, 97, 194, 291, 388]
    assert idx[2, 0] == 1  # an item not tied comes back first
    want_d, want_i = _brute(Z, Z[[0, 97, 1]], 5, metric)
    np.testing.assert_array_equal(idx[2], want_i[2])
    small = LatentIndex(metric=metric).fit(np.zeros((4, 2), np.float32) + 1)  # k = all of them
    assert small.kneighbors(np.ones((1, 2), np.float32), k=4)[1].tolist() == [[0, 1, 2, 3]]


def test_an_index_without_its_vectors_is_a_missing_file(tmp_path):
    """probe 60 search L8: a deleted vectors.safetensors read as damaged "model weights" (exit 1),
    its path said twice."""
    from aekit.errors import NotFound

    LatentIndex().fit(np.eye(3, dtype=np.float32)).save(tmp_path / "ix")
    (tmp_path / "ix" / "vectors.safetensors").unlink()
    with pytest.raises(NotFound, match=r"ix: no vectors.safetensors, a file of the index; build"):
        LatentIndex.load(tmp_path / "ix")


def test_a_cosine_search_holds_a_bounded_block_of_distances():
    """Probe 63 memory #1: scikit-learn's cosine search takes blocks of its working_memory (1 GiB),
    not the 4,096 queries aekit hands it: 2,000 queries of 200,000 items held 1.5 GB. Here the
    (1,500 x 20,000) float64 block is 229 MiB; searched in 64 MiB blocks."""
    import tracemalloc

    Z = np.random.default_rng(0).standard_normal((20000, 8)).astype(np.float32)
    index = LatentIndex(metric="cosine").fit(Z)
    tracemalloc.start()
    try:
        dist, idx = index.kneighbors(Z[:1500], k=5)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert (idx[:, 0] == np.arange(1500)).all()
    assert peak < 150, peak
