"""Shared test set-up: the real datasets beside the repo, and quiet, single-threaded torch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
# the real datasets: AEKIT_TEST_DATA, else ../shared/datasets, else the user's own AEKIT_DATA
_BESIDE = REPO.parent / "shared" / "datasets"
SHARED_DATA = Path(
    os.environ.get("AEKIT_TEST_DATA")
    or (_BESIDE if _BESIDE.is_dir() else os.environ.get("AEKIT_DATA", _BESIDE))
)

# Tests never touch the internet: the built-in datasets come from ../shared/datasets.
if SHARED_DATA.is_dir():
    os.environ.setdefault("AEKIT_DATA", str(SHARED_DATA))

# numpy's and scipy's BLAS on one thread in the test process. The suite's arrays are small, and on 2 busy
# cores OpenBLAS's threads spin at every call waiting for a core: measured under load, scikit-learn's
# LogisticRegression on 12,000 x 64 latents took 119 s with 2 BLAS threads and 3 s with 1 (the figures come
# out the same). torch's own threads are aekit's to choose (aekit/training/threads.py) and are not touched.
# The limit reaches the libraries loaded now: scipy's copy of OpenBLAS is loaded first, so that it is one of them.
import scipy.linalg  # noqa: E402,F401

_ONE_BLAS_THREAD = threadpool_limits(limits=1, user_api="blas")


@pytest.fixture
def shared_data() -> Path:
    """The real datasets; tests that need them are skipped where they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found in {SHARED_DATA}")
    return SHARED_DATA
