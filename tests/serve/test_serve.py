"""``aekit serve`` as a client sees it: a real server on a free loopback port, a real HTTP client.

Five tiny runs (one per family) are trained once; one server serves them all. Every output is
compared with what ``aekit score``, ``encode``, ``reconstruct``, ``denoise`` and ``sample`` write
for the same rows; the health and metadata endpoints with the protocol; malformed requests each
get their status and one line, and the server goes on serving; four clients at once lose nothing.
A second server (a run that cannot load, an API key, a long batching wait) is stopped with SIGTERM
in the middle of a load.
"""

from __future__ import annotations

import csv
import json
import threading
import time

import httpx
import numpy as np
import pytest

import aekit

from ..badinput import cli
from ..synthetic_series import sine_series
from ..synthetic_series import write_csv as write_series
from .server import Served, http_client, serving

pytest.importorskip("uvicorn")
FEATURES = 24
TOL = 1e-6
TINY = ["--epochs", "1", "--device", "cpu", "--quiet", "--no-figures"]


def _beats(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, FEATURES)
    x = np.sin(t + rng.uniform(0, 2 * np.pi, (n, 1))) + rng.normal(0, 0.05, (n, FEATURES))
    return x.astype(np.float32)


def _write_beats(path, x: np.ndarray) -> str:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["beat_id", *[f"t{i}" for i in range(FEATURES)], "kind"])
        for j, row in enumerate(x):
            w.writerow([f"b{j}", *[repr(float(v)) for v in row], "normal"])
    return str(path)


def _images(n: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, size, size), np.float32)
    for i in range(n):
        r, c = rng.integers(0, size // 2, 2)
        x[i, 0, r : r + size // 2, c : c + size // 2] = 1
    return x


def _train(*args) -> None:
    code, out, err = cli("train", *args)
    assert code == 0, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Five tiny runs, their input files, and the rows posted to the server."""
    root = tmp_path_factory.mktemp("serve")
    beats = _write_beats(root / "beats.csv", _beats(200, 0))
    new = _beats(12, 1)
    new[-3:, 5:8] += 2.5  # some anomalies
    files = {"beats_new": _write_beats(root / "beats_new.csv", new)}
    _train("anomaly", "--data", beats, "--id-column", "beat_id", "--label-column", "kind",
           "--normal-label", "normal", "--out", root / "ecg", "--batch-size", "32", *TINY)  # fmt: skip
    np.save(root / "images.npy", _images(64, 16, 2))
    _train("basic", "--data", root / "images.npy", "--out", root / "ae", *TINY)  # latent_dim "auto"
    _train("denoise", "--data", root / "images.npy", "--channels", "4,4", "--out", root / "den",
           *TINY)  # fmt: skip
    np.save(root / "digits.npy", _images(48, 28, 3))
    _train("vae", "--data", root / "digits.npy", "--latent-dim", "2", "--out", root / "vae", *TINY)
    normal, _ = sine_series(400, channels=2, kind="none", seed=1)
    series = write_series(root / "series.csv", normal)
    x, _ = sine_series(300, channels=2, kind="spike", at=200, length=5, seed=2)
    files["series_new"] = write_series(root / "series_new.csv", x)
    _train("series", "--data", series, "--time-column", "time", "--channels", "4,4",
           "--latent-dim", "4", "--out", root / "series", *TINY)  # fmt: skip
    np.save(root / "new_images.npy", _images(5, 16, 4))
    np.save(root / "new_digits.npy", _images(4, 28, 5))
    names = ("ecg", "ae", "den", "vae", "series")
    return {
        "root": root,
        "runs": {n: str(root / n) for n in names},
        "series_x": x,
        "new": new,
        **files,
    }


@pytest.fixture(scope="module")
def server(runs):
    with serving(*[f"{n}={p}" for n, p in runs["runs"].items()], "--max-body", "1M") as served:
        yield served


@pytest.fixture(scope="module")
def client():
    with http_client() as c:
        yield c


def infer(client, server, model: str, inputs: list, **body) -> dict:
    r = client.post(f"{server.url}/v2/models/{model}/infer", json={"inputs": inputs, **body})
    assert r.status_code == 200, r.text
    return {o["name"]: o for o in r.json()["outputs"]}


def tensor(name: str, x: np.ndarray, datatype: str = "FP32") -> dict:
    return {"name": name, "shape": list(x.shape), "datatype": datatype, "data": x.ravel().tolist()}


def values(output: dict) -> np.ndarray:
    return np.asarray(output["data"]).reshape(output["shape"])


def _cli_out(*args) -> None:
    code, _, err = cli(*args)
    assert code == 0, err


def _read_scores(path) -> tuple[np.ndarray, np.ndarray]:
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return np.array([float(r["score"]) for r in rows]), np.array(
        [int(r["is_anomaly"]) for r in rows]
    )


# ---- health and metadata ----------------------------------------------------------------------------


def test_health_and_server_metadata_answer_as_the_protocol_says(server, client):
    r = client.get(f"{server.url}/v2/health/live")
    assert (r.status_code, r.json()) == (200, {"live": True})
    r = client.get(f"{server.url}/v2/health/ready")
    assert (r.status_code, r.json()) == (200, {"ready": True})
    meta = client.get(f"{server.url}/v2").json()
    assert meta["name"] == "aekit" and meta["version"] == aekit.__version__
    assert isinstance(meta["extensions"], list)
    for name in ("ecg", "ae", "den", "vae", "series"):
        r = client.get(f"{server.url}/v2/models/{name}/ready")
        assert (r.status_code, r.json()) == (200, {"name": name, "ready": True})


def _specs(meta: dict, key: str) -> dict:
    return {t["name"]: (t["datatype"], t["shape"]) for t in meta[key]}


def test_model_metadata_names_each_input_and_output_with_shape_and_datatype(server, client):
    def meta(name):
        r = client.get(f"{server.url}/v2/models/{name}")
        assert r.status_code == 200, r.text
        m = r.json()
        assert m["name"] == name and m["platform"].startswith("aekit/")
        return m

    ecg = meta("ecg")
    assert _specs(ecg, "inputs") == {
        "input": ("FP32", [-1, FEATURES]),
        **{f"t{i}": ("FP32", [-1]) for i in range(FEATURES)},
    }
    expected = {"score": ("FP32", [-1]), "label": ("INT64", [-1])}
    if callable(getattr(aekit.AnomalyDetector, "p_values", None)):
        expected["p_value"] = ("FP64", [-1])
    expected["feature_errors"] = ("FP32", [-1, FEATURES])  # only when a request names it
    assert _specs(ecg, "outputs") == expected
    ae = meta("ae")
    assert _specs(ae, "inputs") == {"input": ("FP32", [-1, 1, 16, 16])}
    assert _specs(ae, "outputs") == {
        "latent": ("FP32", [-1, 64]),  # latent_dim="auto" on 16x16 images: 64
        "reconstruction": ("FP32", [-1, 1, 16, 16]),
    }
    assert _specs(meta("den"), "outputs") == {"denoised": ("FP32", [-1, 1, -1, -1])}
    assert set(_specs(meta("vae"), "outputs")) == {"latent", "reconstruction", "sample"}
    series = meta("series")
    assert _specs(series, "inputs") == {
        "input": ("FP32", [-1, 2]),
        "c0": ("FP32", [-1]),
        "c1": ("FP32", [-1]),
    }
    assert _specs(series, "outputs")["score"] == ("FP64", [-1])


# ---- every output equals the command's -------------------------------------------------------------------


def test_detector_scores_and_labels_equal_aekit_score(runs, server, client, tmp_path):
    _cli_out(
        "score", runs["runs"]["ecg"], "--input", runs["beats_new"], "--output", tmp_path / "s.csv"
    )
    scores, labels = _read_scores(tmp_path / "s.csv")
    assert 0 < labels.sum() < len(labels)  # both kinds among the rows
    out = infer(client, server, "ecg", [tensor("input", runs["new"])])
    assert out["score"]["datatype"] == "FP32" and out["label"]["datatype"] == "INT64"
    np.testing.assert_allclose(values(out["score"]), scores, rtol=TOL, atol=TOL)
    np.testing.assert_array_equal(values(out["label"]), labels)


def test_table_runs_take_named_columns_in_any_order_and_echo_the_id_column(runs, server, client):
    x = runs["new"]
    order = np.random.default_rng(0).permutation(FEATURES)
    columns = [tensor(f"t{i}", x[:, i]) for i in order]
    ids = {
        "name": "beat_id",
        "shape": [len(x)],
        "datatype": "BYTES",
        "data": [f"id{j}" for j in range(len(x))],
    }
    extra = {"name": "kind", "shape": [len(x)], "datatype": "BYTES", "data": ["?"] * len(x)}
    by_name = infer(client, server, "ecg", [ids, *columns, extra])
    whole = infer(client, server, "ecg", [tensor("input", x)])
    np.testing.assert_allclose(values(by_name["score"]), values(whole["score"]), rtol=TOL, atol=TOL)
    assert by_name["beat_id"]["data"] == ids["data"]
    missing = client.post(f"{server.url}/v2/models/ecg/infer", json={"inputs": columns[1:]})
    assert missing.status_code == 400 and f"t{order[0]}" in missing.json()["error"]


def test_a_missing_cell_is_filled_as_aekit_score_fills_it(runs, server, client, tmp_path):
    # probe 56 surfaces #2: aekit score, Dask and MLflow fill it with the run's recorded value;
    # serve refused it (400)
    x = runs["new"][:4].astype(np.float64)
    x[1, 3] = x[2, 7] = np.nan
    path = tmp_path / "gaps.csv"
    _write_beats(path, x)
    path.write_text(path.read_text().replace("nan", ""))  # an empty cell, as a CSV has it
    _cli_out("score", runs["runs"]["ecg"], "--input", path, "--output", tmp_path / "s.csv")
    scores, labels = _read_scores(tmp_path / "s.csv")
    rows = [[None if np.isnan(v) else float(v) for v in row] for row in x]
    body = {"inputs": [{"name": "input", "shape": [4, FEATURES], "datatype": "FP32", "data": rows}]}
    out = client.post(f"{server.url}/v2/models/ecg/infer", json=body).json()["outputs"]
    got = {o["name"]: np.array(o["data"]) for o in out}
    np.testing.assert_allclose(got["score"], scores, rtol=TOL, atol=TOL)
    np.testing.assert_array_equal(got["label"], labels)
    columns = [tensor(f"t{i}", x[:, i]) for i in range(FEATURES)]  # null in a column by name too
    for c in columns:
        c["data"] = [None if np.isnan(v) else v for v in c["data"]]
    by_name = infer(client, server, "ecg", columns)
    np.testing.assert_allclose(values(by_name["score"]), scores, rtol=TOL, atol=TOL)


def test_binary_inputs_as_tritonclient_sends_them_score_alike(runs, server, client):
    x = runs["new"].astype("<f4")
    tensor_ = {"name": "input", "shape": list(x.shape), "datatype": "FP32",
               "parameters": {"binary_data_size": x.nbytes}}  # fmt: skip
    outputs = [
        {"name": "score", "parameters": {"binary_data": True}}
    ]  # answered as JSON all the same
    header = json.dumps({"inputs": [tensor_], "outputs": outputs}).encode()
    r = client.post(
        f"{server.url}/v2/models/ecg/infer",
        content=header + x.tobytes(),
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert r.status_code == 200, r.text
    whole = infer(client, server, "ecg", [tensor("input", runs["new"])])
    np.testing.assert_array_equal(r.json()["outputs"][0]["data"], whole["score"]["data"])


def test_detector_p_values_where_the_estimator_has_them(runs, server, client):
    if not callable(getattr(aekit.AnomalyDetector, "p_values", None)):
        pytest.skip("AnomalyDetector has no p_values yet (calibrated thresholds)")
    est = aekit.load(runs["runs"]["ecg"])
    out = infer(client, server, "ecg", [tensor("input", runs["new"])])
    assert out["p_value"]["datatype"] == "FP64"
    np.testing.assert_allclose(
        values(out["p_value"]), est.p_values(runs["new"]), rtol=TOL, atol=TOL
    )


def test_detector_feature_errors_when_asked_equal_aekit_score(runs, server, client, tmp_path):
    out = infer(client, server, "ecg", [tensor("input", runs["new"])])
    assert "feature_errors" not in out  # a wide output: only when named
    asked = [{"name": "score"}, {"name": "feature_errors"}]
    out = infer(client, server, "ecg", [tensor("input", runs["new"])], outputs=asked)
    assert set(out) == {"score", "feature_errors"} and out["feature_errors"]["datatype"] == "FP32"
    args = ("--input", runs["beats_new"], "--output", tmp_path / "s.csv", "--feature-errors")
    _cli_out("score", runs["runs"]["ecg"], *args)
    with open(tmp_path / "s.csv") as f:
        rows = list(csv.DictReader(f))
    written = np.array([[float(r[f"error_t{i}"]) for i in range(FEATURES)] for r in rows])
    np.testing.assert_allclose(values(out["feature_errors"]), written, rtol=1e-5, atol=1e-6)
    # the rows with a bump at t5..t7 have their largest error there
    assert set(values(out["feature_errors"])[-3:].argmax(axis=1)) <= {5, 6, 7}


def test_autoencoder_latent_and_reconstruction_equal_encode_and_reconstruct(
    runs, server, client, tmp_path
):
    run, x_path = runs["runs"]["ae"], runs["root"] / "new_images.npy"
    _cli_out("encode", run, "--input", x_path, "--output", tmp_path / "z.npy")
    _cli_out("reconstruct", run, "--input", x_path, "--output", tmp_path / "r.npy")
    out = infer(client, server, "ae", [tensor("input", np.load(x_path))])
    np.testing.assert_allclose(
        values(out["latent"]), np.load(tmp_path / "z.npy"), rtol=TOL, atol=TOL
    )
    np.testing.assert_allclose(
        values(out["reconstruction"]), np.load(tmp_path / "r.npy"), rtol=TOL, atol=TOL
    )
    only = infer(
        client, server, "ae", [tensor("input", np.load(x_path))], outputs=[{"name": "latent"}]
    )
    assert set(only) == {"latent"}


def test_denoiser_equals_aekit_denoise_at_any_image_size(runs, server, client, tmp_path):
    run = runs["runs"]["den"]
    noisy = np.clip(np.load(runs["root"] / "new_images.npy") + 0.2, 0, 1)[:, :, :12, :10]
    np.save(tmp_path / "noisy.npy", noisy)
    _cli_out("denoise", run, "--input", tmp_path / "noisy.npy", "--output", tmp_path / "d.npy")
    out = infer(client, server, "den", [tensor("input", noisy)])
    assert out["denoised"]["shape"] == [5, 1, 12, 10]
    np.testing.assert_allclose(
        values(out["denoised"]), np.load(tmp_path / "d.npy"), rtol=TOL, atol=TOL
    )


def test_vae_latent_reconstruction_and_samples_on_request_equal_the_commands(
    runs, server, client, tmp_path
):
    run, x_path = runs["runs"]["vae"], runs["root"] / "new_digits.npy"
    _cli_out("encode", run, "--input", x_path, "--output", tmp_path / "z.npy")
    _cli_out("reconstruct", run, "--input", x_path, "--output", tmp_path / "r.npy")
    _cli_out("sample", run, "--n", "3", "--seed", "5", "--output", tmp_path / "s.npy")
    out = infer(client, server, "vae", [tensor("input", np.load(x_path))])
    assert set(out) == {"latent", "reconstruction"}  # samples only when asked
    np.testing.assert_allclose(
        values(out["latent"]), np.load(tmp_path / "z.npy"), rtol=TOL, atol=TOL
    )
    np.testing.assert_allclose(
        values(out["reconstruction"]), np.load(tmp_path / "r.npy"), rtol=TOL, atol=TOL
    )
    drawn = infer(
        client, server, "vae", [], outputs=[{"name": "sample", "parameters": {"n": 3, "seed": 5}}]
    )
    assert drawn["sample"]["shape"] == [3, 1, 28, 28]
    np.testing.assert_allclose(
        values(drawn["sample"]), np.load(tmp_path / "s.npy"), rtol=TOL, atol=TOL
    )


def test_series_scores_a_posted_stretch_as_aekit_score_does(runs, server, client, tmp_path):
    _cli_out(
        "score",
        runs["runs"]["series"],
        "--input",
        runs["series_new"],
        "--output",
        tmp_path / "s.csv",
    )
    scores, labels = _read_scores(tmp_path / "s.csv")
    x = runs["series_x"]
    out = infer(client, server, "series", [tensor("input", x)])
    np.testing.assert_allclose(values(out["score"]), scores, rtol=TOL, atol=TOL)
    np.testing.assert_array_equal(values(out["label"]), labels)
    by_name = infer(client, server, "series", [tensor("c1", x[:, 1]), tensor("c0", x[:, 0])])
    np.testing.assert_allclose(values(by_name["score"]), scores, rtol=TOL, atol=TOL)


# ---- malformed requests ----------------------------------------------------------------------------------

ROW = [0.5] * FEATURES


def _input(**fields) -> dict:
    base = {"name": "input", "shape": [1, FEATURES], "datatype": "FP32", "data": ROW}
    return {"inputs": [{**base, **fields}]}


MALFORMED = [  # (what, path, body (bytes or JSON), status, a word of the error)
    ("not JSON", "ecg", b"{inputs: oops", 400, "malformed JSON"),
    ("not UTF-8", "ecg", b'{"inputs": "\xff\xfe"}', 400, "UTF-8"),
    ("empty body", "ecg", b"", 400, "no body"),
    ("a JSON array", "ecg", [1, 2], 400, "object"),
    ("no inputs", "ecg", {"id": "x"}, 400, "inputs"),
    ("inputs not a list", "ecg", {"inputs": {"name": "input"}}, 400, "list"),
    ("an input without a name", "ecg", {"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]}, 400, "name"),
    ("no shape", "ecg", {"inputs": [{"name": "input", "datatype": "FP32", "data": ROW}]}, 400, "shape"),
    ("a negative shape", "ecg", _input(shape=[-1, FEATURES]), 400, "shape"),
    ("a shape of text", "ecg", _input(shape=["1", FEATURES]), 400, "shape"),
    ("an unknown datatype", "ecg", _input(datatype="FP128"), 400, "datatype"),
    ("text datatype", "ecg", _input(datatype="BYTES"), 400, "BYTES"),
    ("too few values", "ecg", _input(data=ROW[:-1]), 400, "values"),
    ("wrong number of features", "ecg", _input(shape=[2, 12], data=ROW), 400, "[-1, 24]"),
    ("text among the numbers", "ecg", _input(data=["0.5", *ROW[1:]]), 400, "string"),
    # a table's null or NaN is a missing cell, filled as aekit score fills it (a test below); a
    # series' or an image's is not
    ("null among a series' numbers", "series", _input(shape=[1, 2], data=[None, 0.5]), 400, "null"),
    ("a boolean among the numbers", "ecg", _input(data=[True, *ROW[1:]]), 400, "boolean"),
    ("NaN in an image", "ae", _input(shape=[1, 1, 1, 1], data=[float("nan")]), 400, "NaN"),
    ("infinity", "ecg", _input(data=[float("inf"), *ROW[1:]]), 400, "infinity"),
    ("beyond FP32", "ecg", _input(data=[1e39, *ROW[1:]]), 400, "range"),
    ("a fraction in INT32", "ecg", _input(datatype="INT32"), 400, "whole numbers"),
    ("ragged nested data", "ecg", _input(shape=[2, FEATURES], data=[ROW, ROW[:3]]), 400, "nested"),
    ("deep nesting", "ecg", b"[" * 100_000 + b"]" * 100_000, 400, "JSON"),
    ("a 5000-digit number", "ecg", json.dumps(_input(data=[0])).replace("0]", "9" * 5000 + "]").encode(), 400, "JSON"),
    ("a shape beyond any body", "ecg", _input(shape=[2**50, FEATURES]), 400, "shape"),
    ("rows whose scores are not finite", "ecg", _input(data=[3e38] * FEATURES), 400, "not finite"),
    ("an unknown output", "ecg", {**_input(), "outputs": [{"name": "secret"}]}, 400, "secret"),
    ("an input twice", "ecg", {"inputs": _input()["inputs"] * 2}, 400, "twice"),
    # a misnamed input, not the model's columns missing: it said "missing the model's columns"
    ("an unknown input name", "ecg", _input(name="x"), 400,
     "model 'ecg' takes one input named 'input' shaped [-1, 24], or one input per column named "
     "after it (t0, t1, t2, t3, t4 ...); got 'x'"),
    ("no rows", "ecg", _input(shape=[0, FEATURES], data=[]), 400, "no rows"),
    ("an id that is a number", "ecg", {**_input(), "id": 7}, 400, "id"),
    ("sample n out of range", "vae", {"inputs": [], "outputs": [{"name": "sample", "parameters": {"n": 0}}]},
     400, "'n'"),
    ("sample seed past 2**63", "vae", {"inputs": [], "outputs": [{"name": "sample", "parameters": {"seed": 2**64}}]},
     400, "from 0 to 9223372036854775807"),
    ("an unknown model", "nope", _input(), 404, "nope"),
    ("a path as the model", "..%2F..%2Fetc%2Fpasswd", _input(), 404, "model"),
    ("a version", "ecg/versions/2", _input(), 404, "version"),
    # a single row is not split: the other way is named too
    ("over the size limit", "ecg", b'{"inputs": [' + b" " * (2 * 2**20) + b"]}", 413,
     "or serve with a larger limit (aekit serve --max-body SIZE)"),
]  # fmt: skip


@pytest.mark.parametrize(
    "what, model, body, status, word", MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_request_gets_its_status_and_one_line(
    server, client, what, model, body, status, word
):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = client.post(f"{server.url}/v2/models/{model}/infer", content=content)
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/json"
    error = r.json()
    assert list(error) == ["error"] and "\n" not in error["error"] and len(error["error"]) < 400
    assert word.lower() in error["error"].lower(), error["error"]


def test_wrong_methods_and_paths_get_one_line_too_and_the_server_goes_on(runs, server, client):
    r = client.get(f"{server.url}/v2/models/ecg/infer")
    assert r.status_code == 405 and list(r.json()) == ["error"]
    r = client.get(f"{server.url}/v1/models/ecg:predict")
    assert r.status_code == 404 and list(r.json()) == ["error"]
    assert client.get(f"{server.url}/v2/health/live").status_code == 200
    assert "score" in infer(client, server, "ecg", [tensor("input", runs["new"][:1])])
    assert server.proc.poll() is None


def test_a_client_gone_mid_upload_is_no_server_error(runs, server, client):
    # a client timeout, a killed job: it was logged as an internal error and counted as a 500,
    # firing the usual alert on the 5xx rate for something the server did not do
    import socket
    from urllib.parse import urlparse

    url = urlparse(server.url)
    body = json.dumps({"inputs": [tensor("input", runs["new"][:1])]}).encode()
    head = f"POST /v2/models/ecg/infer HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    with socket.create_connection((url.hostname, url.port)) as s:
        s.sendall(head.encode() + body[:20])
        time.sleep(0.3)
    time.sleep(0.5)
    text = client.get(f"{server.url}/metrics").text
    assert _metric(text, "aekit_serve_requests_total", code="500") == 0
    assert _metric(text, "aekit_serve_requests_total", code="499", model="ecg") == 1
    assert not [line for line in server.lines if "internal error" in line]
    assert "score" in infer(client, server, "ecg", [tensor("input", runs["new"][:1])])


# ---- under load ------------------------------------------------------------------------------------------


def _clients(n_clients: int, n_requests: int, send) -> list:
    results: list = []
    lock = threading.Lock()

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        with httpx.Client(timeout=120) as c:
            for _ in range(n_requests):
                outcome = send(c, rng)
                with lock:
                    results.append(outcome)
                if outcome[0] != 200:
                    return

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    return results


def _metric(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_four_clients_at_once_lose_no_request_and_get_correct_scores(runs, server, client):
    est = aekit.load(runs["runs"]["ecg"])
    pool = runs["new"]
    expected = est.decision_function(pool)
    before = client.get(f"{server.url}/metrics").text

    def send(c, rng):
        rows = rng.choice(len(pool), int(rng.integers(1, 5)), replace=False)
        r = c.post(
            f"{server.url}/v2/models/ecg/infer", json={"inputs": [tensor("input", pool[rows])]}
        )
        got = (
            values({o["name"]: o for o in r.json()["outputs"]}["score"])
            if r.status_code == 200
            else None
        )
        return r.status_code, rows, got

    results = _clients(4, 50, send)
    assert len(results) == 200 and all(code == 200 for code, _, _ in results)
    # The server batches the four clients' rows together: float32 sums over another batch layout
    # differ in the last bits (16 ulp of a score of 16.6 seen), so relative 1e-5 here, not TOL.
    for _, rows, got in results:
        np.testing.assert_allclose(got, expected[rows], rtol=1e-5, atol=TOL)
    after = client.get(f"{server.url}/metrics").text
    answered = _metric(
        after, "aekit_serve_requests_total", endpoint="infer", model="ecg", code="200"
    )
    assert (
        answered
        - _metric(before, "aekit_serve_requests_total", endpoint="infer", model="ecg", code="200")
        == 200
    )
    rows_run = _metric(after, "aekit_serve_batch_rows_sum", model="ecg") - _metric(
        before, "aekit_serve_batch_rows_sum", model="ecg"
    )
    assert rows_run == sum(len(rows) for _, rows, _ in results)
    for name in ("aekit_serve_request_errors_total", "aekit_serve_request_seconds_bucket",
                 "aekit_serve_batch_rows_bucket", "aekit_serve_requests_in_flight"):  # fmt: skip
        assert name in after


# ---- a model that cannot load, the API key, SIGTERM under load -------------------------------------------


def test_sigterm_under_load_finishes_the_requests_in_flight_and_exits_0(runs, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    key = {"Authorization": "Bearer s3cret"}
    served = Served(f"ecg={runs['runs']['ecg']}", str(broken), "--max-wait-ms", "300",
                    env={"AEKIT_SERVE_API_KEY": "s3cret"})  # fmt: skip
    try:
        served.wait_for("cannot load broken")
        with httpx.Client(timeout=120) as c:
            ready = c.get(f"{served.url}/v2/health/ready")
            assert ready.status_code == 400 and "broken" in ready.json()["error"]
            assert c.get(f"{served.url}/v2/models/ecg/ready").status_code == 200
            assert c.get(f"{served.url}/v2/models/broken/ready").status_code == 400
            # probe 52 dep 3: the open readiness probe's 404 listed every model behind the key
            unknown = c.get(f"{served.url}/v2/models/zz/ready")
            assert unknown.status_code == 404 and "ecg" not in unknown.json()["error"]
            body = {"inputs": [tensor("input", runs["new"][:2])]}
            assert c.post(f"{served.url}/v2/models/ecg/infer", json=body).status_code == 401
            assert (
                c.post(f"{served.url}/v2/models/ecg/infer", json=body, headers=key).status_code
                == 200
            )
        expected = aekit.load(runs["runs"]["ecg"]).decision_function(runs["new"])
        stopped: list[float] = []
        done: list[int] = []
        lock = threading.Lock()

        def send(c, rng):
            rows = rng.choice(len(runs["new"]), 2, replace=False)
            body = {"inputs": [tensor("input", runs["new"][rows])]}
            sent = time.monotonic()
            try:
                r = c.post(f"{served.url}/v2/models/ecg/infer", json=body, headers=key)
            except httpx.TransportError as exc:  # refused or closed: sent once the server stopped
                return type(exc).__name__, sent, time.monotonic()
            got = values({o["name"]: o for o in r.json()["outputs"]}["score"])
            np.testing.assert_allclose(got, expected[rows], rtol=TOL, atol=TOL)
            with lock:
                done.append(1)
                if len(done) >= 8 and not stopped:  # mid-load: others' requests are in flight
                    stopped.append(time.monotonic())
                    served.proc.terminate()
            return r.status_code, sent, time.monotonic()

        results = _clients(4, 50, send)
        assert stopped, "the load ended before SIGTERM was sent"
        assert served.proc.wait(120) == 0
    finally:
        code = served.stop()
    assert code == 0
    ok = [r for r in results if r[0] == 200]
    failed = [r for r in results if r[0] != 200]
    assert all(isinstance(r[0], str) and r[1] >= stopped[0] - 0.5 for r in failed), failed
    in_flight = [r for r in ok if r[1] < stopped[0] < r[2]]
    assert in_flight, "no request was in flight at SIGTERM"
    line = served.wait_for("stopped;")
    assert f"answered {len(ok) + 1} inference requests" in line, (line, len(ok))
    # nothing ran past --grace: the idle worker thread is no abandoned computation
    assert not any("abandoned" in line for line in served.lines), served.lines


def test_an_idle_stop_abandons_nothing(runs):
    # the executor's idle worker, alive until it read the shutdown, was taken for a computation
    # left running: "a computation still running was abandoned at the end of --grace"
    served = Served(f"ecg={runs['runs']['ecg']}")
    try:
        with httpx.Client(timeout=120) as client:
            served.wait_ready(client)
        time.sleep(1)  # idle
    finally:
        assert served.stop() == 0
    served.wait_for("stopped;")
    assert not any("abandoned" in line for line in served.lines), served.lines


def test_quiet_still_says_where_it_listens(runs):
    """--port 0 --quiet said nothing: nobody could learn which port the server took."""
    served = Served(f"ecg={runs['runs']['ecg']}", "--quiet")  # waits for "listening on URL"
    try:
        assert served.url.startswith("http://127.0.0.1:")
    finally:
        assert served.stop() == 0
