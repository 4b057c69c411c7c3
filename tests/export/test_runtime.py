"""aekit.export.runtime: onnxruntime imported without its telemetry and its default logger's lines."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ..cli.helpers import REPO

pytest.importorskip("onnxruntime")

# an export and its check, in a process where onnxruntime is not imported yet
EXPORT = """
import os, sys
import numpy as np
import aekit
from aekit.export import export_onnx, verify_onnx
x = np.random.default_rng(1).random((48, 10), dtype=np.float32)
ae = aekit.Autoencoder(latent_dim=3, epochs=1, device="cpu").fit(x)
print(verify_onnx(export_onnx(ae, sys.argv[1]), ae) < 1e-5)
print(sorted(n for n in os.environ if "TELEMETRY" in n))
"""


@pytest.mark.parametrize("home", ["writable", "a file"])
def test_a_verified_export_leaves_nothing_in_home_and_says_nothing(tmp_path, home):
    """Probe 58 locked F4: onnxruntime wrote ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ (a
    device id) into the user's home, and where it could not, printed a coloured warning."""
    folder = tmp_path / "home"
    folder.mkdir() if home == "writable" else folder.write_text("")
    env = {k: v for k, v in os.environ.items() if "TELEMETRY" not in k}
    proc = subprocess.run(
        [sys.executable, "-c", EXPORT, str(tmp_path / "m.onnx")],
        cwd=REPO,
        env={**env, "HOME": str(folder), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["True", "[]"]  # the variables not passed on
    assert "onnxruntime" not in proc.stderr, proc.stderr
    if home == "writable":
        assert list(folder.iterdir()) == []


def test_a_hosts_onnxruntime_keeps_its_own_settings(monkeypatch):
    # review 2 of probe 58: the logger level and telemetry of an onnxruntime the host imported
    # itself were changed process-wide by aekit's first check
    import importlib

    import onnxruntime as ort

    from aekit.export.runtime import onnxruntime

    monkeypatch.setattr(ort, "set_default_logger_severity", lambda level: pytest.fail("changed"))
    monkeypatch.setattr(ort, "disable_telemetry_events", lambda: pytest.fail("changed"))
    assert onnxruntime(importlib.import_module) is ort
