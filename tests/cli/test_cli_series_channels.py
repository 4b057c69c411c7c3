"""``aekit score --channels``: a score column per channel of a series run; refused for a table run
(and ``--feature-errors``, a table run's, refused for a series run)."""

from __future__ import annotations

import csv

import numpy as np
import torch

from aekit.cli.main import main

from ..estimators.series.test_channels import three_channels
from ..synthetic_series import write_csv
from .test_cli_series import FAST

torch.set_num_threads(1)


def test_channels_adds_a_score_per_channel(tmp_path, capsys):
    x = three_channels()
    train = write_csv(tmp_path / "train.csv", x[:1200])
    test = write_csv(tmp_path / "test.csv", x[1200:])
    run = tmp_path / "run"
    argv = ["train", "series", "--data", train, "--time-column", "time", "--method", "neighbors"]
    assert main([*argv, "--out", str(run), *FAST]) == 0
    out = tmp_path / "scores.csv"
    argv = ["score", str(run), "--input", test, "--time-column", "time", "--output", str(out)]
    assert main([*argv, "--channels"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["time", "score", "is_anomaly", "score_c0", "score_c1", "score_c2"]
    top = max(rows, key=lambda r: float(r["score"]))
    assert np.argmax([float(top[f"score_c{c}"]) for c in range(3)]) == 2  # the stuck channel
    plain = tmp_path / "plain.csv"
    argv = ["score", str(run), "--input", test, "--time-column", "time", "--output", str(plain)]
    assert main(argv) == 0
    assert [r["score"] for r in csv.DictReader(plain.open())] == [r["score"] for r in rows]
    capsys.readouterr()  # the training's notes
    assert main([*argv, "--overwrite", "--feature-errors"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--feature-errors does not apply" in err


def test_channels_on_a_table_run_is_one_line(tmp_path, capsys):
    import aekit

    x = np.random.default_rng(0).random((60, 4), dtype=np.float32)
    aekit.AnomalyDetector(epochs=2, device="cpu").fit(x).save(tmp_path / "det")
    np.save(tmp_path / "x.npy", x)
    argv = ["score", str(tmp_path / "det"), "--input", str(tmp_path / "x.npy")]
    assert main([*argv, "--output", str(tmp_path / "s.csv"), "--channels"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--channels does not apply" in err
