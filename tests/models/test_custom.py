"""The user's own networks as aekit builds and runs them (aekit.models.custom): copies, checks, failures."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import UsageError
from aekit.models.custom import CustomAutoencoder, CustomVAE, build_pair, network

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
    monkeypatch.delattr(torch.compiler, "is_compiling", raising=False)  # torch 2.1 has none
    monkeypatch.delattr(torch.compiler, "is_exporting", raising=False)
    monkeypatch.delattr(torch, "OutOfMemoryError")
    model = CustomAutoencoder(Picky((4,), 2), MLPDecoder((4,), 2)).eval()
    assert model(torch.zeros(3, 4)).shape == (3, 4)
    with pytest.raises(UsageError) as err:
        model(torch.full((3, 4), 100.0))
    _one_line(err, "the encoder failed on a batch of 3 inputs")


class _PythaeEncoder(torch.nn.Module):  # pythae's ModelOutput: embedding (and log_covariance)
    def __init__(self, variational=True):
        super().__init__()
        self.linear, self.variational = torch.nn.Linear(4, 4), variational

    def forward(self, x):
        h = self.linear(x)
        out = {"embedding": h[:, :2]}
        return {**out, "log_covariance": h[:, 2:]} if self.variational else out


class _PythaeDecoder(torch.nn.Module):  # pythae's decoders end in a sigmoid: probabilities
    def __init__(self, last=torch.nn.Sigmoid):
        super().__init__()
        self.layers = torch.nn.Sequential(torch.nn.Linear(2, 4), last())

    def forward(self, z):
        return {"reconstruction": self.layers(z)}


def test_a_pythae_decoders_reconstruction_is_probabilities_for_a_bernoulli_vae():
    torch.manual_seed(0)
    model = CustomVAE(_PythaeEncoder(), _PythaeDecoder()).eval()
    z = 4 * torch.randn(16, 2)  # probabilities near 0 and 1 too
    probabilities = model.decoder(z)["reconstruction"]
    # the logits aekit's Bernoulli likelihood reads give back pythae's probabilities (read as
    # logits, every value stayed in [0.5, 0.73])
    torch.testing.assert_close(torch.sigmoid(model.decode(z)), probabilities, atol=1e-6, rtol=0)
    gaussian = CustomVAE(_PythaeEncoder(), _PythaeDecoder(), likelihood="gaussian").eval()
    torch.testing.assert_close(gaussian.decode(z), gaussian.decoder(z)["reconstruction"])
    with pytest.raises(UsageError) as err:  # no sigmoid: not probabilities
        CustomVAE(_PythaeEncoder(), _PythaeDecoder(torch.nn.Identity)).decode(z)
    _one_line(err, "outside [0, 1]", "Sigmoid")


def test_a_pythae_autoencoders_encoder_given_to_a_vae_is_said_plainly():
    with pytest.raises(UsageError) as err:
        CustomVAE(_PythaeEncoder(variational=False), _PythaeDecoder()).encode(torch.zeros(3, 4))
    _one_line(err, "no 'log_covariance'")
