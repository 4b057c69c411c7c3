"""Running the application under uvicorn until SIGTERM (or Ctrl-C), then stopping gracefully.

The socket is bound here first, so that a busy port or an unknown host is one line before
anything starts, and ``--port 0`` (any free port) can say which port it got. On SIGTERM, SIGINT
or SIGHUP uvicorn stops accepting connections, answers the requests in flight (for at most
``grace`` seconds), the batchers and the inference thread stop, and :func:`serve` returns 0.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator

import uvicorn

from ..errors import RunFailure, UsageError
from .app import INFER_THREAD, Options, build_app

log = logging.getLogger("aekit.serve")

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one), or one line saying why not."""
    host = host.strip("[]")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"--host {host}: not an address of this machine ({exc})") from None
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        if exc.errno == errno.EADDRNOTAVAIL:  # the host, not the port: no interface holds it
            raise UsageError(
                f"--host {host}: not an address of this machine; give one of its own "
                "(0.0.0.0: all of them, 127.0.0.1: this machine only)"
            ) from None
        raise RunFailure(
            f"cannot listen on {host}:{port}: {reason}; choose another --port (0: any free port)"
        ) from None
    # Connections inherit this: a response's head and body go out at once, not 40 ms apart (Nagle's
    # algorithm against the client's delayed ACK held every keep-alive answer ~44 ms on loopback).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, saying where it listens, and stopping on a signal without dying of it."""

    def __init__(self, config: uvicorn.Config, models: int):
        super().__init__(config)
        self.models = models

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.should_exit or not sockets:
            return
        host, port = sockets[0].getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        # said under --quiet too: with --port 0 it is the only way to learn the port
        log.log(
            max(log.getEffectiveLevel(), logging.INFO),
            "listening on http://%s:%d (%d model%s; ready once loaded)",
            shown,
            port,
            self.models,
            "" if self.models == 1 else "s",
        )

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop gracefully on SIGINT, SIGTERM and SIGHUP (uvicorn would raise them again once stopped,
        which would end the process with the signal rather than with 0)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def serve(
    runs: dict[str, str],
    host: str = "127.0.0.1",
    port: int = 8080,
    options: Options | None = None,
    grace: float = 30.0,
    quiet: bool = False,
) -> int:
    """Serve ``runs`` (name -> run folder) on ``host:port`` until stopped; 0 after a graceful stop."""
    _log_to_stderr(quiet)
    sock = bind(host, port)
    app = build_app(runs, options)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=grace,
        limit_concurrency=(options or Options()).max_connections,
    )
    server = _Server(config, len(runs))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise RunFailure("the server did not start (see the lines above)")
    log.info("stopped; answered %d inference requests", app.state.metrics.answered_infers())
    workers = [t for t in threading.enumerate() if t.name.startswith(INFER_THREAD)]
    for t in workers:  # an idle worker ends as soon as it reads the executor's shutdown
        t.join(timeout=0.5)
    if any(t.is_alive() for t in workers):
        # --grace ran out during a computation: its client has its 503; Python would wait for the
        # thread at exit (25 s for a large image), past a supervisor's kill. Nothing is written.
        log.info("a computation still running was abandoned at the end of --grace")
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)
    return 0


def _log_to_stderr(quiet: bool) -> None:
    """The server's own lines on stderr ("aekit serve: ..."): loading, listening, stopping, errors."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("aekit serve: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False
