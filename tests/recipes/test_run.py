import numpy as np

from aekit.recipes import load_run

from ..cli.helpers import cli_here


def _train(tmp_path, run, data, *more):
    cli_here("train", "anomaly", "--data", tmp_path / data, "--epochs", "2", "--threads", "1",
             "--quiet", "--no-figures", "--out", run, *more)  # fmt: skip


def test_a_run_replaced_between_its_config_and_its_weights_is_read_as_one_version(
    tmp_path, monkeypatch
):
    """probe 59 races 2: load_run read config.json, then the model: a train --overwrite that ended
    in between gave 'evaluate' the old run's data and split scored by the new model."""
    import aekit.recipes.run as R

    r = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", r.normal(size=(200, 6)).astype(np.float32))
    np.save(tmp_path / "x2.npy", r.normal(size=(200, 6)).astype(np.float32) * 1.5)
    run = tmp_path / "run"
    _train(tmp_path, run, "x.npy")
    real = R.read_config

    def slow_read(path):  # the retrain ends just after the first read of config.json
        config = real(path)
        if not getattr(slow_read, "done", False):
            slow_read.done = True
            _train(tmp_path, run, "x2.npy", "--seed", "7", "--overwrite")
        return config

    monkeypatch.setattr(R, "read_config", slow_read)
    est, _, config = load_run(run)
    assert config["params"]["seed"] == est.seed == 7
    assert config["data"]["data"].endswith("x2.npy")
