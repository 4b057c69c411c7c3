"""Every docstring example of aekit runs as written (those that need a trained model or a dataset
are marked ``+SKIP``): a notebook user pastes them into a cell, and 7 plots' examples used data
they never made (notebook probe #4)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parents[1] / "aekit"
# __main__ runs the CLI; mlflow's model_code registers a model with MLflow when imported
LEFT_OUT = {"aekit.__main__", "aekit.mlflow.model_code"}
MODULES = sorted(
    {".".join(("aekit", *p.relative_to(ROOT).with_suffix("").parts)) for p in ROOT.rglob("*.py")}
    - LEFT_OUT
)


def _module(name: str):
    """The module, or None where it needs an optional extra that is not installed."""
    try:
        return importlib.import_module(name.removesuffix(".__init__"))
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "aekit":
            raise
        return None


def test_every_docstring_example_runs(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples that write a figure write it here
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failed, ran = [], 0
    for name in MODULES:
        module = _module(name)
        name = name.removesuffix(".__init__")
        for test in doctest.DocTestFinder().find(module, name) if module else ():
            if not test.examples or not test.name.startswith(name):
                continue
            result = doctest.DocTestRunner(optionflags=flags).run(test, out=lambda _: None)
            ran += result.attempted
            if result.failed:
                failed.append(test.name)
    assert not failed, failed
    assert ran > 200  # the finder found them
