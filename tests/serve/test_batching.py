"""Micro-batching without a server: what runs together, the bounds, and failures kept to their request."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from aekit.serve.batching import Batcher
from aekit.serve.models import Work


class Doubler:
    """A stand-in model that records the rows of each call (and fails on a negative row)."""

    def __init__(self):
        self.calls: list[int] = []

    def __call__(self, x, names):
        self.calls.append(len(x))
        if (x < 0).any():
            raise ValueError("negative rows")
        return {"y": x * 2, "n": np.full(len(x), len(x))}


def _run(model, works, **options):
    async def main():
        with ThreadPoolExecutor(1) as pool:
            sizes: list[int] = []
            batcher = Batcher(pool, observe=sizes.append, **options)
            batcher.start()
            try:
                return await asyncio.gather(
                    *(batcher.submit(w) for w in works), return_exceptions=True
                ), sizes
            finally:
                await batcher.stop()

    return asyncio.run(main())


def _work(model, rows: int, start: float = 0.0, key=(1,)) -> Work:
    x = np.arange(start, start + rows, dtype=np.float32)[:, None]
    return Work(x, ("y",), model, key, rows)


def test_requests_that_arrive_together_run_in_one_call_and_each_gets_its_own_rows():
    model = Doubler()
    works = [_work(model, r, 10 * i) for i, r in enumerate((1, 3, 2))]
    results, sizes = _run(model, works, max_batch=64, max_wait=0.05)
    assert model.calls == [6] and sizes == [6]
    for w, out in zip(works, results):
        np.testing.assert_array_equal(out["y"], w.x * 2)
        assert set(out) == {"y"}  # only what the request asked for


def test_a_batch_never_passes_max_batch_rows_and_unbatchable_work_runs_alone():
    model = Doubler()
    works = [_work(model, 3, 10 * i) for i in range(5)] + [_work(model, 2, 100, key=None)]
    results, _ = _run(model, works, max_batch=6, max_wait=0.05)
    assert sum(model.calls) == 17 and max(model.calls) <= 6 and 2 in model.calls
    assert all(not isinstance(r, BaseException) for r in results)


def test_different_sample_shapes_never_share_a_call():
    model = Doubler()
    works = [
        _work(model, 2, 0, key=(1,)),
        _work(model, 2, 10, key=(2,)),
        _work(model, 2, 20, key=(1,)),
    ]
    _run(model, works, max_batch=64, max_wait=0.05)
    assert sorted(model.calls) == [2, 4]


def test_a_failing_request_fails_alone():
    model = Doubler()
    works = [_work(model, 2, 0), _work(model, 2, -10), _work(model, 2, 10)]
    results, _ = _run(model, works, max_batch=64, max_wait=0.05)
    assert isinstance(results[1], ValueError)
    np.testing.assert_array_equal(results[0]["y"], works[0].x * 2)
    np.testing.assert_array_equal(results[2]["y"], works[2].x * 2)
