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


def run_images(config: dict[str, Any], shape: tuple[int, ...], n: int) -> Any:
    """Up to ``n`` of the images a run was trained on, read again from its recorded folder at the
    run's size and cut to ``shape`` ``(C, H, W)``, the size its graph was traced at (an image read
    at its own size is cut to its centre); None when the folder is gone or holds none that fit.

    Real images check an export as users will see it: the image detector's distances to its bank
    lose digits in float32 on them (onnxruntime vs PyTorch 1e-3 on photos, 1.5e-5 on random
    images), which random inputs, whose features are small, do not show."""
    import numpy as np

    from ..data.readers import iter_image_batches
    from ..errors import DataError, UsageError

    data = config.get("data") or {}
    folder = data.get("data")
    if not isinstance(folder, str) or not Path(folder).is_dir():
        return None
    h, w = shape[-2:]
    picked: list[Any] = []
    try:
        for batch in iter_image_batches(folder, data.get("image_size")):
            x = batch.x
            if x.shape[1] != shape[0] or x.shape[2] < h or x.shape[3] < w:
                continue
            top, left = (x.shape[2] - h) // 2, (x.shape[3] - w) // 2
            picked.extend(x[: n - len(picked), :, top : top + h, left : left + w])
            if len(picked) >= n:
                break
    except (DataError, UsageError, OSError):  # changed since training: the random check stands
        return None
    return np.ascontiguousarray(np.stack(picked)) if picked else None
