"""What an exported graph's metadata says of the run folder it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_metadata(path: str | Path) -> dict[str, Any]:
    """``family`` (the run's ``aekit train`` family) and, for a run trained with ``--image-size``,
    ``image_size`` ``[height, width]``: the graph takes images of that size, which ``aekit score``
    and ``aekit serve`` resize later images to before the model sees them (the graph does not)."""
    from ..estimators.persistence import read_config

    return config_metadata(read_config(path))


def config_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """:func:`run_metadata` of a run's ``config.json`` already read (``aekit export`` reads it with
    the weights, as one version of the run)."""
    family = config.get("family")
    out: dict[str, Any] = {"family": family} if isinstance(family, str) else {}
    size = (config.get("data") or {}).get("image_size")
    if size is not None:
        out["image_size"] = [int(d) for d in size]
    return out


def loaded_run(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(the estimator saved at ``path``, :func:`run_metadata` of it)."""
    from ..estimators.persistence import load

    return load(path), run_metadata(path)
