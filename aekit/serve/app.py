"""The ASGI application: the protocol's endpoints, the request limits, the API key, the metrics.

Endpoints (KServe's "v2" REST protocol, JSON tensors):

- ``GET /v2/health/live``: 200 while the server runs;
- ``GET /v2/health/ready``: 200 once every model is loaded; 400 with the reason before, or when a
  model cannot load (the server then never becomes ready);
- ``GET /v2``: the server's name, version and extensions;
- ``GET /v2/models/{name}``: a model's inputs and outputs (names, datatypes, shapes; -1: any size);
- ``GET /v2/models/{name}/ready``;
- ``POST /v2/models/{name}/infer``: an inference request;
- ``GET /metrics``: Prometheus' text format (:mod:`.metrics`).

Every error is the protocol's ``{"error": "..."}`` on one line: 400 for a malformed request (JSON,
fields, shapes, datatypes, values), 401 without the API key, 404 for an unknown model or path,
405 for a wrong method, 413 for a body over the limit, 503 for a model that is not ready, 500 for
a failure of the server itself. A model is looked up by name among those the server loaded at its
start; nothing a client sends names a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__
from .batching import Batcher
from .metrics import CONTENT_TYPE, Metrics
from .models import ServedModel, load_model
from .protocol import (
    ProtocolError,
    dumps,
    error_body,
    output_tensor,
    parse_infer,
    parse_json,
    split_binary,
)

log = logging.getLogger("aekit.serve")

JSON = "application/json"
DRAIN_LIMIT = 64 * 2**20  # bytes of an over-long body read and dropped, so the client hears the 413


INFER_THREAD = "aekit-infer"  # the one thread that runs the models


@dataclass
class Options:
    """How the server batches and what it accepts."""

    max_batch: int = 64  # rows per call of a model
    max_wait: float = 0.002  # seconds the first request of a batch waits for others
    max_body: int = 16 * 2**20  # bytes of a request body
    api_key: str | None = None  # required as "Authorization: Bearer KEY" when set
    max_connections: int = 128  # connections answered at once; more get 503 (uvicorn's limit)


@dataclass
class State:
    """The served runs: loaded models, their batchers, and why any could not load."""

    runs: dict[str, str]  # name -> run folder
    options: Options
    metrics: Metrics
    models: dict[str, ServedModel] = field(default_factory=dict)
    batchers: dict[str, Batcher] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    executor: ThreadPoolExecutor | None = None

    def not_ready(self) -> str | None:
        """Why the server is not ready, or None once every model is loaded."""
        if self.failures:
            name, why = next(iter(self.failures.items()))
            return f"model {name!r} cannot be served: {why}"
        waiting = [n for n in self.runs if n not in self.models]
        if waiting:
            return f"loading {len(waiting)} of {len(self.runs)} models ({', '.join(waiting)})"
        return None

    def model(self, name: str) -> ServedModel:
        """The loaded model ``name``: 404 for a name the server does not serve, 503 before it loads."""
        if name not in self.runs:
            # behind an API key the names are not told: the readiness probe is open to anyone
            served = "" if self.options.api_key else f"; this server serves: {', '.join(self.runs)}"
            raise ProtocolError(f"no model named {name[:80]!r}{served}", 404)
        if name in self.failures:
            raise ProtocolError(f"model {name!r} is not ready: {self.failures[name]}", 503)
        if name not in self.models:
            raise ProtocolError(f"model {name!r} is not ready: still loading", 503)
        return self.models[name]


# ---- responses ----------------------------------------------------------------------------------


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type=JSON)


def error_response(message: str, status: int) -> Response:
    return Response(error_body(message), status_code=status, media_type=JSON)


def _state(request: Request) -> State:
    return request.app.state.aekit


# ---- endpoints -------------------------------------------------------------------------------------


async def server_metadata(request: Request) -> Response:
    return json_response({"name": "aekit", "version": __version__, "extensions": []})


async def live(request: Request) -> Response:
    return json_response({"live": True})


async def ready(request: Request) -> Response:
    why = _state(request).not_ready()
    if why is None:
        return json_response({"ready": True})
    return json_response({"ready": False, "error": why}, status=400)


def _versioned(request: Request) -> str:
    """The model's name; a version in the path is refused (aekit serves one version of each)."""
    name = request.path_params["name"]
    version = request.path_params.get("version")
    if version is not None:
        raise ProtocolError(
            f"model {name[:80]!r} has no version {version[:40]!r}; aekit serves one version of "
            f"each model: leave '/versions/...' out of the path",
            404,
        )
    return name


async def model_metadata(request: Request) -> Response:
    return json_response(_state(request).model(_versioned(request)).metadata())


async def model_ready(request: Request) -> Response:
    name = _versioned(request)
    try:
        _state(request).model(name)
    except ProtocolError as exc:
        if exc.status == 404:
            raise
        return json_response({"name": name, "ready": False, "error": str(exc)}, status=400)
    return json_response({"name": name, "ready": True})


async def infer(request: Request) -> Response:
    state = _state(request)
    model = state.model(_versioned(request))
    body, binary = await read_body(request, state.options.max_body), None
    header = request.headers.get("inference-header-content-length")
    if header is not None:  # the binary tensor extension (tritonclient's default for inputs)
        body, binary = split_binary(body, header)
    req = parse_infer(parse_json(body), binary)
    works = model.work(req)
    echoed = model.echoed(req, works[-1].rows)
    batcher = state.batchers[model.name]
    try:
        results = await _unless_gone(request, asyncio.gather(*(batcher.submit(w) for w in works)))
    except ClientDisconnect:
        log.info(
            "the client went away before its answer from %s; its work was dropped", request.url.path
        )
        return Response(status_code=CLIENT_GONE)  # to nobody: the metrics' code
    except Exception as exc:  # the estimator refused the rows (400), or failed (500)
        return await model_error(request, exc)
    outputs = [echoed] if echoed is not None else []
    for result in results:
        outputs.extend(output_tensor(n, a) for n, a in result.items())
    answer: dict[str, Any] = {"model_name": model.name, "outputs": outputs}
    if req.id is not None:
        answer["id"] = req.id
    try:
        return json_response(answer)
    except ValueError:  # NaN or infinity, which JSON cannot carry
        raise ProtocolError(
            "the model's outputs for these rows are not finite (NaN or infinity), which JSON "
            "cannot carry; the rows are far outside the range of the training data"
        ) from None


async def _unless_gone(request: Request, answer: asyncio.Future) -> Any:
    """``answer``'s result; ClientDisconnect once the client has closed its connection, its queued
    work then cancelled, so that the batcher drops it instead of computing an answer for nobody
    (a burst of clients that time out and retry held every later request behind their work)."""
    gone = asyncio.ensure_future(_disconnect(request))
    try:
        await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        left = not answer.done()
        if left:
            answer.cancel()  # cancels each request's future in the queue (the batcher skips them)
            answer.add_done_callback(_taken)
    if left:
        raise ClientDisconnect()
    return answer.result()


def _taken(answer: asyncio.Future) -> None:
    """Take a cancelled gather's outcome: it ends with CancelledError as its exception, which asyncio
    would log with a traceback as "never retrieved" (the work was dropped on purpose)."""
    if not answer.cancelled():
        answer.exception()


async def _disconnect(request: Request) -> None:
    """Returns once the client has gone: the body is read, so the next message is the disconnect
    (the server's ``receive`` waits for it; it is not called once the answer is sent)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or a 413 once it passes ``limit`` bytes (the rest read and dropped, up to a bound)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdecimal() and int(length) > limit:
        await _drain(request, int(length))
        raise _too_large(int(length), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            await _drain(request, size)
            raise _too_large(size, limit, at_least=True)
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(request: Request, size: int) -> None:
    if size > DRAIN_LIMIT:
        return
    with contextlib.suppress(Exception):
        read = 0
        async for chunk in request.stream():
            read += len(chunk)
            if read > DRAIN_LIMIT:
                break


def _too_large(size: int, limit: int, at_least: bool = False) -> ProtocolError:
    more = "more than " if at_least else ""
    return ProtocolError(
        f"the request body is {more}{size} bytes; the limit is {limit}: send fewer rows per "
        f"request, or serve with a larger limit (aekit serve --max-body SIZE)",  # one row cannot be split
        413,
    )


async def metrics(request: Request) -> Response:
    return Response(_state(request).metrics.text(), media_type=CONTENT_TYPE)


# ---- errors ------------------------------------------------------------------------------------------


async def protocol_error(request: Request, exc: Exception) -> Response:
    return error_response(str(exc), exc.status)


async def http_error(request: Request, exc: Exception) -> Response:
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path[:200]}"
    elif exc.status_code == 404:
        message = (
            f"no endpoint {request.url.path[:200]!r}; expected /v2, /v2/health/live, "
            f"/v2/health/ready, /v2/models/NAME[/ready|/infer] or /metrics"
        )
    else:
        message = str(exc.detail)
    return error_response(message, exc.status_code)


# a client that went away before its answer (a timeout, a killed job, a proxy giving up), while its
# request was read or while it waited for the model: no failure of the server's, counted apart from
# them (as nginx's 499) so a 5xx alert stays quiet
CLIENT_GONE = 499


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug of the server's own: one line, and the server goes on serving."""
    if isinstance(exc, ClientDisconnect):
        return Response(status_code=CLIENT_GONE)  # to nobody: the metrics' code
    return error_response(f"internal error: {type(exc).__name__}", 500)


async def model_error(request: Request, exc: Exception) -> Response:
    """A failure while computing: the estimator's own one line about bad data (400), else 500."""
    from ..errors import DataError, TooLarge, UsageError, one_line

    if isinstance(exc, TooLarge):
        return error_response(one_line(exc), 413)
    if isinstance(exc, (DataError, UsageError)):
        return error_response(one_line(exc), 400)
    if isinstance(exc, MemoryError):
        return error_response("out of memory answering this request; send fewer rows", 503)
    log.error("internal error answering %s: %s: %s", request.url.path, type(exc).__name__, exc)
    return error_response(f"internal error: {type(exc).__name__}: {one_line(exc)[:300]}", 500)


# ---- the application -------------------------------------------------------------------------------


ROUTES = [
    Route("/v2", server_metadata),
    Route("/v2/health/live", live),
    Route("/v2/health/ready", ready),
    Route("/v2/models/{name}", model_metadata),
    Route("/v2/models/{name}/versions/{version}", model_metadata),
    Route("/v2/models/{name}/ready", model_ready),
    Route("/v2/models/{name}/versions/{version}/ready", model_ready),
    Route("/v2/models/{name}/infer", infer, methods=["POST"]),
    Route("/v2/models/{name}/versions/{version}/infer", infer, methods=["POST"]),
    Route("/metrics", metrics),
]


async def _load_all(state: State) -> None:
    """Load each run on the inference thread; a run that cannot load keeps the server not ready."""
    from ..errors import AekitError, one_line

    loop = asyncio.get_running_loop()
    for name, path in state.runs.items():
        try:
            model = await loop.run_in_executor(
                state.executor, load_model, name, path, state.options.max_body // 8
            )
        except (AekitError, OSError, ValueError, MemoryError) as exc:
            why = one_line(exc)
        except Exception as exc:  # a bug, said in one line all the same
            why = f"{type(exc).__name__}: {one_line(exc)}"
        else:
            state.models[name] = model
            batcher = Batcher(
                state.executor,
                state.options.max_batch,
                state.options.max_wait,
                state.metrics.batch(name),
            )
            batcher.start()
            state.batchers[name] = batcher
            state.metrics.ready.labels(model=name).set(1)
            log.info("loaded %s (%s) from %s", name, type(model.est).__name__, path)
            continue
        state.failures[name] = why
        log.error("cannot load %s from %s: %s; the server stays not ready", name, path, why)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette):
    state: State = app.state.aekit
    state.executor = ThreadPoolExecutor(1, thread_name_prefix=INFER_THREAD)
    for name in state.runs:
        state.metrics.ready.labels(model=name).set(0)
    loading = asyncio.get_running_loop().create_task(_load_all(state))
    try:
        yield
    finally:
        loading.cancel()  # the runs not loaded yet are not loaded; one in progress ends first
        await asyncio.gather(loading, return_exceptions=True)
        for batcher in state.batchers.values():
            await batcher.stop()
        # a computation past --grace is abandoned, not waited for (serve() ends the process)
        state.executor.shutdown(wait=False, cancel_futures=True)


def build_app(runs: dict[str, str], options: Options | None = None) -> Any:
    """The ASGI application serving ``runs`` (name -> run folder), wrapped in :class:`Guard`."""
    state = State(runs=dict(runs), options=options or Options(), metrics=Metrics())
    app = Starlette(
        routes=ROUTES,
        exception_handlers={
            ProtocolError: protocol_error,
            HTTPException: http_error,
            Exception: internal_error,
        },
        lifespan=_lifespan,
    )
    app.state.aekit = state
    return Guard(app, state)


# ---- the guard: API key, metrics, and no failure left unanswered -------------------------------------------

_MODEL_PATH = re.compile(r"^/v2/models/([^/]+)(?:/versions/[^/]+)?(/ready|/infer)?/?$")
OPEN = ("live", "ready", "model_ready")  # health probes: answered without the API key


def endpoint_of(path: str, served: dict[str, str]) -> tuple[str, str]:
    """(endpoint, model) labels of a path; ``other`` for what the server does not know."""
    fixed = {
        "/v2": "server",
        "/v2/health/live": "live",
        "/v2/health/ready": "ready",
        "/metrics": "metrics",
    }
    if path in fixed:
        return fixed[path], ""
    m = _MODEL_PATH.match(path)
    if m is None:
        return "other", ""
    endpoint = {None: "metadata", "/ready": "model_ready", "/infer": "infer"}[m.group(2)]
    return endpoint, m.group(1) if m.group(1) in served else "other"


class Guard:
    """Pure ASGI middleware around the application: the API key, the metrics of every request, and
    a one-line 500 for anything that escapes (the server goes on serving)."""

    def __init__(self, app: Starlette, state: State):
        self.app, self.state = app, state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint, model = endpoint_of(scope.get("path", ""), self.state.runs)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
            await send(message)

        metrics = self.state.metrics
        metrics.in_flight.inc()
        try:
            if endpoint not in OPEN and not self._authorized(scope):
                await _send_error(
                    sending, "missing or wrong API key; send 'Authorization: Bearer KEY'", 401
                )
            else:
                await self._call(scope, receive, sending, status)
        finally:
            metrics.in_flight.dec()
            metrics.answered(endpoint, model, status["code"], time.perf_counter() - started)

    async def _call(self, scope, receive, send, status) -> None:
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:  # uvicorn's --grace ran out with this request in flight
            log.warning(
                "stopping: a request to %s was still running at the end of --grace",
                scope.get("path"),
            )
            # the protocol's one line, not uvicorn's plain-text 500 and a traceback
            if not status["sent"]:
                stopping = "the server is stopping: --grace ran out before the answer"
                await _send_error(send, stopping, 503)
        except ClientDisconnect:
            status["code"] = CLIENT_GONE
            log.info("the client went away before its request to %s was read", scope.get("path"))
        except Exception as exc:  # answered with a 500 already (internal_error); the server goes on
            log.error("internal error on %s: %s: %s", scope.get("path"), type(exc).__name__, exc)
            if not status["sent"]:
                await _send_error(send, f"internal error: {type(exc).__name__}", 500)

    def _authorized(self, scope) -> bool:
        key = self.state.options.api_key
        if not key:
            return True
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), key.encode()
        )


async def _send_error(send, message: str, status: int) -> None:
    headers = [(b"content-type", JSON.encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    body = error_body(message)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
