"""Your own network: a spec (JSON that a run folder brings) names a torch.nn.Module class and
nothing else; what the networks return is checked before training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import RunFailure, UsageError

NETS = Path(__file__).parents[1] / "nets.py"
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


def test_a_network_file_a_config_names_without_its_digest_is_refused_before_it_is_imported(
    run, tmp_path
):
    # probe 67 #1: a missing "sha256" skipped the check, and the file ran at load
    marker = tmp_path / "EXECUTED"
    nets = tmp_path / "nets.py"
    nets.write_text(f"open({str(marker)!r}, 'w').write('ran')\n" + NETS.read_text())
    config = json.loads((run / "config.json").read_text())
    config["params"]["encoder"] = {"network": f"{nets}:MLPEncoder", "args": {}}
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunFailure, match="without its SHA-256") as err:
        aekit.load(run)
    assert str(run / "config.json") in str(err.value) and str(nets) in str(err.value)
    assert "\n" not in str(err.value) and not marker.exists()


def test_a_dict_naming_a_network_file_saves_its_digest_and_reloads(tmp_path):
    nets = tmp_path / "nets.py"
    nets.write_text(NETS.read_text())
    X = np.random.default_rng(0).random((40, 6), dtype=np.float32)
    encoder = {"network": f"{nets}:MLPEncoder", "args": {"latent_dim": 2, "hidden": 4}}
    decoder = {"network": f"{nets}:MLPDecoder", "args": {"hidden": 4}}
    est = aekit.Autoencoder(encoder=encoder, decoder=decoder, **TINY).fit(X)
    est.save(tmp_path / "run")
    assert (
        "sha256" in json.loads((tmp_path / "run" / "config.json").read_text())["params"]["encoder"]
    )
    np.testing.assert_allclose(aekit.load(tmp_path / "run").transform(X), est.transform(X))


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
