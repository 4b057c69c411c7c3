"""Which channels drove an alarm: per-channel scores of a multichannel series (and the threads scoring runs on)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aekit

from ...synthetic_series import sine_series

torch.set_num_threads(1)

FAST = dict(channels=(8, 8), latent_dim=8, epochs=5, batch_size=64, device="cpu", threads=1)


def three_channels(n: int = 2400) -> np.ndarray:
    """Three sines of different scales and levels; channel 2 stuck for 30 steps from 1800."""
    x, _ = sine_series(n, channels=3, kind="none", seed=3)
    x = x * np.array([1.0, 50.0, 0.01]) + np.array([0.0, 100.0, -5.0])
    x[1800:1830, 2] = x[1800, 2]
    return x.astype(np.float32)


@pytest.mark.parametrize("method", ["neighbors", "reconstruction"])
def test_the_faulty_channel_drives_the_alarm(method):
    x = three_channels()
    det = aekit.SeriesDetector(method=method, **FAST).fit(x[:1200])
    scores = det.channel_scores(x[1200:])
    assert scores.shape == (1200, 3) and (scores >= 0).all()
    peak = int(np.argmax(det.score_samples(x[1200:])))
    assert 1800 - 1200 - det.window_ <= peak < 1830 - 1200 + det.window_
    assert int(np.argmax(scores[peak])) == 2
    assert scores[peak, 2] > 2 * scores[peak, :2].max()


def test_the_first_column_is_the_score_bit_for_bit():
    x = three_channels()
    det = aekit.SeriesDetector(method="both", **FAST).fit(x[:1200])
    both = np.concatenate(list(det.iter_scores([x[1200:]], channels=True)))  # one chunk, as these
    np.testing.assert_array_equal(both[:, 0], det.score_samples(x[1200:]))
    np.testing.assert_array_equal(both[:, 1:], det.channel_scores(x[1200:]))
    chunked = np.concatenate(list(det.iter_scores(np.array_split(x[1200:], 4), channels=True)))
    np.testing.assert_allclose(chunked, both, rtol=1e-9)


def test_scoring_runs_on_the_threads_it_is_given():
    """Scoring takes the estimator's threads (or aekit's choice), as every prediction does, and gives
    torch's setting back after."""
    x = three_channels()
    det = aekit.SeriesDetector(method="neighbors", device="cpu", threads=1).fit(x[:1200])
    seen, errors = [], det._window_errors
    det._window_errors = lambda w, *a, **k: (
        seen.append(torch.get_num_threads()) or errors(w, *a, **k)
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        det.score_samples(x[1200:])
        assert set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
