"""A series is read the same way by ``aekit train series``, ``score`` and ``evaluate``: ``--time-column``,
``--label-column`` and ``--fill`` on each, checked against what the run recorded (issue 31)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aekit.cli.main import main

from ..synthetic_series import sine_series, write_csv

torch.set_num_threads(1)
# neighbours alone: no network to train, so the run takes a second
FAST = ["--method", "neighbors", "--device", "cpu", "--quiet", "--no-figures"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("series_options")
    normal, _ = sine_series(600, kind="none", seed=1)
    train = write_csv(folder / "train.csv", normal, np.zeros(600, np.int64))
    x, y = sine_series(1200, kind="pattern", at=800, length=10)
    x[300, 0] = np.nan  # a gap: read with --fill linear, as the run was trained
    test = write_csv(folder / "test.csv", x, y)
    args = ["train", "series", "--data", train, "--time-column", "time"]
    args += ["--label-column", "is_anomaly", "--fill", "linear", "--out", str(folder / "run")]
    assert main([*args, *FAST]) == 0
    return folder, test


def test_evaluate_with_the_training_options(run, capsys):
    folder, test = run
    out = folder / "m.json"
    args = ["evaluate", str(folder / "run"), "--data", test, "--time-column", "time"]
    args += ["--label-column", "is_anomaly", "--fill", "linear", "--output", str(out)]
    assert main(args) == 0
    m = json.loads(out.read_text())
    assert m["ucr_score"] == 1 and m["roc_auc"] > 0.9


def test_score_with_the_training_options(run, tmp_path):
    folder, test = run
    scores = tmp_path / "s.csv"
    args = ["score", str(folder / "run"), "--input", test, "--output", str(scores)]
    args += ["--time-column", "time", "--label-column", "is_anomaly", "--fill", "linear"]
    assert main(args) == 0
    lines = scores.read_text().splitlines()
    assert lines[0] == "time,score,is_anomaly" and len(lines) == 1201


@pytest.mark.parametrize("command", ["evaluate", "score"])
@pytest.mark.parametrize(
    "options, needle",
    [
        (["--time-column", "value"], "--time-column value contradicts"),
        (["--label-column", "value"], "--label-column value contradicts"),
        (["--fill", "previous"], "--fill previous contradicts"),
    ],
)
def test_contradicting_options_refused_in_one_line(run, tmp_path, capsys, command, options, needle):
    folder, test = run
    if command == "evaluate":
        args = ["evaluate", str(folder / "run"), "--data", test]
    else:
        args = ["score", str(folder / "run"), "--input", test, "--output", str(tmp_path / "s.csv")]
    assert main([*args, *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "s.csv").exists()


def test_the_runs_own_data_read_another_way_refused(run, capsys):
    """Without --data, evaluate reads the file the run was trained on: its columns are the run's."""
    folder, _ = run
    assert main(["evaluate", str(folder / "run"), "--label-column", "other"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trained with --label-column is_anomaly" in err[0], err
    assert main(["evaluate", str(folder / "run"), "--label-column", "is_anomaly"]) == 0


def test_a_channel_as_label_refused(tmp_path, capsys):
    """A run trained without a label column: --label-column naming one of its channels is refused."""
    x, _ = sine_series(600, channels=2, kind="none", seed=1)
    data = write_csv(tmp_path / "train.csv", x)
    run = str(tmp_path / "run")
    assert (
        main(["train", "series", "--data", data, "--time-column", "time", "--out", run, *FAST]) == 0
    )
    assert main(["evaluate", run, "--data", data, "--label-column", "c1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'c1' is one of its channels" in err[0], err


def test_patience_is_refused_as_the_image_cli_refuses_it(tmp_path, capsys):
    """probe 60 training 8: `aekit train series --patience 2` trained with a note worded for
    Python ("leave patience out") where the image CLI refuses --patience in one line."""
    x, _ = sine_series(300, channels=1, kind="none", seed=1)
    data = write_csv(tmp_path / "train.csv", x)
    argv = ["train", "series", "--data", data, "--out", str(tmp_path / "run"), "--patience", "2"]
    assert main([*argv, *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--patience does not apply to a series" in err[0], err
    assert not (tmp_path / "run").exists()


def test_series_options_refused_for_a_table_run(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n" + "\n".join(f"{u:.3f},{v:.3f}" for u, v in rng.random((200, 2))) + "\n")
    run = str(tmp_path / "run")
    train = ["train", "anomaly", "--data", str(rows), "--epochs", "1", "--out", run]
    assert main([*train, "--device", "cpu", "--quiet", "--no-figures"]) == 0
    capsys.readouterr()
    assert main(["evaluate", run, "--data", str(rows), "--time-column", "t"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--time-column does not apply" in err[0], err


@pytest.mark.parametrize("level, code", [("auto", 0), ("0.5", 0), ("-1", 2), ("heavy", 2)])
def test_level_auto_or_a_weight(run, tmp_path, capsys, level, code):
    folder, _ = run
    train = ["train", "series", "--data", str(folder / "train.csv"), "--time-column", "time"]
    train += ["--label-column", "is_anomaly", "--fill", "linear", "--out", str(tmp_path / "r")]
    try:  # argparse refuses a bad value itself (SystemExit 2)
        got = main([*train, "--level", level, *FAST])
    except SystemExit as exc:
        got = exc.code
    assert got == code
    if code:
        err = capsys.readouterr().err
        assert "--level" in err and "Traceback" not in err
        return
    state = json.loads((tmp_path / "r" / "config.json").read_text())["state"]
    assert state["level_weight"] == (1.0 if level == "auto" else 0.5)


@pytest.mark.parametrize(
    "options, needle",
    [
        (
            ["--q", "10"],
            "--q does not apply to the threshold rule 'max'; add --threshold percentile",
        ),
        (["--k", "9", "--contamination", "0.4"], "--k does not apply to the threshold rule 'max'"),
        (["--threshold", "fpr:0.01", "--margin", "3"], "--margin does not apply to the threshold "),
        (["--threshold", "max:2", "--margin", "3"], "give --threshold max:3, or drop --margin"),
    ],
)
def test_train_refuses_a_rule_option_its_rule_does_not_read(run, tmp_path, capsys, options, needle):
    """Trained with the threshold as without them (1.73968 either way), without a word."""
    folder, _ = run
    args = ["train", "series", "--data", str(folder / "train.csv"), "--time-column", "time"]
    assert main([*args, "--out", str(tmp_path / "r"), *options, *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "options, said",
    [
        (
            ["--error", "mae"],
            "aekit: note: --error set the autoencoder's training, and --method neighbors trains "
            "none: they are not used; give --method reconstruction (or 'both') to train it",
        ),
        (
            ["--method", "reconstruction", "--epochs", "1", "--level", "5", "--references", "3"],
            "aekit: note: --references, --level set the neighbours' search, and "
            "--method reconstruction has none: they are not used; give --method neighbors (or "
            "'both') to search them",
        ),
    ],
)
def test_the_other_methods_options_are_noted(run, tmp_path, capsys, options, said):
    """Trained with the same threshold as without them, and no word; said as the options typed
    (it said ``give method='reconstruction' or 'both'``, Python's form)."""
    folder, _ = run
    args = ["train", "series", "--data", str(folder / "train.csv"), "--time-column", "time"]
    args += ["--out", str(tmp_path / "r"), "--device", "cpu", "--quiet", "--no-figures"]
    assert main([*args, *options]) == 0
    assert said in capsys.readouterr().err


def test_nproc_with_the_neighbours_is_one_line(run, tmp_path, capsys):
    """The neighbours train no network: N processes would each search them (as an image bank's)."""
    folder, _ = run
    args = ["train", "series", "--data", str(folder / "train.csv"), "--nproc", "2"]
    assert main([*args, "--out", str(tmp_path / "r"), *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--nproc 2 does not apply to method 'neighbors'" in err[0], err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "option",
    [
        "--tensorboard",
        "--no-latent",
        "--encoder=tests.nets:MLPEncoder",
        "--decoder=tests.nets:MLPDecoder",
    ],
)
def test_network_options_with_the_neighbours_are_one_line_not_ignored(
    run, tmp_path, capsys, option
):
    # exit 0, no logs and no word: the neighbours train no network
    folder, _ = run
    args = ["train", "series", "--data", str(folder / "train.csv"), option]
    assert main([*args, "--out", str(tmp_path / "r"), *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    name = option.split("=")[0]
    assert len(err) == 1 and f"{name} does not apply to method 'neighbors'" in err[0], err


def test_ranges_written_where_the_step_scores_go_are_refused_whatever_the_spelling(
    run, tmp_path, capsys, monkeypatch
):
    # compared as strings, ./s.csv and s.csv were two files: the ranges replaced the step scores
    folder, test = run
    monkeypatch.chdir(tmp_path)
    base = ["score", str(folder / "run"), "--input", test, "--time-column", "time"]
    base += ["--label-column", "is_anomaly", "--fill", "linear"]
    assert main([*base, "--output", "s.csv", "--ranges", "./s.csv"]) == 2
    assert "--output and --ranges are both" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()
    # a refused --ranges is named as --ranges
    assert main([*base, "--output", "t.csv", "--ranges", test]) == 2
    assert "--ranges" in capsys.readouterr().err.split("is the input")[0]


def test_columns_name_the_channels_and_a_text_column_says_so(tmp_path, capsys):
    normal, _ = sine_series(600, kind="none", seed=2)
    lines = ["time,value,state"] + [f"{i},{v:.5f},{'on' if i % 50 < 25 else 'off'}"
                                    for i, v in enumerate(normal[:, 0])]  # fmt: skip
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    args = ["train", "series", "--data", str(tmp_path / "s.csv"), "--time-column", "time"]
    assert main([*args, "--out", str(tmp_path / "r0"), *FAST]) == 2  # a text column: one line
    assert "--columns naming the channels" in capsys.readouterr().err
    assert main([*args, "--columns", "value", "--out", str(tmp_path / "r"), *FAST]) == 0
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["state"]["channel_names"] == ["value"]
    scores = tmp_path / "scores.csv"
    argv = [
        "score",
        str(tmp_path / "r"),
        "--input",
        str(tmp_path / "s.csv"),
        "--output",
        str(scores),
    ]
    assert main(argv) == 0 and len(scores.read_text().splitlines()) == 601


def test_a_time_column_given_by_index_is_recorded_by_name(tmp_path):
    # recorded as "0", a later file's first column was taken for the time: there, the labels
    normal, _ = sine_series(600, kind="none", seed=3)
    train = write_csv(tmp_path / "train.csv", normal, np.zeros(600, np.int64))
    args = ["train", "series", "--data", train, "--time-column", "0", "--label-column", "-1"]
    assert main([*args, "--out", str(tmp_path / "r"), *FAST]) == 0
    data = json.loads((tmp_path / "r" / "config.json").read_text())["data"]
    header = (tmp_path / "train.csv").read_text().splitlines()[0].split(",")
    assert (data["time_column"], data["label_column"]) == (header[0], header[-1])


def test_evaluate_refuses_a_tables_options_as_score_does(run, capsys):
    folder, test = run
    args = ["evaluate", str(folder / "run"), "--data", test, "--time-column", "time"]
    args += ["--label-column", "is_anomaly", "--fill", "linear", "--id-column", "value"]
    assert main(args) == 2  # it was accepted, and changed nothing
    assert "--id-column does not apply to" in capsys.readouterr().err
