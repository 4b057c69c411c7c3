"""Fixtures for the data-layer tests: the shared real datasets and a local HTTP server."""

from __future__ import annotations

import http.server
import os
import socket
import threading
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_root() -> Path:
    """The real datasets beside the repository (../shared/datasets), or $AEKIT_TEST_DATA."""
    root = Path(
        os.environ.get("AEKIT_TEST_DATA")
        or Path(__file__).resolve().parents[3] / "shared" / "datasets"
    )
    if not root.is_dir():
        pytest.skip(f"shared datasets not found at {root}")
    return root


@pytest.fixture
def shared_env(shared_root, monkeypatch) -> Path:
    monkeypatch.setenv("AEKIT_DATA", str(shared_root))
    return shared_root


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a URL fail the test."""
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError("tried to use the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, bytes] = {}

    def do_GET(self):
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def http_server():
    """A server on 127.0.0.1 (random port); fill ``server.routes`` with ``{"/path": bytes}``."""
    handler = type("Handler", (_Handler,), {"routes": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.routes = handler.routes
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on a local port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
