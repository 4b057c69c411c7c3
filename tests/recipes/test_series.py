"""The series recipe: a run folder from a training stretch or the first N steps, its metrics and figures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.errors import DataError, UsageError
from aekit.recipes import DataSpec, load_run, train_run
from aekit.recipes.series import score_file

from ..synthetic_series import PERIOD, sine_series, write_csv

torch.set_num_threads(1)

FAST = {"channels": (8, 8), "latent_dim": 8, "epochs": 30, "batch_size": 32, "device": "cpu"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("series")
    x, y = sine_series(1200, kind="spike", at=900)
    path = write_csv(folder / "series.csv", x, y)
    spec = DataSpec(data=path, time_column="time", label_column="is_anomaly", train_steps=600)
    est, metrics = train_run("series", FAST, spec, folder / "run")
    return folder, path, est, metrics


def test_run_folder_metrics_and_figures(run):
    folder, _, est, metrics = run
    assert metrics["window"] == PERIOD and "autocorrelation" in metrics["window_source"]
    assert (
        metrics["ucr_score"] == 1 and metrics["range_recall"] == 1.0 and metrics["n_steps"] == 1200
    )
    config = json.loads((folder / "run" / "config.json").read_text())
    assert config["family"] == "series" and config["state"]["window"] == PERIOD
    assert config["data"]["train_steps"] == 600 and config["data"]["time_column"] == "time"
    # the default (the nearest training windows) trains no network: no loss curve to draw
    assert not hasattr(est, "model_")
    assert {p.name for p in (folder / "run" / "figures").iterdir()} == {
        "series.png",
        "top_range.png",
    }
    est2, recipe, _ = load_run(folder / "run")
    assert recipe.name == "series" and est2.window_ == PERIOD


def test_score_file_in_chunks(run, tmp_path):
    folder, path, est, _ = run
    out, ranges = tmp_path / "scores.csv", tmp_path / "ranges.csv"
    spec = DataSpec(time_column="time")
    n, k = score_file(est, path, str(out), ranges_path=str(ranges), spec=spec, chunk_steps=100)
    rows = out.read_text().splitlines()
    assert (
        n == 1200
        and rows[0] == "time,score,is_anomaly"
        and rows[1].startswith("t0,")
        and len(rows) == 1201
    )
    x, _ = sine_series(1200, kind="spike", at=900)
    np.testing.assert_allclose(
        [float(r.split(",")[1]) for r in rows[1:]], est.score_samples(x), rtol=1e-5
    )
    lines = ranges.read_text().splitlines()
    assert (
        lines[0] == "start,end,start_time,end_time,peak_step,peak_score"
        and len(lines) == k + 1 >= 2
    )
    start, end, t_start = lines[1].split(",")[:3]
    assert t_start == f"t{start}" and any(
        int(a) <= 905 <= int(b) for a, b, *_ in (r.split(",") for r in lines[1:])
    )


def test_training_stretch_must_be_normal(tmp_path):
    x, y = sine_series(400, kind="spike", at=100)
    path = write_csv(tmp_path / "s.csv", x, y)
    with pytest.raises(DataError, match="labelled anomalous.*--train-steps 100"):
        train_run(
            "series",
            FAST,
            DataSpec(data=path, time_column="time", label_column="is_anomaly"),
            tmp_path / "r",
        )
    # probe 56 maths 1: the figures cover the whole series (not "the rest is held out")
    with pytest.raises(UsageError, match="--train-steps 400 .*the figures cover the whole series"):
        train_run(
            "series", FAST, DataSpec(data=path, time_column="time", train_steps=400), tmp_path / "r"
        )
    with pytest.raises(UsageError, match="needs --data"):
        train_run("series", FAST, DataSpec(), tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_shared_ucr_series_short_run(shared_data, tmp_path):
    """The real series: the default model, briefly trained, puts its top step inside the labelled anomaly."""
    folder = shared_data / "tsad"
    spec = DataSpec(
        data=str(folder / "135_UCR_Anomaly_InternalBleeding16_TRAIN.csv"),
        time_column="timestamp",
        label_column="is_anomaly",
    )
    est, metrics = train_run(
        "series", {"epochs": 25, "device": "cpu"}, spec, tmp_path / "ucr", figures=False
    )
    from aekit.data.series import read_series

    assert est.window_ == 183 and metrics["n_flagged_ranges"] == 0
    # probe 60 clock L8: the step's time too, from the file's time column
    times = read_series(spec.data, time_column="timestamp").ids
    assert metrics["top_time"] == str(times[len(times) - metrics["n_steps"] + metrics["top_step"]])

    test = read_series(
        folder / "135_UCR_Anomaly_InternalBleeding16_TEST.csv",
        time_column="timestamp",
        label_column="is_anomaly",
    )
    m = est.evaluate(test.x, test.y)
    assert m["ucr_score"] == 1 and 4187 - 100 <= m["top_step"] <= 4198 + 100
