"""The documentation builds without warnings, and every public name has a numpydoc docstring with Examples."""

from __future__ import annotations

import importlib.util
import inspect
import subprocess
import sys

import pytest

import aekit
import aekit.dask
import aekit.data
import aekit.export
import aekit.mlflow
import aekit.plots

from .conftest import REPO

MODULES = (aekit, aekit.data, aekit.plots, aekit.export, aekit.mlflow, aekit.dask)
# every class and function that a public module exports (a hand-made list missed aekit.Trainer)
PUBLIC = [
    obj
    for module in MODULES
    for obj in (getattr(module, name) for name in module.__all__)
    if inspect.isclass(obj) or inspect.isfunction(obj)
]


def _heading(doc: str, section: str) -> bool:
    """A numpydoc section: its name on a line, underlined with dashes on the next."""
    lines = [line.strip() for line in doc.splitlines()]
    return any(
        a == section and set(b) == {"-"} and len(b) >= len(section)
        for a, b in zip(lines, lines[1:])
    )


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda o: o.__name__)
def test_public_docstring_is_numpydoc_with_examples(obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{obj.__name__} has no docstring"
    assert _heading(doc, "Examples"), f"{obj.__name__}: no numpydoc 'Examples' section"
    if inspect.signature(obj).parameters and not getattr(obj, "_is_protocol", False):
        assert _heading(doc, "Parameters"), f"{obj.__name__}: no numpydoc 'Parameters' section"


def test_docs_build_strict(tmp_path):
    for module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python"):
        if (
            importlib.util.find_spec(module.split(".")[0]) is None
            or importlib.util.find_spec(module) is None
        ):
            pytest.skip(f"{module} is not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(REPO / "mkdocs.yml"),
            "-d",
            str(tmp_path / "site"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "estimators" / "index.html").read_text()
    for name in ("Autoencoder", "Denoiser", "AnomalyDetector", "VAE", "latent_dim"):
        assert name in api
