"""MLflow tracking: ``aekit train ... --mlflow URI`` and ``fit(..., mlflow=...)`` into a local file store,
read back with MLflow's own client."""

from __future__ import annotations

import csv
import json
import os
import socket
import sys
import time

import numpy as np
import pytest

mlflow = pytest.importorskip("mlflow")

import aekit  # noqa: E402
from aekit.errors import UsageError  # noqa: E402
from aekit.training.mlflow import INSTALL_HINT  # noqa: E402

from ..cli.helpers import cli_here  # noqa: E402

FEATURES = 6


@pytest.fixture(autouse=True)
def file_store(monkeypatch):
    # MLflow 3 keeps its file store for those who ask for it; the tests need no server.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)


def write_table(path, n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", *(f"f{i}" for i in range(FEATURES))])
        for j, row in enumerate(x):
            w.writerow([f"r{j}", *(f"{v:.5f}" for v in row)])
    return path


def train(tmp_path, *extra, check=0):
    data = write_table(tmp_path / "train.csv")
    run = tmp_path / "run"
    args = ["train", "anomaly", "--data", data, "--id-column", "id", "--epochs", "3"]
    args += ["--members", "1", "--density", "0", "--device", "cpu", "--out", run, "--quiet"]
    return run, cli_here(*args, *extra, check=check)


def only_run(client, experiment="Default"):
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1, runs
    return runs[0]


def artifacts(client, run_id, path=None):
    """Every artifact path of the run, recursively."""
    found = []
    for item in client.list_artifacts(run_id, path):
        found += artifacts(client, run_id, item.path) if item.is_dir else [item.path]
    return found


def test_train_logs_params_epochs_held_out_metrics_figures_and_the_run(tmp_path):
    uri = (tmp_path / "mlruns").as_uri()
    run, proc = train(
        tmp_path, "--mlflow", uri, "--mlflow-experiment", "ecg", "--mlflow-run-name", "first"
    )
    client = mlflow.MlflowClient(uri)
    logged = only_run(client, "ecg")
    assert f"MLflow run: {logged.info.run_id}" in proc.stdout
    assert logged.info.run_name == "first" and logged.info.status == "FINISHED"
    params = logged.data.params
    assert params["family"] == "anomaly" and params["members"] == "1"
    assert params["density"] == "0.0" and params["data.id_column"] == "id"

    # per epoch: MLflow's step is the epoch, the values those of history.csv
    history = list(csv.DictReader((run / "history.csv").read_text().splitlines()))
    for key in ("train_loss", "val_loss"):
        points = client.get_metric_history(logged.info.run_id, key)
        assert [p.step for p in points] == [int(r["epoch"]) for r in history]
        np.testing.assert_allclose([p.value for p in points], [float(r[key]) for r in history])
    held_out = json.loads((run / "metrics.json").read_text())
    assert logged.data.metrics["threshold"] == pytest.approx(held_out["threshold"])
    assert logged.data.metrics["anomaly_rate"] == pytest.approx(held_out["anomaly_rate"])

    found = set(artifacts(client, logged.info.run_id))
    assert {"run/config.json", "run/model.safetensors", "run/history.csv"} <= found
    assert {f"run/figures/{p.name}" for p in (run / "figures").iterdir()} <= found
    assert not any(p.startswith("run/checkpoint") for p in found)
    assert "model/MLmodel" in found and "model/artifacts/run/model.safetensors" in found


def test_the_logged_model_loads_from_the_run(tmp_path):
    uri = (tmp_path / "mlruns").as_uri()
    run, _ = train(tmp_path, "--mlflow", uri)
    run_id = only_run(mlflow.MlflowClient(uri)).info.run_id
    mlflow.set_tracking_uri(uri)
    try:
        model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    finally:
        mlflow.set_tracking_uri(None)
    import pandas as pd

    frame = pd.read_csv(tmp_path / "train.csv").head(50)
    got = model.predict(frame)
    want = aekit.load(run).decision_function(frame[[f"f{i}" for i in range(FEATURES)]].to_numpy())
    np.testing.assert_allclose(got["score"].to_numpy(), want, rtol=0, atol=1e-6)


def test_fit_logs_params_and_each_epoch(tmp_path):
    uri = (tmp_path / "mlruns").as_uri()
    x = np.random.default_rng(0).normal(size=(200, FEATURES)).astype(np.float32)
    ae = aekit.Autoencoder(latent_dim=2, epochs=2, device="cpu")
    ae.fit(x, validation_data=x[:40], mlflow=uri)
    client = mlflow.MlflowClient(uri)
    logged = only_run(client)
    assert logged.info.status == "FINISHED" and logged.data.params["latent_dim"] == "2"
    points = client.get_metric_history(logged.info.run_id, "val_loss")
    assert [p.step for p in points] == [1, 2]
    assert points[-1].value == pytest.approx(ae.history_[-1]["val_loss"])


def test_an_active_run_is_joined_and_left_open(tmp_path):
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    try:
        x = np.random.default_rng(0).normal(size=(100, FEATURES)).astype(np.float32)
        with mlflow.start_run() as active:
            aekit.Autoencoder(latent_dim=2, epochs=1, device="cpu").fit(x, mlflow=True)
            assert mlflow.active_run().info.run_id == active.info.run_id
        logged = mlflow.get_run(active.info.run_id)
    finally:
        mlflow.set_tracking_uri(None)
    assert logged.data.params["latent_dim"] == "2" and "train_loss" in logged.data.metrics


def test_a_failed_fit_ends_the_run_as_failed(tmp_path):
    uri = (tmp_path / "mlruns").as_uri()

    class Stop:
        def on_epoch_end(self, record):
            raise RuntimeError("stopped by the test")

    x = np.random.default_rng(0).normal(size=(100, FEATURES)).astype(np.float32)
    ae = aekit.Autoencoder(latent_dim=2, epochs=2, device="cpu")
    with pytest.raises(RuntimeError, match="stopped by the test"):
        ae.fit(x, mlflow=uri, callbacks=[Stop()])
    assert only_run(mlflow.MlflowClient(uri)).info.status == "FAILED"


def test_without_mlflow_one_line_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow raises ImportError
    run, proc = train(tmp_path, "--mlflow", check=2)
    assert proc.stderr.strip() == f"aekit: error: {INSTALL_HINT}" and not run.exists()
    x = np.zeros((10, FEATURES), np.float32)
    with pytest.raises(UsageError, match=r"pip install 'aekit\[mlflow\]'"):
        aekit.Autoencoder(epochs=1).fit(x, mlflow=True)


def test_a_tracking_store_that_cannot_be_used_is_one_line_before_training(tmp_path):
    proc = cli_here(
        "train", "anomaly", "--data", write_table(tmp_path / "t.csv"), "--out", tmp_path / "run",
        "--mlflow", "nosuchscheme://x", check=1,
    )  # fmt: skip
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("aekit: error: MLflow: cannot"), err
    assert not (tmp_path / "run").exists()


def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HTTP_ENV = ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT")


def test_a_server_refusing_connections_is_one_line_at_once(tmp_path, monkeypatch):
    for name in HTTP_ENV:
        monkeypatch.delenv(name, raising=False)
    uri = f"http://127.0.0.1:{closed_port()}"
    t0 = time.monotonic()
    proc = cli_here(
        "train", "anomaly", "--data", write_table(tmp_path / "t.csv"), "--out", tmp_path / "run",
        "--epochs", "1", "--mlflow", uri, check=1,
    )  # fmt: skip
    assert time.monotonic() - t0 < 10  # MLflow's own retries took about 250 s
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err  # no urllib3 "Retrying" warnings
    assert err.startswith(f"aekit: error: MLflow: cannot start a run in {uri}"), err
    assert not (tmp_path / "run").exists()
    # the caps hold for that first contact only: the environment is as it was
    assert not any(name in os.environ for name in HTTP_ENV)
