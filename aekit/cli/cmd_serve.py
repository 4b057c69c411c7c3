"""``aekit serve RUN [RUN ...]``: runs behind the Open Inference Protocol (needs ``aekit[serve]``).

Parses and calls :func:`aekit.serve.server.serve`; the server itself lives in :mod:`aekit.serve`.
"""

from __future__ import annotations

import argparse
import os
import re

from .types import memory_size, non_negative_int, positive_float, positive_int

API_KEY_ENV = "AEKIT_SERVE_API_KEY"
NAME = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
)  # a model name that is one URL path segment


def register(subparsers) -> None:
    s = subparsers.add_parser(
        "serve",
        help="serve runs over HTTP with the Open Inference Protocol (KServe v2; needs aekit[serve])",
        description="Serve trained runs over HTTP with the Open Inference Protocol (KServe's v2 REST "
        "protocol, as KServe, Seldon MLServer and Triton clients speak it): /v2/health/ready, "
        "/v2/models/NAME, POST /v2/models/NAME/infer, /metrics. Stops gracefully on SIGTERM. "
        "Needs: pip install 'aekit[serve]'. See docs/guide/serve.md.",
    )
    s.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="a run folder (served under its folder name), or NAME=RUN",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=port, default=8080, help="port (default 8080; 0: any free port)")
    g = s.add_argument_group("access")
    g.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"require 'Authorization: Bearer KEY' on every request but the health checks "
        f"(default: ${API_KEY_ENV}, which keeps the key out of the process list)",
    )
    g.add_argument(
        "--insecure",
        action="store_true",
        help="allow a --host other than loopback without an API key (behind your own "
        "authentication only)",
    )
    b = s.add_argument_group("requests and batching")
    b.add_argument(
        "--max-batch",
        type=positive_int,
        default=64,
        metavar="ROWS",
        help="rows of requests that arrive together run in one call, up to this many (default 64)",
    )
    b.add_argument(
        "--max-wait-ms",
        type=positive_float,
        default=2.0,
        metavar="MS",
        help="how long a request waits for others to join its batch (default 2)",
    )
    b.add_argument(
        "--max-body",
        type=memory_size,
        default=16 * 2**20,
        metavar="SIZE",
        help="largest request body; larger ones get 413 (default 16M)",
    )
    b.add_argument(
        "--max-connections",
        type=positive_int,
        default=128,
        metavar="N",
        help="connections answered at once; more get 503 (default 128)",
    )
    b.add_argument(
        "--grace",
        type=positive_float,
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM, how long requests in flight may take to finish (default 30)",
    )
    s.add_argument("--quiet", action="store_true", help="only errors on stderr")
    s.set_defaults(func=cmd_serve)


def port(text: str) -> int:
    """A TCP port: 0 (any free one) to 65535."""
    value = non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value}")
    return value


def served_runs(specs: list[str]) -> dict[str, str]:
    """NAME -> run folder, from RUN or NAME=RUN arguments (one line for a bad or repeated name)."""
    from pathlib import Path

    from ..errors import NotFound, UsageError

    runs: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).resolve().name, spec
        if not NAME.match(name):
            raise UsageError(
                f"{spec}: model name {name!r} must be ASCII letters, digits, '.', '_' or '-' (up "
                f"to 128, not starting with a symbol: one segment of a URL); name it with NAME=RUN"
            )
        if name in runs:
            raise UsageError(f"two runs are named {name!r}; name them with NAME=RUN")
        if not Path(path).is_dir():
            if not Path(path).exists():
                from .._transaction import check_not_in_progress

                check_not_in_progress(path)  # a run still training: said so, as evaluate does
                raise NotFound(f"{path}: no such run folder; expected a folder of 'aekit train'")
            raise UsageError(  # an exported model or the run's config.json (lifecycle probe 58 #4)
                f"{path} is a file; aekit serve serves the run folders 'aekit train' writes "
                f"(give the folder; an exported .onnx is served by onnxruntime or Triton)"
            )
        runs[name] = path
    return runs


def _check_access(args: argparse.Namespace, key: str | None) -> None:
    from ..errors import UsageError
    from ..serve.server import is_loopback

    if key is not None and not key.strip():
        raise UsageError("the API key is empty; give a non-empty --api-key")
    if key and not (key.isascii() and key.isprintable()):
        # HTTP headers travel as latin-1: a client sending "clé" as UTF-8 would never match it
        raise UsageError(
            "the API key holds characters other than printable ASCII; give one of letters, "
            "digits and punctuation (e.g. python -c 'import secrets; print(secrets.token_urlsafe())')"
        )
    if not is_loopback(args.host) and not key and not args.insecure:
        raise UsageError(
            f"--host {args.host} serves other machines: give --api-key (or ${API_KEY_ENV}), or keep "
            f"127.0.0.1 behind a reverse proxy (docs/guide/serve.md); --insecure serves without a key"
        )


def cmd_serve(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..serve import INSTALL, missing_packages

    missing = missing_packages()
    if missing:
        raise UsageError(
            f"aekit serve needs the package{'s' if len(missing) > 1 else ''} {', '.join(missing)}, "
            f"not installed; run: {INSTALL}"
        )
    runs = served_runs(args.runs)
    key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV)
    _check_access(args, key)
    from ..serve.app import Options
    from ..serve.server import serve

    options = Options(
        max_batch=args.max_batch,
        max_wait=args.max_wait_ms / 1000,
        max_body=args.max_body,
        api_key=key or None,
        max_connections=args.max_connections,
    )
    return serve(
        runs, host=args.host, port=args.port, options=options, grace=args.grace, quiet=args.quiet
    )
