"""``aekit evaluate RUN --baselines``: the table's figures are scikit-learn's, run here directly on the run's
split (its normal training rows, its recorded fill, the model's columns and scaler); one-line refusals."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

import aekit
from aekit.errors import UsageError
from aekit.recipes import get_recipe

from .helpers import assert_one_line_error, cli_here

torch.set_num_threads(1)
WIDTH = 12
NAMES = [f"f{i}" for i in range(WIDTH)]
FAST = ["--epochs", "3", "--members", "1", "--device", "cpu", "--quiet", "--no-figures"]


def rows(n_normal: int, n_anomalous: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows near a plane, anomalies off it; y: 1 = anomaly."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_normal + n_anomalous, 2)) @ np.random.default_rng(5).normal(
        size=(2, WIDTH)
    )
    x[n_normal:] += rng.normal(0, 1.0, (n_anomalous, WIDTH))
    return x + rng.normal(0, 0.1, x.shape), np.r_[np.zeros(n_normal), np.ones(n_anomalous)]


def write_csv(path, x, y, order=None, labels=True):
    """id, the features (in ``order``), the label; an empty cell where ``x`` is NaN."""
    order = list(range(WIDTH)) if order is None else order
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id"] + [NAMES[i] for i in order] + (["kind"] if labels else []))
        for j, (r, a) in enumerate(zip(x, y)):
            cells = ["" if np.isnan(r[i]) else f"{r[i]:.5f}" for i in order]
            w.writerow([f"r{j}", *cells] + ([["normal", "odd"][int(a)]] if labels else []))
    return path


def read_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """The features by name (empty cells as NaN) and y (1 = anomaly), read here with the csv module."""
    with open(path, newline="") as f:
        table = list(csv.DictReader(f))
    x = np.array([[float(r[n]) if r[n] else np.nan for n in NAMES] for r in table])
    return x, np.array([r["kind"] != "normal" for r in table], np.int64)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("baselines")
    x, y = rows(240, 60, seed=0)
    x[3, 2] = np.nan  # a missing cell: filled with the run's recorded value
    data = write_csv(folder / "train.csv", x, y)
    args = ["--data", data, "--label-column", "kind", "--normal-label", "normal"]
    cli_here("train", "anomaly", *args, "--id-column", "id", "--out", folder / "run", *FAST)
    return folder


def direct(folder, x_train, x, y) -> dict[str, list[float]]:
    """Each method's [ROC-AUC, PR-AUC]: scikit-learn called here on the run's scaled rows."""
    det = aekit.load(folder / "run")
    train, scaled = det.scaler_.transform(x_train), det.scaler_.transform(x)
    scores = {
        "aekit": det.decision_function(x),
        "kNN distance (k=5)": NearestNeighbors(n_neighbors=5)
        .fit(train)
        .kneighbors(scaled)[0][:, 4],
        "IsolationForest": -IsolationForest(random_state=0).fit(train).score_samples(scaled),
        "LOF (novelty)": -LocalOutlierFactor(novelty=True).fit(train).score_samples(scaled),
    }
    return {k: [roc_auc_score(y, s), average_precision_score(y, s)] for k, s in scores.items()}


def reported(path) -> dict[str, list[float]]:
    methods = json.loads(path.read_text())["baselines"]["methods"]
    return {m["method"]: [m["roc_auc"], m["pr_auc"]] for m in methods}


def the_split(folder) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(normal training rows, held-out rows, their y) of the run: the recorded fill, then the seeded
    stratified 80/20 split, done here."""
    x, y = read_csv(folder / "train.csv")
    fill = json.loads((folder / "run" / "config.json").read_text())["data"]["fill_values"]
    for j, name in enumerate(NAMES):
        x[np.isnan(x[:, j]), j] = fill[name]
    fit, held = train_test_split(np.arange(len(x)), test_size=0.2, random_state=0, stratify=y)
    fit, held = np.sort(fit), np.sort(held)
    return x[fit][y[fit] == 0], x[held], y[held]


def test_held_out_split_table_is_scikit_learns(run):
    out = run / "held.json"
    proc = cli_here("evaluate", run / "run", "--baselines", "--output", out)
    x_train, x_held, y_held = the_split(run)
    assert reported(out) == direct(run, x_train, x_held, y_held)  # exactly
    figures = json.loads(out.read_text())
    assert figures["roc_auc"] == figures["baselines"]["methods"][0]["roc_auc"]  # aekit's own row
    assert figures["baselines"]["n_train"] == len(x_train) == 192
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("ROC-AUC and PR-AUC on 60 labelled rows, 12 of them anomalies")
    assert "192 normal training rows" in lines[0] and "sample" not in lines[0]
    assert lines[1].split() == ["method", "ROC-AUC", "PR-AUC", "seconds"]
    assert [line.split()[0] for line in lines[2:6]] == ["aekit", "kNN", "IsolationForest", "LOF"]
    assert lines[-1] == f"wrote {out}"
    # without --output: the table alone (its seconds aside)
    again = cli_here("evaluate", run / "run", "--baselines").stdout.splitlines()
    assert [line.rsplit(maxsplit=1)[0] for line in again] == [
        line.rsplit(maxsplit=1)[0] for line in lines[:-1]
    ]


def test_another_labelled_file(run):
    x, y = rows(50, 20, seed=4)
    # its columns in another order: the model's are picked by name
    new = write_csv(run / "new.csv", x, y, order=list(range(WIDTH))[::-1])
    out = run / "new.json"
    cli_here(
        "evaluate", run / "run", "--data", new, "--label-column", "kind", "--normal-label", "normal",
        "--baselines", "--output", out,
    )  # fmt: skip
    x_train, _, _ = the_split(run)
    assert reported(out) == direct(run, x_train, x, y)


def test_rows_it_cannot_compare_on_one_line(run):
    x, y = rows(30, 10, seed=6)
    np.save(run / "unlabelled.npy", x)  # an array: the recorded label column does not apply
    proc = cli_here(
        "evaluate", run / "run", "--data", run / "unlabelled.npy", "--baselines", check=None
    )
    assert_one_line_error(proc, 2, "--baselines needs labelled rows")
    normal = write_csv(run / "normal.csv", x[:30], y[:30])
    proc = cli_here("evaluate", run / "run", "--data", normal, "--baselines", check=None)
    assert_one_line_error(proc, 2, "the labelled rows are all normal rows")


def test_training_data_gone_or_changed_one_line(run):
    data, kept = run / "train.csv", run / "kept.csv"
    x, y = rows(30, 10, seed=7)
    new = write_csv(run / "labelled.csv", x, y)
    on_new = ("evaluate", run / "run", "--data", new, "--label-column", "kind")
    on_new += ("--normal-label", "normal", "--baselines")
    shutil.copy(data, kept)
    try:
        data.unlink()
        proc = cli_here(*on_new, check=None)
        assert_one_line_error(proc, 2, "--baselines", "train.csv is not there any more")
        proc = cli_here("evaluate", run / "run", "--baselines", check=None)  # the held-out split
        assert_one_line_error(proc, 2, "--baselines", "train.csv is not there any more")
        data.write_text(kept.read_text().replace("normal", "odd", 1))  # one label: another split
        for args in (on_new, ("evaluate", run / "run", "--baselines")):
            proc = cli_here(*args, check=None)
            assert_one_line_error(proc, 2, "train.csv has changed since the run was trained")
            # the only fix: another --data still fits the baselines on the changed training rows
            assert "--data" not in proc.stderr and "put the original back" in proc.stderr
    finally:
        shutil.copy(kept, data)
    assert cli_here(*on_new).returncode == 0


def test_other_families_refuse_in_one_line():
    with pytest.raises(UsageError, match="this is a basic run: compare an anomaly run"):
        get_recipe("basic").compare_baselines(None, None, 0, None)
