"""The data boundary's own checks (aekit/data/checks.py): what ``to_numpy`` makes of tensors and
masked arrays, and how a label that is not 0 or 1 is said."""

from __future__ import annotations

import numpy as np

from aekit.data.checks import first_bad_label


def test_numbers_written_as_text_are_said_to_be_text():
    """Probe 62 dtypes #13: "the label '1'" read as if 1 were not allowed."""
    said = first_bad_label(np.array(["1", "0", "2"]))
    assert said.startswith("text labels ('1', '0', '2'), not numbers")
    assert first_bad_label(np.array([0, "1", 2], dtype=object)).startswith("text labels ('1')")
    assert first_bad_label(np.array(["normal", "0"])) == "the label 'normal'"
