"""Device names: what aekit runs on, and one line for the rest."""

from __future__ import annotations

import pytest

from aekit.errors import UsageError
from aekit.training.device import resolve_device


@pytest.mark.parametrize("name", ["meta", "xla", "hpu", "cpu:99", "cuda:-1", "cpu,cuda", "gpu"])
def test_names_torch_parses_but_aekit_does_not_run_on_are_one_line(name):
    # meta, xla and hpu were internal errors; cpu:99 trained on the CPU as if it meant something
    with pytest.raises(
        UsageError, match=r"unknown device .* expected auto, cpu, cuda, cuda:N or mps"
    ):
        resolve_device(name)


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_device_is_one_line_not_auto(name):
    """Probe 67 cli #9: ``--device ""`` (a variable unset) trained on auto's device, and config.json
    recorded the device ""."""
    with pytest.raises(UsageError, match=r"unknown device '\s*'; expected auto, cpu"):
        resolve_device(name)
    assert resolve_device(None).type in ("cpu", "cuda", "mps")  # not given: auto


def test_the_cpu_by_any_spelling():
    assert resolve_device("cpu").type == "cpu" and resolve_device("CPU:0").type == "cpu"


def test_a_device_not_present_names_the_python_and_the_command_line_spelling(monkeypatch):
    """Probe 66 sklearn 6: "use --device cpu" to a Python caller, who has no such flag."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(
        UsageError, match=r"CUDA is not available; use device='cpu' \(--device cpu\)"
    ):
        resolve_device("cuda")
