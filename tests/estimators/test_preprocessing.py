"""aekit.estimators.preprocessing: the scalers fitted chunk by chunk hold a bounded sample."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from aekit.estimators import preprocessing
from aekit.estimators.preprocessing import Scaler


@pytest.mark.parametrize("kind", ["robust", "auto"])
def test_a_robust_fit_by_chunks_holds_its_sample_not_the_chunks_it_came_from(kind, monkeypatch):
    # every stride-th row kept as a view held its whole chunk: the memory grew with the file
    monkeypatch.setattr(preprocessing, "ROBUST_SAMPLE_VALUES", 20_000)
    rng = np.random.default_rng(0)

    def chunks():
        for _ in range(200):  # 200 chunks of 2,000 x 10 float64: 32 MB in all, 160 kB each
            yield rng.normal(size=(2_000, 10))

    tracemalloc.start()
    try:
        Scaler(kind).fit_chunks(chunks())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2e6, peak  # the sample (160 kB), its halving and a chunk or two; 10 MB with views
