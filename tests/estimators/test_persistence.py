import errno
import json
import os
import pickle

import numpy as np
import pytest

import aekit
from aekit.data import read_path
from aekit.errors import RunFailure, UsageError
from aekit.estimators.neighbors import LatentIndex
from aekit.estimators.persistence import FORMAT_VERSION, estimator_config


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


def test_what_is_not_there_is_also_a_file_not_found_error(tmp_path):
    # `except FileNotFoundError` around a load, as around open(), catches it; still a UsageError
    for call in (
        lambda: aekit.load(tmp_path / "nope"),
        lambda: aekit.load(tmp_path),  # a folder without config.json
        lambda: LatentIndex.load(tmp_path),
        lambda: read_path(tmp_path / "nope.csv"),
        lambda: aekit.network(str(tmp_path / "nope.py:Net")),
    ):
        with pytest.raises(FileNotFoundError) as caught:
            call()
        assert isinstance(caught.value, UsageError) and caught.value.errno == errno.ENOENT
        assert str(tmp_path) in caught.value.filename and "\n" not in str(caught.value)
        # a process pool or Dask sends it pickled: its filename comes along (verify 58)
        again = pickle.loads(pickle.dumps(caught.value))
        assert (again.filename, again.errno, str(again)) == (
            caught.value.filename, errno.ENOENT, str(caught.value),
        )  # fmt: skip


def test_config_not_json_or_unknown_estimator(saved):
    (saved / "config.json").write_text("{not json")
    with pytest.raises(RunFailure, match="not valid JSON"):
        aekit.load(saved)
    (saved / "config.json").write_text(
        json.dumps({"estimator": "os.system", "params": {}, "state": {}})
    )
    with pytest.raises(RunFailure, match="unknown estimator"):
        aekit.load(saved)


def test_a_run_from_a_newer_aekit_says_so(saved):
    # upgrade probe 58 #1: format_version was written and never read (a newer run loaded silently)
    config = json.loads((saved / "config.json").read_text())
    assert config["format_version"] == FORMAT_VERSION
    newer = {**config, "format_version": FORMAT_VERSION + 1, "versions": {"aekit": "9.0"}}
    (saved / "config.json").write_text(json.dumps(newer))
    with pytest.raises(UsageError, match=r"written by aekit 9.0 in run format 2; .* upgrade aekit"):
        aekit.load(saved)
    # a parameter this aekit does not know, from another version: the versions are said
    unknown = {
        **config,
        "params": {**config["params"], "new_knob": 1},
        "versions": {"aekit": "9.0"},
    }
    (saved / "config.json").write_text(json.dumps(unknown))
    with pytest.raises(RunFailure, match=r"new_knob.*; written by aekit 9.0, read by"):
        aekit.load(saved)
    (saved / "config.json").write_text(json.dumps({**config, "format_version": "1"}))
    with pytest.raises(RunFailure, match="format_version '1' is not a whole number"):
        aekit.load(saved)
    del config["format_version"]  # written before it was recorded: read as format 1
    (saved / "config.json").write_text(json.dumps(config))
    assert type(aekit.load(saved)).__name__ == "Autoencoder"


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


# ---- the input scaler's arrays: beside the weights, not in config.json ---------------------------
IMAGES = np.random.default_rng(1).random((48, 1, 8, 8), dtype=np.float32)
SCALED = {  # an estimator whose scaler keeps one offset per pixel, and what it computes
    "AnomalyDetector": (
        lambda: aekit.AnomalyDetector(epochs=1, device="cpu"),
        lambda est: est.decision_function(IMAGES),
    ),
    "Autoencoder": (
        lambda: aekit.Autoencoder(latent_dim=2, epochs=1, scaler="standard", device="cpu"),
        lambda est: est.transform(IMAGES),
    ),
}


def _rewrite(folder, state_scaler, drop_tensors):
    """The saved folder with config.json's scaler state replaced and the scaler tensors dropped."""
    from safetensors.torch import load_file, save_file

    config = json.loads((folder / "config.json").read_text())
    config["state"]["scaler"] = state_scaler
    (folder / "config.json").write_text(json.dumps(config))
    tensors = load_file(folder / "model.safetensors")
    save_file(
        {k: v for k, v in tensors.items() if not (drop_tensors and k.startswith("scaler."))},
        folder / "model.safetensors",
    )


@pytest.mark.parametrize("name", sorted(SCALED))
def test_the_scalers_arrays_are_saved_beside_the_weights(tmp_path, name):
    from safetensors.torch import load_file

    make, compute = SCALED[name]
    est = make().fit(IMAGES)
    assert est.scaler_.offset_.shape == (1, 8, 8)  # one number per pixel
    est.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["state"]["scaler"] == {"kind": est.scaler_.kind}  # no per-pixel lists
    tensors = load_file(tmp_path / "m" / "model.safetensors")
    np.testing.assert_array_equal(tensors["scaler.offset"].numpy(), est.scaler_.offset_)
    np.testing.assert_array_equal(tensors["scaler.scale"].numpy(), est.scaler_.scale_)
    np.testing.assert_array_equal(compute(aekit.load(tmp_path / "m")), compute(est))


@pytest.mark.parametrize("name", sorted(SCALED))
def test_a_model_saved_with_its_scaler_in_the_json_still_loads(tmp_path, name):
    make, compute = SCALED[name]
    est = make().fit(IMAGES)
    est.save(tmp_path / "m")
    _rewrite(tmp_path / "m", est.scaler_.get_state(), drop_tensors=True)  # as saved before
    loaded = aekit.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.scaler_.offset_, est.scaler_.offset_)
    np.testing.assert_array_equal(compute(loaded), compute(est))
    # its config written again beside the same weights (as `aekit calibrate` does) keeps the arrays
    assert estimator_config(loaded)["state"]["scaler"] == est.scaler_.get_state()


@pytest.mark.parametrize("name", sorted(SCALED))
def test_a_model_without_its_scalers_arrays_is_refused_in_one_line(tmp_path, name):
    make, _ = SCALED[name]
    est = make().fit(IMAGES)
    est.save(tmp_path / "m")
    _rewrite(tmp_path / "m", {"kind": est.scaler_.kind}, drop_tensors=True)
    with pytest.raises(RunFailure, match="scaler's offset and scale are missing") as info:
        aekit.load(tmp_path / "m")
    assert "\n" not in str(info.value)


def test_set_params_after_fit_then_save_records_what_the_model_was_built_with(tmp_path, caplog):
    X = np.random.default_rng(0).random((64, 6), dtype=np.float32)
    ae = aekit.Autoencoder(latent_dim=2, activation="relu", epochs=1, threads=1).fit(X)
    ae.set_params(activation="tanh", epochs=3)  # the fitted model is unchanged until the next fit
    with caplog.at_level("WARNING", logger="aekit.notes"):
        ae.save(tmp_path / "m")
    notes = [r.getMessage() for r in caplog.records if r.name == "aekit.notes"]
    assert notes == [
        "Autoencoder saved with the activation its model was trained with: set_params changed it "
        "after fit, which takes effect at the next fit"
    ]
    params = json.loads((tmp_path / "m" / "config.json").read_text())["params"]
    assert params["activation"] == "relu" and params["epochs"] == 3  # epochs builds no model
    back = aekit.load(tmp_path / "m")
    assert np.array_equal(back.transform(X), ae.transform(X))
    back.set_params(activation="tanh").save(tmp_path / "again")  # a loaded model: as it was loaded
    again = json.loads((tmp_path / "again" / "config.json").read_text())["params"]
    assert again["activation"] == "relu"


def _retrain_lands_during_the_load(monkeypatch, new, run):
    """The next load's read of the weights finds ``new`` saved over ``run`` just before it (once);
    returns the real reader."""
    import aekit.estimators.persistence as P

    real, swaps = P.load_tensors, []

    def retrain_lands_now(path):
        if not swaps:
            swaps.append(path)
            new.save(run, overwrite=True)
        return real(path)

    monkeypatch.setattr(P, "load_tensors", retrain_lands_now)
    return real


def test_a_model_replaced_while_it_is_loaded_is_one_version(tmp_path, monkeypatch):
    # a retrain saved over the run between the reads of config.json and the weights gave the old
    # threshold with the new network
    import aekit.estimators.persistence as P

    X = np.random.default_rng(0).normal(size=(120, 6)).astype(np.float32)
    old = aekit.AnomalyDetector(epochs=2, seed=1, threads=1, verbose=0).fit(X)
    new = aekit.AnomalyDetector(epochs=2, seed=2, threads=1, verbose=0).fit(X * 5 + 3)
    old.save(tmp_path / "run")
    real = _retrain_lands_during_the_load(monkeypatch, new, tmp_path / "run")
    loaded = aekit.load(tmp_path / "run")
    assert loaded.threshold_ == new.threshold_
    np.testing.assert_array_equal(loaded.score_samples(X[:9]), new.score_samples(X[:9]))

    def always(path):  # replaced at every read: said, not a mix
        old.save(tmp_path / "run", overwrite=True)
        return real(path)

    monkeypatch.setattr(P, "load_tensors", always)
    with pytest.raises(RunFailure, match="replaced while it was read, 5 times"):
        aekit.load(tmp_path / "run")


@pytest.mark.parametrize("cls", [aekit.Autoencoder, aekit.AnomalyDetector])
def test_a_saved_scale_of_zero_is_a_damaged_run(tmp_path, cls):
    # NaN codes and infinite scores, every row flagged, with exit code 0
    from safetensors.numpy import load_file, save_file

    X = np.random.default_rng(0).normal(size=(60, 6)).astype(np.float32)
    cls(epochs=1, threads=1, verbose=0).fit(X).save(tmp_path / "m")
    weights = load_file(tmp_path / "m" / "model.safetensors")
    weights["scaler.scale"] = np.zeros_like(weights["scaler.scale"])
    save_file(weights, tmp_path / "m" / "model.safetensors")
    with pytest.raises(RunFailure, match="scale holds no value or one that is not a positive"):
        aekit.load(tmp_path / "m")


def test_a_config_beyond_its_bound_is_not_read(tmp_path, monkeypatch):
    # 200 MB of padding (306 KB zipped) took 3.2 GB to parse
    import aekit.estimators.persistence as P

    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    aekit.Autoencoder(epochs=1, threads=1, verbose=0).fit(X).save(tmp_path / "m")
    size = (tmp_path / "m" / "config.json").stat().st_size
    monkeypatch.setattr(P, "MAX_CONFIG", size - 1)
    with pytest.raises(RunFailure, match="holds at most"):
        aekit.load(tmp_path / "m")
    monkeypatch.setattr(P, "MAX_CONFIG", size)
    aekit.load(tmp_path / "m")


def test_threads_beyond_any_machine_are_refused():
    # libgomp aborted asking for 216 GB, without a line of aekit's
    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    with pytest.raises(UsageError, match=r"threads must be a whole number in \[1, 1024\]"):
        aekit.Autoencoder(epochs=1, threads=10**9).fit(X)


def test_a_load_failing_because_the_run_was_replaced_meanwhile_reads_it_again(
    tmp_path, monkeypatch
):
    # a retrain with another --latent-dim between the two reads: a false "weights do not fit"

    X = np.random.default_rng(0).normal(size=(60, 6)).astype(np.float32)
    aekit.Autoencoder(epochs=1, latent_dim=2, threads=1, verbose=0).fit(X).save(tmp_path / "run")
    new = aekit.Autoencoder(epochs=1, latent_dim=3, threads=1, verbose=0).fit(X)
    _retrain_lands_during_the_load(monkeypatch, new, tmp_path / "run")
    assert aekit.load(tmp_path / "run").transform(X[:2]).shape == (2, 3)


def test_a_run_replaced_while_a_command_read_it_is_not_written_over(tmp_path):
    # calibrate read its data for tens of seconds; a train --overwrite ended meanwhile, and the
    # old run's config.json went over the new weights
    from aekit.errors import RunInProgress
    from aekit.estimators.persistence import version
    from aekit.recipes.folder import updating

    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    est = aekit.Autoencoder(epochs=1, threads=1, verbose=0).fit(X)
    est.save(tmp_path / "run")
    since = version(tmp_path / "run")
    est.save(tmp_path / "run", overwrite=True)
    with (
        pytest.raises(RunInProgress, match="was replaced while this command read it"),
        updating(tmp_path / "run", since),
    ):
        pass
    with updating(tmp_path / "run", version(tmp_path / "run")) as work:
        (work / "note.txt").write_text("kept")
    assert (tmp_path / "run" / "note.txt").exists()


def test_numpy_numbers_as_parameters_save_as_plain_numbers(tmp_path):
    """GridSearchCV over ``np.arange(2, 5)`` sets ``latent_dim`` to an ``np.int64``: the model
    saves (config.json held a value that was not JSON: "cannot write ...") and loads back."""
    X = np.random.default_rng(0).random((60, 6)).astype(np.float32)
    est = aekit.Autoencoder(
        latent_dim=np.int64(3), hidden=(np.int64(8),), lr=np.float32(0.01), epochs=1, device="cpu"
    ).fit(X)
    est.save(tmp_path / "m")
    back = aekit.load(tmp_path / "m", device="cpu")
    assert back.latent_dim == 3 and type(back.latent_dim) is int and back.hidden == (8,)
    np.testing.assert_array_equal(back.transform(X), est.transform(X))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_or_a_folder_in_place_of_a_runs_file_is_said_to_be_one(saved):
    # probe 67 #10: a pipe in place of config.json was "no config.json", a folder in place of the
    # weights "not a regular file (a pipe, a device or a link to one)"
    (saved / "config.json").rename(saved / "config.kept")
    os.mkfifo(saved / "config.json")
    with pytest.raises(RunFailure, match=r"config.json: not a regular file but a pipe \(FIFO\)"):
        aekit.load(saved)
    (saved / "config.json").unlink()
    (saved / "config.json").mkdir()
    with pytest.raises(RunFailure, match="config.json: is a folder; expected aekit's config.json"):
        aekit.load(saved)
    (saved / "config.json").rmdir()
    (saved / "config.kept").rename(saved / "config.json")
    (saved / "model.safetensors").unlink()
    (saved / "model.safetensors").mkdir()
    with pytest.raises(
        RunFailure, match="model.safetensors: is a folder; expected the model weights"
    ):
        aekit.load(saved)
