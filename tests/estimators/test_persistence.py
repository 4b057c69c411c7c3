import json
import pickle

import numpy as np
import pytest

import aekit
from aekit.errors import RunFailure, UsageError


@pytest.fixture
def saved(tmp_path):
    X = np.random.default_rng(0).random((64, 6), dtype=np.float32)
    aekit.Autoencoder(latent_dim=2, epochs=1).fit(X).save(tmp_path / "m")
    return tmp_path / "m"


def test_missing_folder_and_missing_config(tmp_path):
    with pytest.raises(UsageError, match="no such"):
        aekit.load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="config.json"):
        aekit.load(tmp_path / "empty")


def test_config_not_json_or_unknown_estimator(saved):
    (saved / "config.json").write_text("{not json")
    with pytest.raises(RunFailure, match="not valid JSON"):
        aekit.load(saved)
    (saved / "config.json").write_text(
        json.dumps({"estimator": "os.system", "params": {}, "state": {}})
    )
    with pytest.raises(RunFailure, match="unknown estimator"):
        aekit.load(saved)


class Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('pickle was executed')",))


def test_pickle_in_place_of_weights_is_refused_and_never_run(saved):
    (saved / "model.safetensors").write_bytes(pickle.dumps({"w": Boom()}))
    with pytest.raises(RunFailure, match="pickle"):
        aekit.load(saved)


@pytest.mark.parametrize("cut", [0, 7, 100, -10])
def test_truncated_or_corrupt_weights_are_refused(saved, cut):
    data = (saved / "model.safetensors").read_bytes()
    (saved / "model.safetensors").write_bytes(data[:cut] if cut else b"garbage" * 3)
    with pytest.raises(RunFailure) as e:
        aekit.load(saved)
    assert "\n" not in str(e.value)


def test_weights_of_another_shape_are_refused(saved):
    config = json.loads((saved / "config.json").read_text())
    config["state"]["input_shape"] = [9]
    (saved / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunFailure, match="do not fit|does not match"):
        aekit.load(saved)
