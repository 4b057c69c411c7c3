"""The data boundary's own checks (aekit/data/checks.py): what ``to_numpy`` makes of tensors and
masked arrays, and how a label that is not 0 or 1 is said."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.data.checks import first_bad_label, to_numpy
from aekit.errors import DataError


def test_to_numpy_keeps_a_float64_tensor_float64():
    """Probe 62 dtypes #4: a float64 tensor became float32 before any check (1e-50 read as 0)."""
    x = torch.tensor([[1e-50, 1.0]], dtype=torch.float64)
    assert to_numpy(x, "X").dtype == np.float64 and to_numpy(x, "X")[0, 0] == 1e-50
    assert to_numpy(x.to(torch.bfloat16), "X").dtype == np.float32  # no NumPy bfloat16


def test_to_numpy_reads_a_masked_arrays_masked_entries_as_missing():
    """Probe 62 dtypes #3: the mask was dropped, and the -999s under it read as numbers."""
    masked = np.ma.masked_values(np.array([[1, -999], [3, 4]]), -999)
    np.testing.assert_array_equal(to_numpy(masked, "X"), [[1.0, np.nan], [3.0, 4.0]])
    assert to_numpy(np.ma.masked_array([[1, 2]]), "X").dtype.kind == "i"  # nothing masked


def test_to_numpy_refuses_tensors_with_no_values_in_one_line():
    """Probe 62 dtypes #8: torch's NotImplementedError ("Cannot copy out of meta tensor")."""
    with pytest.raises(DataError, match="^y is a tensor on the 'meta' device"):
        to_numpy(torch.empty(3, device="meta"), "y")
    negated = torch.complex(torch.zeros(2), -torch.ones(2)).conj().imag  # a lazy view
    np.testing.assert_array_equal(to_numpy(negated, "X"), [1.0, 1.0])


def test_numbers_written_as_text_are_said_to_be_text():
    """Probe 62 dtypes #13: "the label '1'" read as if 1 were not allowed."""
    said = first_bad_label(np.array(["1", "0", "2"]))
    assert said.startswith("text labels ('1', '0', '2'), not numbers")
    assert first_bad_label(np.array([0, "1", 2], dtype=object)).startswith("text labels ('1')")
    assert first_bad_label(np.array(["normal", "0"])) == "the label 'normal'"
