"""The command line in an environment gone wrong (probe 62 env): a full or failing stdout and
stderr, a launch environment left in the shell, a removed working folder."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys

import numpy as np
import pytest

from aekit.cli.main import main

from ..badinput import one_torch_thread
from .helpers import REPO


class _Full(io.StringIO):
    """A stream on a full disk (``>/dev/full``): every write and flush fails with ENOSPC."""

    def write(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self):
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rows")
    x = np.random.default_rng(0).normal(size=(60, 4)).round(4)
    path = folder / "t.csv"
    np.savetxt(path, x, delimiter=",", header="a,b,c,d", comments="", fmt="%.4f")
    return path


@pytest.fixture(scope="module")
def run(rows, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r"
    argv = ["train", "basic", "--data", rows, "--epochs", "1", "--out", out, "--no-figures"]
    with one_torch_thread():
        assert main([str(a) for a in argv]) == 0
    return out


def test_a_failing_stderr_loses_the_lines_not_the_training(rows, tmp_path, monkeypatch):
    """Probe 62 env #2: `2>/dev/full` stopped the training at its first progress line (the run
    left unfinished, .partial) and its error line went to the same disk: exit 1, nothing said."""
    monkeypatch.setattr(sys, "stderr", _Full())
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    out = tmp_path / "r"
    argv = ["train", "basic", "--data", rows, "--epochs", "2", "--out", out]  # a line an epoch
    with one_torch_thread():
        assert main([str(a) for a in argv]) == 0
    assert (out / "model.safetensors").is_file() and (out / "metrics.json").is_file()


def test_a_full_stdout_after_the_file_is_written_keeps_the_exit_code(
    run, rows, tmp_path, monkeypatch
):
    """Probe 62 env #4: `encode >/dev/full` wrote z.csv whole, then said "no space left on
    device", exit 1, for its "wrote ..." line; a script's retry met "already exists"."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stdout", _Full())
    monkeypatch.setattr(sys, "stderr", err)
    z = tmp_path / "z.csv"
    with one_torch_thread():
        assert main(["encode", str(run), "--input", str(rows), "--output", str(z)]) == 0
    assert z.is_file() and "error" not in err.getvalue()


def test_a_full_stdout_that_holds_the_result_is_said_naming_stdout(monkeypatch):
    """`datasets list >/dev/full`: the result is lost, and the line says it was stdout."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stdout", _Full())
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["datasets", "list"]) == 1
    line = err.getvalue()
    assert line.count("\n") == 1
    assert line.startswith("aekit: error: cannot write to stdout (no space left on device): ")


def test_a_command_other_than_train_says_its_error_under_a_leftover_launch_environment(
    run, tmp_path, monkeypatch, capsys
):
    """Probe 62 env #3: with WORLD_SIZE=2 RANK=1 left by a job script or torchrun, `aekit encode`
    of a missing file said nothing, waited 5 s for a rank 0 there is none of, and exit 2."""
    from aekit.training import distributed

    def left_as_a_peer(*args):
        raise AssertionError("waited for, or exited as, a process of a launched group")

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setattr("time.sleep", left_as_a_peer)
    monkeypatch.setattr(distributed, "exit_process", left_as_a_peer)
    argv = ["encode", str(run), "--input", str(tmp_path / "missing.csv"), "--output", "z.csv"]
    assert main(argv) == 2
    assert capsys.readouterr().err == "aekit: error: no such file or folder: " + argv[3] + "\n"


def test_a_removed_working_folder_is_one_line_before_torch_loads(tmp_path):
    """Probe 62 env #5: every command that loads torch, run from a removed folder, printed
    "Intel oneMKL FATAL ERROR: Cannot load .../libtorch_cpu.so", exit 2, as if torch were broken.
    A real process: torch must not be loaded yet."""
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        "import os, sys; from aekit.cli.main import main; os.chdir(sys.argv[1]); "
        "os.rmdir(sys.argv[1]); sys.exit(main(sys.argv[2:]))"
    )
    argv = [sys.executable, "-c", code, str(gone), "evaluate", str(tmp_path / "run")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "aekit: error: the current folder no longer exists (was it removed?); cd to an existing "
        "folder\n"
    )


@pytest.mark.parametrize("argv", [["--help"], ["train", "basic", "--help"], ["--version"]])
def test_a_help_that_stdout_cannot_take_is_said(argv, monkeypatch):
    """Probe 62 env #7: `aekit --help >/dev/full` exit 0, nothing written (argparse drops the
    OSError)."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stdout", _Full())
    monkeypatch.setattr(sys, "stderr", err)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 1
    assert err.getvalue() == (
        "aekit: error: cannot write to stdout (no space left on device): the text asked for "
        "(--help, --version) goes to stdout and could not be written\n"
    )


@pytest.mark.parametrize("value", ["abc", "0", "4,", ""])
def test_a_thread_count_openmp_cannot_read_is_one_note_not_libgomps_lines(run, value):
    """Stop 62's env #7: an invalid ``OMP_NUM_THREADS`` (aekit ignores it) made libgomp print
    "libgomp: Invalid value for environment variable OMP_NUM_THREADS" and a blank line above every
    command that loads torch. A real process: the runtime reads it when torch loads."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": value}
    argv = [sys.executable, "-m", "aekit", "evaluate", str(run)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        f"aekit: note: OMP_NUM_THREADS={value!r} is not a thread count (a whole number >= 1); "
        f"ignored\n"
    )
    assert "val_mse" in proc.stdout


def test_a_thread_count_openmp_reads_is_left_to_it(run):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": " 2,1 "}
    argv = [sys.executable, "-m", "aekit", "evaluate", str(run)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert (proc.returncode, proc.stderr) == (0, "")
