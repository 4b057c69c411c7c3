"""--resume: what a continued run records, and what it refuses (aekit.recipes.run)."""

import json

import numpy as np
import pytest

from ..cli.helpers import assert_one_line_error, cli_here


@pytest.fixture
def rows(tmp_path):
    path = tmp_path / "rows.npy"
    np.save(path, np.random.default_rng(0).random((40, 6)).astype(np.float32))
    return path


def _train(rows, run, *more, check=0):
    return cli_here("train", "basic", "--data", rows, "--latent-dim", "2", "--threads", "1",
                    "--out", run, "--no-figures", "--quiet", *more, check=check)  # fmt: skip


def test_resume_with_no_epochs_left_is_refused_and_leaves_the_run_as_it_was(tmp_path, rows):
    """Probe 51 ae 4: --resume --epochs 1 of a 3-epoch run trained nothing, exit 0, and its
    config.json then said 1 epoch beside 3 epochs of weights and history."""
    run = tmp_path / "run"
    _train(rows, run, "--epochs", "3")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    for epochs in ("1", "2"):
        proc = cli_here("train", "basic", "--out", run, "--resume", "--epochs", epochs, check=None)
        assert_one_line_error(proc, 2, "has trained 3 epochs", f"--epochs {epochs}", "above 3")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    same = cli_here("train", "basic", "--out", run, "--resume", "--no-figures", "--quiet")
    assert "has trained its 3 epochs; nothing more trains" in same.stderr


def test_a_resume_with_nothing_to_resume_starts_the_run_and_says_so(tmp_path, rows):
    """Probe 65 docs #2: --resume into a folder that holds no run (a typo in --out) trained a new run
    from epoch 1 without a word; a restarted job may always pass --resume, so it starts, with a note."""
    run = tmp_path / "nothing-yet"
    proc = _train(rows, run, "--epochs", "1", "--resume")
    assert (
        f"--resume: {run} holds no run and no interrupted training yet: starting it" in proc.stderr
    )
    assert "resumed" not in json.loads((run / "config.json").read_text())
    again = _train(rows, run, "--epochs", "2", "--resume")  # now there is one: continued, unsaid
    assert "starting it" not in again.stderr
    assert json.loads((run / "config.json").read_text())["resumed"]


def test_a_resume_that_changes_training_settings_records_which_epochs_trained_with_which(
    tmp_path, rows
):
    """Probe 51 ae 4: config.json kept only the last invocation's settings, which did not make the
    weights (epochs 1-2 at batch 32, lr 1e-3; epoch 3 at batch 8, lr 1e-2)."""
    run = tmp_path / "run"
    _train(rows, run, "--epochs", "2")
    cli_here("train", "basic", "--out", run, "--resume", "--epochs", "3", "--batch-size", "8",
             "--lr", "0.01", "--no-figures", "--quiet")  # fmt: skip
    config = json.loads((run / "config.json").read_text())
    assert config["params"]["lr"] == 0.01 and config["params"]["batch_size"] == 8
    assert config["resumed"] == [
        {
            "after_epoch": 2,
            "changed": {"epochs": [2, 3], "lr": [0.001, 0.01], "batch_size": [32, 8]},
        }
    ]
    cli_here("train", "basic", "--out", run, "--resume", "--epochs", "4", "--no-figures", "--quiet")
    again = json.loads((run / "config.json").read_text())["resumed"]
    assert again[1] == {"after_epoch": 3, "changed": {"epochs": [3, 4]}} and len(again) == 2


def test_a_resume_whose_data_changed_since_is_refused(tmp_path, rows):
    """Probe 52 rep 1: --resume checked the data's path, not its bytes: the resumed epochs trained
    on the new rows, config.json kept the old checksum, and evaluate then refused the run."""
    run = tmp_path / "run"
    _train(rows, run, "--epochs", "2")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    np.save(rows, np.load(rows) * 10)
    proc = cli_here("train", "basic", "--out", run, "--resume", "--epochs", "3", check=None)
    assert_one_line_error(proc, 2, "--resume: the run's data", "has changed", "checksum differs")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_a_resume_of_a_run_recorded_before_a_parameter_existed_keeps_the_model_it_started(
    tmp_path, rows
):
    # an older run has no input_density: today's default (0.25) was added to the resumed model,
    # its threshold 12.1 -> 20.4 for the same weights
    run = tmp_path / "run"
    cli_here("train", "anomaly", "--data", rows, "--epochs", "2", "--threads", "1",
             "--out", run, "--no-figures", "--quiet")  # fmt: skip
    config = json.loads((run / "config.json").read_text())
    for key in ("input_density", "input_neighbors"):
        config["params"].pop(key)
    (run / "config.json").write_text(json.dumps(config))
    cli_here("train", "anomaly", "--out", run, "--resume", "--epochs", "3", "--no-figures",
             "--quiet")  # fmt: skip
    assert json.loads((run / "config.json").read_text())["params"]["input_density"] == 0.0


def test_a_series_run_saved_before_the_level_parameter_loads(tmp_path):
    import aekit

    t = np.arange(600)
    x = np.sin(2 * np.pi * t / 50) + 0.05 * np.random.default_rng(0).normal(size=600)
    # such runs scored by reconstruction alone, where the level weighs nothing
    det = aekit.SeriesDetector(method="reconstruction", epochs=1, threads=1, verbose=0)
    det.fit(x[:, None].astype(np.float32))
    det.save(tmp_path / "s")
    config = json.loads((tmp_path / "s" / "config.json").read_text())
    config["params"].pop("level", None)
    config["state"].pop("level_weight", None)
    (tmp_path / "s" / "config.json").write_text(json.dumps(config))
    assert aekit.load(tmp_path / "s").score_samples(x[:, None]).shape == (600,)


def test_a_disk_full_at_the_first_checkpoint_leaves_nothing_that_blocks_the_run(
    tmp_path, rows, monkeypatch
):
    """Probe 58 locked F1: ENOSPC/EFBIG writing epoch 1's checkpoint left a 0-epoch staging folder;
    plot and calibrate then refused the intact previous run as "an interrupted training" to
    --resume."""
    import errno

    run = tmp_path / "run"
    _train(rows, run, "--epochs", "1")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}

    def full(path, *args, **kwargs):  # as the atomic writer says it, naming the staged file
        from aekit._io import write_failure

        raise write_failure(OSError(errno.ENOSPC, "No space left on device"), path)

    with monkeypatch.context() as m:
        m.setattr("aekit.training.checkpoint.save_tensors", full)
        failed = _train(rows, run, "--epochs", "2", "--overwrite", check=None)
    assert failed.returncode == 1 and "no space left" in failed.stderr, failed.stderr
    assert not (tmp_path / ".run.partial").exists()
    assert ".partial" not in failed.stderr  # the run asked for, not the folder removed (verify 58)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    cli_here("plot", run)


def test_a_resume_of_a_recalibrated_run_keeps_its_record_and_says_the_rows_are_not_used(tmp_path):
    """Lifecycle probe 58 #2: --resume of a run calibrated on new normal rows ('calibrate --data')
    dropped the calibration's record from config.json and went back to the held-out rows, no word."""
    rng = np.random.default_rng(0)
    np.save(tmp_path / "rows.npy", rng.normal(size=(300, 6)).astype(np.float32))
    np.save(tmp_path / "recent.npy", rng.normal(size=(200, 6)).astype(np.float32))
    run = tmp_path / "run"
    cli_here("train", "anomaly", "--data", tmp_path / "rows.npy", "--epochs", "1", "--threads",
             "1", "--out", run, "--no-figures", "--quiet")  # fmt: skip
    cli_here("calibrate", run, "--data", tmp_path / "recent.npy")
    record = json.loads((run / "config.json").read_text())["calibrated"]
    resumed = cli_here("train", "anomaly", "--out", run, "--resume", "--epochs", "2",
                       "--no-figures", "--quiet")  # fmt: skip
    assert json.loads((run / "config.json").read_text())["calibrated"] == record
    assert "this run was calibrated on" in resumed.stderr and "recent.npy" in resumed.stderr
    assert "calibrate" in resumed.stderr.split("this run was calibrated on")[1]
    # review 3: said once (the resumed run's rows are held out), and after a later --threshold too
    again = cli_here("train", "anomaly", "--out", run, "--resume", "--epochs", "3",
                     "--no-figures", "--quiet")  # fmt: skip
    assert "this run was calibrated on" not in again.stderr
    cli_here("calibrate", run, "--data", tmp_path / "recent.npy")
    cli_here("calibrate", run, "--threshold", "fpr:0.1")  # the given rows still calibrate it
    third = cli_here("train", "anomaly", "--out", run, "--resume", "--epochs", "4",
                     "--no-figures", "--quiet")  # fmt: skip
    assert "this run was calibrated on" in third.stderr


@pytest.fixture
def small_table(tmp_path):
    """200 rows: the anomaly detector's auto epochs pack several passes each, and its threshold
    comes from a copy trained beside it (calibration "copy")."""
    path = tmp_path / "t.csv"
    x = np.random.default_rng(0).standard_normal((200, 6))
    path.write_text("c0,c1,c2,c3,c4,c5\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in x))
    return path


def test_a_resume_of_a_finished_auto_run_that_trains_nothing_leaves_it_as_it_was(
    tmp_path, small_table
):
    """probe 60 training 3: --resume --lr 0.01 of a finished epochs=auto anomaly run trained no
    epoch, yet retrained the calibration copy at the new rate (threshold 330 -> 68), recorded lr
    0.01 and a 'resumed' entry, and said nothing. Nothing trains: the run stays byte for byte, and
    a note says so, as for whole-number epochs."""
    run = tmp_path / "run"
    cli_here("train", "anomaly", "--data", small_table, "--threads", "1", "--out", run,
             "--no-figures", "--quiet")  # fmt: skip
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    same = cli_here("train", "anomaly", "--out", run, "--resume", "--lr", "0.01", "--no-figures")
    assert "epochs=auto gives it (or stopped early); nothing more trains" in same.stderr
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    first = json.loads((run / "metrics.json").read_text())
    assert f"threshold={first['threshold']:g}" in same.stdout
    # review 1 F2: --epochs 50 trains 9 more 4-pass epochs, none better: the weights stay epoch
    # 39's, and the calibration copy trains in that unit too (single passes moved 330 -> 88)
    cli_here("train", "anomaly", "--out", run, "--resume", "--epochs", "50", "--no-figures",
             "--quiet")  # fmt: skip
    more = json.loads((run / "metrics.json").read_text())
    assert (more["epochs"], more["best_epoch"]) == (50, first["best_epoch"])
    assert more["threshold"] == pytest.approx(first["threshold"], rel=0.05)


def test_a_resume_at_another_batch_size_that_leaves_auto_no_epochs_speaks_the_command_line(
    tmp_path, small_table
):
    """probe 60 training 4: --resume --batch-size 64 of a finished auto run was refused naming
    .RUN.partial/checkpoint (gone by then) and an epochs=39 the user never gave. Now: the run
    folder, that auto was worked out again for the new batch size, and what to pass."""
    run = tmp_path / "run"
    cli_here("train", "anomaly", "--data", small_table, "--threads", "1", "--out", run,
             "--no-figures", "--quiet")  # fmt: skip
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    proc = cli_here("train", "anomaly", "--out", run, "--resume", "--batch-size", "64", check=None)
    assert_one_line_error(proc, 2, f"--resume: {run} has trained 41 epochs, more than the 39",
                          "worked out again for --batch-size 64", "pass --epochs above 41")  # fmt: skip
    assert ".partial" not in proc.stderr
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_a_refused_resume_of_an_interrupted_run_keeps_its_epochs(
    tmp_path, small_table, monkeypatch
):
    """Seen by the probe 60 training fixer: a resume of an interrupted training refused before a
    new epoch ended (here --batch-size 64, which leaves epochs=auto fewer epochs than it trained)
    removed the interrupted training's folder, its 40 epochs with it. It is kept, to resume as it was."""
    import aekit.training.loop as loop
    from aekit.errors import Interrupted, UsageError
    from aekit.recipes import DataSpec, train_run
    from aekit.recipes.folder import RunFolder

    original = loop._train_epoch

    def stopped_at_40(run, epoch):
        if epoch == 40:
            raise Interrupted(2)
        return original(run, epoch)

    monkeypatch.setattr(loop, "_train_epoch", stopped_at_40)
    out = tmp_path / "run"
    with pytest.raises(Interrupted):
        train_run("anomaly", {"threads": 1}, DataSpec(data=str(small_table)), out, figures=False)
    monkeypatch.undo()
    assert RunFolder(out).interrupted_epochs() == 40
    with pytest.raises(UsageError, match="more than the 39"):
        train_run("anomaly", {"batch_size": 64}, DataSpec(), out, resume=True, figures=False)
    assert RunFolder(out).interrupted_epochs() == 40
    _, metrics = train_run("anomaly", {}, DataSpec(), out, resume=True, figures=False)
    assert metrics["epochs"] == 41


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "t.csv"
    x = np.random.default_rng(0).random((40, 4))
    np.savetxt(path, x, delimiter=",", header="a,b,c,d", comments="", fmt="%.5f")
    return path


@pytest.mark.parametrize(
    ("option", "value"), [("--columns", "a,b"), ("--drop-columns", "d"), ("--categorical", "a")]
)
def test_a_resume_that_changes_the_feature_columns_is_refused(tmp_path, table, option, value):
    """Probe 67 cli #2: --columns, --drop-columns and --categorical given with --resume were
    ignored, exit 0 (the run kept its 4 features), while --fill was refused."""
    run = tmp_path / "run"
    _train(table, run, "--epochs", "1")
    proc = _train(table, run, "--epochs", "2", "--resume", option, value, check=None)
    assert_one_line_error(proc, 2, f"{option} cannot change", f"given '{value}'", "--overwrite")


def test_a_resume_given_the_default_fill_and_the_recorded_threads_goes_on(tmp_path, table):
    """Probe 67 cli #6: --fill median (the default) and --threads of the count config.json records
    were refused as changes (recorded None); a change is said by the option's name (--seed)."""
    run = tmp_path / "run"
    cli_here("train", "basic", "--data", table, "--latent-dim", "2", "--epochs", "1",
             "--out", run, "--no-figures", "--quiet")  # fmt: skip
    chosen = json.loads((run / "config.json").read_text())["threads"]["intra_op"]
    cli_here("train", "basic", "--data", table, "--fill", "median", "--threads", str(chosen),
             "--epochs", "2", "--out", run, "--resume", "--no-figures", "--quiet")  # fmt: skip
    assert json.loads((run / "config.json").read_text())["params"]["epochs"] == 2
    proc = cli_here("train", "basic", "--out", run, "--resume", "--seed", "7", check=None)
    assert_one_line_error(proc, 2, "; --seed cannot change (recorded 0, given 7)")
    proc = cli_here(
        "train", "basic", "--out", run, "--resume", "--threads", str(chosen + 1), check=None
    )
    assert_one_line_error(
        proc, 2, f"--threads cannot change (recorded {chosen}, given {chosen + 1})"
    )
