"""Running the CLI in tests: in-process (fast) or as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, check: int | None = 0, env: dict | None = None
) -> subprocess.CompletedProcess:
    """``python -m aekit ARGS`` in a subprocess; asserts the exit code when ``check`` is not None."""
    proc = subprocess.run(
        [sys.executable, "-m", "aekit", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    return _checked(proc, check)


def cli_here(*args: str, check: int | None = 0) -> subprocess.CompletedProcess:
    """``aekit ARGS`` run in this process (no interpreter start-up, no torch import: seconds saved a call), as
    ``run_cli`` reports it. Faithful for what a command writes and prints and its exit code; a real process
    (``run_cli``) stays where the process itself is the point: signals, the environment read at start-up,
    memory, what reaches the terminal."""
    from ..badinput import cli

    code, out, err = cli(*args)
    return _checked(subprocess.CompletedProcess(["aekit", *map(str, args)], code, out, err), check)


def _checked(proc: subprocess.CompletedProcess, check: int | None) -> subprocess.CompletedProcess:
    """``proc``, once its exit code is ``check`` (any code when None)."""
    if check is not None:
        assert proc.returncode == check, (
            f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
    return proc


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int = 2, *needles: str) -> None:
    """Exit ``code``, exactly one line on stderr, no traceback, naming each needle."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])


def write_png(image, path: Path) -> None:
    """A grayscale image (1, H, W) in [0, 1] as an 8-bit PNG, its folder made."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(np.asarray(image)[0] * 255).astype(np.uint8), "L").save(path)


def grating_defects(root: Path, side: int, *, n_train: int, n_good: int, n_per_defect: int):
    """32 x 32 crops of a noisy grating (seeded) with labelled defects, a finer grating pasted in as
    the foreign texture; the training crops written to ``root/good/`` as PNGs. The DefectSet."""
    import numpy as np

    from aekit.data.defects import defect_dataset, grating

    rng = np.random.default_rng(0)
    donor = grating(side, np.random.default_rng(5), period=4.0)
    ds = defect_dataset(
        grating(side, rng), rng, size=32, n_train=n_train, n_good=n_good,
        n_per_defect=n_per_defect, donor=donor,
    )  # fmt: skip
    for i, image in enumerate(ds.train):
        write_png(image, root / "good" / f"{i:03d}.png")
    return ds
