"""Saving and loading estimators: JSON for configuration, safetensors for weights.

Nothing is ever unpickled: ``config.json`` names the estimator from a fixed list, its
parameters are plain JSON, and the weights are read with safetensors (a pickle placed
where the weights belong is refused).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from .. import _io
from ..errors import RunFailure, UsageError
from ..training.serialize import load_tensors, save_tensors

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
FORMAT_VERSION = 1

# The only classes a config.json may name (never an arbitrary import path).
ESTIMATORS = {
    "Autoencoder": "aekit.estimators.autoencoder",
    "Denoiser": "aekit.estimators.denoise",
    "AnomalyDetector": "aekit.estimators.anomaly",
    "VAE": "aekit.estimators.vae",
    "SeriesDetector": "aekit.estimators.series",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def save_estimator(est, path: str | Path, *, overwrite: bool = False, extra: dict[str, Any] | None = None) -> Path:
    """Write ``est`` into the folder ``path`` (weights first, config last, both atomic)."""
    path = Path(path)
    if (path / CONFIG).exists() and not overwrite:
        raise UsageError(f"{path} already holds a saved model; pass overwrite=True (--overwrite) to replace it")
    path.mkdir(parents=True, exist_ok=True)
    save_tensors(path / WEIGHTS, est._get_tensors())
    config = dict(extra or {})
    config.update({
        "format_version": FORMAT_VERSION,
        "estimator": type(est).__name__,
        "params": _jsonable(est.get_params(deep=False)),
        "state": _jsonable(est._get_state()),
    })
    _io.write_json(path / CONFIG, config)
    return path


def read_config(path: str | Path) -> dict[str, Any]:
    """Read and check ``config.json`` of a saved model or run folder."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such run or model folder: {path}")
    file = path / CONFIG if path.is_dir() else path
    try:
        config = json.loads(file.read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: no {CONFIG}; expected a run folder written by 'aekit train' or est.save()") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunFailure(f"{file}: not valid JSON ({exc}); expected aekit's config.json") from None
    if not isinstance(config, dict) or config.get("estimator") not in ESTIMATORS:
        name = config.get("estimator") if isinstance(config, dict) else None
        raise RunFailure(f"{file}: unknown estimator {name!r}; expected one of {sorted(ESTIMATORS)}")
    if not isinstance(config.get("params"), dict) or not isinstance(config.get("state"), dict):
        raise RunFailure(f"{file}: missing 'params' or 'state'; the file is damaged or not aekit's")
    return config


def estimator_class(name: str):
    """The estimator class for a name listed in :data:`ESTIMATORS`."""
    return getattr(importlib.import_module(ESTIMATORS[name]), name)


def load(path: str | Path, *, device: str | None = None):
    """Load a model saved by ``est.save(path)`` or a run folder written by ``aekit train``.

    Parameters
    ----------
    path : str or Path
        The folder holding ``config.json`` and ``model.safetensors``.
    device : str, optional
        Where to put the model ("cpu", "cuda", ...); defaults to the best available.

    Returns
    -------
    estimator
        A fitted Autoencoder, Denoiser, AnomalyDetector or VAE.

    Examples
    --------
    >>> ae = aekit.load("runs/basic")          # doctest: +SKIP
    >>> z = ae.transform(images)               # doctest: +SKIP
    """
    path = Path(path)
    config = read_config(path)
    cls = estimator_class(config["estimator"])
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in config["params"].items()}
    try:
        est = cls(**params)
        if device is not None:
            est.set_params(device=device)
        est._set_state(config["state"])
    except (TypeError, KeyError, ValueError) as exc:
        raise RunFailure(f"{path / CONFIG}: parameters do not fit {cls.__name__} ({exc})") from None
    try:
        est._set_tensors(load_tensors(path / WEIGHTS))
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:  # ValueError/TypeError: bad params in config
        if isinstance(exc, (RunFailure, UsageError)):
            raise
        raise RunFailure(f"{path / WEIGHTS}: weights do not fit the model in {CONFIG} "
                         f"({' '.join(str(exc).split())[:160]})") from None
    return est
