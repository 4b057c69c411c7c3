"""The grouped nearest-neighbour search (issue 31's scoring speed): the same nearest references as
comparing every one, on data where the bound prunes much, little, or ties abound; and the series
detector's scores the same through it as without it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aekit
import aekit.estimators.series.neighbors as neighbors_module
from aekit.data.labelled_series import synthetic_series
from aekit.data.windows import sliding_windows
from aekit.estimators.series.index import ClusterIndex, kmeans
from aekit.estimators.series.neighbors import WindowNeighbors

torch.set_num_threads(1)


def _brute(queries: torch.Tensor, refs: torch.Tensor) -> torch.Tensor:
    """The distance of each query to its nearest reference, comparing every one."""
    return torch.cdist(queries.double(), refs.double()).min(dim=1).values


def _found(index: ClusterIndex, queries: torch.Tensor, refs: torch.Tensor) -> torch.Tensor:
    nearest, found = index.nearest(queries)
    assert found.all()
    return (queries.double() - refs[nearest].double()).norm(dim=1)


def _cases():
    g = torch.Generator().manual_seed(0)
    gauss = torch.randn(3000, 8, generator=g)
    # tight groups far apart: the bound skips most groups
    centres = 20 * torch.randn(30, 16, generator=g)
    clustered = centres.repeat_interleave(100, dim=0) + 0.1 * torch.randn(3000, 16, generator=g)
    # many exact duplicates: ties everywhere
    dup = torch.randint(0, 4, (2000, 6), generator=g).float()
    return {"gauss": gauss, "clustered": clustered, "duplicates": dup}


@pytest.mark.parametrize("name", ["gauss", "clustered", "duplicates"])
def test_nearest_is_the_nearest_of_all(name):
    refs = _cases()[name]
    g = torch.Generator().manual_seed(1)
    queries = torch.cat(
        [
            refs[:50] + 0.01 * torch.randn(50, refs.shape[1], generator=g),  # near a reference
            refs[100:120],  # on one
            3 * torch.randn(200, refs.shape[1], generator=g),  # anywhere
            refs.mean(dim=0, keepdim=True) + 100.0,  # far from all
        ]
    )
    index = ClusterIndex(refs)
    found, brute = _found(index, queries, refs), _brute(queries, refs)
    assert torch.allclose(found, brute, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_a_handful_of_references(n):
    refs = torch.arange(n * 3, dtype=torch.float32).reshape(n, 3)
    queries = torch.tensor([[0.0, 0.0, 0.0], [100.0, 100.0, 100.0], [4.2, 4.0, 5.1]])
    index = ClusterIndex(refs)
    assert torch.allclose(_found(index, queries, refs), _brute(queries, refs))


def test_groups_cover_every_reference_once():
    refs = _cases()["clustered"]
    index = ClusterIndex(refs)
    assert sorted(index.ids.tolist()) == list(range(len(refs)))
    assert index.offsets[-1] == len(refs) and len(index.offsets) == len(index.centres) + 1
    # every member lies within its group's radius of its centre
    for m in range(len(index.centres)):
        lo, hi = index.offsets[m], index.offsets[m + 1]
        assert hi > lo  # no empty group is kept
        far = (index.rows[lo:hi] - index.centres[m]).norm(dim=1).max()
        assert far <= index.radius[m]


def test_kmeans_is_seeded():
    refs = _cases()["gauss"]
    a, b = kmeans(refs, 40, seed=3), kmeans(refs, 40, seed=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_excluded_runs_are_skipped():
    refs = _cases()["clustered"]
    g = torch.Generator().manual_seed(2)
    queries = refs[::50] + 0.01 * torch.randn(60, refs.shape[1], generator=g)
    # each query skips the 400 references around the one it was made from; one skips them all
    lo = torch.clamp(torch.arange(0, 3000, 50) - 200, min=0)
    hi = torch.arange(0, 3000, 50) + 200
    lo[7], hi[7] = 0, len(refs)
    nearest, found = ClusterIndex(refs).nearest(queries, (lo, hi))
    d = torch.cdist(queries.double(), refs.double())
    for j in range(len(queries)):
        d[j, lo[j] : hi[j]] = float("inf")
    assert found.tolist() == [j != 7 for j in range(60)]
    outside = (nearest < lo) | (nearest >= hi)
    assert outside[found].all()
    got = (queries.double() - refs[nearest].double()).norm(dim=1)
    assert torch.allclose(got[found], d.min(dim=1).values[found], rtol=1e-5)


def _noisy_sine(n: int, channels: int = 1) -> np.ndarray:
    t = np.arange(n)[:, None]
    rng = np.random.default_rng(0)
    x = np.sin(2 * np.pi * t / (40 + 7 * np.arange(channels))) + 0.1 * rng.standard_normal(
        (n, channels)
    )
    return x.astype(np.float32)


def _same_but_ties(a: np.ndarray, b: np.ndarray) -> None:
    """Equal, but where two references lie within float32's rounding of each other: the two
    searches may pick either (and its neighbourhood), as two orders of one product may."""
    close = np.isclose(a, b, rtol=1e-6, atol=1e-7)
    assert close.mean() >= 0.999, f"{(~close).sum()} of {close.size} differ"


def test_window_neighbors_same_distances_with_and_without_the_index(monkeypatch):
    x = _noisy_sine(9000, channels=2)
    nn = WindowNeighbors(50_000, level=0.3).fit(x[:6000], 40)
    windows = sliding_windows(x[5000:], 40)[:2000]
    queries = neighbors_module.features(torch.from_numpy(np.ascontiguousarray(windows)), 0.3)
    assert len(nn.references_) >= neighbors_module.INDEXED
    indexed, nearest = nn.distances(windows), nn._nearest(queries)[0]
    assert nn._index is not None  # this batch went through the groups
    monkeypatch.setattr(neighbors_module, "INDEXED", 10**9)  # every reference, one product
    nn._index = None
    # the nearest distance itself agrees to float32's rounding everywhere
    np.testing.assert_allclose(nearest, nn._nearest(queries)[0], rtol=1e-5)
    _same_but_ties(indexed, nn.distances(windows))


def test_training_distances_same_with_and_without_the_index(monkeypatch):
    """The training stretch's own scores: each window's neighbour sought a window or more away."""
    x = _noisy_sine(7000, channels=2)
    nn = WindowNeighbors(50_000, level=0.3).fit(x, 40)
    indexed = nn.train_distances()
    assert nn._index is not None
    monkeypatch.setattr(neighbors_module, "INDEXED", 10**9)
    nn._index = None
    np.testing.assert_allclose(indexed, nn.train_distances(), rtol=1e-5)


def test_detector_scores_the_same_through_the_index(monkeypatch):
    train, test, y = synthetic_series("spike", channels=1, seed=0, n_train=6000, n_test=4000)
    det = aekit.SeriesDetector(device="cpu").fit(train)
    fast = det.score_samples(test)
    assert det.neighbors_._index is not None
    monkeypatch.setattr(neighbors_module, "INDEXED", 10**9)
    det.neighbors_._index = None
    _same_but_ties(fast, det.score_samples(test))
    assert y.sum() > 0 and fast[y == 1].max() > np.quantile(fast[y == 0], 0.99)


def test_a_batch_of_long_windows_of_many_channels_stays_bounded():
    import aekit.estimators.series.detector as detector_module

    det = aekit.SeriesDetector()
    det.input_shape_, det.window_ = (1, 50), 50
    assert det._window_batch() == detector_module.NEIGHBOR_BATCH  # short windows: the full batch
    det.input_shape_, det.window_ = (8, 621), 621
    batch = det._window_batch()
    assert detector_module.WINDOW_BATCH <= batch < detector_module.NEIGHBOR_BATCH
    assert batch * 8 * 621 <= detector_module.NEIGHBOR_CELLS


def test_a_window_alone_finds_the_reference_it_finds_among_thousands():
    """Probe 63 repro #1: the nearest reference was picked by a float32 product whose rounding
    differs with the batch's shape, so references within it of each other were picked one way
    for a recording scored whole and another way for it streamed a step at a time (iter_scores):
    another local scale, a window's distance 13% apart, a step's score 0.6%."""
    from aekit.estimators.series.trend import delevel

    rng = np.random.default_rng(0)

    def signal(n, start=0):
        t = np.arange(n) + start
        return (np.sin(t * 2 * np.pi / 50) + 0.002 * t + 0.05 * rng.normal(size=n)).astype(
            np.float32
        )

    train, test = signal(3000), signal(5000, 3000)
    test[2500] += 5.0
    det = aekit.SeriesDetector(seed=0, threads=1, detrend="level", device="cpu").fit(train)
    x = det.scaler_.transform(delevel(test[:, None], det.window_))
    windows = np.lib.stride_tricks.sliding_window_view(x, det.window_, axis=0).copy()  # (n, C, w)
    whole = det.neighbors_.distances(windows)
    picked = np.r_[2890:2930, 3990:4020]  # where the float32 picks differed on this machine
    alone = np.concatenate([det.neighbors_.distances(windows[i : i + 1]) for i in picked])
    np.testing.assert_array_equal(alone, whole[picked])
