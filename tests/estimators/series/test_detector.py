"""SeriesDetector: the anomaly found in small synthetic series, chunked scoring, ranges, metrics, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import DataError, DataTypeError, NotFittedError, UsageError
from aekit.estimators.series.metrics import range_scores, series_metrics, ucr_score
from aekit.estimators.series.windows import (
    AnomalyRange,
    RangeTracker,
    StepScorer,
    find_ranges,
    scores_and_cover,
)

from ...synthetic_series import PERIOD, sine_series

# as the other estimator tests: the same floating point in every run, and fast on 2 cores
torch.set_num_threads(1)

FAST = dict(channels=(8, 8), latent_dim=8, epochs=30, batch_size=32, device="cpu")


@pytest.fixture(scope="module")
def fitted():
    x, _ = sine_series(1200, kind="none")
    return aekit.SeriesDetector(**FAST).fit(x[:600])


def test_window_from_the_period_and_fitted_state(fitted):
    assert fitted.window_ == PERIOD and "autocorrelation" in fitted.window_source_
    assert fitted.input_shape_ == (1, PERIOD) and fitted.n_features_in_ == 1
    assert (
        fitted.decision_scores_.shape == (600,)
        and fitted.threshold_ > fitted.decision_scores_.max()
    )


@pytest.mark.parametrize("kind", ["spike", "shift", "pattern"])
def test_finds_each_kind_of_anomaly(fitted, kind):
    x, y = sine_series(1200, kind=kind, at=900, length=8)
    scores = fitted.score_samples(x)
    assert scores.shape == (1200,)
    assert 900 - PERIOD <= int(np.argmax(scores)) <= 908 + PERIOD
    m = fitted.evaluate(x, y)
    assert m["ucr_score"] == 1 and m["roc_auc"] > 0.9 and m["range_recall"] == 1.0
    ranges = fitted.ranges(x)
    assert any(r.start <= 907 and r.end >= 900 for r in ranges)
    assert fitted.predict(x)[900:908].any()


@pytest.mark.parametrize("aggregate", ["max", "mean"])
def test_chunked_scores_equal_whole(fitted, aggregate):
    x, _ = sine_series(1000, kind="spike", at=500)
    fitted.set_params(aggregate=aggregate)
    whole = fitted.score_samples(x)
    chunked = np.concatenate(list(fitted.iter_scores([x[:7], x[7:300], x[300:301], x[301:]])))
    fitted.set_params(aggregate="max")
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-7)


def test_several_channels_and_save_load(tmp_path):
    x, y = sine_series(900, channels=3, kind="spike", at=700)
    det = aekit.SeriesDetector(window=20, stride=2, **FAST).fit(
        x[:500], channel_names=["a", "b", "c"]
    )
    assert det.window_source_ == "given" and det.input_shape_ == (3, 20)
    det.save(tmp_path / "m")
    back = aekit.load(tmp_path / "m")
    np.testing.assert_allclose(back.score_samples(x), det.score_samples(x), rtol=1e-5)
    assert (
        back.window_ == 20
        and back.channel_names_ == ["a", "b", "c"]
        and back.threshold_ == det.threshold_
    )
    with pytest.raises(DataError, match="channels"):
        det.score_samples(x[:, :2])


def test_step_scorer_spreads_window_errors():
    # Errors = the window's first value: step t's score is the mean of the starts covering it.
    scorer = StepScorer(4, 2, lambda w: w[:, 0, 0])
    x = np.arange(11.0)[:, None]
    out = np.concatenate([scorer.push(x[:5]), scorer.push(x[5:]), scorer.finish()])
    # windows start at 0, 2, 4, 6 and 7 (the tail)
    expect = [np.mean([s for s in (0, 2, 4, 6, 7) if s <= t < s + 4]) for t in range(11)]
    np.testing.assert_allclose(out, expect)
    # the highest error of the covering windows
    peak = StepScorer(4, 2, lambda w: w[:, 0, 0], aggregate="max")
    out = np.concatenate([peak.push(x[:3]), peak.push(x[3:]), peak.finish()])
    peaks = [max(s for s in (0, 2, 4, 6, 7) if s <= t < s + 4) for t in range(11)]
    np.testing.assert_allclose(out, np.array(peaks) + 1e-3 * np.array(expect))
    with pytest.raises(DataError, match="fewer than the window"):
        s = StepScorer(20, 1, lambda w: w[:, 0, 0])
        s.push(x)
        s.finish()


def test_ranges_across_chunks():
    s = np.array([0, 2, 3, 0, 0, 5, 5, 1, 0, 4])
    whole = find_ranges(s, 1.5)
    assert whole == [
        AnomalyRange(1, 2, 3.0, 2),
        AnomalyRange(5, 6, 5.0, 5),
        AnomalyRange(9, 9, 4.0, 9),
    ]
    for cut in range(1, 10):
        t = RangeTracker(1.5)
        assert t.push(s[:cut]) + t.push(s[cut:]) + t.finish() == whole


def test_cover_is_the_flagged_share_of_the_windows_of_each_step():
    # windows of 4 at every step; the error is 1 when the window holds step 6 (a one-step fault)
    errors = lambda w: (w[:, 0, :] == 6).any(axis=1).astype(float)  # noqa: E731
    scorer = StepScorer(4, 1, errors, aggregate="max", threshold=0.5)
    x = np.arange(12.0)[:, None]
    covers = []
    for part in (x[:5], x[5:9], x[9:]):
        scorer.push(part)
        covers.append(scorer.cover)
    scorer.finish()
    covers.append(scorer.cover)
    cover = np.concatenate(covers)
    # windows starting 3..6 hold step 6: each step's share of those among its own windows (0..8)
    flagged = [sum(1 for w in range(3, 7) if w <= t < w + 4) for t in range(12)]
    covering = [sum(1 for w in range(9) if w <= t < w + 4) for t in range(12)]
    np.testing.assert_array_equal(cover, np.divide(flagged, covering))
    assert np.argmax(cover) == 6 and (cover == cover.max()).sum() == 1


@pytest.mark.parametrize("stride", [1, 3])
def test_a_fault_at_either_end_of_the_series_is_the_range_not_the_steps_beside_it(stride):
    """Fewer windows cover the first and last steps: counting flagged windows narrowed a fault in
    the last steps to the steps before it (a fault at 1490-1499 of 1500 reported as 1470-1490)."""
    faults = {0, 1, 2, 20, 21, 22, 37, 38, 39}  # the first steps, the middle, the last steps
    errors = lambda w: np.isin(w[:, 0, :], list(faults)).any(axis=1).astype(float)  # noqa: E731
    x = np.arange(40.0)[:, None]  # each step's value is its index: a window knows its steps
    for chunks in ([x], [x[:7], x[7:30], x[30:]]):
        pairs = list(scores_and_cover(chunks, 8, stride, errors, threshold=0.5))
        scores, cover = (np.concatenate(p) for p in zip(*pairs))
        ranges = [(r.start, r.end) for r in find_ranges(scores, 0.5, cover)]
        # each fault whole; a stride of 3 leaves no window to tell up to 2 steps beside it apart
        for (start, end), fault in zip(ranges, [(0, 2), (20, 22), (37, 39)], strict=True):
            assert fault[0] - stride < start <= fault[0] and fault[1] <= end < fault[1] + stride


def test_a_range_is_narrowed_to_its_highest_cover_across_chunks():
    scores = np.array([0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0], float)
    cover = np.array([0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 0, 0], float)  # the second run: no window above
    whole = find_ranges(scores, 0.5, cover)
    assert [(r.start, r.end) for r in whole] == [(3, 4), (9, 10)]  # narrowed; kept whole
    for cut in range(1, 12):
        t = RangeTracker(0.5)
        parts = t.push(scores[:cut], cover[:cut]) + t.push(scores[cut:], cover[cut:]) + t.finish()
        assert parts == whole, cut


@pytest.mark.parametrize("seed", range(20))
def test_a_narrowed_ranges_peak_lies_within_it(seed):
    """The peak came from the whole run of flagged steps: a step outside [start, end] (the
    docstring's det.channel_scores(series)[r.peak_step] then looked up a step not in the range)."""
    rng = np.random.default_rng(seed)
    scores = rng.random(60)
    cover = rng.integers(0, 4, 60).astype(float)
    whole = find_ranges(scores, 0.3, cover)
    for r in whole:
        assert r.start <= r.peak_step <= r.end
        assert r.peak_score == scores[r.start : r.end + 1].max() == scores[r.peak_step]
    for cuts in (rng.choice(np.arange(1, 60), 4, replace=False) for _ in range(5)):
        t = RangeTracker(0.3)
        parts = [
            t.push(s, c)
            for s, c in zip(np.split(scores, np.sort(cuts)), np.split(cover, np.sort(cuts)))
        ]
        assert sum(parts, []) + t.finish() == whole, cuts


def test_metrics():
    y = np.zeros(1000, int)
    y[100:110] = 1
    y[500:520] = 1
    s = np.zeros(1000)
    s[105] = 3.0
    s[800] = 2.0
    m = series_metrics(y, s, 1.0)
    assert m["range_recall"] == 0.5 and m["range_precision"] == 0.5 and m["ucr_score"] == 1
    assert m["n_labelled_ranges"] == 2 and m["n_flagged_ranges"] == 2 and m["top_step"] == 105
    assert ucr_score(y, np.where(np.arange(1000) == 215, 1.0, 0.0)) == 0
    assert range_scores([], []) == {"range_precision": 0.0, "range_recall": 0.0, "range_f1": 0.0}


@pytest.mark.parametrize(
    "params, fit_on, needle",
    [
        (dict(window=0), 200, "window"),
        (dict(window=500), 200, "longer than the training stretch"),
        (dict(window=16, stride=17), 200, "stride"),
        (dict(threshold="fixed"), 200, "fixed"),
        (dict(scaler="zscore"), 200, "scaler"),
    ],
)
def test_bad_parameters(params, fit_on, needle):
    x, _ = sine_series(fit_on, kind="none")
    with pytest.raises(UsageError, match=needle):
        aekit.SeriesDetector(**{**FAST, "epochs": 1, **params}).fit(x)


def test_bad_series(fitted):
    x, _ = sine_series(300, kind="none")
    bad = x.copy()
    bad[40, 0] = np.nan
    with pytest.raises(DataError, match="gap .* step 40.*fill_gaps"):
        fitted.score_samples(bad)
    with pytest.raises(DataError, match="expected numbers"):
        fitted.score_samples(np.array(["a", "b"] * 20))
    sparse = pytest.importorskip("scipy.sparse")
    # a TypeError, as the other estimators' and scikit-learn's (probe 66 sklearn 5: a ValueError)
    with pytest.raises(DataTypeError, match="Sparse data was passed for X.*toarray"):
        fitted.score_samples(sparse.csr_matrix(x))  # was "X has dtype object"
    with pytest.raises(DataError, match="fewer than the window"):
        fitted.score_samples(x[: PERIOD - 1])
    with pytest.raises(DataError, match="labels 0"):
        fitted.evaluate(x, np.full(300, 2))
    with pytest.raises(NotFittedError):
        aekit.SeriesDetector().score_samples(x)


@pytest.mark.parametrize("dtype", ["Float64", "Int64", "float32[pyarrow]", "object"])
def test_pandas_own_dtypes_are_read_as_the_numbers_they_hold(fitted, dtype):
    pd = pytest.importorskip("pandas")
    if "pyarrow" in dtype:
        pytest.importorskip("pyarrow")
    x = np.round(sine_series(300, kind="spike", at=200)[0] * 100)  # whole numbers, for Int64
    frame = pd.DataFrame(x, columns=["value"]).astype(dtype)
    with pytest.warns(UserWarning, match="fitted without channel names"):
        np.testing.assert_array_equal(fitted.score_samples(frame), fitted.score_samples(x))
    gap = frame.astype("Float64").mask(np.arange(300)[:, None] == 7)
    with pytest.raises(DataError, match="gap .* step 7"), pytest.warns(UserWarning):
        fitted.score_samples(gap)  # pd.NA: a gap, as NaN is
    with pytest.raises(DataError, match="expected numbers"), pytest.warns(UserWarning):
        fitted.score_samples(pd.DataFrame({"value": ["a", "b"] * 150}))


def test_numbers_of_several_numpy_dtypes_are_read_and_a_date_column_named(fitted):
    """probe 62 dtypes #7: a frame of a float and a bool column (NumPy makes objects of both), and
    its object array, were refused as "dtype object"; a date column was read as its nanoseconds
    once frames of mixed dtypes were read, and unnamed before."""
    pd = pytest.importorskip("pandas")
    x = sine_series(300, kind="spike", at=200)[0][:, 0]
    flag = np.arange(300) % 40 < 20
    frame = pd.DataFrame({"value": x, "on": flag})
    detector = aekit.SeriesDetector(window=PERIOD, epochs=1, seed=0).fit(frame)
    both = np.column_stack([x, flag]).astype(np.float32)
    np.testing.assert_array_equal(detector.score_samples(frame), detector.score_samples(both))
    np.testing.assert_array_equal(
        detector.score_samples(frame.to_numpy()), detector.score_samples(both)
    )
    when = pd.date_range("2024-01-01", periods=300, freq="min")
    for dated in (frame.assign(time=when), pd.DataFrame({"time": when})):
        with pytest.raises(DataTypeError, match=r"column 'time' has dtype datetime64\[\w+\]; expe"):
            aekit.SeriesDetector(window=PERIOD, epochs=1).fit(dated)
    with pytest.raises(DataTypeError, match="X is a generator; expected a series"):
        aekit.SeriesDetector(window=PERIOD, epochs=1).fit(v for v in x)


def test_a_recording_held_as_channels_by_steps_is_refused_with_the_fix():
    """probe 62 shapes #2: (64, 2000), as MNE and np.stack(channels) give a recording, was fitted
    as 64 steps of 2000 channels and scored with 64 scores, without a word."""
    pd = pytest.importorskip("pandas")
    x = np.sin(np.arange(200) / 9)[None, :] * np.arange(1, 41)[:, None]  # 40 channels x 200 steps
    with pytest.raises(
        DataError,
        match=r"X has shape \(40, 200\): 40 steps of 200 ch.*pass X.T \(if not, name the ch",
    ):
        aekit.SeriesDetector(window=5, epochs=1).fit(x)
    wide = pd.DataFrame(x)  # columns name the channels: taken as they are
    assert aekit.SeriesDetector(window=5, epochs=1).fit(wide).n_features_in_ == 200
    assert aekit.SeriesDetector(window=5, epochs=1).fit(x.T).n_features_in_ == 40


def test_a_chunks_messages_count_steps_from_the_series_start(fitted):
    x, _ = sine_series(300, kind="none")
    late = x[150:].copy()
    late[3, 0] = np.nan
    with pytest.raises(DataError, match="gap .* step 153"):
        list(fitted.iter_scores([x[:150], late]))
    chunks = np.array_split(x, 400)  # more parts than steps: 100 empty chunks
    np.testing.assert_array_equal(
        np.concatenate(list(fitted.iter_scores(chunks))),
        np.concatenate(list(fitted.iter_scores([c for c in chunks if len(c)]))),
    )
    with pytest.raises(TypeError, match=r"array of shape \(300, 1\).*score_samples"):
        list(fitted.iter_scores(x))  # one array, whose rows would each be taken as a chunk


def test_labels_as_a_tensor_that_requires_grad_are_read_as_x_is(fitted):
    x, y = sine_series(1200, kind="spike", at=900, length=8)
    as_tensor = torch.tensor(y, dtype=torch.float32, requires_grad=True)
    assert fitted.evaluate(x, as_tensor) == fitted.evaluate(x, y)


def test_a_value_past_float32_is_named_not_called_infinite(fitted):
    x, _ = sine_series(300, kind="none")
    big = x.astype(np.float64)
    big[250, 0] = 1e39
    with pytest.raises(DataError, match="1e[+]39 at step 250, channel 0: too large for float32"):
        fitted.score_samples(big)


@pytest.mark.parametrize("method", ["neighbors", "both"])
def test_steps_whose_windows_overflow_are_flagged_and_the_others_kept(method):
    """A sentinel of 3e38 in a finite series made its windows' errors NaN: scored NaN, never flagged."""
    rng = np.random.default_rng(0)
    s = (np.sin(np.arange(1400) / 5) + 0.05 * rng.normal(size=1400)).astype(np.float32)
    det = aekit.SeriesDetector(method=method, seed=0, threads=1, device="cpu")
    det.set_params(**({"epochs": 1} if method == "both" else {})).fit(s[:1000])
    clean, test = s[1000:], s[1000:].copy()
    test[200:205] = 3e38
    scores, before = det.score_samples(test), det.score_samples(clean)
    bad = ~np.isfinite(scores)
    assert not np.isnan(scores).any() and bad[200:205].all()
    np.testing.assert_allclose(scores[~bad], before[~bad], rtol=1e-9, atol=1e-12)
    flagged = det.predict(test)
    assert flagged[bad].all() and flagged[200:205].all()
    assert any(r.start <= 200 and r.end >= 204 for r in det.ranges(test))


def test_the_callers_thread_setting_holds_between_streamed_chunks():
    # iter_scores held aekit's thread count across its yields: the caller's loop ran with it
    import torch

    rng = np.random.default_rng(0)
    s = (np.sin(np.arange(3000) / 8)[:, None] + rng.normal(0, 0.05, (3000, 1))).astype(np.float32)
    det = aekit.SeriesDetector(verbose=0, threads=1, epochs=1).fit(s[:1500])
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = [
            torch.get_num_threads()
            for _ in det.iter_scores(s[i : i + 500] for i in range(1500, 3000, 500))
        ]
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {2}


def test_a_frame_fit_records_feature_names_in_and_a_named_series_is_checked(tmp_path):
    """Probe 66 sklearn 7: scikit-learn's tools read ``feature_names_in_`` (absent here), and a
    Series named ``w`` was scored by a detector of ``v`` where the frame of ``w`` was refused."""
    pd = pytest.importorskip("pandas")
    x, _ = sine_series(400, kind="none")
    det = aekit.SeriesDetector(window=PERIOD, **{**FAST, "epochs": 2}).fit(
        pd.DataFrame({"v": x[:, 0]})
    )
    assert list(det.feature_names_in_) == ["v"]
    det.save(tmp_path / "m")
    assert list(aekit.load(tmp_path / "m").feature_names_in_) == ["v"]
    assert det.score_samples(pd.Series(x[:, 0], name="v")).shape == (400,)
    assert det.score_samples(pd.Series(x[:, 0])).shape == (400,)  # no name: taken as it is
    with pytest.raises(DataError, match=r"columns \(w\) are not the channels .*\(v\)"):
        det.score_samples(pd.Series(x[:, 0], name="w"))
    det.fit(x[:300])  # an array: no names
    assert not hasattr(det, "feature_names_in_")
