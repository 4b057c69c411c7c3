"""Your own network: a spec (JSON that a run folder brings) names a torch.nn.Module class and
nothing else; what the networks return is checked before training."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import UsageError

TINY = dict(epochs=1, batch_size=16, device="cpu", threads=1)


@pytest.fixture
def run(tmp_path):
    X = np.random.default_rng(0).random((40, 6), dtype=np.float32)
    encoder = aekit.network("tests.nets:MLPEncoder", latent_dim=2, hidden=4)
    decoder = aekit.network("tests.nets:MLPDecoder", hidden=4)
    aekit.Autoencoder(encoder=encoder, decoder=decoder, **TINY).fit(X).save(tmp_path / "run")
    return tmp_path / "run"


@pytest.mark.parametrize(
    "target, args",
    [
        ("shutil:rmtree", {"path": "VICTIM"}),
        ("os:remove", {"path": "VICTIM/keep.txt"}),
        ("subprocess:call", {"args": ["touch", "VICTIM/ran"]}),
        ("tests.nets:Configured.get_config", {}),  # a method, not a class
    ],
)
def test_a_config_naming_anything_but_a_module_class_calls_nothing(run, tmp_path, target, args):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("the user's")
    config = json.loads((run / "config.json").read_text())
    args = json.loads(json.dumps(args).replace("VICTIM", str(victim)))
    config["params"]["encoder"] = {"network": target, "args": args}
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(UsageError, match="is not a torch.nn.Module class") as err:
        aekit.load(run)
    assert "\n" not in str(err.value)
    assert (victim / "keep.txt").read_text() == "the user's" and not (victim / "ran").exists()
    with pytest.raises(UsageError, match="is not a torch.nn.Module class"):
        aekit.network(target, **args)


class _Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(6, 2)

    def forward(self, x):
        return self.linear(x)


class _IntegerDecoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 6)

    def forward(self, z):
        return self.linear(z).round().long()  # integers: no gradient flows back


def test_a_network_returning_integers_is_one_line_before_training():
    X = np.random.default_rng(0).random((40, 6), dtype=np.float32)
    with pytest.raises(UsageError, match="the decoder returned torch.int64 numbers"):
        aekit.Autoencoder(encoder=_Encoder(), decoder=_IntegerDecoder(), **TINY).fit(X)
