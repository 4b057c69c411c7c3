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


def test_label_column_is_left_out_of_an_unnamed_models_channels(tmp_path, capsys):
    """probe 56 surfaces #6: a SeriesDetector fitted on an array and saved read --label-column as a
    second channel ("the series has 2 channels but the model was trained on 1")."""
    import aekit

    from ..synthetic_series import sine_series

    x, y = sine_series(1600, kind="spike", at=1400, seed=2)
    aekit.SeriesDetector(method="neighbors", device="cpu", threads=1).fit(x[:1000]).save(
        tmp_path / "m"
    )
    test = tmp_path / "test.csv"
    lines = ["value,is_anomaly"] + [f"{float(v)!r},{int(t)}" for v, t in zip(x[1000:, 0], y[1000:])]
    test.write_text("\n".join(lines) + "\n")
    out = tmp_path / "s.csv"
    argv = ["score", str(tmp_path / "m"), "--input", str(test), "--label-column", "is_anomaly"]
    assert main([*argv, "--output", str(out)]) == 0, capsys.readouterr().err
    scores = [float(r["score"]) for r in csv.DictReader(out.open())]
    np.testing.assert_allclose(
        scores, aekit.load(tmp_path / "m").score_samples(x[1000:]), rtol=1e-5
    )
