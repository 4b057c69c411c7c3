"""The house rules as tests: layers point one way (import-linter), no import circles.

The contracts live in pyproject.toml ([tool.importlinter]); CONTRIBUTING.md draws them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aekit"

pytest.importorskip("importlinter")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    """lint-imports on the package found from ``cwd`` (a fresh process: its own import path, no cache)."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))"
    )
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_layer_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


@pytest.mark.parametrize(
    "module, line",
    [
        ("aekit/training/loop.py", "from ..recipes import base as _r"),  # training -> recipes
        ("aekit/estimators/base.py", "from .. import plots as _p"),  # estimators -> plots
        ("aekit/data/container.py", "from ..training import loop as _l"),  # data -> training
        (
            "aekit/recipes/base.py",
            "def _f():\n    from ..cli import main",
        ),  # recipes -> cli, inside a function
        ("aekit/estimators/base.py", "from ..serve import app as _a"),  # estimators -> serve
        (
            "aekit/estimators/base.py",
            "def _g():\n    from ..dask import models",
        ),  # estimators -> dask
        ("aekit/export/onnx.py", "def _h():\n    from ..mlflow import flavour"),  # export -> mlflow
    ],
)
def test_a_lower_layer_importing_a_higher_one_fails(tmp_path, module, line):
    """The contracts can fail: a copy of the package with one import against the rules is refused."""
    shutil.copytree(PACKAGE, tmp_path / "aekit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / module, "a") as f:
        f.write(f"\n{line}\n")
    result = _lint(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout or "broken" in result.stdout


def _cycle() -> list[str] | None:
    """One circle of imports among aekit's modules (imports inside functions count), or None."""
    import graphlib

    import grimp

    graph = grimp.build_graph("aekit", include_external_packages=False)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in sorted(graph.modules)}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as exc:
        return exc.args[1]  # [a, b, ..., a]
    return None


def test_no_module_imports_in_a_circle():
    assert _cycle() is None
