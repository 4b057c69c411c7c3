"""The models aekit.dask holds in a process: bounded in a loop that retrains and scores."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

import aekit  # noqa: E402
import aekit.dask  # noqa: E402
from aekit.dask import models  # noqa: E402

FEATURES = ["a", "b", "c", "d"]


def _rows(n: int, seed: int) -> pd.DataFrame:
    x = np.random.default_rng(seed).normal(size=(n, len(FEATURES))).astype(np.float32)
    return pd.DataFrame(x, columns=FEATURES)


def _detector(seed: int):
    return aekit.AnomalyDetector(epochs=1, members=1, density=0.0, seed=seed, device="cpu").fit(
        _rows(200, 0)
    )


def test_a_retrain_and_score_loop_in_this_process_keeps_no_old_model():
    """probe 59 leaks #1: each model scored without a cluster stayed in aekit.dask's table for the
    rest of the process (about 20 MB a model in a loop that retrains and scores)."""
    ddf = dd.from_pandas(_rows(60, 1), npartitions=2)
    gone = []
    for seed in range(12):
        det = _detector(seed)
        got = aekit.dask.score(det, ddf).compute()
        np.testing.assert_allclose(
            got["score"], det.decision_function(_rows(60, 1)), rtol=0, atol=1e-6
        )
        gone.append(weakref.ref(det))
        del det, got
    gc.collect()
    assert [ref for ref in gone if ref() is not None] == []  # every model's memory let go of
    assert len(models._MODELS) <= models.LOADED


def test_a_worker_keeps_a_bounded_number_loaded_and_reloads_an_evicted_one():
    """probe 59 leaks #1: a worker loaded every model shipped to it and kept them all; now the least
    recently used go past the bound, one still asked for is loaded again from its plugin's files, and
    a plugin unregistered lets go of its model."""
    det = _detector(0)
    x = _rows(30, 2).to_numpy()
    keys, want = [], {}
    for i in range(10):  # ten recalibrations: ten models
        det.set_params(threshold=f"percentile:{90 + i}")
        files = models.model_files(det)
        keys.append(models.key_of(files))
        want[keys[-1]] = det.predict(x)
        models.held(keys[-1], files, threads=1)  # what each plugin's setup does on a worker
    try:
        assert len(models.loaded()) == models.LOADED
        assert models.loaded() == keys[-models.LOADED :]
        est, _ = models.model(models.Shipped(keys[0]))  # evicted, still registered: loaded again
        np.testing.assert_array_equal(est.predict(x), want[keys[0]])
        assert models.loads(keys[0]) == 2 and len(models.loaded()) == models.LOADED
    finally:
        for key in keys:
            models.let_go(key)  # what each plugin's teardown does
    assert models.loaded() == [] and models._SOURCES == {} and models._LOADS == {}


def test_a_task_between_a_plugins_teardown_and_its_new_setup_waits_for_it():
    """review 59 R2-3: a second score of one run sends its plugin again; the worker tears the old
    one down (let_go) before setting the new one up (held), and a task in between failed with "the
    model is not loaded in this worker process"."""
    import threading
    import time

    det = _detector(0)
    files = models.model_files(det)
    key = models.key_of(files)
    models.held(key, files, threads=1)
    models.let_go(key)  # the old plugin's teardown ...
    again = threading.Timer(0.2, models.held, (key, files, 1))  # ... the new one's setup, later
    again.start()
    try:
        est, _ = models.model(models.Shipped(key))  # a task that ran in between
        assert est.threshold_ == det.threshold_
    finally:
        again.join()
        models.let_go(key)
    start = time.monotonic()
    with pytest.raises(aekit.errors.RunFailure, match="not loaded in this worker"):
        models.model(models.Shipped(key))  # none comes: said after the wait
    assert time.monotonic() - start >= models.REREGISTER_WAIT
