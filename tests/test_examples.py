"""The scripts in examples/ run offline, quickly (AEKIT_EXAMPLES_QUICK=1), and write their figures."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

EXAMPLES = REPO / "examples"
FIGURES = {
    "basic": ["reconstructions.png", "loss.png", "latent_map.png"],
    "stacked": ["reconstructions.png", "loss.png", "latent_map.png"],
    "denoise": ["denoised.png", "loss.png"],
    "anomaly_ecg5000": ["reconstructions.png", "error_histogram.png", "roc.png", "loss.png"],
    "vae": [
        "samples.png",
        "manifold.png",
        "latent_map.png",
        "interpolation.png",
        "loss.png",
        "own_samples.png",
    ],
}


def code_lines(path: Path) -> int:
    """Lines of code: not blank, not a comment, not the module docstring."""
    source = path.read_text()
    tree = ast.parse(source)
    skip: set[int] = set()
    first = tree.body[0] if tree.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        skip = set(range(first.lineno, first.end_lineno + 1))
    return sum(
        1
        for i, line in enumerate(source.splitlines(), 1)
        if i not in skip and line.strip() and not line.strip().startswith("#")
    )


def test_every_example_is_listed():
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_example_is_short(name):
    # 45 lines, plus the figures' explicit overwrite=True (aekit.plots refuses an existing file)
    assert code_lines(EXAMPLES / f"{name}.py") <= 50


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_example_runs_quickly(name, shared_data, tmp_path):
    out = tmp_path / "out"
    proc = _run(name, shared_data, tmp_path, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tutorial" in proc.stdout  # the tutorial's figures are printed beside aekit's
    for figure in FIGURES[name]:
        path = out / figure
        assert path.is_file() and path.stat().st_size > 1000, f"{name}: {figure} not written"
    assert not (tmp_path / "runs").exists()  # everything went to AEKIT_EXAMPLES_OUT


def test_an_example_runs_again_over_its_own_figures(shared_data, tmp_path):
    for _ in range(2):  # the plots refuse an existing file unless told to replace it
        proc = _run("stacked", shared_data, tmp_path, tmp_path / "out")
        assert proc.returncode == 0, proc.stderr[-3000:]


def _run(name: str, shared_data, tmp_path, out) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "AEKIT_DATA": str(shared_data),
        "AEKIT_EXAMPLES_QUICK": "1",
        "AEKIT_EXAMPLES_OUT": str(out),
        "MPLBACKEND": "Agg",
        # Torch's default of one thread per core is far slower on a small, shared machine.
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
