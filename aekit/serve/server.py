"""Running the application under uvicorn until SIGTERM (or Ctrl-C), then stopping gracefully.

The socket is bound here first, so that a busy port or an unknown host is one line before
anything starts, and ``--port 0`` (any free port) can say which port it got. On SIGTERM, SIGINT
or SIGHUP uvicorn stops accepting connections, answers the requests in flight (for at most
``grace`` seconds), the batchers and the inference thread stop, and :func:`serve` returns 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator

import uvicorn
from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

from .._limits import soft_limit
from ..errors import RunFailure, UsageError
from .app import INFER_THREAD, Options, build_app
from .protocol import error_body

log = logging.getLogger("aekit.serve")

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
# Descriptors kept free beyond the connections: the event loop's own, a model file, a log, and the
# one a refused connection holds while it gets its 503.
SPARE_FDS = 16
ACCEPT_ERROR_INTERVAL = 60.0  # seconds between two lines saying accept() failed


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
        asyncio.get_running_loop().set_exception_handler(_AcceptErrors())
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
    cap = _connection_cap((options or Options()).max_connections)
    config = uvicorn.Config(
        app,
        http=_refusing_beyond(cap),
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


def _open_file_limit() -> int | None:
    """The soft RLIMIT_NOFILE (``ulimit -n``), or None where it is unlimited or unknown."""
    return soft_limit("RLIMIT_NOFILE")


def _connection_cap(max_connections: int) -> int | None:
    """How many connections the open-file limit leaves room for (None: no limit in sight).

    Past it accept() fails with EMFILE, which asyncio logs with a traceback on every try (hundreds
    of megabytes of them) while the connections wait unanswered; below it the next one can still be
    accepted and answered 503. Said once at start-up when --max-connections is more than that.
    """
    limit = _open_file_limit()
    if limit is None:
        return None
    try:
        used = len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc: the limit is not known to be near
        return None
    cap = max(1, limit - used - SPARE_FDS)
    if cap < max_connections:
        log.warning(
            "note: the open-file limit (ulimit -n %d) leaves room for %d connections, fewer than "
            "--max-connections %d; more are answered 503",
            limit,
            cap,
            max_connections,
        )
    return cap


class _Busy(asyncio.Protocol):
    """A connection past the open-file limit: a 503 at once, then closed (its descriptor freed)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        body = error_body("too many connections open for the open-file limit; retry later")
        head = (
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        transport.write(head.encode() + body)  # type: ignore[attr-defined]
        transport.close()


def _refusing_beyond(cap: int | None) -> str | Callable[..., asyncio.Protocol]:
    """uvicorn's HTTP protocol, but a connection past ``cap`` open ones gets :class:`_Busy`."""
    if cap is None:
        return "auto"
    protocol = import_from_string(HTTP_PROTOCOLS["auto"])

    def create(config, server_state, app_state, _loop=None) -> asyncio.Protocol:
        if len(server_state.connections) >= cap:
            return _Busy()
        return protocol(config=config, server_state=server_state, app_state=app_state, _loop=_loop)

    return create


class _AcceptErrors:
    """The event loop's error handler: accept() out of descriptors is one line a minute, naming the
    limit, not a traceback per try (asyncio retries every second, up to the backlog's 2048 times)."""

    def __init__(self) -> None:
        self.said = -ACCEPT_ERROR_INTERVAL

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if context.get("message") != "socket.accept() out of system resource":
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self.said >= ACCEPT_ERROR_INTERVAL:
            self.said = now
            reason = getattr(exc, "strerror", None) or str(exc)
            log.warning(
                "cannot accept connections: %s (ulimit -n %s); they wait until some close",
                reason.lower(),
                _open_file_limit() or "unlimited",
            )


def _log_to_stderr(quiet: bool) -> None:
    """The server's own lines on stderr ("aekit serve: ..."): loading, listening, stopping, errors."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("aekit serve: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False
