"""Trending recordings: the detector models step-to-step differences when the training stretch climbs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aekit
from aekit.estimators.series.trend import (
    Differences,
    Levels,
    Unchanged,
    delevel,
    difference,
    resolve_detrend,
    trend_share,
)

from ...synthetic_series import sine_series

torch.set_num_threads(1)

# what the tests that do not judge the detector's quality train: a few epochs of a small network
FAST = dict(channels=(8, 8), latent_dim=8, epochs=3, batch_size=64, device="cpu")
FAULT = (6000, 12)  # a stuck sensor: 12 steps holding one value


def trending(n: int = 8000, slope: float = 0.002, seed: int = 0) -> np.ndarray:
    """A wave (period 40) on a rising line, with a stuck sensor at ``FAULT``; (n,) float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.sin(2 * np.pi * t / 40) + 0.4 * np.sin(4 * np.pi * t / 40 + 1)
    x += 0.05 * rng.standard_normal(n) + slope * t
    at, length = FAULT
    x[at : at + length] = x[at]
    return x.astype(np.float32)


def test_trend_share_is_the_r2_of_a_line():
    t = np.arange(500.0)
    wave = np.sin(2 * np.pi * t / 40)
    assert trend_share(wave[:, None])[0] < 0.01
    share, channel = trend_share(np.stack([wave, wave + 0.01 * t], axis=1))
    assert channel == 1 and 0.5 < share < 1
    assert trend_share(np.ones((10, 1)))[0] == 0.0  # a constant channel explains nothing


def test_auto_differences_a_climbing_stretch_only():
    x = trending()[:4000, None]
    kind, why = resolve_detrend("auto", x, ["co2"])
    assert kind == "level" and "channel co2" in why
    assert resolve_detrend("auto", sine_series(1200, kind="none")[0], None)[0] == "none"
    assert resolve_detrend("none", x, None) == ("none", "given")


def test_chunk_by_chunk_equals_whole():
    x = np.random.default_rng(0).random((100, 2)).astype(np.float32)
    for chunked, whole in ((Differences(), difference(x)), (Levels(9), delevel(x, 9))):
        parts = [chunked(x[i : i + 7]) for i in range(0, 100, 7)]
        np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(difference(x)[1:], np.diff(x, axis=0))
    means = np.lib.stride_tricks.sliding_window_view(x, 9, axis=0).mean(-1)  # (92, 2)
    np.testing.assert_allclose(delevel(x, 9)[8:], x[8:] - means, atol=1e-6)


def test_the_first_window_takes_its_own_mean_and_one_step_chunks_equal_the_whole():
    """Probe 60 clock H1 and L5: a series' first steps were levelled by the mean of fewer steps
    (step 0 minus itself), and a first chunk of one step took a difference of 0."""
    t = np.arange(60)
    wave = np.sin(2 * np.pi * t / 9) + 0.03 * t  # a wave of the window's period on a line
    levelled = delevel(wave[:, None], 9)[:, 0]
    np.testing.assert_allclose(levelled, np.sin(2 * np.pi * t / 9) + 0.03 * 4, atol=1e-9)
    x = np.random.default_rng(1).random((60, 2)).astype(np.float32)
    for make, whole in ((Differences, difference(x)), (lambda: Levels(9), delevel(x, 9))):
        chunked = make()
        parts = [chunked(x[i : i + 1]) for i in range(60)]
        np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-6)
        assert not len(chunked.finish())  # nothing held once the series is longer than its start
    short = Levels(9)
    assert not len(short(x[:5])) and not len(short(x[5:16]))  # held until 17 steps
    np.testing.assert_allclose(short.finish(), delevel(x[:16], 9), atol=1e-6)
    np.testing.assert_allclose(delevel(x[:7], 9), x[:7] - x[:7].mean(axis=0), atol=1e-6)
    one = Differences()
    assert not len(one(x[:1])) and np.array_equal(one.finish(), np.zeros((1, 2), np.float32))
    assert np.array_equal(Unchanged()(x), x) and not len(Unchanged().finish())


def test_a_stretch_scored_on_its_own_has_no_false_range_at_its_start():
    """Probe 60 clock H1: with "level", the first two windows of every scored stretch scored 2-6x
    the stretch's median, a false range at step 0 for 24 of 40 starts (a recording scored in two
    files was flagged at the cut; scored as one, nowhere)."""
    x = trending()
    det = aekit.SeriesDetector(seed=0, threads=1).fit(x[:4000])  # the neighbours: no training
    assert det.detrend_ == "level"
    for start in range(4000, 4040, 3):
        assert not [r for r in det.ranges(x[start : start + 1000]) if r.start < 80], start
    assert det.threshold_basis()["steps"] == 4000 - 2 * det.window_  # no threshold on them


def test_a_window_other_than_the_period_keeps_its_threshold_and_finds_the_fault():
    """Review 60 F1: the extension is exact only for a wave of the window's period; at a window of
    30 on a wave of 40 the first two windows scored 3x the rest, and with them in the threshold
    (5.45 where 1.81 was) a stuck sensor went unflagged. They stay out of it."""
    x = trending()
    det = aekit.SeriesDetector(window=30, seed=0, threads=1).fit(x[:4000])
    assert det.detrend_ == "level" and det.threshold_basis()["steps"] == 4000 - 60
    at, length = FAULT
    found = [
        r for r in det.ranges(x[4000:]) if r.start + 4000 <= at + length and r.end + 4000 >= at
    ]
    assert found, det.threshold_


def test_a_trend_is_not_flagged_a_stuck_sensor_is():
    """The issue's case: flag the fault, not the trend, with a range within 2x the fault's length.
    On three series and seeds: never a range away from the fault, the fault found at least twice
    (the default threshold, 1.5x the training maximum, misses a short fault now and then)."""
    at, length = FAULT
    found = 0
    for seed in range(3):
        x = trending(seed=seed)
        det = aekit.SeriesDetector(device="cpu", threads=1, seed=seed).fit(x[:4000])
        assert det.detrend_ == "level"
        for r in det.ranges(x[4000:]):
            start, end = r.start + 4000, r.end + 4000
            assert start <= at + length - 1 and end >= at, (seed, start, end)  # on the fault
            assert end - start + 1 <= 2 * length, (seed, start, end)
            found += 1
    assert found >= 2


def test_without_detrending_everything_after_the_stretch_is_flagged():
    x = trending()
    det = aekit.SeriesDetector(detrend="none", **FAST).fit(x[:4000])
    assert det.predict(x[4000:]).mean() > 0.5  # what the issue saw: the trend flagged everywhere


def test_detrending_survives_save_and_chunked_scoring(tmp_path):
    x = trending()
    det = aekit.SeriesDetector(**FAST).fit(x[:4000])
    det.save(tmp_path / "d")
    loaded = aekit.load(tmp_path / "d")
    assert loaded.detrend_ == "level" and loaded.detrend_source_ == det.detrend_source_
    whole = loaded.score_samples(x)
    chunked = np.concatenate(list(loaded.iter_scores(np.array_split(x, 9))))
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)
    np.testing.assert_array_equal(whole, det.score_samples(x))


@pytest.mark.parametrize("bad", ["linear", 1])
def test_bad_detrend_is_one_line(bad):
    from aekit.errors import UsageError

    with pytest.raises(UsageError, match="detrend"):
        aekit.SeriesDetector(detrend=bad).fit(sine_series(600, kind="none")[0])


def test_no_trend_is_found_in_a_flat_signal_at_any_scale():
    """Probe 65 numerics #4: a flat sine at 1e38 (legal float32 values) summed past float32's range
    in the mean: "a straight line explains nan%" and the flat signal was detrended."""
    t = np.arange(2000)
    s = np.sin(2 * np.pi * t / 50) + 0.05 * np.random.default_rng(0).normal(size=t.size)
    for scale in (1.0, 1e30, 1e38):
        x = (scale + scale / 10 * s).astype(np.float32)[:, None]
        share, _ = trend_share(x)
        assert 0.0 <= share < 0.01, (scale, share)
