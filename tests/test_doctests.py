"""Every docstring example of aekit runs as written (those that need a trained model or a dataset
are marked ``+SKIP``): a notebook user pastes them into a cell, and 7 plots' examples used data
they never made (notebook probe #4)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parents[1] / "aekit"
MODULES = sorted(
    ".".join(("aekit", *p.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")
    for p in ROOT.rglob("*.py")
    if p.name != "__main__.py"
)


def test_every_docstring_example_runs(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples that write a figure write it here
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failed, ran = [], 0
    for name in MODULES:
        module = importlib.import_module(name)
        for test in doctest.DocTestFinder().find(module, name):
            if not test.examples or not test.name.startswith(name):
                continue
            result = doctest.DocTestRunner(optionflags=flags).run(test, out=lambda _: None)
            ran += result.attempted
            if result.failed:
                failed.append(test.name)
    assert not failed, failed
    assert ran > 200  # the finder found them
