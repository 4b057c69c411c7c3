"""Helpers for the bad-input, crash-safety, concurrency and unsafe-file tests.

Running the CLI in-process (``cli``) is fast; ``proc_cli`` starts a real ``python -m aekit``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def cli(*argv) -> tuple[int, str, str]:
    """``aekit ARGV`` in this process: (exit code, stdout, stderr); argparse's SystemExit becomes its code."""
    from aekit.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def one_torch_thread():
    """CLI runs in this process on one torch thread, as the real ones started with OMP_NUM_THREADS=1 had
    (so floating point matches theirs)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def proc_cli(*argv, env: dict | None = None, **kw) -> subprocess.Popen:
    """A real ``python -m aekit ARGV`` process (stdout and stderr piped)."""
    return subprocess.Popen(
        [sys.executable, "-m", "aekit", *map(str, argv)],
        cwd=REPO,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


def assert_one_line(code: int, err: str, expected: int, needles=()) -> str:
    """Exit ``expected``; stderr is one ``aekit...: error: ...`` line naming each needle; no traceback."""
    assert code == expected, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert lines[0].startswith("aekit") and ": error: " in lines[0], lines[0]
    for needle in needles:
        assert str(needle).lower() in lines[0].lower(), (needle, lines[0])
    return lines[0]


def assert_one_line_exc(exc: BaseException, needles=()) -> None:
    """A library error: an AekitError whose message is one line and names each needle."""
    from aekit.errors import AekitError

    assert isinstance(exc, AekitError), repr(exc)
    msg = str(exc)
    assert "\n" not in msg and msg.strip(), msg
    for needle in needles:
        assert str(needle).lower() in msg.lower(), (needle, msg)


def snapshot(folder: Path) -> dict[str, str]:
    """relative path -> sha256 of every file (and '<dir>' for folders) under ``folder``."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():  # never read through a link (a case links weights to /dev/zero)
            out[rel] = f"<link {os.readlink(p)}>"
        elif p.is_dir():
            out[rel] = "<dir>"
        elif not p.is_file():  # a FIFO: reading it would block
            out[rel] = "<special>"
        elif p.name != ".lock":
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ---- tiny synthetic inputs ------------------------------------------------------------------------


def write_table(path: Path, x: np.ndarray, labels=None, names=None) -> Path:
    names = names or [f"f{i}" for i in range(x.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(names + (["label"] if labels is not None else [])) + "\n")
        for i, row in enumerate(x):
            f.write(
                ",".join(f"{v:.5f}" for v in row)
                + (f",{labels[i]}" if labels is not None else "")
                + "\n"
            )
    return path


def write_images(folder: Path, n: int, size=(8, 8), mode="L", seed=0) -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shape = size if mode == "L" else (*size, 3)
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8), mode).save(
            folder / f"im{i:02d}.png"
        )
    return folder


def check_run_folder(run: Path, *, allow_tmp: bool = True) -> None:
    """Nothing half-written: every JSON parses, latest.json names a complete safetensors file,
    every final-named weights file loads; temp files only under hidden ``.*.tmp`` names."""
    from aekit.training.serialize import load_tensors

    for p in run.rglob("*"):
        if not p.is_file() or p.name == ".lock":
            continue
        if p.name.endswith(".tmp"):
            assert allow_tmp, f"stray temp file {p}"
            assert p.name.startswith("."), f"temp file under a final name: {p}"
            continue
        if p.name == ".aekit-partial":  # the mark of a run being built (aekit._transaction)
            continue
        if p.name == ".aekit-manifest.json":  # the files aekit wrote (aekit._manifest): it verifies
            from aekit._manifest import read_manifest

            assert read_manifest(p.parent) is not None, f"a manifest that does not verify: {p}"
            continue
        assert not p.name.startswith("."), f"unexpected hidden file {p}"
        if p.suffix == ".json":
            json.loads(p.read_text())
        elif p.suffix == ".safetensors":
            load_tensors(p)
    latest = run / "checkpoint" / "latest.json"
    if latest.exists():
        state = json.loads(latest.read_text())
        weights = run / "checkpoint" / state["weights"]
        tensors = load_tensors(weights)
        assert any(k.startswith("model.") for k in tensors)
        assert len(state["history"]) == state["epoch"]
