import json
import os
from pathlib import Path

import pytest

from aekit.errors import RunFailure, UsageError
from aekit.recipes.folder import RunFolder, read_history


def _fake_run(path, **config):
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(
        json.dumps({"estimator": "Autoencoder", "params": {}, "state": {}, **config})
    )
    return path


def _finished(path):
    with RunFolder.open(path) as run:
        run.write_json("config.json", {"estimator": "Autoencoder", "params": {}, "state": {}})
        run.commit()
    return path


def test_a_new_run_is_built_beside_its_folder_under_a_lock_and_appears_on_commit(tmp_path):
    target = tmp_path / "run"
    with RunFolder.open(target) as run:
        assert run.work == tmp_path / ".run.partial" and run.work.is_dir()
        assert (tmp_path / ".run.lock").exists() and not target.exists()
        with pytest.raises(RunFailure, match="in use"):
            RunFolder.open(target, resume=True)
        run.write_json("metrics.json", {"a": 1})
        run.commit()
    assert json.loads((target / "metrics.json").read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run"
    ]  # no lock, no staging, no marker left
    # aekit's one hidden file in a run: the manifest of the files it wrote (aekit._manifest)
    assert [p.name for p in target.iterdir() if p.name.startswith(".")] == [".aekit-manifest.json"]


def test_existing_run_is_refused_untouched_without_overwrite(tmp_path):
    run = _fake_run(tmp_path / "run")
    with pytest.raises(UsageError, match="--overwrite"):
        RunFolder.open(run)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_overwrite_keeps_the_old_run_until_the_commit(tmp_path):
    run = _fake_run(tmp_path / "run", family="old")
    with RunFolder.open(run, overwrite=True) as new:
        assert json.loads((run / "config.json").read_text())["family"] == "old"  # still the old run
        assert list(new.work.iterdir()) == [new.work / ".aekit-partial"]  # an empty new run
        new.write_json("config.json", {"estimator": "Autoencoder", "family": "new"})
        assert json.loads((run / "config.json").read_text())["family"] == "old"
        new.commit()
    assert json.loads((run / "config.json").read_text())["family"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_resume_starts_from_a_linked_copy_that_leaves_the_finished_run_alone(tmp_path):
    run = _fake_run(tmp_path / "run")
    (run / "checkpoint").mkdir()
    (run / "checkpoint" / "latest.json").write_text("{}")
    with RunFolder.open(run, resume=True) as r:
        copy = r.work / "checkpoint" / "latest.json"
        assert copy.read_text() == "{}" and os.path.samefile(
            copy, run / "checkpoint" / "latest.json"
        )
        # replaced, not written through the link
        r.write_json("checkpoint/latest.json", {"epoch": 3})
    assert (run / "checkpoint" / "latest.json").read_text() == "{}"
    # Not committed: the interrupted run waits beside the finished one for the next --resume.
    assert RunFolder(run).resume_source() == tmp_path / ".run.partial"
    with RunFolder.open(run, resume=True) as r:  # reused, not copied again
        assert json.loads((r.work / "checkpoint" / "latest.json").read_text()) == {"epoch": 3}
    with RunFolder.open(run, overwrite=True) as r:  # any other command starts again
        assert not (r.work / "checkpoint").exists()


def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("x")
    with pytest.raises(UsageError, match="not an aekit run"):
        RunFolder.open(other, overwrite=True)
    assert (other / "todo.txt").read_text() == "x"


def test_unwritable_out_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError):
        RunFolder.open(blocker)
    with pytest.raises(UsageError):
        RunFolder.open(blocker / "sub")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_parent_is_a_usage_error(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(UsageError):
            RunFolder.open(tmp_path / "run")
    finally:
        tmp_path.chmod(0o700)


def test_history_round_trip(tmp_path):
    hist = [
        {"epoch": 1, "train_loss": 0.5, "val_loss": None, "seconds": 1.25},
        {"epoch": 2, "train_loss": 0.25, "val_loss": 0.3, "seconds": 1.0},
    ]
    with RunFolder.open(tmp_path / "run") as run:
        run.write_history(hist)
        run.commit()
    assert read_history(tmp_path / "run" / "history.csv") == hist


def test_a_folder_of_the_users_is_refused_as_such_not_offered_overwrite(tmp_path):
    """Probe 52 sh: `--out precious` said "pass --overwrite to replace it", which was then refused
    (the folder is the user's): the one line that holds comes first."""
    mine = tmp_path / "precious"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(UsageError, match="not an aekit run .* holds your files notes.txt"):
            RunFolder.open(mine, overwrite=overwrite)
    assert (mine / "notes.txt").read_text() == "mine"


def test_an_interrupted_training_is_not_dropped_without_overwrite_or_resume(tmp_path):
    """Probe 56 advice #15: 'aekit train' again without --resume dropped an interrupted run's 19
    epochs without a word, where a finished run needs --overwrite."""
    run = tmp_path / "run"
    with RunFolder.open(run) as r:  # killed after its third epoch: never committed
        r.write_json("config.json", {"estimator": "Autoencoder", "status": "training"})
        r.write_json("checkpoint/latest.json", {"epoch": 3})
    with pytest.raises(
        UsageError, match=r"interrupted training \(3 epochs done.*--resume.*--overwrite"
    ):
        RunFolder.open(run)
    with RunFolder.open(run, resume=True) as r:  # continued
        assert json.loads((r.work / "checkpoint" / "latest.json").read_text()) == {"epoch": 3}
    with RunFolder.open(run, overwrite=True) as r:  # started again, as asked
        assert not (r.work / "checkpoint").exists()


def test_a_run_folder_that_will_be_refused_is_refused_before_the_data_are_read(
    tmp_path, monkeypatch
):
    """A user's folder, or a run without --overwrite, is said first: not after minutes of reading."""
    from aekit.recipes import DataSpec, train_run
    from aekit.recipes import run as run_module

    def never(*_args, **_kwargs):
        raise AssertionError("the data were read before --out was checked")

    monkeypatch.setattr(run_module, "_load", never)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    spec = DataSpec(data=str(tmp_path / "rows.csv"))
    with pytest.raises(UsageError, match="aekit never deletes"):
        train_run("anomaly", {}, spec, mine, overwrite=True)
    with pytest.raises(UsageError, match="already exists"):
        train_run("anomaly", {}, spec, _finished(tmp_path / "run"))
    assert (mine / "notes.txt").read_text() == "mine"


def test_features_named_as_aekits_outputs_are_said_when_a_model_learns_them(tmp_path, caplog):
    """An encode's ids and labels and a score's columns fed back are features by the rule: said where
    a model learns them, not at every read (a table given to an image family is refused alone)."""
    import numpy as np

    from aekit.data import read_path
    from aekit.recipes import DataSpec, train_run

    rows = np.random.default_rng(0).normal(size=(60, 3))
    lines = [f"{1000 + i},{i % 2},{a:.4f},{b:.4f},{c:.4f}" for i, (a, b, c) in enumerate(rows)]
    (tmp_path / "z.csv").write_text("id,label,z1,z2,z3\n" + "\n".join(lines) + "\n")
    caplog.clear()
    read_path(tmp_path / "z.csv")
    assert "as features" not in caplog.text  # a read alone says nothing
    params = {"epochs": 1, "threads": 1}
    est, _ = train_run("anomaly", params, DataSpec(data=str(tmp_path / "z.csv")), tmp_path / "r1")
    assert list(est.feature_names_in_) == ["id", "label", "z1", "z2", "z3"]  # the rule holds
    line = next(r.getMessage() for r in caplog.records if "as features" in r.getMessage())
    assert "columns id, label" in line and "--id-column id" in line
    assert "--label-column label" in line
    caplog.clear()
    spec = DataSpec(
        data=str(tmp_path / "z.csv"), id_column="id", label_column="label", normal_label="0"
    )
    train_run("anomaly", params, spec, tmp_path / "r2")
    assert "as features" not in caplog.text
    # resumed: said when it started; a series' columns are channels, chosen by its own options
    train_run("anomaly", params, DataSpec(), tmp_path / "r1", resume=True)
    steps = np.sin(np.arange(400) / 5)
    (tmp_path / "s.csv").write_text("score\n" + "\n".join(f"{v:.4f}" for v in steps) + "\n")
    train_run("series", {"epochs": 1}, DataSpec(data=str(tmp_path / "s.csv")), tmp_path / "r3")
    assert "as features" not in caplog.text


def test_a_run_of_ones_own_data_trains_without_a_home_folder(tmp_path, monkeypatch):
    # review 2 of probe 58: --out was compared with the built-in datasets' folder, which needs a
    # home: `train --data mine.csv` in a container's uid without one said "no home folder to hold
    # the built-in datasets"
    from aekit.errors import UsageError
    from aekit.recipes import DataSpec
    from aekit.recipes.run import _check_out

    def no_home(root=None):
        raise UsageError("no home folder to hold the built-in datasets (HOME is not set)")

    monkeypatch.setattr("aekit.data.data_root", no_home)
    assert _check_out(tmp_path / "run", DataSpec(data="mine.csv")) == tmp_path / "run"


def test_resume_drops_a_killed_calibrates_copy_and_continues_the_finished_run(tmp_path):
    """probe 59 races 3: `train --resume` took a killed `calibrate`'s .RUN.partial/ for an
    interrupted training: the resumed run carried the threshold of a calibrate that never ended."""
    import numpy as np

    from aekit._transaction import FolderTransaction

    from ..cli.helpers import cli_here

    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(200, 6)).astype(np.float32))
    run = tmp_path / "run"
    cli_here("train", "anomaly", "--data", tmp_path / "x.npy", "--epochs", "2", "--threads", "1",
             "--quiet", "--no-figures", "--out", run)  # fmt: skip
    trained = json.loads((run / "config.json").read_text())["params"]["threshold"]
    # what `calibrate` leaves when killed before its swap: a marked, linked copy of the run
    txn = FolderTransaction(run, kind="run").acquire()
    work = txn.begin(seed=run, discard=False)
    config = json.loads((work / "config.json").read_text())
    config["params"]["threshold"] = "fpr:0.2"
    (work / "config.json").unlink()  # a new file, as calibrate writes it: the run's stays as it was
    (work / "config.json").write_text(json.dumps(config))
    txn.release()
    cli_here("train", "anomaly", "--out", run, "--resume", "--epochs", "3", "--threads", "1",
             "--quiet", "--no-figures")  # fmt: skip
    resumed = json.loads((run / "config.json").read_text())
    assert resumed["params"]["threshold"] == trained != "fpr:0.2"
    assert "calibrated" not in resumed and resumed["resumed"][0]["after_epoch"] == 2
    assert not (tmp_path / ".run.partial").exists()


def test_a_run_with_a_folder_that_cannot_be_removed_is_refused_before_the_data(
    tmp_path, monkeypatch
):
    """probe 61 modes #1: `train --overwrite` over a run with a read-only folder inside trained,
    then could not remove the previous version. Refused first, as a top folder that is not
    writable is, and as a PermissionError (#6)."""
    with RunFolder.open(tmp_path / "run") as run:
        (run.work / "figures").mkdir()
        run.write_history([{"epoch": 1, "train_loss": 0.5, "val_loss": None, "seconds": 1.0}])
        run.commit()
    figures = tmp_path / "run" / "figures"
    access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != figures and access(p, mode))
    with pytest.raises(PermissionError, match=r"is not writable \(.*figures in it is not\)"):
        RunFolder.check_target(tmp_path / "run", overwrite=True)


def test_another_users_run_in_a_sticky_folder_is_refused_before_the_data(tmp_path, monkeypatch):
    """stop 61's left item (modes): `train --overwrite` of another user's run in a shared 1777
    folder was refused by the lock, only once the data were read."""
    from aekit import _removal

    with RunFolder.open(tmp_path / "run") as run:
        run.write_history([{"epoch": 1, "train_loss": 0.5, "val_loss": None, "seconds": 1.0}])
        run.commit()
    os.chmod(tmp_path, 0o1777)
    owner = os.stat(tmp_path / "run").st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    monkeypatch.setattr(_removal, "_may_move_any", lambda: False)  # as an ordinary user
    try:
        with pytest.raises(PermissionError, match=r"run folder .*run is another user.s, in the st"):
            RunFolder.check_target(tmp_path / "run", overwrite=True)
        assert RunFolder.check_target(tmp_path / "new", overwrite=True) is False  # nothing there
    finally:
        os.chmod(tmp_path, 0o700)
