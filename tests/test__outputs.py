"""aekit._outputs: where an output is written, and what it may never be."""

from __future__ import annotations

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
