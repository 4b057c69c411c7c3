"""``aekit train series``, ``aekit score`` and ``aekit evaluate`` on a series; one-line errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.cli.main import main

from ..synthetic_series import PERIOD, sine_series, write_csv
from .helpers import assert_one_line_error, run_cli

torch.set_num_threads(1)
FAST = [
    "--channels",
    "8,8",
    "--latent-dim",
    "8",
    "--epochs",
    "30",
    "--batch-size",
    "32",
    "--device",
    "cpu",
    "--quiet",
    "--no-figures",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_series")
    normal, _ = sine_series(600, kind="none", seed=1)
    train = write_csv(folder / "train.csv", normal, np.zeros(600, np.int64))
    x, y = sine_series(1200, kind="pattern", at=800, length=10)
    test = write_csv(folder / "test.csv", x, y)
    assert (
        main(
            [
                "train",
                "series",
                "--data",
                train,
                "--time-column",
                "time",
                "--label-column",
                "is_anomaly",
                "--out",
                str(folder / "run"),
                *FAST,
            ]
        )
        == 0
    )
    return folder, test


def test_train_score_ranges_evaluate(trained, capsys):
    folder, test = trained
    config = json.loads((folder / "run" / "config.json").read_text())
    assert (
        config["state"]["window"] == PERIOD
        and "autocorrelation" in config["state"]["window_source"]
    )
    scores, ranges = folder / "scores.csv", folder / "ranges.csv"
    assert (
        main(
            [
                "score",
                str(folder / "run"),
                "--input",
                test,
                "--output",
                str(scores),
                "--ranges",
                str(ranges),
            ]
        )
        == 0
    )
    assert "1200 step scores" in capsys.readouterr().out
    lines = scores.read_text().splitlines()
    assert (
        lines[0] == "time,score,is_anomaly"
        and len(lines) == 1201
        and lines[801].startswith("t800,")
    )
    top = max(range(1200), key=lambda i: float(lines[i + 1].split(",")[1]))
    assert 800 - PERIOD <= top <= 810 + PERIOD
    assert ranges.read_text().splitlines()[0].startswith("start,end")
    out = folder / "metrics.json"
    assert (
        main(
            [
                "evaluate",
                str(folder / "run"),
                "--data",
                test,
                "--label-column",
                "is_anomaly",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    m = json.loads(out.read_text())
    assert m["ucr_score"] == 1 and m["roc_auc"] > 0.9 and {"pr_auc", "range_f1", "window"} <= set(m)
    # the scores file is never replaced without --overwrite
    assert main(["score", str(folder / "run"), "--input", test, "--output", str(scores)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    "rows, options, needle",
    [
        (
            ["time,value", *[f"{i},{np.sin(i / 3):.4f}" for i in range(10)]],
            [],
            "fewer than the window",
        ),
        (
            ["time,value", "0,1.0", "1,", *[f"{i},{np.sin(i / 3):.4f}" for i in range(2, 60)]],
            [],
            "--fill",
        ),
        (
            ["time,value", "0,1.0", "1,one", *[f"{i},{np.sin(i / 3):.4f}" for i in range(2, 60)]],
            [],
            "not a number",
        ),
        (
            [
                "time,value,lab",
                "0,1.0,0",
                "1,2.0,3",
                *[f"{i},{np.sin(i / 3):.4f},0" for i in range(2, 60)],
            ],
            ["--label-column", "lab"],
            "labels 0",
        ),
    ],
)
def test_bad_series_to_score_one_line(trained, tmp_path, capsys, rows, options, needle):
    folder, _ = trained
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(rows) + "\n")
    if options:  # labels are read by evaluate
        args = ["evaluate", str(folder / "run"), "--data", str(bad), *options]
    else:
        args = [
            "score",
            str(folder / "run"),
            "--input",
            str(bad),
            "--output",
            str(tmp_path / "s.csv"),
        ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle.lower() in err[0].lower(), err
    assert not (tmp_path / "s.csv").exists()


def test_fill_makes_a_gappy_series_scoreable(trained, tmp_path, capsys):
    folder, _ = trained
    x, _ = sine_series(300, kind="none")
    path = tmp_path / "gappy.csv"
    write_csv(path, x)
    lines = path.read_text().splitlines()
    lines[50] = "t49,"
    path.write_text("\n".join(lines) + "\n")
    assert (
        main(
            [
                "score",
                str(folder / "run"),
                "--input",
                str(path),
                "--output",
                str(tmp_path / "s.csv"),
                "--fill",
                "linear",
            ]
        )
        == 0
    )
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 301


def test_bad_training_options_one_line(tmp_path):
    """In a real process: exit 2, one line, no traceback, no run folder left."""
    x, _ = sine_series(300, kind="none")
    path = write_csv(tmp_path / "s.csv", x)
    for options, needle in (
        (["--window", "0"], "window of at least 2"),
        (["--window", "5000"], "longer than the training stretch"),
        (["--window", "120"], "300 steps is too short for the neighbours with a window of 120"),
    ):
        proc = run_cli(
            "train",
            "series",
            "--data",
            path,
            "--time-column",
            "time",
            *options,
            "--out",
            str(tmp_path / "run"),
            "--quiet",
            check=None,
            env={"OMP_NUM_THREADS": "1"},
        )
        assert_one_line_error(proc, 2, needle)
        assert not (tmp_path / "run").exists()


def test_baselines_refused_in_one_line(trained, capsys):
    """Steps are scored from overlapping windows; scikit-learn's baselines score rows: one line."""
    folder, test = trained
    code = main(["evaluate", str(folder / "run"), "--data", test, "--baselines"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "a series run scores steps" in err
