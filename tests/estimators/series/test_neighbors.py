"""SeriesDetector's nearest-window score (issue 31): the labelled generators, the neighbours' exclusion
zone and sample, each method, save/load, chunked scoring, runs saved before ``method`` existed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import aekit
from aekit.data.labelled_series import KINDS, synthetic_series
from aekit.data.windows import sliding_windows
from aekit.errors import DataError, UsageError
from aekit.estimators.series.neighbors import WindowNeighbors, features, znormalise

torch.set_num_threads(1)
SMALL = dict(n_train=1500, n_test=2500, n_faults=2)
FAST = dict(channels=(8, 8), latent_dim=8, epochs=3, batch_size=64, device="cpu")


@pytest.mark.parametrize("kind", KINDS)
def test_generator_labels_each_fault(kind):
    train, test, y = synthetic_series(kind, channels=3, seed=2, **SMALL)
    again = synthetic_series(kind, channels=3, seed=2, **SMALL)
    assert train.shape == (1500, 3) and test.shape == (2500, 3) and y.shape == (2500,)
    assert np.array_equal(again[1], test) and 0 < y.sum() < 2500
    assert not np.array_equal(synthetic_series(kind, channels=3, seed=3, **SMALL)[1], test)
    clean = synthetic_series(kind, channels=3, seed=2, n_faults=0, n_train=1500, n_test=2500)[1]
    changed = np.flatnonzero(np.any(clean != test, axis=1))
    assert set(changed) <= set(
        np.flatnonzero(y)
    )  # only labelled steps differ from the clean signal


def test_unknown_kind_refused():
    with pytest.raises(UsageError, match="kind must be one of"):
        synthetic_series("tsunami")


def test_znormalise_flat_windows_are_zero():
    w = torch.tensor([[[2.0, 2.0, 2.0], [0.0, 1.0, 2.0]]])
    z = znormalise(w)
    assert z[0, 0].abs().max() == 0 and torch.allclose(z[0, 1].pow(2).mean(), torch.tensor(1.0))


def test_own_distances_skip_the_window_itself():
    x = np.sin(np.arange(600) / 4.0)[:, None].astype(np.float32)
    x[300:310, 0] += 3.0  # a shape seen once: its nearest neighbour a window away is far
    nn = WindowNeighbors(10_000).fit(x, 25)
    own = nn.train_distances()[:, 0]
    assert own.shape == (576,) and own[290] > 5 * np.median(own) > 0
    sampled = WindowNeighbors(100).fit(x, 25)
    assert len(sampled.starts_) <= 100 and sampled.references_.shape[1:] == (1, 25)


@pytest.mark.parametrize("method", ["neighbors", "both", "reconstruction"])
def test_each_method_finds_a_flat_lined_sensor(method, tmp_path):
    train, test, y = synthetic_series("flatline", channels=2, seed=0, **SMALL)
    det = aekit.SeriesDetector(method=method, **FAST).fit(train)
    assert det.method_ == method and hasattr(det, "model_") == (method != "neighbors")
    assert hasattr(det, "neighbors_") == (method != "reconstruction")
    scores = det.score_samples(test)
    assert det.threshold_ > 0 and scores.shape == (2500,)
    if method != "reconstruction":  # 3 epochs of training are too few for the network alone
        assert det.evaluate(test, y)["roc_auc"] > 0.9
    det.save(tmp_path / "m")
    back = aekit.load(tmp_path / "m")
    assert back.method_ == method and back.threshold_ == pytest.approx(det.threshold_)
    np.testing.assert_allclose(back.score_samples(test), scores, rtol=1e-4, atol=1e-6)
    chunks = [test[:7], test[7:1300], test[1300:]]
    np.testing.assert_allclose(np.concatenate(list(det.iter_scores(chunks))), scores, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_the_neighbours_rank_each_fault_first(kind):
    train, test, y = synthetic_series(kind, channels=2, seed=1, **SMALL)
    det = aekit.SeriesDetector(method="neighbors", device="cpu").fit(train)
    m = det.evaluate(test, y)
    assert det.method_ == "neighbors" and det._aggregate() == "mean"
    assert m["roc_auc"] > 0.9


def test_bad_method_refused():
    with pytest.raises(UsageError, match="method"):
        aekit.SeriesDetector(method="knn").fit(np.sin(np.arange(300.0)))
    with pytest.raises(UsageError, match="references"):
        aekit.SeriesDetector(references=0).fit(np.sin(np.arange(300.0)))


def test_a_run_saved_before_method_scores_by_reconstruction(tmp_path):
    train, test, _ = synthetic_series("spike", channels=1, seed=0, **SMALL)
    det = aekit.SeriesDetector(method="reconstruction", **FAST).fit(train)
    det.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    for key in ("method", "references"):
        config["params"].pop(key)
    for key in ("method", "reconstruction_scale"):
        config["state"].pop(key)
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    back = aekit.load(tmp_path / "m")
    assert back.method == back.method_ == "reconstruction"
    np.testing.assert_allclose(back.score_samples(test), det.score_samples(test), rtol=1e-4)


def test_auto_level_weighs_levels_fully_unless_detrended_by_level(tmp_path):
    """level="auto": 1 on a stretch modelled as it is, 0.3 on one detrended by "level" (a fault
    moves the window mean that stretch subtracts for a window after it); recorded with the run, and
    a run saved before "auto" keeps the weight it was fitted with."""
    train, test, _ = synthetic_series("level_shift", channels=1, seed=0, **SMALL)
    det = aekit.SeriesDetector(device="cpu").fit(train)
    assert det.detrend_ == "none" and det.level_ == 1.0
    heavy = det.neighbors_.references_[0, 0, -2:]  # (mean, std) appended, times sqrt(level * W)
    light = aekit.SeriesDetector(level=0.3, device="cpu").fit(train).neighbors_.references_
    np.testing.assert_allclose(heavy, light[0, 0, -2:] * np.sqrt(1 / 0.3), rtol=1e-5)
    climbing = (np.sin(np.arange(3000) * 2 * np.pi / 40) + 0.002 * np.arange(3000))[:, None]
    assert aekit.SeriesDetector(device="cpu").fit(climbing).level_ == 0.3
    det.save(tmp_path / "m")
    assert aekit.load(tmp_path / "m").level_ == 1.0
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["params"]["level"] = 1.0  # as a run fitted with level=1 before "auto" recorded it
    config["state"].pop("level_weight")
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    back = aekit.load(tmp_path / "m")
    assert back.level_ == 1.0
    np.testing.assert_allclose(back.score_samples(test), det.score_samples(test), rtol=1e-5)


def test_distances_are_in_units_of_the_neighbourhood_they_land_in():
    """A clean stretch then a noisy one: the clean references' neighbourhoods are tighter, and a
    window's distance is divided by the mean of its nearest reference's and the channel's."""
    rng = np.random.default_rng(0)
    t = np.arange(4000)
    x = np.sin(2 * np.pi * t / 40)
    x[2000:] += 0.3 * rng.standard_normal(2000)  # the second half loose
    x = x[:, None].astype(np.float32)
    nn = WindowNeighbors(10_000, level=0.0).fit(x, 40)
    local = nn.local_[0]
    assert local.shape == (len(nn.starts_),)
    assert np.median(local[2100:3900]) > 4 * np.median(local[100:1900])
    fresh = x + 0.05 * rng.standard_normal(x.shape).astype(np.float32)
    queries = np.ascontiguousarray(sliding_windows(fresh, 40)[[500, 3000]])
    raw, idx = nn._nearest(features(torch.from_numpy(queries), 0.0), 1)
    assert raw.min() > 0
    expected = raw[:, 0, 0] / ((local[idx[:, 0, 0]] + nn.scale_[0]) / 2)
    np.testing.assert_allclose(nn.distances(queries)[:, 0], expected, rtol=1e-6)
    # the same raw distance counts more in the clean stretch than in the noisy one
    assert 1 / ((local[500] + nn.scale_[0]) / 2) > 2 / ((local[3000] + nn.scale_[0]) / 2)


def test_network_options_given_to_the_neighbours_are_named_in_one_note(caplog):
    x = np.sin(np.arange(1500) / 5.0)
    with caplog.at_level("WARNING", logger="aekit.notes"):
        aekit.SeriesDetector(epochs=3, channels=(8, 8), device="cpu").fit(x)
    assert [r.getMessage() for r in caplog.records] == [
        "channels, epochs set the autoencoder's training, and method='neighbors' trains none: "
        "they are not used; give method='reconstruction' (or 'both') to train it"
    ]
    caplog.clear()
    with caplog.at_level("WARNING", logger="aekit.notes"):
        aekit.SeriesDetector(device="cpu").fit(x)
        aekit.SeriesDetector(method="both", epochs=1, device="cpu").fit(x)
    assert not caplog.records


@pytest.mark.parametrize(
    "steps, params, needle",
    [
        (
            40,
            {},
            "40 steps is too short .* window of 30: the training window at step 0 .* 89 steps",
        ),
        (88, {}, "88 steps is too short .* at step 29 has no other window 30 or more steps away"),
        (88, dict(references=10), "at least 89 steps .*, a smaller window or more references"),
        (300, dict(references=1), "references=1 keeps too few .* give more references"),
    ],
)
def test_a_stretch_too_short_for_the_exclusion_zone_is_one_line(steps, params, needle):
    """Each training window is compared with windows a window or more away: under 3 windows less
    one step some have none, and their NaN scores failed every later call as 'extreme values'."""
    x = np.sin(np.arange(steps) * 2 * np.pi / 30)
    with pytest.raises(DataError, match=needle):
        aekit.SeriesDetector(window=30, device="cpu", **params).fit(x)


@pytest.mark.parametrize("steps, stride", [(89, 1), (80, 10), (300, 1)])
def test_a_stretch_each_window_of_which_has_a_neighbour_fits(steps, stride):
    x = np.sin(np.arange(steps) * 2 * np.pi / 30)
    det = aekit.SeriesDetector(window=30, stride=stride, references=2 if steps == 300 else 50_000)
    assert np.isfinite(det.set_params(device="cpu").fit(x).threshold_)


@pytest.mark.parametrize(
    "params, said",
    [
        (
            dict(error="mae"),
            "error set the autoencoder's training, and method='neighbors' trains none: they are "
            "not used; give method='reconstruction' (or 'both') to train it",
        ),
        (
            dict(method="reconstruction", level=5.0, references=3, epochs=1, channels=(4,)),
            "references, level set the neighbours' search, and method='reconstruction' has none: "
            "they are not used; give method='neighbors' (or 'both') to search them",
        ),
    ],
)
def test_the_other_methods_options_are_named_in_one_note(caplog, params, said):
    """error under the neighbours, references and level under reconstruction changed nothing, unsaid."""
    x = np.sin(np.arange(600) / 5.0)
    with caplog.at_level("WARNING", logger="aekit.notes"):
        aekit.SeriesDetector(device="cpu", **params).fit(x)
    assert [r.getMessage() for r in caplog.records] == [said]
