"""Training on data larger than memory: row stores on disk give the same models as arrays, with bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from numpy.lib.format import open_memmap

import aekit
from aekit.data import NpyRows

from ..cli.helpers import REPO, cli_here


def _state(est):
    return {k: v.clone() for k, v in est.model_.state_dict().items()}


@pytest.mark.parametrize(
    "family, shape, params",
    [
        ("Autoencoder", (300, 20), {"latent_dim": 4}),
        ("AnomalyDetector", (300, 20), {"scaler": "standard"}),
        ("Denoiser", (120, 1, 12, 12), {}),
        ("VAE", (120, 1, 12, 12), {"latent_dim": 2}),
    ],
)
def test_a_row_store_trains_the_same_model_as_the_array(family, shape, params, tmp_path):
    X = np.random.default_rng(0).random(shape, dtype=np.float32)
    np.save(tmp_path / "x.npy", X)
    cls = getattr(aekit, family)
    in_memory = cls(epochs=2, device="cpu", **params).fit(X)
    with NpyRows(tmp_path / "x.npy") as rows:
        streamed = cls(epochs=2, device="cpu", **params).fit(rows)
        a, b = _state(in_memory), _state(streamed)
        # the same batches, bit for bit
        assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
        if family == "AnomalyDetector":
            np.testing.assert_array_equal(
                streamed.decision_function(rows), in_memory.decision_function(X)
            )
            assert streamed.threshold_ == in_memory.threshold_


def test_bad_values_on_disk_are_found_in_chunks(tmp_path):
    X = np.random.default_rng(0).random((50, 4), dtype=np.float32)
    X[37, 2] = np.nan
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(aekit.errors.DataError, match="37"):
        aekit.Autoencoder(epochs=1).fit(NpyRows(tmp_path / "x.npy"))


def test_streamed_csv_with_labels_trains_the_anomaly_recipe(tmp_path):
    rng = np.random.default_rng(0)
    normal = np.sin(np.linspace(0, 6, 40)) + 0.05 * rng.standard_normal((300, 40))
    odd = rng.standard_normal((60, 40))
    X, y = np.vstack([normal, odd]), np.r_[np.ones(300, int), np.zeros(60, int)]
    path = tmp_path / "beats.csv"
    lines = ["label," + ",".join(f"t{i}" for i in range(40))]
    lines += [f"{c}," + ",".join(f"{v:.5f}" for v in row) for c, row in zip(y, X)]
    path.write_text("\n".join(lines) + "\n")
    args = [
        "--data",
        path,
        "--label-column",
        "label",
        "--normal-label",
        "1",
        "--epochs",
        "30",
        "--no-figures",
        "--quiet",
        "--device",
        "cpu",
    ]
    cli_here("train", "anomaly", *args, "--stream", "--out", tmp_path / "s")
    cli_here("train", "anomaly", *args, "--out", tmp_path / "m")
    streamed, memory = (json.loads((tmp_path / r / "metrics.json").read_text()) for r in ("s", "m"))
    assert json.loads((tmp_path / "s" / "config.json").read_text())["data"]["stream"] is True
    assert streamed["roc_auc"] > 0.95 and streamed["roc_auc"] == pytest.approx(
        memory["roc_auc"], abs=1e-6
    )


def _peak_rss_mb(*args: str) -> float:
    """Peak RSS (MB) of ``aekit ARGS`` run in a fresh child of a fresh process."""
    code = (
        "import resource, subprocess, sys; "
        "p = subprocess.run([sys.executable, '-m', 'aekit', *sys.argv[1:]], capture_output=True, text=True); "
        "assert p.returncode == 0, p.stderr; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return float(out.stdout.strip())


def test_training_from_a_file_larger_than_the_memory_cap_has_bounded_memory(tmp_path):
    # 256 MB of float32 on disk, written in chunks so the test itself never holds it; cap 32 MB.
    big = open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(250_000, 256))
    rng = np.random.default_rng(0)
    for i in range(0, len(big), 50_000):
        big[i : i + 50_000] = rng.random((50_000, 256), dtype=np.float32)
    big.flush()
    del big
    np.save(tmp_path / "small.npy", rng.random((2_000, 256), dtype=np.float32))
    common = [
        "train",
        "basic",
        "--epochs",
        "1",
        "--batch-size",
        "512",
        "--latent-dim",
        "8",
        "--no-figures",
        "--quiet",
        "--device",
        "cpu",
    ]
    baseline = _peak_rss_mb(*common, "--data", tmp_path / "small.npy", "--out", tmp_path / "r0")
    streamed = _peak_rss_mb(
        *common, "--data", tmp_path / "big.npy", "--memory-cap", "32M", "--out", tmp_path / "r1"
    )
    config = json.loads((tmp_path / "r1" / "config.json").read_text())
    assert config["data"]["memory_cap"] == 32 * 2**20
    assert len((tmp_path / "r1" / "history.csv").read_text().splitlines()) == 2
    # The whole file would add 256 MB (and its float32 copy as much again); streaming adds far less.
    assert streamed - baseline < 128, (baseline, streamed)


@pytest.mark.parametrize("family", ["basic", "anomaly"])
def test_evaluate_scores_a_streamed_file_in_batches(family, tmp_path):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "train.npy", rng.random((300, 16), dtype=np.float32))
    np.save(tmp_path / "other.npy", rng.random((90, 16), dtype=np.float32))
    common = [
        "--data",
        tmp_path / "train.npy",
        "--epochs",
        "2",
        "--no-figures",
        "--quiet",
        "--device",
        "cpu",
    ]
    # the run records: stream its data
    cli_here("train", family, *common, "--stream", "--out", tmp_path / "s")
    cli_here("train", family, *common, "--no-stream", "--out", tmp_path / "m")
    on_disk = json.loads(
        cli_here("evaluate", tmp_path / "s", "--data", tmp_path / "other.npy").stdout
    )
    in_memory = json.loads(
        cli_here("evaluate", tmp_path / "m", "--data", tmp_path / "other.npy").stdout
    )
    assert on_disk.keys() == in_memory.keys()
    for key, value in in_memory.items():
        assert on_disk[key] == pytest.approx(value, rel=1e-6), key


def test_a_streamed_file_of_the_wrong_width_is_refused_in_one_line(tmp_path):
    from ..cli.helpers import assert_one_line_error

    rng = np.random.default_rng(2)
    np.save(tmp_path / "train.npy", rng.random((100, 16), dtype=np.float32))
    np.save(tmp_path / "wrong.npy", rng.random((10, 7), dtype=np.float32))
    cli_here(
        "train",
        "basic",
        "--data",
        tmp_path / "train.npy",
        "--stream",
        "--epochs",
        "1",
        "--no-figures",
        "--quiet",
        "--out",
        tmp_path / "r",
    )
    proc = cli_here("evaluate", tmp_path / "r", "--data", tmp_path / "wrong.npy", check=None)
    assert_one_line_error(proc, 2, "wrong.npy has 7 feature columns", "trained on 16")
