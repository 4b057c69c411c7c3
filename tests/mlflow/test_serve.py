"""``mlflow models serve`` serves an aekit model: a real server on a free port of 127.0.0.1, started and
stopped here. It takes a minute on 2 busy cores (MLflow's and torch's imports in the server), so it
runs on request: AEKIT_FULL_MATRIX=1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mlflow")
pytest.importorskip("uvicorn")

import aekit
import aekit.mlflow

pytestmark = pytest.mark.skipif(
    not os.environ.get("AEKIT_FULL_MATRIX"),
    reason="starts mlflow models serve (about a minute); AEKIT_FULL_MATRIX=1 runs it",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 300) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert proc.poll() is None, "the server stopped"
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"no answer from {url} in {seconds} s")


def test_mlflow_models_serve_answers_with_aekits_scores(tmp_path):
    x = np.random.default_rng(0).normal(size=(300, 3)).astype(np.float32)
    det = aekit.AnomalyDetector(epochs=2, members=1, device="cpu")
    det.fit(x, feature_names=["a", "b", "c"])
    aekit.mlflow.save_model(det, tmp_path / "model")
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)  # where the server's uvicorn is
    proc = subprocess.Popen(
        [Path(sys.executable).with_name("mlflow"), "models", "serve", "-m", tmp_path / "model",
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", proc)
        rows = x[:5].tolist()
        got = post(
            f"http://127.0.0.1:{port}/invocations",
            {"dataframe_split": {"columns": ["a", "b", "c"], "data": rows}},
        )["predictions"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its uvicorn worker
        proc.wait(timeout=60)
    np.testing.assert_allclose([p["score"] for p in got], det.decision_function(x[:5]), atol=1e-6)
    assert [p["is_anomaly"] for p in got] == det.predict(x[:5]).tolist()
