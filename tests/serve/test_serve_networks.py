"""``aekit serve`` on runs trained with the user's own networks (issue 34): ``aekit train ... --encoder
MODULE:CLASS --decoder MODULE:CLASS``, by module (``tests.nets``) and by file (a copy of it).

The server rebuilds each network from its run's ``config.json`` in a fresh process, as ``aekit.load``
does; its answers equal the methods of the run loaded here. A custom denoiser takes images of its
training size only, so its metadata says that size and another size gets 400 and one line.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import aekit

from ..badinput import cli
from .server import REPO, http_client, serving
from .test_serve import TOL, infer, tensor, values

pytest.importorskip("uvicorn")
TINY = ["--epochs", "2", "--device", "cpu", "--quiet", "--no-figures"]
BY_MODULE = ["--encoder", "tests.nets:MLPEncoder", "--encoder-args", '{"latent_dim": 3}']
BY_MODULE += ["--decoder", "tests.nets:MLPDecoder", "--decoder-args", '{"hidden": 16}']


def _train(*args) -> None:
    code, _, err = cli("train", *args)
    assert code == 0, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Four tiny runs of custom networks (an autoencoder, a denoiser, a VAE from a file, an encoder
    that refuses some inputs), one server."""
    root = tmp_path_factory.mktemp("serve_nets")
    rng = np.random.default_rng(0)
    np.save(root / "images.npy", (rng.random((96, 1, 8, 8)) > 0.5).astype(np.float32))
    np.save(root / "new.npy", (rng.random((5, 1, 8, 8)) > 0.5).astype(np.float32))
    nets = shutil.copy(REPO / "tests" / "nets.py", root / "mynets.py")
    data = ["--data", root / "images.npy"]
    _train("basic", *data, *BY_MODULE, "--out", root / "ae", *TINY)
    _train("denoise", *data, *BY_MODULE, "--out", root / "den", *TINY)
    _train("vae", *data, "--encoder", f"{nets}:GaussianEncoder", "--decoder",
           f"{nets}:MLPDecoder", "--latent-dim", "2", "--out", root / "vae", *TINY)  # fmt: skip
    picky = ["--encoder", "tests.nets:Picky", "--decoder", "tests.nets:MLPDecoder"]
    _train("basic", *data, *picky, "--out", root / "picky", *TINY)
    return root


@pytest.fixture(scope="module")
def server(runs):
    with serving(*[f"{n}={runs / n}" for n in ("ae", "den", "vae", "picky")]) as served:
        yield served


@pytest.fixture(scope="module")
def client():
    with http_client() as c:
        yield c


def test_an_autoencoder_of_custom_networks_answers_as_the_loaded_run(runs, server, client):
    est, x = aekit.load(runs / "ae"), np.load(runs / "new.npy")
    out = infer(client, server, "ae", [tensor("input", x)])
    assert out["latent"]["shape"] == [5, 3]  # the encoder's own code size
    np.testing.assert_allclose(values(out["latent"]), est.transform(x), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(
        values(out["reconstruction"]), est.reconstruct(x), rtol=TOL, atol=TOL
    )


def test_a_vae_from_a_network_file_answers_and_samples_as_the_loaded_run(runs, server, client):
    est, x = aekit.load(runs / "vae"), np.load(runs / "new.npy")
    out = infer(client, server, "vae", [tensor("input", x)])
    np.testing.assert_allclose(values(out["latent"]), est.transform(x), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(
        values(out["reconstruction"]), est.reconstruct(x), rtol=TOL, atol=TOL
    )
    drawn = infer(
        client, server, "vae", [], outputs=[{"name": "sample", "parameters": {"n": 3, "seed": 5}}]
    )
    np.testing.assert_allclose(values(drawn["sample"]), est.sample(3, seed=5), rtol=TOL, atol=TOL)


def test_a_custom_denoiser_says_its_one_image_size_and_refuses_others_in_one_line(
    runs, server, client
):
    meta = client.get(f"{server.url}/v2/models/den").json()
    assert meta["inputs"][0]["shape"] == [-1, 1, 8, 8]
    est, x = aekit.load(runs / "den"), np.load(runs / "new.npy")
    out = infer(client, server, "den", [tensor("input", x)])
    np.testing.assert_allclose(values(out["denoised"]), est.transform(x), rtol=TOL, atol=TOL)
    r = client.post(
        f"{server.url}/v2/models/den/infer", json={"inputs": [tensor("input", x[:, :, :6, :6])]}
    )
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert "[5, 1, 6, 6]" in error and "[-1, 1, 8, 8]" in error and "\n" not in error


def test_a_network_refusing_the_rows_it_is_given_is_400_and_one_line(runs, server, client):
    est, x = aekit.load(runs / "picky"), np.load(runs / "new.npy")
    out = infer(client, server, "picky", [tensor("input", x)])  # rows it takes
    np.testing.assert_allclose(values(out["latent"]), est.transform(x), rtol=TOL, atol=TOL)
    r = client.post(
        f"{server.url}/v2/models/picky/infer", json={"inputs": [tensor("input", x * 100)]}
    )
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert "the encoder failed on a batch of 5 inputs" in error and "\n" not in error
    assert "ValueError: input out of range for this network" in error


def test_a_request_still_running_when_grace_runs_out_is_a_503_line_and_the_server_exits(runs):
    """Probe 52 dep 1: after --grace the client got a plain-text 500, stderr a 35-line traceback,
    and the process waited for the computation (25 s) anyway."""
    import signal
    import threading
    import time

    from .server import Served

    slow = runs / "slow"
    if not slow.exists():
        _train("basic", "--data", runs / "images.npy", "--encoder", "tests.nets:Slow",
               "--decoder", "tests.nets:MLPDecoder", "--out", slow, *TINY)  # fmt: skip
    served = Served(f"slow={slow}", "--grace", "1")
    served.wait_for("loaded slow")
    answers: list = []
    big = np.full((1, 1, 8, 8), 100.0, np.float32)
    with http_client() as c:
        url, body = f"{served.url}/v2/models/slow/infer", {"inputs": [tensor("input", big)]}
        sending = threading.Thread(target=lambda: answers.append(c.post(url, json=body)))
        sending.start()
        time.sleep(1.0)  # the request is in the model
        stopped = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        sending.join(timeout=60)
        code = served.proc.wait(timeout=60)
    assert time.monotonic() - stopped < 15 and code == 0, served.lines  # not the 30 s computation
    status, body = answers[0].status_code, answers[0].json()
    assert status == 503 and "--grace ran out" in body["error"], (status, body)
    assert not any("Traceback" in line or "CancelledError" in line for line in served.lines)
