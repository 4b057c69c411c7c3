"""``fit(X, checkpoint_dir=FOLDER)``: aekit replaces or removes only the checkpoint files it wrote
there; a folder whose checkpoint names hold the user's files, or a folder of aekit's, is refused in
one line and left as it was."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import UsageError
from aekit.training.checkpoint import LATEST, save_checkpoint

X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)


def fit(folder, epochs=2, **run):
    return aekit.Autoencoder(latent_dim=2, epochs=epochs, device="cpu", threads=1).fit(
        X, checkpoint_dir=folder, **run
    )


def contents(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def refused(folder, *needles, **run):
    with pytest.raises(UsageError) as e:
        fit(folder, **run)
    assert "\n" not in str(e.value)
    for needle in needles:
        assert needle in str(e.value)


@pytest.mark.parametrize(
    "files",
    [
        {"epoch-0007.safetensors": b"weights of my other model", LATEST: b'{"my": "state"}'},
        {"epoch-0001.safetensors": b"mine"},
        {LATEST: b"not JSON"},
        {"threads.json": b'{"threads": 4}'},
    ],
    ids=["weights-and-latest", "weights-aekit-would-write", "latest-not-json", "threads"],
)
@pytest.mark.parametrize("resume", [False, True])
def test_a_folder_of_the_users_checkpoint_files_is_refused_and_left_whole(tmp_path, files, resume):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name, data in {**files, "notes.txt": b"my notes"}.items():
        (mine / name).write_bytes(data)
    before = contents(mine)
    refused(mine, str(mine), *files, "aekit did not write", resume=resume)
    assert contents(mine) == before


def test_a_checkpoint_of_another_folder_copied_in_is_not_this_folders(tmp_path):
    """An aekit weights file, but of another checkpoint (another id): the user's copy, kept."""
    fit(tmp_path / "other")
    mine = tmp_path / "mine"
    mine.mkdir()
    weights = tmp_path / "other" / "epoch-0002.safetensors"
    (mine / weights.name).write_bytes(weights.read_bytes())
    before = contents(mine)
    refused(mine, "epoch-0002.safetensors")
    assert contents(mine) == before


def test_a_folder_of_aekits_is_never_a_checkpoint_folder(tmp_path):
    """A saved model (a run's top level likewise), or a folder inside one: its files are aekit's."""
    model = tmp_path / "model"
    fit(None, epochs=1).save(model)
    before = contents(model)
    refused(model, "is the aekit folder")
    refused(model / "ck", "lies inside the aekit folder")
    assert contents(model) == before


def test_an_aekit_checkpoint_keeps_the_users_other_files_and_resumes(tmp_path):
    ck = tmp_path / "ck"
    fit(ck)
    (ck / "notes.txt").write_text("my notes")
    fit(ck, epochs=4, resume=True)
    assert sorted(contents(ck)) == ["epoch-0004.safetensors", LATEST, "notes.txt", "threads.json"]
    assert json.loads((ck / LATEST).read_text())["epoch"] == 4
    fit(ck, epochs=1)  # a fresh fit into aekit's own checkpoint folder starts it again
    assert sorted(contents(ck)) == ["epoch-0001.safetensors", LATEST, "notes.txt", "threads.json"]


def test_weights_left_by_a_kill_before_the_first_latest_json_are_the_runs(tmp_path):
    """threads.json, written first, names the checkpoint: the weights a kill left are known."""
    ck = tmp_path / "ck"
    fit(ck, epochs=1)
    (ck / LATEST).unlink()
    fit(ck, epochs=2, resume=True)
    assert sorted(contents(ck)) == ["epoch-0002.safetensors", LATEST, "threads.json"]


def _save(folder, epoch):
    model = torch.nn.Linear(3, 2)
    save_checkpoint(
        folder, model=model, optimizer=torch.optim.Adam(model.parameters()), epoch=epoch, history=[]
    )


def test_a_weights_file_put_in_during_training_is_kept_or_refused(tmp_path):
    """Another name is kept when the old weights go; the name of the next checkpoint is refused."""
    _save(tmp_path, 1)
    (tmp_path / "epoch-0007.safetensors").write_bytes(b"mine")
    _save(tmp_path, 2)
    assert sorted(contents(tmp_path)) == [
        "epoch-0002.safetensors",
        "epoch-0007.safetensors",
        LATEST,
    ]
    with pytest.raises(UsageError, match="epoch-0007.safetensors, which aekit did not write"):
        _save(tmp_path, 7)
    assert (tmp_path / "epoch-0007.safetensors").read_bytes() == b"mine"
    assert json.loads((tmp_path / LATEST).read_text())["epoch"] == 2


def test_a_checkpoint_of_an_aekit_before_ids_is_still_aekits(tmp_path):
    """latest.json without aekit's format and id: the weights it names are the checkpoint's."""
    _save(tmp_path, 3)
    state = json.loads((tmp_path / LATEST).read_text())
    state = {k: v for k, v in state.items() if k not in ("format", "checkpoint_id")}
    (tmp_path / LATEST).write_text(json.dumps(state))
    fit(tmp_path, epochs=1)  # accepted (a fresh fit: starts it again)
    assert sorted(contents(tmp_path)) == ["epoch-0001.safetensors", LATEST, "threads.json"]


def test_a_damaged_latest_json_is_called_damaged_and_starting_again_works(tmp_path):
    """Probe 56 advice #19: aekit's own latest.json, damaged, was refused as "aekit did not write"
    it, and the advice (another checkpoint_dir) left the checkpoint behind."""
    from aekit.errors import RunFailure

    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    folder = tmp_path / "ck"
    aekit.Autoencoder(epochs=2, verbose=0).fit(X, checkpoint_dir=folder)
    (folder / LATEST).write_text("garbage")
    with pytest.raises(
        RunFailure, match=r"unreadable checkpoint .*start again without resume=True$"
    ):
        aekit.Autoencoder(epochs=3, verbose=0).fit(X, checkpoint_dir=folder, resume=True)
    aekit.Autoencoder(epochs=3, verbose=0).fit(X, checkpoint_dir=folder)  # following it
    assert sorted(p.name for p in folder.glob("epoch-*")) == ["epoch-0003.safetensors"]
    aekit.Autoencoder(epochs=4, verbose=0).fit(X, checkpoint_dir=folder, resume=True)
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / LATEST).write_text("garbage")  # no aekit weights beside it: the user's
    with pytest.raises(UsageError, match="which aekit did not write"):
        aekit.Autoencoder(epochs=1, verbose=0).fit(X, checkpoint_dir=tmp_path / "user")
