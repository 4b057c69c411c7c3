"""Running the CLI in tests: in-process (fast) or as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, check: int | None = 0, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m aekit ARGS`` in a subprocess; asserts the exit code when ``check`` is not None."""
    proc = subprocess.run([sys.executable, "-m", "aekit", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, **(env or {})}, timeout=600)
    if check is not None:
        assert proc.returncode == check, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int = 2, *needles: str) -> None:
    """Exit ``code``, exactly one line on stderr, no traceback, naming each needle."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])
