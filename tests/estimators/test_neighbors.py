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
