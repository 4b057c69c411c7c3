"""Issue 18, beside the bad-input matrix: runs in the middle of being written, damaged checkpoints, full
disks, and the Python API given what it cannot take. Each is one clear error of aekit's own (which
subclasses the built-in a caller would catch), and nothing already written is lost or left behind.
"""

from __future__ import annotations

import errno
import json
import shutil

import numpy as np
import pytest

from .badinput import assert_one_line, assert_one_line_exc, cli, snapshot

COMMON = ["--epochs", "1", "--no-figures", "--quiet"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("state")
    rng = np.random.default_rng(0)
    x = rng.random((40, 6)).astype(np.float32)
    np.save(root / "rows.npy", x)
    np.save(root / "imgs.npy", rng.random((12, 1, 8, 8)).astype(np.float32))
    code, _, err = cli(
        "train",
        "basic",
        "--data",
        root / "rows.npy",
        "--latent-dim",
        "2",
        *COMMON,
        "--out",
        root / "basic",
    )
    assert code == 0, err
    return root


# ---- a run being written, or interrupted ------------------------------------------------------------------

READERS = {
    "evaluate": lambda r, d: ["evaluate", r],
    "plot": lambda r, d: ["plot", r],
    "encode": lambda r, d: ["encode", r, "--input", d / "rows.npy", "--output", d / "z.npy"],
    "export": lambda r, d: ["export", r, "--output", d / "m.onnx"],
    # lifecycle probe 58 #6: "no such run folder" for a run still training
    "serve": lambda r, d: ["serve", r, "--port", "0"],
}


@pytest.mark.parametrize("command", list(READERS))
@pytest.mark.parametrize("state", ["training", "interrupted"])
def test_a_run_not_yet_complete_says_so(runs, tmp_path, command, state):
    import aekit
    from aekit._transaction import FolderTransaction
    from aekit.errors import RunInProgress

    run = tmp_path / "run"
    txn = FolderTransaction(run).acquire()  # what 'aekit train' holds while it trains
    (txn.begin() / "config.json").write_text(
        json.dumps({"estimator": "Autoencoder", "status": "training"})
    )
    if state == "interrupted":
        txn.release()  # as the kernel does for a killed process
    try:
        needle = "still being written" if state == "training" else "interrupted"
        code, _, err = cli(*READERS[command](run, tmp_path))
        assert_one_line(code, err, 1, [needle])
        with pytest.raises(RunInProgress, match=needle):
            aekit.load(run)
    finally:
        txn.release()
    assert not (tmp_path / "z.npy").exists() and not (tmp_path / "m.onnx").exists()


CHECKPOINT_DAMAGE = {
    "epoch-negative": {"epoch": -3},
    "epoch-not-a-number": {"epoch": "7"},
    "epoch-true": {"epoch": True},
    "history-not-a-list": {"history": {"a": 1}},
    "history-longer-than-the-epochs": {
        "history": [{"epoch": 1, "train_loss": 1.0, "seconds": 1.0}] * 5
    },
    "history-loss-nan": {"history": [{"epoch": 1, "train_loss": "NaN", "seconds": 1.0}]},
    "weights-empty": {"weights": ""},
    "optimizer-a-list": {"optimizer": []},
}


@pytest.mark.parametrize("kind", list(CHECKPOINT_DAMAGE))
def test_resume_from_a_damaged_checkpoint_is_one_line_and_changes_nothing(runs, tmp_path, kind):
    run = tmp_path / "run"
    shutil.copytree(runs / "basic", run)
    latest = run / "checkpoint" / "latest.json"
    latest.write_text(json.dumps({**json.loads(latest.read_text()), **CHECKPOINT_DAMAGE[kind]}))
    before = snapshot(tmp_path)
    code, _, err = cli(
        "train", "basic", "--out", run, "--resume", "--epochs", "3", "--quiet", "--no-figures"
    )
    assert_one_line(code, err, 1, ["latest.json", "damaged", "start again with --overwrite"])
    assert snapshot(tmp_path) == before  # the run as it was, and nothing beside it


@pytest.mark.parametrize(
    "edit, needle",
    [
        ({"params": "latent_dim", "value": "abc"}, "latent_dim"),
        ({"params": "hidden", "value": [0]}, "hidden"),
        ({"data": "image_size", "value": [0, 5]}, "image_size"),
    ],
)
def test_resume_of_a_run_with_damaged_settings_says_the_file_is_damaged(
    runs, tmp_path, edit, needle
):
    """Not a message about options the user never gave: the file is named, and what is wrong in it."""
    run = tmp_path / "run"
    shutil.copytree(runs / "basic", run)
    config = json.loads((run / "config.json").read_text())
    field = "params" if "params" in edit else "data"
    config[field][edit[field]] = edit["value"]
    (run / "config.json").write_text(json.dumps(config))
    before = snapshot(tmp_path)
    code, _, err = cli(
        "train", "basic", "--out", run, "--resume", "--epochs", "3", "--quiet", "--no-figures"
    )
    assert_one_line(code, err, 1, ["config.json", needle, "damaged"])
    assert snapshot(tmp_path) == before


def test_nan_weights_in_a_checkpoint_are_refused(runs, tmp_path):
    from aekit.training.serialize import load_tensors, save_tensors

    run = tmp_path / "run"
    shutil.copytree(runs / "basic", run)
    latest = json.loads((run / "checkpoint" / "latest.json").read_text())
    weights = run / "checkpoint" / latest["weights"]
    tensors = load_tensors(weights)
    key = next(k for k in tensors if k.startswith("model."))
    tensors[key] = tensors[key] * float("nan")
    save_tensors(weights, tensors)
    code, _, err = cli(
        "train", "basic", "--out", run, "--resume", "--epochs", "3", "--quiet", "--no-figures"
    )
    assert_one_line(code, err, 1, [latest["weights"], "NaN"])


# ---- a full disk names the path ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc, reason",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "no space left"),
        (OSError("1568000 requested and 522208 written"), "no space left"),
        (OSError(errno.EFBIG, "File too large"), "file too large"),
    ],
)
def test_a_full_disk_names_the_file_it_could_not_write(tmp_path, exc, reason):
    from aekit import _io
    from aekit.errors import WriteFailure

    target = tmp_path / "out.npy"

    def full(tmp):
        raise exc

    with pytest.raises(WriteFailure) as err:
        _io.write_with(target, full)
    assert_one_line_exc(err.value, [reason, str(target)])
    assert isinstance(err.value, OSError) and list(tmp_path.iterdir()) == []


# ---- the Python API: aekit's own errors, never a raw one ----------------------------------------------------


@pytest.fixture(scope="module")
def fitted(runs):
    import aekit

    x = np.load(runs / "rows.npy")
    imgs = np.load(runs / "imgs.npy")
    return {
        "ae": aekit.Autoencoder(latent_dim=2, epochs=1).fit(x),
        "x": x,
        "vae": aekit.VAE(latent_dim=2, channels=(4, 4), epochs=1).fit(imgs),
        "imgs": imgs,
    }


def _nan_copy(est):
    import copy

    import torch

    bad = copy.deepcopy(est)
    with torch.no_grad():
        next(bad.model_.parameters()).fill_(float("nan"))
    return bad


API = {  # name -> (call(fitted, tmp_path), the built-in it also is, needles)
    "load-None": (lambda f, t: __import__("aekit").load(None), TypeError, ["path", "None"]),
    "load-a-number": (lambda f, t: __import__("aekit").load(5), TypeError, ["path"]),
    "load-a-file": (
        lambda f, t: (t / "f.json").write_text("{}") and __import__("aekit").load(t / "f.json"),
        ValueError,
        ["f.json"],
    ),
    "load-nested-json": (
        lambda f, t: (
            ((t / "m").mkdir(), (t / "m" / "config.json").write_text("[" * 99999))
            and __import__("aekit").load(t / "m")
        ),
        RuntimeError,
        ["nested too deeply"],
    ),
    "save-onto-a-file": (
        lambda f, t: (t / "f").write_text("x") and f["ae"].save(t / "f"),
        ValueError,
        ["is a file"],
    ),
    "save-to-None": (lambda f, t: f["ae"].save(None), TypeError, ["path"]),
    "save-extra-not-json": (
        lambda f, t: f["ae"].save(t / "m", extra={"x": object()}),
        TypeError,
        ["extra"],
    ),
    "save-nan-weights": (
        lambda f, t: _nan_copy(f["ae"]).save(t / "m"),
        RuntimeError,
        ["NaN", "not saved"],
    ),
    "fit-callbacks-not-a-list": (
        lambda f, t: __import__("aekit").Autoencoder(epochs=1).fit(f["x"], callbacks=5),
        TypeError,
        ["callbacks"],
    ),
    "fit-seed-beyond-range": (
        lambda f, t: __import__("aekit").Autoencoder(epochs=1, seed=2**70).fit(f["x"]),
        ValueError,
        ["seed"],
    ),
    "fit-layer-beyond-memory": (
        lambda f, t: __import__("aekit").Autoencoder(hidden=(10**8,), epochs=1).fit(f["x"]),
        MemoryError,
        ["needs about", "available"],
    ),
    "fit-diverges": (
        lambda f, t: __import__("aekit").Autoencoder(latent_dim=64, epochs=2, lr=1e30).fit(f["x"]),
        RuntimeError,
        ["diverged in epoch 1", "learning rate"],
    ),
    "sample-beyond-memory": (
        lambda f, t: f["vae"].sample(10**12),
        MemoryError,
        ["needs about", "available"],
    ),
    "interpolate-beyond-memory": (
        lambda f, t: f["vae"].interpolate(f["imgs"][0], f["imgs"][1], steps=10**12),
        MemoryError,
        ["needs about"],
    ),
    "export-nan-weights": (
        lambda f, t: __import__("aekit.export", fromlist=["x"]).export_onnx(
            _nan_copy(f["ae"]), t / "m.onnx"
        ),
        RuntimeError,
        ["NaN"],
    ),
}


@pytest.mark.parametrize("name", list(API))
def test_api_raises_aekits_own_error(fitted, tmp_path, name):
    call, builtin, needles = API[name]
    with pytest.raises(builtin) as err:
        call(fitted, tmp_path)
    assert_one_line_exc(err.value, needles)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], (
        "a staging folder or lock left behind"
    )


def test_saving_nan_weights_over_a_model_keeps_the_good_one(fitted, tmp_path):
    import aekit
    from aekit.errors import RunFailure

    fitted["ae"].save(tmp_path / "m")
    before = snapshot(tmp_path)
    with pytest.raises(RunFailure, match="NaN"):
        _nan_copy(fitted["ae"]).save(tmp_path / "m", overwrite=True)
    assert snapshot(tmp_path) == before
    assert np.array_equal(
        aekit.load(tmp_path / "m").transform(fitted["x"]), fitted["ae"].transform(fitted["x"])
    )


def test_save_replaces_a_model_whole_and_keeps_the_folders_other_files(fitted, tmp_path):
    import aekit

    folder = tmp_path / "m"
    fitted["ae"].save(folder)
    (folder / "notes.txt").write_text("mine")
    fitted["vae"].save(folder, overwrite=True)
    assert (
        type(aekit.load(folder)).__name__ == "VAE" and (folder / "notes.txt").read_text() == "mine"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
