"""Shared test set-up: the real datasets beside the repo, and quiet, single-threaded torch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AEKIT_TEST_DATA", REPO.parent / "shared" / "datasets"))

# Tests never touch the internet: the built-in datasets come from ../shared/datasets.
if SHARED_DATA.is_dir():
    os.environ.setdefault("AEKIT_DATA", str(SHARED_DATA))


@pytest.fixture
def shared_data() -> Path:
    """The real datasets; tests that need them are skipped where they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found in {SHARED_DATA}")
    return SHARED_DATA
