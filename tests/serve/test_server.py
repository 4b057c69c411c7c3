"""The listening socket of aekit serve."""

from __future__ import annotations

import socket
import sys
import time

import httpx
import numpy as np
import pytest

pytest.importorskip("uvicorn")

from aekit.serve.server import bind

from ..badinput import cli
from .server import Served


def test_accepted_connections_send_at_once():
    """TCP_NODELAY on what the server accepts: with Nagle's algorithm a response's head and body
    went out 40 ms apart against the client's delayed ACK (every keep-alive answer took ~44 ms)."""
    server = bind("127.0.0.1", 0)
    try:
        with socket.create_connection(server.getsockname()[:2]):
            conn, _ = server.accept()
            with conn:
                assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        server.close()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("limits")
    rng = np.random.default_rng(0)
    np.savetxt(root / "train.csv", rng.normal(size=(100, 6)), delimiter=",", header="a,b,c,d,e,f",
               comments="")  # fmt: skip
    code, _, err = cli("train", "anomaly", "--data", root / "train.csv", "--out", root / "run",
                       "--epochs", "1", "--quiet", "--no-figures")  # fmt: skip
    assert code == 0, err
    return root / "run"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_NOFILE and /proc/self/fd")
def test_connections_past_the_open_file_limit_get_503_not_a_flood_of_tracebacks(tiny_run):
    """Under ulimit -n 64 idle connections used up the descriptors: asyncio logged every failed
    accept() with a traceback (240 MB of stderr in 2 minutes) and requests waited unanswered."""
    served = Served(f"m={tiny_run}", nofile=64)
    idle = []
    try:
        with httpx.Client(timeout=60) as client:
            served.wait_ready(client)
            address = tuple(served.url.removeprefix("http://").rsplit(":", 1))
            for _ in range(80):  # more than 64 descriptors could hold
                idle.append(socket.create_connection((address[0], int(address[1]))))
            time.sleep(2)  # the server accepts what it can
            with httpx.Client(timeout=20) as other:
                busy = other.get(f"{served.url}/v2/health/ready")
            assert busy.status_code == 503, busy.text
            assert "open-file limit" in busy.json()["error"]
            for s in idle:
                s.close()
            idle.clear()
            time.sleep(1)
            assert client.get(f"{served.url}/v2/health/ready").status_code == 200
    finally:
        for s in idle:
            s.close()
        assert served.stop() == 0
    assert any("ulimit -n 64" in line for line in served.lines), served.lines
    assert not any("Traceback" in line for line in served.lines), served.lines[:20]
    assert len(served.lines) < 20, served.lines[:20]
