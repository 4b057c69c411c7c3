"""aekit.estimators.preprocessing: the scalers fitted chunk by chunk hold a bounded sample."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from aekit.errors import DataError
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


def _wide_rows() -> np.ndarray:
    """300 rows whose first column spans most of float32's range (legal values, 3e38 at most)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    x[:, 0] = rng.uniform(-3e38, 3e38, 300)
    return x.astype(np.float32)


def test_reconstructions_near_float32s_limit_stay_finite():
    """Probe 65 numerics #2: unscaled in float32, 34 of 300 reconstructions were -inf, written to
    the output without a word."""
    x = _wide_rows()
    scaler = Scaler("standard").fit(x)
    past = scaler.transform(x) * 1.2  # a reconstruction a little past the data's largest values
    assert np.isfinite(scaler.inverse_transform(past)).all()
    assert torch.isfinite(scaler.torch_inverse(torch.from_numpy(past))).all()
    back = scaler.inverse_transform(scaler.transform(x))  # inside the range: the data again
    assert np.allclose(back[:, 1:], x[:, 1:], atol=1e-5) and np.allclose(back, x, rtol=1e-5)


def test_a_min_max_span_past_float32_is_one_line():
    """Probe 65 numerics #3: a span of 6e38 became a scale of inf, every scaled value NaN, and the
    autoencoder ended in 'internal error: LinAlgError: SVD did not converge'."""
    with pytest.raises(DataError, match="a range of 5.97e\\+38 that float32 cannot hold"):
        Scaler("minmax").fit(_wide_rows())
    with pytest.raises(DataError, match="min-max scaling cannot represent it"):
        Scaler("minmax").fit_chunks([_wide_rows()[:100], _wide_rows()[100:]])
