"""The MLflow model of a run: saved and logged without a pickle, reloaded through ``mlflow.pyfunc`` in a
fresh process with aekit's own outputs, and its signature."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

mlflow = pytest.importorskip("mlflow")
pd = pytest.importorskip("pandas")

import aekit  # noqa: E402
import aekit.mlflow  # noqa: E402
from aekit.errors import UsageError  # noqa: E402

from ..cli.helpers import cli_here  # noqa: E402

FEATURES = [f"f{i}" for i in range(6)]


@pytest.fixture(autouse=True)
def file_store(monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=FEATURES)
    df.insert(0, "id", [f"r{i}" for i in range(n)])
    return df


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """An anomaly run (CLI), a table autoencoder fitted on a DataFrame, an image autoencoder."""
    root = tmp_path_factory.mktemp("models")
    frame(400, 0).to_csv(root / "train.csv", index=False)
    cli_here(
        "train", "anomaly", "--data", root / "train.csv", "--id-column", "id", "--epochs", "2",
        "--members", "1", "--device", "cpu", "--out", root / "detector", "--quiet",
    )  # fmt: skip
    table = aekit.Autoencoder(epochs=1, device="cpu")  # latent_dim "auto": the size is learned
    table.fit(frame(300, 1)[FEATURES].astype("float32"))
    images = np.random.default_rng(2).random((64, 1, 8, 8), dtype=np.float32)
    image = aekit.Autoencoder(latent_dim=4, epochs=1, device="cpu").fit(images)
    return {"detector": root / "detector", "table": table, "image": image, "images": images}


def pickles(folder):
    """Files in ``folder`` that are pickles: by name, or by pickle's protocol header (safetensors files,
    whose first 8 bytes are a length, are checked by name only)."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            head = b"" if path.suffix == ".safetensors" else path.read_bytes()[:2]
            if path.suffix in (".pkl", ".pickle") or (head[:1] == b"\x80" and head[1:] < b"\x06"):
                found.append(path)
    return found


FRESH = textwrap.dedent(
    """
    import sys, numpy as np, pandas as pd, mlflow
    root = sys.argv[1]
    rows = pd.read_csv(f"{root}/rows.csv")
    for name in ("detector", "table"):
        mlflow.pyfunc.load_model(f"{root}/{name}").predict(rows).to_csv(f"{root}/{name}.out.csv", index=False)
    images = np.load(f"{root}/images.npy")
    mlflow.pyfunc.load_model(f"{root}/image").predict(images).to_csv(f"{root}/image.out.csv", index=False)
    """
)


def test_a_saved_model_reloads_in_a_fresh_process_with_aekits_outputs(models, tmp_path):
    for name in ("detector", "table", "image"):
        aekit.mlflow.save_model(models[name], tmp_path / name)
        assert pickles(tmp_path / name) == []
        assert (tmp_path / name / "artifacts" / "run" / "model.safetensors").is_file()
    rows = frame(200, 3)
    rows = rows[["id", *reversed(FEATURES)]]  # other order, an extra column: picked by name
    rows.to_csv(tmp_path / "rows.csv", index=False)
    np.save(tmp_path / "images.npy", models["images"][:20])
    subprocess.run(
        [sys.executable, "-c", FRESH, str(tmp_path)],
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=300,
    )
    x = rows[FEATURES].to_numpy(np.float32)
    detector = aekit.load(models["detector"])
    got = pd.read_csv(tmp_path / "detector.out.csv")
    assert list(got.columns) == ["score", "is_anomaly", "p_value"]
    np.testing.assert_allclose(got["p_value"], detector.p_values(x), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["score"], detector.decision_function(x), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(got["is_anomaly"], detector.predict(x))
    z = pd.read_csv(tmp_path / "table.out.csv")
    width = models["table"].latent_dim_  # "auto": learned from the rows
    assert 1 <= width < len(FEATURES) and list(z.columns) == [f"z{i + 1}" for i in range(width)]
    np.testing.assert_allclose(z.to_numpy(), models["table"].transform(x), rtol=0, atol=1e-6)
    z = pd.read_csv(tmp_path / "image.out.csv").to_numpy()
    np.testing.assert_allclose(z, models["image"].transform(models["images"][:20]), atol=1e-6)


def test_predict_keeps_the_input_rows_index(models):
    """Probe 52 dep 4: the index came back 0..n-1: a join on a filtered frame paired the scores
    with other rows."""
    from aekit.mlflow.pyfunc import predict

    detector = aekit.load(models["detector"])
    rows = frame(20, 3)[FEATURES].iloc[[5, 3, 1]]
    out = predict(detector, rows)
    assert list(out.index) == [5, 3, 1]
    np.testing.assert_allclose(
        rows.join(out)["score"], detector.decision_function(rows.to_numpy(np.float32)), atol=1e-6
    )


def test_the_signature_is_the_runs_inputs_and_outputs(models):
    sig = aekit.mlflow.model_signature(aekit.load(models["detector"]))
    assert sig.inputs.input_names() == FEATURES
    assert [c.type.name for c in sig.inputs.inputs] == ["double"] * len(FEATURES)
    assert [(c.name, c.type.name) for c in sig.outputs.inputs] == [
        ("score", "double"),
        ("is_anomaly", "long"),
        ("p_value", "double"),
    ]
    image = aekit.mlflow.model_signature(models["image"])
    assert image.inputs.inputs[0].shape == (-1, 1, 8, 8)
    assert image.outputs.input_names() == ["z1", "z2", "z3", "z4"]


def test_scores_and_p_values_from_one_pass(models):
    """The p-values come from the scores already computed: the network scores the rows once."""
    from aekit.estimators.thresholds import p_values
    from aekit.mlflow.pyfunc import predict

    det = aekit.load(models["detector"])
    calls, score = [], det.decision_function
    det.decision_function = lambda X: calls.append(len(X)) or score(X)  # on this instance only
    out = predict(det, frame(5, 4))
    assert calls == [5] and list(out.columns) == ["score", "is_anomaly", "p_value"]
    np.testing.assert_array_equal(out["p_value"], p_values(det.calibration_scores_, out["score"]))


def test_log_model_logs_to_the_active_run(models, tmp_path):
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    try:
        with mlflow.start_run():
            info = aekit.mlflow.log_model(models["detector"], registered_model_name="ecg")
        model = mlflow.pyfunc.load_model(info.model_uri)
        registered = mlflow.pyfunc.load_model("models:/ecg/1")
    finally:
        mlflow.set_tracking_uri(None)
    rows = frame(30, 5)
    want = aekit.load(models["detector"]).decision_function(rows[FEATURES].to_numpy(np.float32))
    for m in (model, registered):
        np.testing.assert_allclose(m.predict(rows)["score"], want, rtol=0, atol=1e-6)


def test_what_cannot_be_served_is_one_line(models, tmp_path):
    with pytest.raises(UsageError, match="no per-row outputs"):
        aekit.mlflow.save_model(aekit.Denoiser(), tmp_path / "denoiser")
    aekit.mlflow.save_model(models["detector"], tmp_path / "m")
    with pytest.raises(UsageError, match="already exists"):
        aekit.mlflow.save_model(models["detector"], tmp_path / "m")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not an aekit MLflow model"):
        aekit.mlflow.save_model(models["detector"], tmp_path / "other", overwrite=True)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    aekit.mlflow.save_model(models["table"], tmp_path / "m", overwrite=True)
    meta = json.loads(json.dumps(mlflow.models.Model.load(str(tmp_path / "m")).metadata))
    assert meta["estimator"] == "Autoencoder"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def _estimator(folder):
    return mlflow.models.Model.load(str(folder)).metadata["estimator"]


def test_overwrite_replaces_only_what_aekit_wrote(models, tmp_path):
    """Another library's MLflow model is refused and left whole; the user's files in an MLflow model
    of aekit's are kept; a link to a model stays a link, and the model it names is replaced."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "MLmodel").write_text("flavors:\n  sklearn: {pickled_model: model.pkl}\n")
    (theirs / "model.pkl").write_bytes(b"their weights")
    with pytest.raises(UsageError, match=r"theirs is not an aekit MLflow model .*MLmodel"):
        aekit.mlflow.save_model(models["table"], theirs, overwrite=True)
    assert sorted(p.name for p in theirs.iterdir()) == ["MLmodel", "model.pkl"]
    assert (theirs / "model.pkl").read_bytes() == b"their weights"

    ours = tmp_path / "ours"
    aekit.mlflow.save_model(models["detector"], ours)
    (ours / "NOTES.txt").write_text("my notes")
    (ours / "mydir").mkdir()
    (ours / "mydir" / "data.csv").write_text("a,b\n1,2\n")
    aekit.mlflow.save_model(models["table"], ours, overwrite=True)
    assert _estimator(ours) == "Autoencoder"
    assert (ours / "NOTES.txt").read_text() == "my notes"
    assert (ours / "mydir" / "data.csv").read_text() == "a,b\n1,2\n"

    (tmp_path / "link").symlink_to(ours)
    aekit.mlflow.save_model(models["detector"], tmp_path / "link", overwrite=True)
    assert (tmp_path / "link").is_symlink() and _estimator(ours) == "AnomalyDetector"
    assert (ours / "NOTES.txt").read_text() == "my notes"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_a_model_of_an_aekit_before_manifests_is_replaced_when_it_holds_only_aekits_files(
    models, tmp_path
):
    """Told by its MLmodel (aekit's version in the metadata) and its run; a file of the user's in it
    cannot be told from aekit's, so the overwrite is refused naming it."""
    old = tmp_path / "old"
    aekit.mlflow.save_model(models["detector"], old)
    (old / ".aekit-manifest.json").unlink()
    (old / "NOTES.txt").write_text("my notes")
    with pytest.raises(UsageError, match="NOTES.txt"):
        aekit.mlflow.save_model(models["table"], old, overwrite=True)
    assert (old / "NOTES.txt").read_text() == "my notes" and _estimator(old) == "AnomalyDetector"
    (old / "NOTES.txt").unlink()
    aekit.mlflow.save_model(models["table"], old, overwrite=True)
    assert _estimator(old) == "Autoencoder"


def test_an_image_detector_is_a_model_of_per_image_scores(tmp_path):
    """An image run's MLflow model: an array of images in, each image's score, label and p-value out."""
    from aekit.data.defects import defect_dataset, grating

    rng = np.random.default_rng(0)
    ds = defect_dataset(grating(128, rng), rng, size=24, n_train=30, n_good=3, n_per_defect=1)
    det = aekit.ImageAnomalyDetector(bank_size=512, device="cpu").fit(ds.train)
    aekit.mlflow.save_model(det, tmp_path / "parts")
    assert pickles(tmp_path / "parts") == []
    sig = aekit.mlflow.model_signature(det)
    assert sig.inputs.inputs[0].shape == (-1, 1, 24, 24)
    got = mlflow.pyfunc.load_model(str(tmp_path / "parts")).predict(ds.test.astype(np.float32))
    assert list(got.columns) == ["score", "is_anomaly", "p_value"]
    np.testing.assert_allclose(got["score"], det.decision_function(ds.test), rtol=1e-6)
    np.testing.assert_array_equal(got["is_anomaly"], det.predict(ds.test))
    np.testing.assert_allclose(got["p_value"], det.p_values(ds.test), atol=1e-12)


def test_the_model_reads_a_table_as_the_run_does(tmp_path):
    """A run trained with --categorical on rows with missing cells: the MLflow model refused the
    rows aekit score reads (one-hot columns missing, NaN), as the Dask path did."""
    from types import SimpleNamespace

    from aekit.mlflow.pyfunc import AekitModel

    rng = np.random.default_rng(0)
    rows = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    rows.insert(0, "uid", [f"u{i}" for i in range(80)])
    rows["plan"] = [["basic", "pro", "free"][i % 3] for i in range(80)]
    rows["plan=x"] = rng.normal(size=80) * 100  # the user's own column, named like a one-hot one
    rows.loc[[3, 50], "b"] = np.nan
    rows.to_csv(tmp_path / "train.csv", index=False)
    cli_here(
        "train", "anomaly", "--data", tmp_path / "train.csv", "--id-column", "uid",
        "--categorical", "plan", "--epochs", "1", "--device", "cpu", "--quiet", "--no-figures",
        "--out", tmp_path / "run",
    )  # fmt: skip
    cli_here(
        "score", tmp_path / "run", "--input", tmp_path / "train.csv", "--output", tmp_path / "s.csv"
    )
    model = AekitModel()
    model.load_context(SimpleNamespace(artifacts={"run": str(tmp_path / "run")}))
    got = model.predict(None, rows.drop(columns="uid"))
    want = pd.read_csv(tmp_path / "s.csv")
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-5, atol=1e-6)
    # through MLflow itself: its signature asked for the one-hot columns (plan=basic, ...) and
    # refused the run's own `plan` before aekit saw the rows (interop probe 58 #3)
    import mlflow

    aekit.mlflow.save_model(tmp_path / "run", tmp_path / "model")
    served = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    assert {"plan", "plan=x"} <= set(served.metadata.get_input_schema().input_names())
    got = served.predict(rows.drop(columns="uid"))
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-5, atol=1e-6)
