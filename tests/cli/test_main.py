"""The entry point in the shell's corners: closed streams, a command without its subcommand, a
data file where the run goes (probe 52's shell findings)."""

from __future__ import annotations

import sys

import pytest

from aekit.cli.main import main


def test_a_closed_stderr_drops_the_lines_and_keeps_the_exit_code(monkeypatch, tmp_path):
    """`2>&-` makes sys.stderr None: every note or error line raised AttributeError, and a
    working command exited 1 saying nothing."""
    monkeypatch.setattr(sys, "stderr", None)
    assert main(["evaluate", str(tmp_path / "nope")]) == 2  # its error line: dropped
    assert sys.stderr is not None


def test_a_command_without_its_subcommand_shows_its_help_and_exits_2(capsys):
    assert main(["train"]) == 2  # was 0: argparse's --help
    out = capsys.readouterr()
    assert out.out == "" and "basic" in out.err and "anomaly" in out.err
    assert main([]) == 2 and "COMMAND" in capsys.readouterr().err


def test_a_data_file_given_as_the_run_is_one_line_of_usage(tmp_path, capsys):
    """Arguments swapped (`aekit score rows.csv --input RUN`): "not valid JSON", exit 1."""
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\n")
    code = main(["score", str(rows), "--input", str(rows), "--output", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "is a file, not a run folder" in err and "JSON" not in err


def test_other_libraries_log_lines_are_left_out_without_verbose(tmp_path):
    """Probe 52 sh 8: with a read-only HOME, two `WARNING matplotlib:` lines reached stderr even
    with --quiet. A process of its own: the logging set-up is the process's."""
    import subprocess

    code = (
        "import logging, sys; from aekit.cli.main import main; main(['datasets', 'list']); "
        "logging.getLogger('matplotlib').warning('cache folder not writable'); "
        "logging.getLogger('aekit.x').warning('our own')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "cache folder" not in out.stderr and "our own" in out.stderr, out.stderr


def test_a_reader_that_closes_stdout_first_gets_silence_and_the_pipes_exit_code(tmp_path):
    """Probe 52 sh 9: `aekit datasets list | (exec 0<&-; ...)` said "aekit: error: broken pipe", exit 1."""
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "aekit", "datasets", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # before aekit writes a line
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and err == "", err


@pytest.mark.parametrize(
    "argv, option",
    [
        (["train", "basic", "--data", "", "--out", "{T}/run"], "--data"),
        (["train", "basic", "--data", "", "--validation-split", "0.3", "--out", "{T}/r"], "--data"),
        (["encode", "{T}/run", "--input", "", "--output", "{T}/e.csv"], "--input"),
        (["evaluate", "{T}/run", "--data", ""], "--data"),
        (["calibrate", "{T}/run", "--data", "  "], "--data"),
        (["neighbors", "{T}/ix", "--query", "", "--output", "{T}/n.csv"], "--query"),
        (["encode", "", "--input", "x.csv", "--output", "{T}/e.csv"], "RUN"),
    ],
)  # fmt: skip
def test_an_empty_path_to_read_is_one_line_as_an_empty_output_is(
    tmp_path, capsys, monkeypatch, argv, option
):
    """Probe 67 cli #3: ``--data ""`` (a variable unset) read the current folder (trained on its
    images), was taken for no --data (evaluate, a built-in dataset's refusal), or lost the subject
    of a message; ``--output ""`` was refused in one line."""
    monkeypatch.chdir(tmp_path)  # a current folder of images would have been read
    (tmp_path / "a.png").write_bytes(b"")
    assert main([a.replace("{T}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"aekit: error: {option} is empty; give a file or folder path"]
    assert not (tmp_path / "run").exists()


def test_an_abbreviated_option_is_not_taken_for_the_option(tmp_path, capsys):
    argv = ["train", "basic", "--dataset", "mnist", "--out", str(tmp_path / "a"), "--epochs", "1"]
    for short in (["--over"], ["--npr", "2"], ["--epo", "2"]):
        assert _exit(main, [*argv, *short]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"unrecognized arguments: {' '.join(short)}" in err[0], err
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    "argv, prog",
    [
        (["train", "denoise", "--data", "x.npy", "--output-activation", "linear"], "aekit train denoise"),
        (["score", "r", "--input", "x.csv", "--output", "s.csv", "--bogus"], "aekit score"),
        (["--bogus"], "aekit"),
    ],
)  # fmt: skip
def test_an_unknown_option_points_to_the_help_of_its_command(argv, prog, capsys):
    """It said "(see 'aekit --help')", which lists the commands but none of their options."""
    assert _exit(main, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{prog}: error: unrecognized arguments: "), err
    assert err[0].endswith(f"(see '{prog} --help')"), err


def _exit(fn, argv) -> int:
    try:
        return fn(argv)
    except SystemExit as exc:
        return exc.code


def test_torch_failing_to_allocate_is_the_out_of_memory_line(monkeypatch, capsys):
    import argparse

    from aekit.cli import main as cli

    for text in (
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
        "you tried to allocate 24000000004 bytes. Error code 12 (Cannot allocate memory)",
        "Storage size calculation overflowed with sizes=[16384, 1000000002000000001]",
    ):

        def fail(args, text=text):
            raise RuntimeError(text)

        args = argparse.Namespace(func=fail, debug=False, command="train")
        assert cli._run(args) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            "aekit: error: out of memory; use smaller sizes (batch, layers, images, samples)"
        ]


def test_a_parameter_is_said_as_its_option_only_where_it_is_a_word():
    import argparse

    from aekit.cli.main import typed

    args = argparse.Namespace(k=3.0, lr=0.1)
    # the name alone: its first mention as a word, not the first "k" of "keep"
    assert typed("keep k at 0 or more", "k", args) == "keep --k at 0 or more"
    assert typed("lower lr=20 to lr=0.001", "lr", args) == "lower --lr 20 to --lr 0.001"
    # not an option of this command: as it is
    assert typed("members=3 and more", "members", args) == "members=3 and more"
    # review 56: not inside a quoted value or a file name
    args = argparse.Namespace(threshold="fpr:0.05", members=None)
    line = "threshold must be 'max', got 'threshold=3'"
    assert typed(line, "threshold", args) == "--threshold must be 'max', got 'threshold=3'"
    assert typed("data/members=3.csv: members=3 needs", "members", args) == (
        "data/members=3.csv: --members 3 needs"
    )
    assert typed("members must be", "members", args) == "members must be"  # not typed: as it is


def test_a_file_size_limit_from_a_library_is_named(monkeypatch):
    """Probe 58 locked F2: an EFBIG that reaches the entry point names ``ulimit -f``, not the disk."""
    import errno

    from aekit import _io
    from aekit.cli import main as cli

    monkeypatch.setattr(_io, "file_size_limit", lambda: 100 * 1024)
    line = cli._os_error(OSError(errno.EFBIG, "File too large", "big.onnx"))
    assert line == (
        "file too large for the file-size limit of 102,400 bytes (ulimit -f) writing big.onnx; "
        "raise that limit or write a smaller file"
    )
    assert (
        cli._os_error(OSError(errno.ENOSPC, "No space", "x")) == "no space left on device writing x"
    )


def test_an_address_space_limit_too_low_to_load_torch_is_named(monkeypatch, tmp_path, capsys):
    """Probe 58 locked F3: under ``ulimit -v`` torch failing to load was "internal error:
    ImportError: ... failed to map segment", or "out of memory; use smaller sizes" for a MemoryError
    while torch imported sympy (32 KB of data): the limit was never named."""
    import argparse
    import resource

    from aekit.cli import main as cli

    real = resource.getrlimit
    limit = 500_000 * 1024
    monkeypatch.setattr(
        resource, "getrlimit", lambda r: (limit, limit) if r == resource.RLIMIT_AS else real(r)
    )
    (tmp_path / "heavy_p58.py").write_text("raise MemoryError()\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def unmapped(args):
        raise ImportError("libtorch_cpu.so: failed to map segment from shared object")

    def importing(args):
        import heavy_p58  # noqa: F401

    for fail in (unmapped, importing):
        args = argparse.Namespace(func=fail, debug=False, command="train")
        assert cli._run(args) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "ulimit -v 500000" in err[0], err
        assert "internal error" not in err[0] and "smaller sizes" not in err[0]

    def noexec(args):  # a library on a noexec mount, under the same limit (review 2 of probe 58)
        raise ImportError("x.so: failed to map segment from shared object: Operation not permitted")

    assert cli._run(argparse.Namespace(func=noexec, debug=False, command="train")) == 1
    assert "ulimit -v" not in capsys.readouterr().err
    limit = 8 << 30  # a limit that loading torch does not reach: not the cause either
    assert cli._run(argparse.Namespace(func=unmapped, debug=False, command="train")) == 1
    assert "ulimit -v" not in capsys.readouterr().err


def test_a_closed_stdout_is_said_by_a_command_whose_result_goes_there(
    monkeypatch, capsys, tmp_path
):
    """Probe 58 locked F10: with ``>&-`` ``evaluate`` (no --output) and ``datasets list`` exited 0
    having written nothing; a command whose result is a file only says so on stdout: it goes on."""
    import io

    for argv in (["datasets", "list"], ["evaluate", str(tmp_path / "run")]):
        monkeypatch.setattr(sys, "stdout", None)
        err = io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        assert main(argv) == 1
        assert err.getvalue().startswith("aekit: error: stdout is closed: ")
        assert err.getvalue().count("\n") == 1
    # --help and --version, argparse's exits (probe 65 docs #3: exit 0, nothing written or said)
    for argv in (["--help"], ["train", "basic", "--help"], ["--version"]):
        monkeypatch.setattr(sys, "stdout", None)
        err = io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 1
        assert err.getvalue().startswith("aekit: error: stdout is closed: the text asked for")
    monkeypatch.setattr(sys, "stdout", None)  # with --output: on to the run's own error
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["evaluate", str(tmp_path / "run"), "--output", str(tmp_path / "m.json")]) == 2
    assert "stdout is closed" not in err.getvalue()


def test_verbose_logs_in_every_command_but_a_trainings_other_processes(monkeypatch):
    # review 2 of probe 58: -v tied to rank 0 dropped it from `aekit -v export` with a launch
    # environment left in the shell; only a training's processes beyond rank 0 keep quiet
    import argparse

    from aekit.cli import main as cli

    launch = {"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
    for name, value in launch.items():
        monkeypatch.setenv(name, value)
    assert cli._logs(argparse.Namespace(command="export"))
    assert not cli._logs(argparse.Namespace(command="train"))
    monkeypatch.setenv("RANK", "0")
    assert cli._logs(argparse.Namespace(command="train"))
    monkeypatch.setenv("RANK", "1")
    monkeypatch.delenv("MASTER_ADDR")  # no launcher's: the line this process fails with is its own
    assert cli._logs(argparse.Namespace(command="train"))


@pytest.mark.parametrize("name, package", [("tqdm", "tqdm"), ("scipy", "scipy")])
def test_a_dependency_not_installed_is_what_to_install(capsys, name, package):
    """Probe 64 packaging #2: after `pip install --no-deps`, a missing numpy, scikit-learn,
    safetensors, matplotlib or tqdm was "internal error: ModuleNotFoundError"."""
    from aekit.cli import main as cli

    assert cli._report(ModuleNotFoundError(f"No module named {name!r}", name=name)) == 1
    line = capsys.readouterr().err.strip()
    assert line == (
        f"aekit: error: aekit needs {package}, which is not installed here: pip install "
        f"{package} (or install aekit with its dependencies: pip install aekit)"
    )
    cli._report(ModuleNotFoundError("No module named 'mine'", name="mine"))  # a user's own
    assert "internal error" in capsys.readouterr().err
    cli._report(ModuleNotFoundError("No module named 'torch._C'", name="torch._C"))  # review 64 #4
    assert capsys.readouterr().err.strip() == (
        "aekit: error: aekit's dependency torch is installed but incomplete (torch._C is "
        "missing): reinstall it: pip install --force-reinstall torch"
    )


def test_progress_without_tqdm_is_said_in_lines(monkeypatch):
    from aekit.training import progress

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm: ImportError
    assert progress._tqdm(total=3) is None


def test_figures_without_matplotlib_are_refused_before_the_training(tmp_path, monkeypatch):
    """Probe 64 packaging #2: matplotlib missing was found when the figures were drawn, after the
    training, the run left unfinished in its .partial folder."""
    import importlib.util

    import numpy as np

    from .helpers import cli_here

    np.savetxt(tmp_path / "t.csv", np.random.default_rng(0).random((40, 3)), delimiter=",")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "matplotlib" else find_spec(n, *a)
    )
    args = (
        "train",
        "basic",
        "--data",
        tmp_path / "t.csv",
        "--out",
        tmp_path / "r",
        "--epochs",
        "1",
    )
    proc = cli_here(*args, check=2)
    assert proc.stderr.strip() == (
        "aekit: error: the run's figures need matplotlib, which is not installed: pip install "
        "matplotlib, or pass --no-figures"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no run, nor its .partial
    cli_here(*args, "--no-figures", "--quiet")


@pytest.mark.parametrize(
    "flag, dest", [("-v", "verbose"), ("--verbose", "verbose"), ("--debug", "debug")]
)
def test_aekits_own_flags_are_taken_after_the_command_too(flag, dest):
    """Probe 67 cli #11: `aekit encode ... -v` was "unrecognized arguments: -v (see 'aekit encode
    --help')", a help that does not list it (it goes before the command)."""
    from aekit.cli.main import build_parser

    argv = ["encode", "run", "--input", "x.csv", "--output", "e.csv"]
    args = build_parser().parse_args([*argv, flag])
    assert getattr(args, dest) is True and args.input == "x.csv"
    assert getattr(build_parser().parse_args([flag, *argv]), dest) is True  # as before


@pytest.mark.parametrize(
    "argv",
    [["export", "run", "--output", "m.onnx"], ["calibrate", "run"],
     ["index", "run", "--input", "x.csv", "--output", "ix"],
     ["neighbors", "ix", "--query", "q.csv", "--output", "n.csv"]],
)  # fmt: skip
def test_every_command_on_a_run_takes_quiet(argv):
    """Probe 67 cli #11: export, calibrate, index and neighbors refused --quiet, which every other
    command on a run takes (a script's common options)."""
    from aekit.cli.main import build_parser

    assert build_parser().parse_args([*argv, "--quiet"]).quiet is True
