"""``aekit train anomaly``, ``aekit score`` and ``aekit evaluate`` on ECG5000 and on a user's CSV."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from aekit.cli.main import main

torch.set_num_threads(1)
LENGTH = 24


def rows(n_normal: int, n_anomalous: int, seed: int) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, LENGTH)
    x = np.sin(t + rng.uniform(0, 2 * np.pi, (n_normal + n_anomalous, 1))) + rng.normal(
        0, 0.05, (n_normal + n_anomalous, LENGTH)
    )
    for row in x[n_normal:]:
        row[rng.choice(LENGTH, 3, replace=False)] += rng.choice([-1, 1], 3) * 2.0
    return x, ["normal"] * n_normal + ["arrhythmia"] * n_anomalous


def write_csv(path, x, labels, *, order=None, extra=True):
    """A table with an id, the features (optionally in another order) and a label column."""
    names = [f"t{i}" for i in range(LENGTH)]
    order = list(range(LENGTH)) if order is None else order
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["beat_id"] + [names[i] for i in order] + (["kind"] if extra else []))
        for j, (r, lab) in enumerate(zip(x, labels)):
            w.writerow([f"b{j}"] + [f"{r[i]:.5f}" for i in order] + ([lab] if extra else []))
    return path


def test_user_csv_train_score_evaluate(tmp_path, capsys):
    x, labels = rows(300, 60, seed=0)
    data = write_csv(tmp_path / "train.csv", x, labels)
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "anomaly",
                "--data",
                str(data),
                "--label-column",
                "kind",
                "--normal-label",
                "normal",
                "--id-column",
                "beat_id",
                "--epochs",
                "40",
                "--batch-size",
                "32",
                "--device",
                "cpu",
                "--out",
                str(run),
                "--quiet",
            ]
        )
        == 0
    )
    metrics = json.loads((run / "metrics.json").read_text())
    for key in (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "pr_auc",
        "threshold",
        "confusion_matrix",
        "precision_normal",
        "recall_normal",
    ):
        assert key in metrics
    # 20% held out
    assert metrics["roc_auc"] > 0.9 and np.array(metrics["confusion_matrix"]).sum() == 72
    assert {p.name for p in (run / "figures").iterdir()} >= {
        "loss.png",
        "reconstructions.png",
        "error_histogram.png",
        "roc.png",
        "feature_errors.png",
    }

    # New data: the columns in another order, the label as an extra column; the id carried through.
    xn, ln = rows(40, 10, seed=3)
    new = write_csv(tmp_path / "new.csv", xn, ln, order=list(range(LENGTH))[::-1])
    out = tmp_path / "scores.csv"
    assert (
        main(
            ["score", str(run), "--input", str(new), "--output", str(out), "--id-column", "beat_id"]
        )
        == 0
    )
    table = list(csv.DictReader(out.open()))
    # the id column keeps its own name (issue 21)
    assert (
        len(table) == 50
        and list(table[0]) == ["beat_id", "score", "is_anomaly", "p_value"]
        and table[0]["beat_id"] == "b0"
    )
    flags = np.array([int(r["is_anomaly"]) for r in table])
    assert flags[40:].mean() > 0.8 and flags[:40].mean() < 0.3
    # refuses to clobber
    assert main(["score", str(run), "--input", str(new), "--output", str(out)]) == 2
    assert (
        main(
            [
                "score",
                str(run),
                "--input",
                str(new),
                "--output",
                str(out),
                "--overwrite",
                "--threshold",
                "percentile",
                "--q",
                "50",
            ]
        )
        == 0
    )
    assert np.mean([int(r["is_anomaly"]) for r in csv.DictReader(out.open())]) > 0.4

    # --feature-errors: a column per feature, named as the training table's; the odd one stands out
    odd = rows(10, 0, seed=4)[0]
    odd[:, 5] += 2.0
    given = write_csv(tmp_path / "odd.csv", odd, ["normal"] * 10, order=list(range(LENGTH))[::-1])
    args = ["score", str(run), "--input", str(given), "--output", str(out), "--overwrite"]
    assert main([*args, "--feature-errors", "--id-column", "beat_id"]) == 0
    table = list(csv.DictReader(out.open()))
    names = [f"error_t{i}" for i in range(LENGTH)]
    assert list(table[0]) == ["beat_id", "score", "is_anomaly", "p_value", *names]
    worst = [max(names, key=lambda c, r=r: float(r[c])) for r in table]
    assert worst.count("error_t5") >= 9

    m = tmp_path / "m.json"
    assert (
        main(
            [
                "evaluate",
                str(run),
                "--data",
                str(new),
                "--label-column",
                "kind",
                "--normal-label",
                "normal",
                "--id-column",
                "beat_id",
                "--output",
                str(m),
            ]
        )
        == 0
    )
    ev = json.loads(m.read_text())
    assert ev["n_samples"] == 50 and ev["n_anomalies"] == 10 and ev["roc_auc"] > 0.9
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                str(run),
                "--data",
                str(new),
                "--label-column",
                "kind",
                "--normal-label",
                "sinus",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "normal label 'sinus'" in err and err.count("\n") == 1


def test_all_normal_csv(tmp_path):
    x, labels = rows(200, 0, seed=1)
    data = write_csv(tmp_path / "normal.csv", x, labels, extra=False)
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "anomaly",
                "--data",
                str(data),
                "--id-column",
                "beat_id",
                "--epochs",
                "5",
                "--threshold",
                "mad",
                "--k",
                "3",
                "--input-density",
                "0.5",
                "--input-neighbors",
                "5",
                "--out",
                str(run),
                "--quiet",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_samples"] == 40 and 0 <= metrics["anomaly_rate"] <= 1
    config = json.loads((run / "config.json").read_text())
    assert config["params"]["threshold"] == "mad" and config["state"]["feature_names"][0] == "t0"
    assert config["params"]["input_density"] == 0.5
    assert config["state"]["input_density"]["n_neighbors"] == 5


def test_calibrate_is_refused_in_one_line_for_what_is_not_a_detector(tmp_path, capsys):
    import aekit

    aekit.Autoencoder(latent_dim=2, epochs=1, device="cpu").fit(rows(40, 0, 0)[0]).save(
        tmp_path / "ae"
    )
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (tmp_path / "ae").iterdir())
    assert main(["calibrate", str(tmp_path / "ae"), "--threshold", "fpr:0.05"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds 'Autoencoder', not a detector" in err
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (tmp_path / "ae").iterdir()) == before


def test_calibrate_and_evaluate_refuse_what_they_would_ignore(tmp_path, capsys):
    """A --q or --k the rule does not read, and --normal-label with no label column: one line,
    the run untouched."""
    import aekit

    x = rows(40, 0, 0)[0]
    aekit.AnomalyDetector(epochs=1, device="cpu").fit(x).save(tmp_path / "det")
    write_csv(tmp_path / "new.csv", x, ["normal"] * 40, extra=False)
    before = (tmp_path / "det" / "config.json").read_bytes()
    capsys.readouterr()  # the fit's notes
    refused = {
        "--q": ["calibrate", "--threshold", "mean_std", "--q", "0.9"],
        "--k": ["calibrate", "--threshold", "fpr:0.1", "--k", "2"],
        "--normal-label": ["evaluate", "--data", str(tmp_path / "new.csv"), "--normal-label", "x"],
        "--normal-label ": ["evaluate", "--data", str(tmp_path / "x.npz"), "--normal-label", "x"],
    }
    np.savez(tmp_path / "x.npz", x=x)  # no labels: --normal-label would be ignored
    for option, (command, *argv) in refused.items():
        assert main([command, str(tmp_path / "det"), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and option.strip() in err, err
    assert (tmp_path / "det" / "config.json").read_bytes() == before
    assert main(["calibrate", str(tmp_path / "det"), "--threshold", "percentile", "--q", "90"]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--threshold", "median"],
        ["--threshold", "fpr:1.5"],
        ["--threshold", "fpr:x"],
        ["--threshold", "percentile", "--q", "150"],
        ["--threshold", "contamination", "--contamination", "1.5"],
        ["--scaler", "zscore"],
        ["--input-density", "-1"],
        ["--input-neighbors", "0"],
        ["--preset", "nope"],
        ["--normal-label", "x"],
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, argv):
    x, labels = rows(20, 0, seed=1)
    data = write_csv(tmp_path / "d.csv", x, labels, extra=False)
    try:  # argparse rejects some options itself (SystemExit 2), the library the others (return 2)
        code = main(
            [
                "train",
                "anomaly",
                "--data",
                str(data),
                "--id-column",
                "beat_id",
                "--epochs",
                "1",
                "--out",
                str(tmp_path / "r"),
                "--quiet",
                *argv,
            ]
        )
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "r" / "model.safetensors").exists()


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--k", "5"], "--k does not apply to the threshold rule 'fpr'; add --threshold mean_std"),
        (["--contamination", "0.4"], "--contamination does not apply to the threshold rule 'fpr'"),
        (["--preset", "recipe", "--q", "5"], "--q does not apply to the threshold rule 'mean_std'"),
        (["--threshold", "percentile:99", "--q", "90"], "'percentile:99', which carries its own"),
        (["--threshold", "percentile:99", "--q", "0"], "'percentile:99', which carries its own"),
        (["--k", "0"], "--k does not apply to the threshold rule 'fpr'"),  # 0 was taken as unset
    ],
)
def test_train_refuses_a_rule_option_its_rule_does_not_read(tmp_path, capsys, argv, needle):
    """aekit score and calibrate refused them; aekit train trained as if they were not given."""
    x, labels = rows(20, 0, seed=1)
    data = write_csv(tmp_path / "d.csv", x, labels, extra=False)
    argv = ["train", "anomaly", "--data", str(data), "--out", str(tmp_path / "r"), *argv]
    assert main([*argv, "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "r").exists()


def test_ecg5000_recipe_preset(shared_data, tmp_path, capsys):
    run = tmp_path / "ecg"
    assert (
        main(
            [
                "train",
                "anomaly",
                "--dataset",
                "ecg5000",
                "--preset",
                "recipe",
                "--out",
                str(run),
                "--quiet",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    m = json.loads((run / "metrics.json").read_text())
    assert m["accuracy"] >= 0.945 and m["precision_normal"] >= 0.99 and m["roc_auc"] >= 0.96, m
    assert m["epochs"] == 20
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0  # the run's held-out split again
    assert json.loads(capsys.readouterr().out)["accuracy"] == m["accuracy"]


def test_ecg5000_out_of_the_box_defaults(shared_data, tmp_path, capsys):
    # The data-driven defaults, no preset: a few seconds of training on 2 cores.
    run = tmp_path / "ecg"
    assert (
        main(
            [
                "train",
                "anomaly",
                "--dataset",
                "ecg5000",
                "--out",
                str(run),
                "--quiet",
                "--no-figures",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    m = json.loads((run / "metrics.json").read_text())
    assert m["roc_auc"] >= 0.99, m
    config = json.loads((run / "config.json").read_text())
    assert config["params"]["scaler"] == "auto" and config["params"]["threshold"] == "fpr:0.05"
    assert config["state"]["calibration"]["method"] == "split"
    assert config["state"]["calibration"]["rows"] >= 19  # what a 5% rate needs
    # issue 32: the baselines' table on the same split, in well under 30 s (about 1 s beyond reading it)
    out = tmp_path / "baselines.json"
    assert main(["evaluate", str(run), "--baselines", "--output", str(out), "--quiet"]) == 0
    table = json.loads(out.read_text())["baselines"]
    assert [r["method"] for r in table["methods"]] == [
        "aekit",
        "kNN distance (k=5)",
        "IsolationForest",
        "LOF (novelty)",
    ]
    assert table["methods"][0]["roc_auc"] == m["roc_auc"] and table["n_samples"] == 1000
    assert table["methods"][1]["roc_auc"] > 0.98  # kNN is strong on ECG5000 too
    _onnx_agrees_on_the_test_split(run, tmp_path)
    _calibrate_changes_the_rule_not_the_weights(run, capsys)


def _onnx_agrees_on_the_test_split(run, tmp_path):
    """Issue 30: onnxruntime's labels are PyTorch's on every test beat, its p-values within 1e-6."""
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    from aekit.data import data_root, ecg5000_classic_split
    from aekit.export import export_onnx
    from aekit.recipes import load_run

    det = load_run(run)[0]
    x = ecg5000_classic_split(data_root())[1].x.astype(np.float32)
    path = export_onnx(det, tmp_path / "det.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    out = dict(zip(names, session.run(None, {session.get_inputs()[0].name: x})))
    np.testing.assert_array_equal(out["label"], det.predict(x))
    np.testing.assert_allclose(out["p_value"], det.p_values(x), atol=1e-6, rtol=0)


def _calibrate_changes_the_rule_not_the_weights(run, capsys):
    from aekit.data import data_root, ecg5000_classic_split
    from aekit.recipes import load_run

    x = ecg5000_classic_split(data_root())[1].x
    weights = (run / "model.safetensors").read_bytes()
    before = load_run(run)[0]
    capsys.readouterr()
    assert main(["calibrate", str(run), "--threshold", "fpr:0.2"]) == 0
    assert "weights unchanged" in capsys.readouterr().out
    after = load_run(run)[0]
    assert (run / "model.safetensors").read_bytes() == weights
    assert after.threshold == "fpr:0.2" and after.threshold_ < before.threshold_
    np.testing.assert_array_equal(
        after.predict(x), (after.decision_function(x) > after.threshold_).astype(np.int64)
    )
    assert after.predict(x).sum() > before.predict(x).sum()


def test_score_reads_a_npy_in_chunks(tmp_path, monkeypatch):
    import aekit
    import aekit.cli.cmd_anomaly as cmd

    X = np.random.default_rng(3).random((50, LENGTH), dtype=np.float32)
    np.save(tmp_path / "x.npy", X)
    assert (
        main(
            [
                "train",
                "anomaly",
                "--data",
                str(tmp_path / "x.npy"),
                "--epochs",
                "2",
                "--no-figures",
                "--quiet",
                "--device",
                "cpu",
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    real = cmd._npy_chunks
    # 8 chunks, the last one short
    monkeypatch.setattr(cmd, "_npy_chunks", lambda path: real(path, rows=7))
    assert (
        main(
            [
                "score",
                str(tmp_path / "run"),
                "--input",
                str(tmp_path / "x.npy"),
                "--output",
                str(tmp_path / "s.csv"),
            ]
        )
        == 0
    )
    with open(tmp_path / "s.csv") as f:
        scores = np.array([float(r["score"]) for r in csv.DictReader(f)])
    np.testing.assert_allclose(scores, aekit.load(tmp_path / "run").decision_function(X), rtol=1e-6)


def test_score_maps_of_a_detector_of_image_arrays(tmp_path, monkeypatch, capsys):
    """``--maps FILE.npy``: the maps of a run trained on (n, C, H, W) arrays, in the input's order,
    equal to ``anomaly_maps``; written in chunks; what does not apply is one line."""
    import aekit
    import aekit.cli.cmd_anomaly as cmd

    X = np.random.default_rng(5).random((30, 1, 8, 12), dtype=np.float32)
    np.save(tmp_path / "x.npy", X)
    train = ["train", "anomaly", "--data", str(tmp_path / "x.npy"), "--epochs", "2"]
    quiet = ["--no-figures", "--quiet", "--device", "cpu"]
    assert main([*train, "--architecture", "conv2d", *quiet, "--out", str(tmp_path / "run")]) == 0
    real = cmd._npy_chunks
    monkeypatch.setattr(cmd, "_npy_chunks", lambda path: real(path, rows=7))  # 5 chunks
    score = ["score", str(tmp_path / "run"), "--input", str(tmp_path / "x.npy")]
    out = ["--output", str(tmp_path / "s.csv")]
    assert main([*score, *out, "--maps", str(tmp_path / "maps.npy"), "--quiet"]) == 0
    assert "wrote 30 maps to" in capsys.readouterr().out
    maps = np.load(tmp_path / "maps.npy")
    assert maps.shape == (30, 8, 12) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, aekit.load(tmp_path / "run").anomaly_maps(X), rtol=1e-5)

    np.savetxt(tmp_path / "x.csv", X.reshape(30, -1), delimiter=",")
    again = [*score, "--output", str(tmp_path / "t.csv")]
    out.append("--overwrite")  # the scores may be replaced: what is refused is the maps' option
    refused = {
        "an existing file": ([*again, "--maps", str(tmp_path / "maps.npy")], "already exists"),
        "not a .npy": ([*score, *out, "--maps", str(tmp_path / "m")], "one .npy file"),
        "--overlay": ([*score, *out, "--overlay", str(tmp_path / "o")], "not image files"),
        "a table": (
            ["score", str(tmp_path / "run"), "--input", str(tmp_path / "x.csv"), *out, "--maps",
             str(tmp_path / "m2.npy")],
            "not the table",
        ),
    }  # fmt: skip
    for argv, says in refused.values():
        assert main([*argv, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1, err
    assert not any((tmp_path / n).exists() for n in ("t.csv", "m", "m2.npy", "o"))

    rows = tmp_path / "rows.npy"
    np.save(rows, X.reshape(30, -1))
    assert main([*train[:3], str(rows), *train[4:], *quiet, "--out", str(tmp_path / "rows")]) == 0
    argv = ["score", str(tmp_path / "rows"), "--input", str(rows), *out]
    assert main([*argv, "--maps", str(tmp_path / "m3.npy")]) == 2
    assert "not an image run" in capsys.readouterr().err


def test_calibrate_on_a_labelled_table_takes_its_normal_rows(tmp_path, capsys):
    """``aekit calibrate --data`` on a file holding the run's label column calibrates on the rows
    labelled normal (the anomalies left out, with a note), as --label-column/--normal-label say."""
    x, labels = rows(60, 20, seed=3)
    data = write_csv(tmp_path / "d.csv", x, labels)
    run = tmp_path / "run"
    train = ["train", "anomaly", "--data", str(data), "--label-column", "kind"]
    argv = [*train, "--normal-label", "normal", "--id-column", "beat_id", "--out", str(run)]
    assert main([*argv, "--epochs", "1", "--quiet", "--no-figures"]) == 0
    capsys.readouterr()
    for given in ([], ["--label-column", "kind", "--normal-label", "normal"]):
        assert main(["calibrate", str(run), "--data", str(data), *given]) == 0
        said = capsys.readouterr()
        assert "60 normal rows" in said.out, said.out
        assert "20 labelled anomalous left out" in said.err
    # an .npz's labels: read with the run's normal label, or the one given
    np.savez(tmp_path / "d.npz", x=x, y=np.r_[np.zeros(60, int), np.ones(20, int)])
    assert (
        main(["calibrate", str(run), "--data", str(tmp_path / "d.npz"), "--normal-label", "0"]) == 0
    )
    assert "60 normal rows" in capsys.readouterr().out


def _labelled_run(tmp_path, capsys):
    """A run trained on a table whose column ``kind`` says normal or arrhythmia; its rows."""
    x, labels = rows(60, 20, seed=3)
    data = write_csv(tmp_path / "d.csv", x, labels)
    run = tmp_path / "run"
    train = ["train", "anomaly", "--data", str(data), "--label-column", "kind"]
    argv = [*train, "--normal-label", "normal", "--out", str(run), "--threads", "1"]
    assert main([*argv, "--epochs", "1", "--quiet", "--no-figures"]) == 0
    capsys.readouterr()
    return run, x, labels


def test_calibrate_on_a_table_without_the_run_label_column(tmp_path, capsys):
    """Probe 61 labels #1: calibrate --normal-label on a file without the run's label column
    ignored it without a word and calibrated on the anomalies too; without it, no note said every
    row was taken as normal."""
    run, x, labels = _labelled_run(tmp_path, capsys)
    other = write_csv(tmp_path / "o.csv", x, labels)  # the labels under another name
    other.write_text(other.read_text().replace(",kind", ",y", 1))
    bare = write_csv(tmp_path / "bare.csv", x, labels, extra=False)
    for data, says in ((other, "no label column 'kind'"), (bare, "no label column 'kind'")):
        assert main(["calibrate", str(run), "--data", str(data), "--normal-label", "normal"]) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1, err
    assert main(["calibrate", str(run), "--data", str(bare)]) == 0
    said = capsys.readouterr()
    assert "80 normal rows" in said.out
    assert "has no column 'kind', the run's label column: every row is taken as normal" in said.err


def test_calibrate_on_arrays_without_labels_refuses_a_normal_label(tmp_path, capsys):
    """Probe 65 docs #1: a .npy, or an .npz without y, calibrated with --normal-label on every row
    without a word (evaluate refused the pair); without it, no note said every row was normal."""
    run, x, _ = _labelled_run(tmp_path, capsys)
    np.save(tmp_path / "r.npy", x)
    np.savez(tmp_path / "r.npz", x=x)
    for name in ("r.npy", "r.npz"):
        data = str(tmp_path / name)
        assert main(["calibrate", str(run), "--data", data, "--normal-label", "normal"]) == 2
        err = capsys.readouterr().err
        assert "is read with no labels" in err and len(err.strip().splitlines()) == 1, err
        assert main(["calibrate", str(run), "--data", data]) == 0
        said = capsys.readouterr()
        assert "80 normal rows" in said.out
        assert "holds no labels: every row is taken as normal" in said.err


def test_an_npz_labels_take_the_run_normal_label(tmp_path, capsys):
    """Probe 61 labels #9: an .npz's y array was read unlabelled unless --normal-label was given,
    where a table's label column takes the run's normal label by default."""
    run, x, labels = _labelled_run(tmp_path, capsys)
    np.savez(tmp_path / "d.npz", x=x, y=np.array(labels))
    assert main(["evaluate", str(run), "--data", str(tmp_path / "d.npz"), "--quiet"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["n_anomalies"] == 20 and figures["roc_auc"] is not None
    assert main(["calibrate", str(run), "--data", str(tmp_path / "d.npz")]) == 0
    said = capsys.readouterr()
    assert "60 normal rows" in said.out and "20 labelled anomalous left out" in said.err
    np.savez(tmp_path / "n.npz", x=x, y=np.r_[np.zeros(60, int), np.ones(20, int)])
    assert main(["evaluate", str(run), "--data", str(tmp_path / "n.npz"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no row has the normal label 'normal'" in err and "--normal-label VALUE" in err


def test_evaluate_on_the_run_split_refuses_another_normal_label(tmp_path, capsys):
    """Probe 61 labels #3: evaluate without --data took a --normal-label other than the run's and
    printed the swapped classes' figures (ROC-AUC 0)."""
    run, _, _ = _labelled_run(tmp_path, capsys)
    assert main(["evaluate", str(run), "--normal-label", "arrhythmia", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "contradicts" in err and "--normal-label normal" in err
    assert len(err.strip().splitlines()) == 1, err
    assert main(["evaluate", str(run), "--normal-label", "normal", "--quiet"]) == 0
    # the labels fixer, left: --label-column naming a feature read it as the labels
    capsys.readouterr()
    assert main(["evaluate", str(run), "--label-column", "f0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--label-column f0 contradicts" in err and "trained with --label-column kind" in err
    assert main(["evaluate", str(run), "--label-column", "kind", "--quiet"]) == 0
    kind = next(
        i
        for i, c in enumerate((run / ".." / "d.csv").read_text().split()[0].split(","))
        if c == "kind"
    )
    assert main(["evaluate", str(run), "--label-column", str(kind), "--quiet"]) == 0  # by index


def test_the_default_dataset_is_recorded_with_its_checksums(shared_data, tmp_path):
    """Probe 52 rep 6: `aekit train anomaly` without --dataset recorded dataset null and no
    checksums (the other families record their default)."""
    run = tmp_path / "ecg"
    args = ["train", "anomaly", "--epochs", "1", "--out", str(run), "--quiet", "--no-figures"]
    assert main([*args, "--device", "cpu"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["dataset"] == "ecg5000" and config["data"]["checksums"]
    assert "scikit-learn" in config["versions"]


def test_each_calibration_is_recorded_with_its_rule_and_data(tmp_path, capsys):
    """Probe 52 rep 2: calibrate overwrote the rule in place and recorded no data: config.json no
    longer said which rule made metrics.json's figures, nor where the threshold came from."""
    x, labels = rows(60, 20, seed=3)
    data = write_csv(tmp_path / "d.csv", x, labels)
    run = tmp_path / "run"
    train = ["train", "anomaly", "--data", str(data), "--label-column", "kind"]
    argv = [*train, "--normal-label", "normal", "--out", str(run)]
    assert main([*argv, "--epochs", "1", "--quiet", "--no-figures"]) == 0
    weights = (run / "model.safetensors").read_bytes()
    assert main(["calibrate", str(run), "--threshold", "percentile:50"]) == 0
    assert main(["calibrate", str(run), "--data", str(data)]) == 0
    capsys.readouterr()
    calibrated = json.loads((run / "config.json").read_text())["calibrated"]
    assert [c["threshold"] for c in calibrated] == [
        ["fpr:0.05", "percentile:50"],
        ["percentile:50", "percentile:50"],
    ]
    assert calibrated[0]["threshold_value"][0] != calibrated[0]["threshold_value"][1]
    assert "data" not in calibrated[0] and calibrated[1]["data"] == str(data.resolve())
    assert list(calibrated[1]["checksums"]) == ["d.csv"]
    assert (run / "model.safetensors").read_bytes() == weights


def test_score_reads_an_npy_files_header_checked(tmp_path):
    # score memory-mapped the input before the reader's checks: a pickle or an object array was
    # an internal error passing on numpy's advice to load it unsafely
    import pickle

    from .helpers import assert_one_line_error, cli_here

    np.save(tmp_path / "rows.npy", np.random.default_rng(0).normal(size=(60, 4)).astype("f4"))
    cli_here("train", "anomaly", "--data", tmp_path / "rows.npy", "--epochs", "1",
             "--out", tmp_path / "run", "--quiet", "--no-figures", "--threads", "1")  # fmt: skip
    objects = np.full((3, 4), 1.0, dtype=object)
    np.save(tmp_path / "obj.npy", objects, allow_pickle=True)
    (tmp_path / "pick.npy").write_bytes(pickle.dumps([1, 2]))
    for name, words in [("obj", "never unpickles"), ("pick", "not a valid .npy")]:
        proc = cli_here("score", tmp_path / "run", "--input", tmp_path / f"{name}.npy",
                        "--output", tmp_path / "s.csv", check=None)  # fmt: skip
        assert_one_line_error(proc, 2, words)


def test_calibrate_redraws_the_figures_that_show_the_threshold(tmp_path, capsys):
    """Probe 55 F2: after calibrate, figures/error_histogram.png still drew the old threshold's line
    (until 'aekit plot'); now it is drawn as 'aekit plot' draws it, or a note says it is not."""
    x, labels = rows(60, 20, seed=3)
    data = write_csv(tmp_path / "d.csv", x, labels)
    run = tmp_path / "run"
    argv = ["train", "anomaly", "--data", str(data), "--label-column", "kind"]
    assert (
        main([*argv, "--normal-label", "normal", "--out", str(run), "--epochs", "1", "--quiet"])
        == 0
    )
    figure = run / "figures" / "error_histogram.png"
    trained = figure.read_bytes()
    assert main(["calibrate", str(run), "--threshold", "fpr:0.3"]) == 0
    calibrated = figure.read_bytes()
    assert calibrated != trained
    assert main(["plot", str(run), "--quiet"]) == 0
    assert figure.read_bytes() == calibrated  # what `aekit plot` draws
    data.write_text(data.read_text() + "b999," + ",".join(["0"] * LENGTH) + ",normal\n")
    capsys.readouterr()
    assert main(["calibrate", str(run), "--threshold", "fpr:0.1"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"{run / 'figures'} still shows the threshold before this calibration" in err
    assert figure.read_bytes() == calibrated


def test_calibrate_without_the_runs_data_at_hand_still_calibrates(tmp_path, capsys, monkeypatch):
    """A run of a built-in dataset copied to a machine without it: calibrate needs no data, and its
    figures' redraw made it fail (a download, then a line naming --data-dir, which it lacks)."""
    from aekit.errors import DataError
    from aekit.recipes.anomaly import AnomalyRecipe

    x, labels = rows(40, 10, seed=3)
    data = write_csv(tmp_path / "d.csv", x, labels)
    run = tmp_path / "run"
    argv = ["train", "anomaly", "--data", str(data), "--label-column", "kind", "--epochs", "1"]
    assert main([*argv, "--normal-label", "normal", "--out", str(run), "--quiet"]) == 0

    def gone(*args, **kwargs):
        raise DataError("ecg5000 is not in /nowhere and cannot be downloaded; give --data-dir")

    monkeypatch.setattr(AnomalyRecipe, "load_eval_data", gone)
    capsys.readouterr()
    assert main(["calibrate", str(run), "--threshold", "fpr:0.3"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "still shows the threshold before this calibration" in err
    assert '"fpr:0.3"' in (run / "config.json").read_text()


def test_lines_name_the_options_typed_and_the_file_read(tmp_path, capsys):
    """The CLI says the options as typed (``--members 3 needs --architecture dense``, not
    ``members=3 needs architecture='dense'``), and a table run given images names the file (its
    line said ``X: the model was trained on sample shape (6,)``)."""
    np.save(tmp_path / "images.npy", np.random.default_rng(0).random((8, 1, 4, 4), np.float32))
    np.save(tmp_path / "rows.npy", np.random.default_rng(0).random((40, 6), np.float32))
    train = ["train", "anomaly", "--epochs", "1", "--quiet", "--no-figures", "--data"]
    argv = [*train, str(tmp_path / "images.npy"), "--architecture", "conv2d", "--members", "3"]
    assert main([*argv, "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert (
        err == "aekit: error: --members 3 needs --architecture dense; use --members 1 with conv2d\n"
    )
    assert main([*train, str(tmp_path / "rows.npy"), "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    for command in ("score", "reconstruct"):
        out = str(tmp_path / ("s.csv" if command == "score" else "r.npy"))
        args = [command, str(tmp_path / "r"), "--input", str(tmp_path / "images.npy")]
        assert main([*args, "--output", out]) == 2
        err = capsys.readouterr().err
        assert "images.npy holds samples shaped (1, 4, 4)" in err and "trained on rows of 6" in err


def test_calibrate_of_a_table_run_on_an_image_folder_is_one_line(tmp_path, capsys):
    """It first said "imgdir: its labels (a y or labels array) are used with --normal-label":
    a folder has no such array, and a table run cannot take its images anyway."""
    from .helpers import write_png

    np.save(tmp_path / "rows.npy", np.random.default_rng(0).random((40, 6), np.float32))
    train = ["train", "anomaly", "--epochs", "1", "--quiet", "--no-figures", "--data"]
    assert main([*train, str(tmp_path / "rows.npy"), "--out", str(tmp_path / "r")]) == 0
    for label in ("good", "defect"):
        write_png(np.zeros((1, 8, 8)), tmp_path / "imgs" / label / "a.png")
    capsys.readouterr()
    assert main(["calibrate", str(tmp_path / "r"), "--data", str(tmp_path / "imgs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "imgs holds samples shaped (1, 8, 8)" in err[0], err


def test_aekit_plot_draws_a_run_whose_held_out_rows_score_inf(tmp_path, capsys):
    """Probe 66 #4: anomalies holding a 3e38 sentinel score inf; 'aekit plot' refused the run
    ("errors contains NaN or inf", rc 2), as the training with figures had."""
    x, labels = rows(60, 20, seed=3)
    x[60:, 0] = 3.0e38  # every anomaly: a sentinel reading
    data = write_csv(tmp_path / "d.csv", x, labels)
    run = tmp_path / "run"
    train = ["train", "anomaly", "--data", str(data), "--label-column", "kind", "--epochs", "1"]
    argv = [*train, "--normal-label", "normal", "--out", str(run), "--threads", "1", "--quiet"]
    assert main([*argv, "--no-figures"]) == 0
    assert json.loads((run / "metrics.json").read_text())["infinite_scores"] == 4
    assert main(["plot", str(run)]) == 0, capsys.readouterr().err
    drawn = {p.name for p in (run / "figures").iterdir()}
    assert {"error_histogram.png", "feature_errors.png", "roc.png"} <= drawn


def test_the_command_line_says_unused_neighbours_as_the_options_typed(tmp_path, capsys):
    """Probe 67 cli #7: n_neighbors and density named as --neighbors and --density."""
    np.save(tmp_path / "t.npy", np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32))
    argv = ["train", "anomaly", "--data", str(tmp_path / "t.npy"), "--density", "0",
            "--neighbors", "5", "--input-density", "0", "--input-neighbors", "7", "--epochs", "1",
            "--out", str(tmp_path / "r"), "--no-figures", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "note: --neighbors 5 is not used: --density 0 fits no density" in err
    assert "note: --input-neighbors 7 is not used: --input-density 0 fits no density" in err


def test_the_notes_on_no_validation_rows_speak_the_command_line(tmp_path, capsys):
    """Probe 67 cli #8: the notes said validation_fraction=0, patience=3 and "pass fit
    validation_data", advice a command-line user cannot follow."""
    np.save(tmp_path / "t.npy", np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32))
    argv = ["train", "anomaly", "--data", str(tmp_path / "t.npy"), "--validation-fraction", "0",
            "--patience", "3", "--epochs", "1", "--out", str(tmp_path / "r"), "--no-figures",
            "--quiet"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "(5 more fits): --validation-fraction 0 sets no rows aside" in err
    assert "note: --patience 3 is not used: early stopping watches" in err
    assert "; give --validation-fraction above 0 to stop early" in err
    assert "validation_data" not in err and "patience=" not in err
