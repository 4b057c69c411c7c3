"""aekit.dask.files (``aekit score --dask``) where Dask is not installed."""

from __future__ import annotations

import sys

import pytest

from aekit.errors import UsageError


def test_without_dask_its_extra_is_named_before_any_input_is_opened(tmp_path, monkeypatch):
    """Probe 64 packaging #7: without the dask extra, a Parquet input was opened first and said
    "pip install pyarrow"; after that install, "pip install 'aekit[dask]'", which brings both."""
    from aekit.dask.files import score_files

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    with pytest.raises(UsageError, match=r"^--dask needs .*pip install 'aekit\[dask\]'$"):
        score_files("run", str(tmp_path / "none.parquet"), str(tmp_path / "out"), scheduler="x")
