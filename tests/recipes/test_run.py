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


def test_metrics_record_the_epoch_whose_weights_are_kept(tmp_path):
    """probe 60 training 8: metrics.json's "epochs" is the epochs run (41) where the weights kept
    are an earlier epoch's (39), found only as history.csv's argmin. "best_epoch" says which."""
    import json

    rows = np.random.default_rng(0).random((60, 6)).astype(np.float32)
    np.save(tmp_path / "rows.npy", rows)
    run = tmp_path / "run"
    cli_here("train", "basic", "--data", tmp_path / "rows.npy", "--latent-dim", "2", "--epochs",
             "8", "--lr", "0.3", "--patience", "50", "--threads", "1", "--quiet", "--no-figures",
             "--out", run)  # fmt: skip
    metrics = json.loads((run / "metrics.json").read_text())
    history = json.loads((run / "config.json").read_text())["state"]["history"]
    val = [r["val_loss"] for r in history]
    assert metrics["epochs"] == 8 and metrics["best_epoch"] == 1 + int(np.argmin(val))
    assert metrics["best_epoch"] < 8, val  # a rate this high: the best is not the last


def test_best_epoch_is_the_last_where_nothing_watched_and_absent_without_early_stopping():
    """probe 60 training 8: without patience or validation (a series detector) the last epoch's
    weights are kept; a family without early stopping (the image detector) records none."""
    from aekit.recipes.run import _best_epoch

    class Est:
        def __init__(self, history, **params):
            self.history_, self.params = history, params
            self.__dict__.update(params)

        def get_params(self, deep=False):
            return self.params

    watched = [{"val_loss": 2.0}, {"val_loss": 1.0}, {"val_loss": 1.0}, {"val_loss": 3.0}]
    unwatched = [{"val_loss": None}] * 3
    assert _best_epoch(Est(watched, patience=5)) == {"best_epoch": 2}
    assert _best_epoch(Est(watched, patience=None)) == {"best_epoch": 4}
    assert _best_epoch(Est(unwatched, patience=5)) == {"best_epoch": 3}
    assert _best_epoch(Est(unwatched, method="ssim")) == {}
