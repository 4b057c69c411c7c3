"""Missing cells filled as the run recorded: the note says with what."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from aekit.data.missing import fill_missing


@pytest.mark.parametrize(
    "how, said",
    [
        ("median", "the training rows' medians"),
        ("mean", "the training rows' means"),
        ("zero", "zeros"),
    ],
)
def test_the_note_says_what_the_cells_were_filled_with(caplog, how, said):
    # verify 56 of advice #18: "filled with the training rows' zeros" for --fill zero
    x = np.array([[1.0, np.nan], [3.0, 4.0]], np.float32)
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        out = fill_missing(x, {"a": 0.0, "b": 2.5}, ["a", "b"], "f.csv", how)
    assert out[0, 1] == 2.5 and f"filled with {said} (--fill chooses how)" in caplog.text
