import json
import os

import pytest

from aekit.errors import RunFailure, UsageError
from aekit.recipes.folder import RunFolder, read_history


def _fake_run(path, **config):
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(
        json.dumps({"estimator": "Autoencoder", "params": {}, "state": {}, **config})
    )
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
