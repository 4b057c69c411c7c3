"""The user's own networks as aekit builds and runs them (aekit.models.custom): copies, checks, failures."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import UsageError
from aekit.models.custom import CustomAutoencoder, build_pair, network

from ..nets import MLPDecoder, Parameterless, Picky, TiedDecoder, TiedEncoder


def _one_line(err, *needles):
    text = str(err.value)
    assert "\n" not in text, text
    for needle in needles:
        assert needle in text, (needle, text)


def test_modules_sharing_a_layer_are_copied_together_so_tied_weights_stay_tied():
    enc = TiedEncoder(12, 3)
    dec = TiedDecoder(enc)
    enc2, dec2, code = build_pair(enc, dec, (12,))
    assert code == (3,) and enc2 is not enc
    assert dec2.encoder.linear.weight is enc2.linear.weight  # one weight, as the user's pair has
    model = CustomAutoencoder(enc2, dec2)
    assert sum(p.numel() for p in model.parameters()) == 12 * 3 + 3 + 12


def test_networks_without_a_trainable_parameter_are_one_line():
    with pytest.raises(UsageError) as err:
        build_pair(Parameterless((12,)), Parameterless((12,)), (12,))
    _one_line(err, "the encoder and decoder have no trainable parameters")


def test_a_network_module_calling_sys_exit_at_import_is_one_line(tmp_path):
    for code, shown in (("3", "sys.exit(3)"), ("'bye'", "sys.exit('bye')")):
        path = tmp_path / f"prog{len(code)}.py"
        path.write_text(f"import sys\nsys.exit({code})\n")
        with pytest.raises(UsageError) as err:
            network(f"{path}:Encoder")
        _one_line(err, f"importing {path} called {shown}", 'if __name__ == "__main__"')


def test_a_network_failing_after_the_shape_check_is_one_line_naming_it_and_the_batch():
    model = CustomAutoencoder(Picky((4,), 2), MLPDecoder((4,), 2)).eval()
    assert model(torch.zeros(3, 4)).shape == (3, 4)
    with pytest.raises(UsageError) as err:
        model(torch.full((3, 4), 100.0))
    _one_line(
        err,
        "the encoder failed on a batch of 3 inputs of (B, 4) (inference)",
        "ValueError: input out of range for this network",
    )


def test_a_users_network_runs_on_a_torch_without_the_newer_compiler_queries(monkeypatch):
    # torch.compiler.is_compiling came in torch 2.3, torch.OutOfMemoryError in 2.5 (the bound is 2.1)
    monkeypatch.delattr(torch.compiler, "is_compiling")
    monkeypatch.delattr(torch.compiler, "is_exporting", raising=False)
    monkeypatch.delattr(torch, "OutOfMemoryError")
    model = CustomAutoencoder(Picky((4,), 2), MLPDecoder((4,), 2)).eval()
    assert model(torch.zeros(3, 4)).shape == (3, 4)
    with pytest.raises(UsageError) as err:
        model(torch.full((3, 4), 100.0))
    _one_line(err, "the encoder failed on a batch of 3 inputs")
