import os

import pytest

from aekit.errors import RunFailure, UsageError
from aekit.recipes.folder import RunFolder, read_history


def test_new_run_folder_is_created_and_locked(tmp_path):
    with RunFolder.create(tmp_path / "run") as run:
        assert (run.path / ".lock").exists()
        with pytest.raises(RunFailure, match="in use"):
            RunFolder.create(tmp_path / "run", resume=True)


def test_existing_run_is_refused_untouched_without_overwrite(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text("{}")
    with pytest.raises(UsageError, match="--overwrite"):
        RunFolder.create(run)
    assert (run / "metrics.json").read_text() == "{}"
    assert not (run / ".lock").exists()


def test_overwrite_clears_the_old_run_and_resume_keeps_it(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "old.txt").write_text("x")
    RunFolder.create(run, resume=True).close()
    assert (run / "old.txt").exists()
    RunFolder.create(run, overwrite=True).close()
    assert not (run / "old.txt").exists()


def test_unwritable_out_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError):
        RunFolder.create(blocker)
    with pytest.raises(UsageError):
        RunFolder.create(blocker / "sub")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_parent_is_a_usage_error(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(UsageError):
            RunFolder.create(tmp_path / "run")
    finally:
        tmp_path.chmod(0o700)


def test_history_round_trip(tmp_path):
    hist = [{"epoch": 1, "train_loss": 0.5, "val_loss": None, "seconds": 1.25},
            {"epoch": 2, "train_loss": 0.25, "val_loss": 0.3, "seconds": 1.0}]
    with RunFolder.create(tmp_path / "run") as run:
        run.write_history(hist)
    assert read_history(tmp_path / "run" / "history.csv") == hist
