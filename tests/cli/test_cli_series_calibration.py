"""A series run with a calibrated per-step false-alarm rate: trained, scored with p-values, recalibrated."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

import aekit
from aekit.cli.main import main

from ..synthetic_series import sine_series, write_csv
from .test_cli_series import FAST

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("series_fpr")
    normal, _ = sine_series(1000, kind="none", seed=1)
    train = write_csv(folder / "train.csv", normal)
    out = folder / "run"
    argv = ["train", "series", "--data", train, "--time-column", "time", "--out", str(out)]
    assert main([*argv, "--threshold", "fpr:0.05", *FAST]) == 0
    return folder, out


def test_scores_carry_p_values_that_match_the_flags(run, capsys):
    folder, out = run
    x, _ = sine_series(1200, kind="spike", at=900, length=6, seed=2)
    test = write_csv(folder / "test.csv", x)
    scores = folder / "scores.csv"
    argv = ["score", str(out), "--input", test, "--output", str(scores), "--time-column", "time"]
    assert main(argv) == 0
    rows = list(csv.DictReader(scores.open()))
    assert list(rows[0]) == ["time", "score", "is_anomaly", "p_value"] and len(rows) == 1200
    p = np.array([float(r["p_value"]) for r in rows])
    flags = np.array([int(r["is_anomaly"]) for r in rows])
    # 200 kept-back steps are 12.5 windows of 16, too few for 5%: flagged at p <= 1 / (m + 1)
    windows = aekit.load(out).calibration_windows_
    np.testing.assert_array_equal(p <= max(0.05, 1 / (windows + 1)), flags == 1)
    assert flags[900:906].all()  # the spike


def test_calibrate_a_series_run_keeps_the_weights(run, capsys):
    folder, out = run
    weights = (out / "model.safetensors").read_bytes()
    normal, _ = sine_series(1500, kind="none", seed=7)
    data = write_csv(folder / "normal.csv", normal)
    argv = ["calibrate", str(out), "--data", data, "--time-column", "time"]
    assert main([*argv, "--threshold", "fpr:0.01"]) == 0
    said = capsys.readouterr().out
    assert "1500 normal steps" in said and "weights unchanged" in said
    assert (out / "model.safetensors").read_bytes() == weights
    config = json.loads((out / "config.json").read_text())
    assert config["params"]["threshold"] == "fpr:0.01"
    assert config["state"]["calibration"]["method"] == "given"
    assert len(config["state"]["calibration"]["scores"]) == 1500


def test_a_series_option_on_a_table_run_is_one_line(tmp_path, capsys):
    import aekit

    x = np.random.default_rng(0).random((60, 4), dtype=np.float32)
    aekit.AnomalyDetector(epochs=2, device="cpu").fit(x).save(tmp_path / "det")
    assert main(["calibrate", str(tmp_path / "det"), "--time-column", "t"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--time-column does not apply" in err


def test_a_trending_stretch_is_said_in_one_line_and_recorded(tmp_path, capsys):
    from ..estimators.series.test_trend import trending

    data = write_csv(tmp_path / "co2.csv", trending()[:3000, None])
    argv = [
        "train",
        "series",
        "--data",
        data,
        "--time-column",
        "time",
        "--out",
        str(tmp_path / "r"),
    ]
    assert main([*argv, *FAST]) == 0
    said = capsys.readouterr()
    lines = [line for line in (said.out + said.err).splitlines() if "trends" in line]
    assert len(lines) == 1 and "--detrend none" in lines[0], said
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (
        config["state"]["detrend"] == "level"
        and "straight line" in config["state"]["detrend_source"]
    )


def test_calibrate_on_a_stretch_moves_the_default_rule(tmp_path, capsys):
    """`aekit calibrate RUN --data FILE` reported 'given' while 'max' kept the training scores."""
    normal, _ = sine_series(1000, kind="none", seed=1)
    train = write_csv(tmp_path / "train.csv", normal)
    out = str(tmp_path / "run")
    argv = ["train", "series", "--data", train, "--time-column", "time", "--out", out]
    assert main([*argv, "--no-figures", "--quiet"]) == 0
    assert main(["calibrate", out]) == 0
    said = capsys.readouterr().out
    assert "threshold max = " in said and "(calibration: training, 1000 normal steps)" in said
    trained = float(said.split(" = ")[1].split()[0])
    noisier = normal + np.random.default_rng(3).normal(0, 0.3, normal.shape).astype(np.float32)
    data = write_csv(tmp_path / "normal.csv", noisier)
    assert main(["calibrate", out, "--data", data, "--time-column", "time"]) == 0
    said = capsys.readouterr().out
    assert "threshold max = " in said and "(calibration: given, 1000 normal steps)" in said
    assert float(said.split(" = ")[1].split()[0]) > 1.5 * trained


def test_a_calibrated_series_run_goes_back_to_max(run, tmp_path, capsys):
    """score and calibrate read --threshold with the table runs' rules, which have no 'max'."""
    folder, out = run
    x, _ = sine_series(400, kind="none", seed=3)
    test = write_csv(tmp_path / "test.csv", x)
    argv = ["score", str(out), "--input", test, "--output", str(tmp_path / "s.csv")]
    assert main([*argv, "--time-column", "time", "--threshold", "max:2"]) == 0
    assert main(["calibrate", str(out), "--threshold", "max"]) == 0
    assert json.loads((out / "config.json").read_text())["params"]["threshold"] == "max"
    assert f"{out}: threshold max = " in capsys.readouterr().out


@pytest.mark.parametrize("command", ["score", "calibrate"])
def test_max_on_a_table_run_is_one_line(tmp_path, capsys, command):
    import aekit

    x = np.random.default_rng(0).random((60, 4), dtype=np.float32)
    aekit.AnomalyDetector(epochs=2, device="cpu").fit(x).save(tmp_path / "det")
    argv = [command, str(tmp_path / "det"), "--threshold", "max:2"]
    if command == "score":
        np.save(tmp_path / "x.npy", x)
        argv += ["--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "s.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--threshold max:2 is a series run's rule" in err, err


def test_calibrate_refuses_a_stretch_with_steps_labelled_anomalous(run, capsys):
    """A stretch holding the label column (the run's, or --label-column) is read with it: steps
    labelled anomalous are refused in one line, as training refuses them, not calibrated on."""
    folder, out = run
    before = (out / "config.json").read_bytes()
    x, y = sine_series(600, kind="spike", at=400, length=5, seed=3)
    data = write_csv(folder / "labelled.csv", x, y)
    argv = ["calibrate", str(out), "--data", data, "--time-column", "time"]
    assert main([*argv, "--label-column", "is_anomaly"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "5 steps labelled anomalous" in err, err
    assert (out / "config.json").read_bytes() == before
    # a series' labels are 0 or 1: --normal-label would be ignored, by calibrate and evaluate
    for command in ("calibrate", "evaluate"):
        argv = [command, str(out), "--data", data, "--time-column", "time", "--normal-label", "1"]
        assert main([*argv, "--label-column", "is_anomaly"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--normal-label does not apply" in err, err
