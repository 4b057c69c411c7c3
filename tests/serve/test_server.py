"""The listening socket of aekit serve."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("uvicorn")

from aekit.serve.server import bind


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
