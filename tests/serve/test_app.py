"""The application under uvicorn in this process (on a free loopback port, stopped at the end of the
test), where a test needs to reach inside: a model made slow at will."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import socket
import threading
import time

import httpx
import numpy as np
import pytest

uvicorn = pytest.importorskip("uvicorn")

from aekit.serve.app import Options, build_app  # noqa: E402
from aekit.serve.server import bind  # noqa: E402

from ..badinput import cli  # noqa: E402

FEATURES = 6


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    rng = np.random.default_rng(0)
    header = ",".join(f"f{i}" for i in range(FEATURES))
    np.savetxt(root / "train.csv", rng.normal(size=(100, FEATURES)), delimiter=",", header=header,
               comments="")  # fmt: skip
    code, _, err = cli("train", "anomaly", "--data", root / "train.csv", "--out", root / "run",
                       "--epochs", "1", "--quiet", "--no-figures")  # fmt: skip
    assert code == 0, err
    return root / "run"


@contextlib.contextmanager
def served(runs: dict[str, str]):
    """The application serving ``runs`` on 127.0.0.1 (a free port), ready; yields (url, its state)."""
    guard = build_app(runs, Options())
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(guard, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        with httpx.Client(timeout=60) as client:
            until(lambda: _ready(client, url), "the server never became ready")
        yield url, guard.state
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


def _ready(client: httpx.Client, url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return client.get(f"{url}/v2/health/ready").status_code == 200
    return False


def until(condition, message: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def _body(rows: int) -> bytes:
    x = np.full((rows, FEATURES), 0.1, np.float32)
    tensor = {
        "name": "input",
        "shape": list(x.shape),
        "datatype": "FP32",
        "data": x.ravel().tolist(),
    }
    return json.dumps({"inputs": [tensor]}).encode()


def _count(text: str, code: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("aekit_serve_requests_total")
        and f'code="{code}"' in line
        and 'endpoint="infer"' in line
    )


def _post_and_hang_up(url: str, clients: int, rows: int) -> None:
    """``clients`` requests posted whole on their own connections, then every connection closed."""
    body = _body(rows)
    head = f"POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    port = int(url.rsplit(":", 1)[1])
    gone = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
    for s in gone:
        s.sendall(head.encode() + body)
    time.sleep(0.5)  # read, and queued behind the request the model is busy with
    for s in gone:
        s.close()


def test_requests_of_clients_gone_away_are_dropped_and_counted_499(tiny_run, caplog):
    """probe 59 leaks #2: a request whose client had gone away was still computed, answered to a
    closed socket and counted as 200; a burst of clients that timed out held every later request
    behind their work (44 s instead of 0.5 s)."""
    caplog.set_level(logging.INFO)
    with served({"m": str(tiny_run)}) as (url, state), httpx.Client(timeout=60) as client:
        model, gate, calls = state.models["m"], threading.Event(), []
        compute = model.compute

        def slow(x, names):  # the first call waits for the gate: the others queue behind it
            calls.append(len(x))
            gate.wait(60)
            return compute(x, names)

        model.compute = slow
        first = threading.Thread(target=httpx.post, args=(f"{url}/v2/models/m/infer",),
                                 kwargs={"content": _body(1), "timeout": 60})  # fmt: skip
        first.start()
        try:
            until(lambda: calls == [1], "the first request never reached the model")
            _post_and_hang_up(url, 4, rows=2)
            until(lambda: _count(client.get(f"{url}/metrics").text, "499") == 4,
                  "the clients that went away were not counted as 499", seconds=10)  # fmt: skip
        finally:
            gate.set()
            first.join(60)
        r = client.post(f"{url}/v2/models/m/infer", content=_body(3))
        assert r.status_code == 200 and "score" in r.text
        assert calls == [1, 3]  # the work of the clients gone away never ran
        text = client.get(f"{url}/metrics").text
        assert (_count(text, "200"), _count(text, "499")) == (2, 4)
    gc.collect()  # asyncio says "exception was never retrieved" when a future is collected
    said = [r.getMessage() for r in caplog.records]
    assert sum("went away before its answer" in line for line in said) == 4, said
    assert not [line for line in said if "never retrieved" in line or "Traceback" in line], said
