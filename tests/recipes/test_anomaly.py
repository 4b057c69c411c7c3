"""The anomaly recipe: user labels, presets, the ECG5000 tutorial preset, and few rows of a user's CSV."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from aekit.cli.main import main
from aekit.errors import UsageError
from aekit.estimators.anomaly import AnomalyDetector
from aekit.estimators.anomaly.defaults import training_steps
from aekit.training.budget import passes_for_steps

from ..estimators.anomaly.test_detector import LENGTH, sines, spikes

torch.set_num_threads(1)


def test_recipe_user_labels(tmp_path):
    from aekit.recipes import DataSpec
    from aekit.recipes.anomaly import RECIPE

    path = tmp_path / "d.csv"
    x = np.concatenate([sines(80), spikes(20)])
    label = np.r_[["ok"] * 80, ["bad"] * 20]
    rows = [",".join([f"f{i}" for i in range(LENGTH)] + ["kind"])]
    rows += [",".join([*map(str, r), lab]) for r, lab in zip(x, label)]
    path.write_text("\n".join(rows) + "\n")
    spec = DataSpec(data=str(path), label_column="kind", normal_label="ok")
    train, val = RECIPE.load_data(spec, 0)
    assert len(train) == 80 and len(val) == 20 and train.y.sum() == 16 and val.y.sum() == 4
    with pytest.raises(UsageError):
        RECIPE.load_data(DataSpec(data=str(path), label_column="kind", normal_label="fine"), 0)
    with pytest.raises(UsageError):
        RECIPE.load_data(DataSpec(data=str(path), label_column="kind"), 0)
    est = RECIPE.build({"preset": "robust", "epochs": 1})
    assert est.hidden == (64, 32) and est.epochs == 1
    with pytest.raises(UsageError):
        RECIPE.build({"preset": "nope"})


# ---- the real ECG5000 ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ecg():
    from aekit.data import data_root, ecg5000_classic_split
    from aekit.recipes.anomaly import anomaly_labels

    root = data_root()  # tests/conftest.py points AEKIT_DATA at ../shared/datasets when present
    if not (root / "ecg5000").is_dir():
        pytest.skip(f"ECG5000 not found in {root}")
    train, test = ecg5000_classic_split(root)
    return anomaly_labels(train, 1), anomaly_labels(test, 1)


def test_ecg5000_recipe_preset_reaches_the_tutorial(ecg):
    # The full recipe takes well under a second of training (20 epochs x 5 steps of 512).
    train, test = ecg
    assert train.x.shape == (4000, 140) and test.x.shape == (1000, 140) and int(test.y.sum()) == 425
    det = AnomalyDetector.from_preset("recipe", device="cpu").fit(
        train.x[train.y == 0], validation_data=test.x
    )
    m = det.evaluate(test.x, test.y)
    # Keras: accuracy 0.949, normal precision 0.992, recall 0.918, ROC-AUC 0.966; seed 0 gives the same here.
    assert m["accuracy"] >= 0.945 and m["precision_normal"] >= 0.99 and m["roc_auc"] >= 0.96, m
    assert m["recall_normal"] >= 0.91, m


def test_ecg5000_robust_preset(ecg):
    from aekit.recipes.anomaly import PRESETS

    train, test = ecg
    # ~5 s of training
    det = AnomalyDetector(device="cpu", **PRESETS["robust"]).fit(train.x[train.y == 0])
    m = det.evaluate(test.x, test.y)  # threshold from training errors only (95th percentile)
    assert m["roc_auc"] >= 0.985 and m["accuracy"] >= 0.95, m


def test_a_small_user_csv_trains_the_whole_step_budget_or_until_early_stopping(tmp_path):
    # 90 rows: 72 to train on after the 20% validation split, 7 of them held out, 65 in batches of 32:
    # three steps a pass, seven passes an epoch (auto_epoch_steps), a budget of 1,000 steps (48 epochs) unless early
    # stopping ends it. With a fixed 20 epochs of 512 this was 20 steps.
    path = tmp_path / "small.csv"
    rows = [",".join(f"t{i}" for i in range(LENGTH))] + [
        ",".join(f"{v:.5f}" for v in r) for r in sines(90)
    ]
    path.write_text("\n".join(rows) + "\n")
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "anomaly",
                "--data",
                str(path),
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
    config = json.loads((run / "config.json").read_text())
    epochs = len(config["state"]["history"])
    n_fit = 72 - 7
    batch = config["params"]["batch_size"]
    epoch_steps = passes_for_steps(n_fit, batch, AnomalyDetector.auto_epoch_steps) * math.ceil(
        n_fit / batch
    )
    assert batch == 32 and epoch_steps == 21  # 3 steps a pass, 7 passes an epoch
    steps = epochs * epoch_steps
    assert (
        training_steps(n_fit, AnomalyDetector.auto_min_steps, AnomalyDetector.auto_steps) == 1000
    )  # the budget
    assert steps >= AnomalyDetector.auto_min_steps
    # then early stopping ended it: `patience` epochs in a row without a better validation loss
    if steps < 1000:
        val = [h["val_loss"] for h in config["state"]["history"]]
        assert len(val) - 1 - int(np.argmin(val)) >= config["params"]["patience"], (steps, val)


def test_rows_without_a_label_are_left_out_with_a_note(tmp_path, caplog):
    """A missing label (empty, ``NA``) is not an anomaly: the row is left out of training and of the
    figures, with a note that counts them; a 0/1 column that pandas wrote as ``1.0``/``0.0`` around
    the empty cell matches ``--normal-label 0`` as a number."""
    import logging

    from aekit.recipes import DataSpec
    from aekit.recipes.anomaly import RECIPE

    x = np.random.default_rng(0).normal(size=(60, 3))
    labels = ["ok"] * 45 + ["bad"] * 10 + ["", "NA", " ", "ok", "bad"]
    path = tmp_path / "d.csv"
    path.write_text(
        "a,b,c,status\n" + "".join(f"{r[0]},{r[1]},{r[2]},{s}\n" for r, s in zip(x, labels))
    )
    spec = DataSpec(data=str(path), label_column="status", normal_label="ok")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        train, val = RECIPE.load_data(spec, 0)
        held = RECIPE.load_eval_data(spec, 0, path=str(path))
    assert len(train) + len(val) == 57 and train.y.sum() + val.y.sum() == 11
    assert len(held) == 57 and held.y.sum() == 11
    assert "3 of 60 rows have no label" in caplog.text

    floats = tmp_path / "f.csv"
    y = ["1.0", "0.0"] * 20 + [""]
    floats.write_text("a,y\n" + "".join(f"{v},{lab}\n" for v, lab in zip(x[:41, 0], y)))
    data = RECIPE.load_eval_data(
        DataSpec(data=str(floats), label_column="y", normal_label="0"), 0, path=str(floats)
    )
    assert len(data) == 40 and data.y.sum() == 20


def test_the_labels_of_an_npz_reach_the_recipe(tmp_path, caplog):
    """An .npz's ``y`` array is the labels (documented): with --normal-label the model trains on its
    normal rows and evaluate has labelled figures; without it, a note says they are not used."""
    import logging

    from aekit.recipes import DataSpec
    from aekit.recipes.anomaly import RECIPE

    x = np.random.default_rng(0).normal(size=(50, 3))
    path = tmp_path / "d.npz"
    np.savez(path, x=x, y=np.r_[np.zeros(40, int), np.ones(10, int)])
    spec = DataSpec(data=str(path), normal_label="0")
    train, val = RECIPE.load_data(spec, 0)
    assert train.y.sum() + val.y.sum() == 10
    assert RECIPE.load_eval_data(spec, 0, path=str(path)).y.sum() == 10
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        train, _ = RECIPE.load_data(DataSpec(data=str(path)), 0)
    assert train.y is None and "used with --normal-label VALUE only" in caplog.text
    np.save(tmp_path / "x.npy", x)
    with pytest.raises(UsageError, match="--normal-label needs labels"):
        RECIPE.load_data(DataSpec(data=str(tmp_path / "x.npy"), normal_label="0"), 0)


def test_a_held_out_row_that_scores_inf_leaves_json_safe_metrics_and_a_warning(tmp_path, capsys):
    """probe 60 training 5: one held-out value of 3.4e38 (float32's largest, a common "missing"
    sentinel) scored inf, and the whole trained run then failed writing metrics.json ("a value is
    not a finite number"), leaving .RUN.partial behind. The run is written: the row counts as an
    anomaly, mean_score is null as aekit evaluate writes it, and a warning names the cause. The
    summary line says null as metrics.json does (stop 60's verify probe: it printed None)."""
    x = np.random.default_rng(0).standard_normal((300, 5))
    x[7, 0] = 3.4e38  # lands in the held-out split (seed 0)
    path = tmp_path / "glitch.csv"
    path.write_text("a,b,c,d,e\n" + "\n".join(",".join(f"{v:.9g}" for v in r) for r in x))
    run = tmp_path / "run"
    argv = ["train", "anomaly", "--data", str(path), "--threads", "1", "--epochs", "3"]
    assert main([*argv, "--out", str(run), "--quiet", "--no-figures"]) == 0
    assert " mean_score=null " in capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["mean_score"] is None and metrics["infinite_scores"] == 1
    assert metrics["anomaly_rate"] >= 1 / metrics["n_samples"]
    assert any(w.startswith("1 of the held-out rows scores inf") for w in metrics["warnings"])


def _sentinels(path):
    """A labelled table whose anomalous rows (every tenth) hold a 3e38 sentinel, as probe 66 #4's."""
    rng = np.random.default_rng(1)
    lines = ["label,a,b,c,d"]
    for i in range(200):
        v = rng.normal(size=4)
        if i % 10 == 0:
            v[0] = 3.0e38
        lines.append(f"{int(i % 10 == 0)}," + ",".join(repr(float(t)) for t in v))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_labelled_run_whose_held_out_rows_score_inf_is_written_with_its_figures_and_warning(
    tmp_path,
):
    """Probe 66 #4: held-out anomalies holding a 3e38 sentinel score inf (warned of, not an error);
    the figures refused their scores after training, and the run was left unfinished
    (.run.partial). metrics.json said no warning on the labelled path."""
    from aekit.recipes import DataSpec, train_run

    spec = DataSpec(
        data=str(_sentinels(tmp_path / "s.csv")), label_column="label", normal_label="0"
    )
    _, metrics = train_run("anomaly", {"epochs": 2, "threads": 1}, spec, tmp_path / "run")
    drawn = {p.name for p in (tmp_path / "run" / "figures").iterdir()}
    assert {"error_histogram.png", "feature_errors.png", "roc.png"} <= drawn
    assert metrics["infinite_scores"] == metrics["n_anomalies"] == 4
    (said,) = [w for w in metrics["warnings"] if "score inf" in w]
    assert said.startswith("4 of the held-out rows score inf") and "mean_score" not in said
