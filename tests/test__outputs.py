"""aekit._outputs: where an output is written, and what it may never be."""

from __future__ import annotations

import os

import numpy as np
import pytest

from aekit._outputs import check_output, refuse_existing
from aekit.errors import UsageError


def test_a_link_to_a_file_is_the_output_itself(tmp_path):
    """Writing there replaces the link (as mv would), never the user's file it points to."""
    (tmp_path / "theirs.csv").write_text("mine\n")
    (tmp_path / "out.csv").symlink_to("theirs.csv")
    assert refuse_existing(tmp_path / "out.csv", True) == tmp_path / "out.csv"
    assert check_output(tmp_path / "out.csv", overwrite=True) == tmp_path.resolve() / "out.csv"
    with pytest.raises(UsageError, match="already exists"):
        check_output(tmp_path / "out.csv")


def test_a_link_to_a_folder_or_to_nothing_yet_is_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "dir").symlink_to("real")
    assert refuse_existing(tmp_path / "dir", True, kind="output") == (tmp_path / "real").resolve()
    (tmp_path / "new.csv").symlink_to("later.csv")
    assert refuse_existing(tmp_path / "new.csv", False) == (tmp_path / "later.csv").resolve()


def test_a_link_into_an_input_is_still_refused(tmp_path):
    (tmp_path / "data.csv").write_text("a\n1\n")
    (tmp_path / "out.csv").symlink_to("data.csv")
    with pytest.raises(UsageError, match="is the input"):
        check_output(tmp_path / "out.csv", overwrite=True, inputs=[tmp_path / "data.csv"])


def test_a_symbolic_link_loop_is_one_usage_line(tmp_path):
    """ln -s loop.csv loop.csv as the output, an input, or a folder output: a UsageError naming it."""
    (tmp_path / "loop.csv").symlink_to("loop.csv")
    (tmp_path / "loopd").symlink_to("loopd")
    with pytest.raises(UsageError, match="--output .*loop.csv is a symbolic link loop"):
        check_output(tmp_path / "loop.csv", overwrite=True)
    with pytest.raises(UsageError, match="the input .*loop.csv is a symbolic link loop"):
        check_output(tmp_path / "ok.csv", inputs=[tmp_path / "loop.csv"])
    with pytest.raises(UsageError, match="--out .*loopd is a symbolic link loop"):
        check_output(tmp_path / "loopd", option="--out", kind="run", run=tmp_path / "loopd")
    with pytest.raises(UsageError, match="symbolic link loop"):
        check_output(tmp_path / "loopd" / "x.csv")


def test_the_cli_says_a_symbolic_link_loop_in_one_line(tmp_path):
    from .badinput import assert_one_line, cli

    np.save(tmp_path / "rows.npy", np.zeros((8, 2), np.float32))
    (tmp_path / "loop.npy").symlink_to("loop.npy")
    for argv in (
        ["--data", tmp_path / "loop.npy", "--out", tmp_path / "run"],
        ["--data", tmp_path / "rows.npy", "--out", tmp_path / "loop.npy"],
    ):
        code, _, err = cli("train", "basic", *argv, "--epochs", "1", "--quiet")
        assert_one_line(code, err, 2, ["loop.npy", "symbolic link loop"])


def test_a_name_too_long_for_aekits_temporary_names_is_a_usage_error(tmp_path):
    """A folder name the file system takes, but not with the staging folder aekit writes beside
    it: one line with the limit, before anything is written. A file of any name the file system
    takes is written: its temporary name is cut to fit (probe 59 locale L1)."""
    from aekit import _io

    longest = tmp_path / ("e" * 251 + ".csv")
    assert check_output(longest) == longest
    _io.write_text(longest, "a\n1\n")
    assert longest.read_text() == "a\n1\n"
    with pytest.raises(UsageError, match="temporary folder beside it"):
        check_output(tmp_path / ("r" * 250), option="--out", kind="run")


def test_the_cli_refuses_a_name_too_long_with_exit_2(tmp_path):
    from .badinput import assert_one_line, cli

    np.save(tmp_path / "rows.npy", np.zeros((8, 2), np.float32))
    code, _, err = cli(
        "train", "basic", "--data", tmp_path / "rows.npy", "--out", tmp_path / ("r" * 250)
    )
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    assert_one_line(code, err, 2, ["too long", f"limited to {limit} bytes", "at most"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.npy"]


def test_an_output_path_starting_with_an_unexpanded_tilde_is_refused(tmp_path, monkeypatch):
    """Probe 52 sh 12: `--output=~/x` (the shell expands no ~ after '=') made a folder named ~ in
    the working folder, and said it wrote ~/x."""
    monkeypatch.chdir(tmp_path)
    for path in ("~/scores.csv", "~", "~/runs/a"):
        with pytest.raises(UsageError, match="starts with '~', which the shell did not expand"):
            check_output(path, option="--out")
    assert not (tmp_path / "~").exists()
    (tmp_path / "~").mkdir()  # a folder really named ~: the user's, written into as asked
    assert check_output("~/scores.csv") == tmp_path / "~" / "scores.csv"


def test_a_name_longer_than_the_file_system_takes_is_one_line_of_usage(tmp_path):
    """Probe 52 sh 4: a name over 255 bytes failed at the first stat: "file name too long", exit 1."""
    with pytest.raises(UsageError, match="the name is too long.*give a name of at most"):
        check_output(tmp_path / ("x" * 300 + ".csv"))


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_write_protected_output_is_refused(tmp_path, overwrite):
    """probe 61 modes #3: --overwrite replaced a 0444 output without a word (only the folder's
    write bit matters to the rename). Refused in one line before any work, as cp and rm ask, and
    as a PermissionError in Python (#6)."""
    out = tmp_path / "s.csv"
    out.write_text("kept")
    os.chmod(out, 0o444)
    with pytest.raises(PermissionError) as refused:
        check_output(out, overwrite=overwrite)
    assert isinstance(refused.value, UsageError)
    assert str(refused.value) == (
        f"{out} is write-protected (mode 0444); make it writable or choose another output"
    )
    os.chmod(out, 0o644)
    assert check_output(out, overwrite=True) == out
