"""A real ``aekit serve`` process on a free loopback port, for the tests, and a client for it.

The server is started with ``--port 0`` and says which port it got on stderr; it dies with the test
process (``PR_SET_PDEATHSIG``), and :meth:`Served.stop` ends it with SIGTERM (SIGKILL if it does not
stop in time), so no server outlives its test.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 180  # interpreter, torch and the models, on a loaded machine
LISTENING = re.compile(r"listening on (http://\S+)")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def _in_child(nofile: int | None):
    """What the child runs before exec: die with the test, and take ``ulimit -n nofile``."""
    if not sys.platform.startswith("linux"):
        return None

    def start() -> None:  # pragma: no cover - runs in the child
        _die_with_parent()
        if nofile is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    return start


class Served:
    """``python -m aekit serve ARGS --port 0``: its URL, its stderr lines, and a way to stop it."""

    def __init__(self, *args: str, env: dict | None = None, nofile: int | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aekit", "serve", *map(str, args), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            preexec_fn=_in_child(nofile),
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self._wait_for(LISTENING).group(1)

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def _wait_for(self, pattern: re.Pattern, seconds: float = START_SECONDS) -> re.Match:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if m := pattern.search(line):
                    return m
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"the server never said {pattern.pattern!r}: {self.lines}")

    def wait_for(self, text: str, seconds: float = START_SECONDS) -> str:
        """The first stderr line that holds ``text`` (waiting for it)."""
        return self._wait_for(re.compile(f".*{re.escape(text)}.*"), seconds).group(0)

    def wait_ready(self, client: httpx.Client, seconds: float = START_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while client.get(f"{self.url}/v2/health/ready").status_code != 200:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"the server never became ready: {self.lines}")
            time.sleep(0.1)

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM, then the exit code (SIGKILL after ``timeout`` seconds)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(10)
        return code


@contextlib.contextmanager
def serving(*args: str):
    """``aekit serve ARGS`` started, ready, and stopped at the end of the block (a module fixture's body)."""
    served = Served(*args)
    try:
        with httpx.Client(timeout=120) as client:
            served.wait_ready(client)
        yield served
    finally:
        served.stop()


@contextlib.contextmanager
def http_client():
    """A client for a served model, generous with time (a loaded 2-core machine)."""
    with httpx.Client(timeout=120) as c:
        yield c
