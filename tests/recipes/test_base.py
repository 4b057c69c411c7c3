"""What every recipe shares (aekit.recipes.base)."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.data import Data
from aekit.errors import UsageError
from aekit.recipes.base import split_data


@pytest.mark.parametrize("fraction", [0.9, 0.99, 1.0, 0.0])
def test_a_validation_share_that_leaves_nothing_to_train_on_is_one_line(fraction):
    """0.9 of 8 rows: scikit-learn's own message came out as an internal error."""
    data = Data(x=np.zeros((8, 2), np.float32))
    with pytest.raises(UsageError, match=f"cannot hold out {fraction} of 8 samples"):
        split_data(data, fraction, seed=0)
    train, val = split_data(data, 0.8, seed=0)
    assert (len(train), len(val)) == (1, 7)


def test_one_sample_is_told_to_give_more_data_only():
    """probe 61 degenerate #7: with 1 sample no validation share can work (0 is refused too),
    yet the line advised "a smaller validation share"."""
    with pytest.raises(UsageError, match="give more data$"):
        split_data(Data(x=np.zeros((1, 2), np.float32)), 0.01, seed=0)
    with pytest.raises(UsageError, match="give more data or a smaller validation share"):
        split_data(Data(x=np.zeros((8, 2), np.float32)), 0.9, seed=0)
