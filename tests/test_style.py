"""The code's form as tests: ruff's formatter and linter (rules in pyproject.toml, [tool.ruff]).

The lint's size rules (mccabe complexity 10, 12 branches, 50 statements) keep every function short
enough to read at once; they replace a cap on file length: a module that holds one concept may be long.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("aekit", "tests", "benchmarks", "examples", "scripts", "docs")

pytest.importorskip("ruff")


def _ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_code_is_formatted():
    result = _ruff("format", "--check", *CHECKED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lint_passes():
    result = _ruff("check", *CHECKED)
    assert result.returncode == 0, result.stdout + result.stderr


BRANCHY = (
    "def f(x):\n"
    + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(11))
    + "    return -1\n"
)
UNFORMATTED = "def f( x ) :\n  return [x,x ,x]\n"


@pytest.mark.parametrize(
    "command, text, expected",
    [
        (("check",), BRANCHY, "C901"),  # a function too complex to read at once
        (("check",), "import os\n", "F401"),  # an unused import
        (("format", "--check"), UNFORMATTED, "would be reformatted"),
    ],
)
def test_the_rules_can_fail(tmp_path, command, text, expected):
    """A file against the rules, in a copy of the project's settings, is refused."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "aekit").mkdir()
    (tmp_path / "aekit" / "bad.py").write_text(text)
    result = _ruff(*command, "aekit", cwd=tmp_path)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
