"""Saving and loading estimators: JSON for configuration, safetensors for weights.

Nothing is ever unpickled: ``config.json`` names the estimator from a fixed list, its
parameters are plain JSON, and the weights are read with safetensors (a pickle placed
where the weights belong is refused). A model with the user's own encoder and decoder records
their import path and constructor arguments; loading it imports that code, which the user named
(:mod:`aekit.models.custom` says which code, and when it is refused).
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .. import _io
from .._notes import note
from .._version import __version__
from ..errors import (
    AekitError,
    ArgumentTypeError,
    NotFound,
    RunFailure,
    RunInProgress,
    UsageError,
    one_line,
)
from ..families import ESTIMATORS  # the only classes a config.json may name
from ..models.custom import (
    describe,
    refuse_files_in_output,
    refuse_files_under,
    refuse_unrecorded_files,
)
from ..models.init import float32_default
from ..training.loop import GLOBAL_RNG
from ..training.rng import borrowed_rng
from ..training.serialize import check_finite, load_tensors, not_a_file, save_tensors
from .loaded import check_header, check_loaded, check_saved_state
from .params import NETWORKS, check, validate_params

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
FORMAT_VERSION = 1
T = TypeVar("T")


def jsonable(value: Any) -> Any:
    """``value`` with tuples as lists, at any depth (JSON has no tuples), the user's network
    modules and specs as their import path, arguments and a file's SHA-256
    (:func:`aekit.models.custom.describe`), and NumPy numbers as Python's (``GridSearchCV`` over
    ``np.arange(2, 5)`` sets ``latent_dim`` to an ``np.int64``)."""
    if hasattr(value, "state_dict") and hasattr(value, "parameters"):  # a torch.nn.Module
        return describe(value)
    if isinstance(value, dict) and _is_spec(value):  # a file's digest too, which loading needs
        return {k: jsonable(v) for k, v in describe(value).items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def _is_spec(value: dict[str, Any]) -> bool:
    """Whether ``value`` is a network spec (``{"network": ..., "args": ...}``), a dict or not."""
    return isinstance(value.get("network"), str) and set(value) <= {"network", "args", "sha256"}


def save_estimator(
    est, path: str | Path, *, overwrite: bool = False, extra: dict[str, Any] | None = None
) -> Path:
    """Write ``est`` into the folder ``path`` as one transaction (see :mod:`aekit._transaction`).

    The new config.json and weights are written beside ``path`` with a hard-linked copy of what
    else the folder holds, then swapped in whole: an interrupted save leaves the previous model.
    """
    from .._manifest import check_replaceable
    from .._outputs import check_save_target
    from .._transaction import followed, staged_folder

    path = followed(as_path(path, "path"))  # a link to a folder: that folder is written
    check_save_target(path, overwrite, "a model")
    refuse_files_in_output(est.get_params(deep=False), path)
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"cannot save to {path}: it is a file; expected a folder (new or holding a saved model)"
        )
    if (path / CONFIG).exists() and not overwrite:
        raise UsageError(
            f"{path} already holds a saved model; pass overwrite=True (--overwrite) to replace it"
        )
    check_replaceable(path, "model", option="save to", shown=str(path))
    try:
        json.dumps(extra or {}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(
            f"extra must hold plain JSON values (no NaN or infinity): {exc}"
        ) from None
    tensors = est._get_tensors()
    # never replace good weights with NaN
    check_finite(tensors, f"{type(est).__name__} not saved to {path}")
    # built beside the folder, then swapped in whole with the user's files of the previous version
    with staged_folder(path, "model") as work:
        write_estimator(est, work, extra=extra, tensors=tensors)
    return path


def write_estimator(
    est, folder: Path, *, extra: dict[str, Any] | None = None, tensors: dict[str, Any] | None = None
) -> None:
    """Write ``est``'s weights, then its config.json, into ``folder`` (each file atomic; no checks)."""
    save_tensors(folder / WEIGHTS, est._get_tensors() if tensors is None else tensors)
    _io.write_json(folder / CONFIG, estimator_config(est, extra))


def estimator_config(est, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``est``'s config.json: ``extra`` (a run's own keys) with its format, class, parameters and
    learned state (everything but the tensors) on top."""
    config = dict(extra or {})
    config.update(
        {
            "format_version": FORMAT_VERSION,
            "estimator": type(est).__name__,
            "params": recorded_params(est),
            "state": jsonable(est._get_state()),
        }
    )
    return config


def recorded_params(est) -> dict[str, Any]:
    """``est``'s parameters as config.json records them: those its model was built from as they were
    then (``set_params`` after ``fit`` changes nothing until the next fit; a note says so), so that
    the saved run loads as the model that was saved."""
    params = jsonable(est.get_params(deep=False))
    built = getattr(est, "_built_with", {})
    changed = [n for n, v in built.items() if params.get(n) != v]
    if changed:
        note(
            f"{type(est).__name__} saved with the {', '.join(changed)} its model was trained with: "
            f"set_params changed {'it' if len(changed) == 1 else 'them'} after fit, which takes "
            f"effect at the next fit"
        )
    return {**params, **{n: built[n] for n in changed}}


def as_path(path: Any, name: str) -> Path:
    """``path`` as a Path, or a one-line ArgumentTypeError naming ``name`` (not a path, empty,
    bytes or a NUL character): the check of every folder the API saves to or loads from."""
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path.strip()):
        raise ArgumentTypeError(f"{name} must be a folder path (str or Path), got {path!r}")
    try:
        return Path(path)
    except (TypeError, ValueError) as exc:  # bytes paths, NUL characters
        raise ArgumentTypeError(f"{name} must be a folder path, got {path!r} ({exc})") from None


def read_config(path: str | Path) -> dict[str, Any]:
    """Read and check ``config.json`` of a saved model or run folder."""
    from .._transaction import check_not_in_progress, readable

    path = as_path(path, "path")
    if "\0" in str(path):
        raise UsageError(f"{path!r}: a path cannot hold a NUL character")
    if not os.path.lexists(path):
        check_not_in_progress(path)  # a run still training, or interrupted, says so
        raise NotFound(f"no such run or model folder: {path}", filename=str(path))
    path = readable(path)
    # a data file where the run goes: the arguments swapped (aekit score X --input RUN)
    if path.is_file() and path.name != CONFIG:
        raise UsageError(
            f"{path} is a file, not a run folder; expected the folder that holds {CONFIG} and "
            f"{WEIGHTS} (the run comes first: aekit COMMAND RUN --input DATA)"
        )
    file = path / CONFIG if path.is_dir() else path
    config = _read_json(file, path)
    _check_config(config, file, path)
    return config


def _read_json(file: Path, path: Path) -> Any:
    """The JSON in ``file`` (a run's config.json), or one line saying why it cannot be read."""
    try:
        if not file.is_file():
            if file.exists():  # a pipe, a folder or a device in its place is there, not missing
                raise RunFailure(
                    f"{file}: {not_a_file(file.stat().st_mode)}; expected aekit's {CONFIG}"
                )
            raise FileNotFoundError(file)
        if file.stat().st_size > MAX_CONFIG:
            raise RunFailure(
                f"{file}: {file.stat().st_size:,} bytes; aekit's config.json holds at most "
                f"{MAX_CONFIG:,} (a padded file of 200 MB took 3.2 GB to read): not a run to load"
            )
        return json.loads(file.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise NotFound(
            f"{path}: no {CONFIG}; expected a run folder written by 'aekit train' or est.save()",
            filename=str(file),
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunFailure(f"{file}: not valid JSON ({exc}); expected aekit's config.json") from None
    except RecursionError:
        raise RunFailure(
            f"{file}: not aekit's config.json (JSON nested too deeply to read)"
        ) from None
    except OSError as exc:
        raise RunFailure(f"{file}: cannot read it ({exc.strerror or exc})") from None


def _check_config(config: Any, file: Path, path: Path) -> None:
    """config.json's frame: an object naming a registered estimator, with params and state objects."""
    if not isinstance(config, dict):
        raise RunFailure(
            f"{file}: holds a JSON {type(config).__name__}; expected aekit's config.json (an object)"
        )
    _refuse_newer_format(config, file)
    name = config.get("estimator")
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise RunFailure(
            f"{file}: unknown estimator {name!r}; expected one of {sorted(ESTIMATORS)}"
        )
    if config.get("status") == "training" and "state" not in config:
        raise RunInProgress(
            f"{path} is a run that has not finished training (status 'training' in {CONFIG}); "
            f"wait for it, or continue it with 'aekit train ... --out {path} --resume'"
        )
    for key in ("params", "state"):
        if not isinstance(config.get(key), dict):
            got = (
                "missing"
                if key not in config
                else f"a JSON {type(config[key]).__name__}, not an object"
            )
            raise RunFailure(
                f"{file}: the field {key!r} is {got}; the file is damaged or was not written by aekit"
            )


def _refuse_newer_format(config: dict[str, Any], file: Path) -> None:
    """A run in a format newer than this aekit reads: one line saying so (it was read silently,
    or refused for a parameter it did not know, without a word of versions)."""
    version = config.get("format_version", FORMAT_VERSION)  # absent: written before it was recorded
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RunFailure(f"{file}: format_version {version!r} is not a whole number of 1 or more")
    if version > FORMAT_VERSION:
        raise UsageError(
            f"{file}: written by aekit {_recorded_aekit(config) or '(a newer one)'} in run format "
            f"{version}; this aekit ({__version__}) reads format {FORMAT_VERSION}: upgrade aekit "
            f"to load it"
        )


def _recorded_aekit(config: dict[str, Any]) -> str | None:
    """The aekit version a run records (a run folder's ``versions``), or None."""
    versions = config.get("versions")
    written = versions.get("aekit") if isinstance(versions, dict) else None
    return written if isinstance(written, str) else None


def _check_model_fits(est, path: Path) -> None:
    """Refuse, before anything is allocated, a model whose recorded sizes memory cannot hold."""
    from ..errors import TooLarge
    from ..training.memory import check_model_fits

    shape = getattr(est, "input_shape_", None)
    if shape is None or not getattr(est, "_has_network", True):
        return  # (the first network built on the meta device costs a second of kernel set-up)
    try:
        check_model_fits(est._build_model, tuple(shape), 1, training=False)
    except TooLarge as exc:
        raise TooLarge(f"{path / CONFIG}: the saved model cannot be loaded here: {exc}") from None


def _model_tensors(est) -> dict[str, tuple[tuple[int, ...], str]]:
    """The tensors (name -> shape, dtype) of the model config.json describes, built on the meta
    device (nothing allocated); none for the user's networks (built once the weights are read)
    or a detector without a network, or where the build fails (loading then says why)."""
    import torch

    if getattr(est, "input_shape_", None) is None or not getattr(est, "_has_network", True):
        return {}
    if est._custom_network():
        return {}
    try:
        with GLOBAL_RNG, borrowed_rng(), torch.device("meta"), float32_default():
            model = est._build_model()
    except (AekitError, RuntimeError, ValueError, TypeError, NotImplementedError):
        return {}
    return {
        k: (tuple(v.shape), str(v.dtype).removeprefix("torch."))
        for k, v in model.state_dict().items()
    }


def estimator_class(name: str):
    """The estimator class for a name listed in :data:`ESTIMATORS`."""
    return getattr(importlib.import_module(ESTIMATORS[name]), name)


# config.json's size at most: a run's own is kilobytes (its calibration scores a few MB more); read
# whole and parsed, 200 MB of padding (306 KB zipped, in a shared folder) took 3.2 GB of memory
MAX_CONFIG = 64 << 20
LOAD_TRIES = 5  # reads of a model replaced while it is read, before giving up


def load(path: str | Path, *, device: str | None = None, encoder: Any = None, decoder: Any = None):
    """Load a model saved by ``est.save(path)`` or a run folder written by ``aekit train``.

    A model trained with your own encoder and decoder is rebuilt from the import path and arguments
    its ``config.json`` records (``aekit.network(...)``, or a class with ``get_config()``), which
    imports that code: load only runs you trust. Or pass the networks: the weights are loaded into
    them after every tensor's name and shape is checked. A network file inside the run folder is
    never imported. See ``docs/guide/networks.md``.

    Parameters
    ----------
    path : str or Path
        The folder holding ``config.json`` and ``model.safetensors``.
    device : str, optional
        Where to put the model ("cpu", "cuda", ...); defaults to the best available.
    encoder, decoder : torch.nn.Module or aekit.network(...), optional
        The networks to load the weights into, in place of those ``config.json`` names.

    Returns
    -------
    estimator
        A fitted Autoencoder, Denoiser, AnomalyDetector or VAE.

    Examples
    --------
    >>> ae = aekit.load("runs/basic")          # doctest: +SKIP
    >>> z = ae.transform(images)               # doctest: +SKIP
    >>> ae = aekit.load("runs/mine", encoder=Encoder(), decoder=Decoder())   # doctest: +SKIP
    """
    path = as_path(path, "path")
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is a file; expected the folder that holds {CONFIG} and {WEIGHTS}")
    return read_one_version(path, lambda: _load_once(path, device, encoder, decoder))


def read_one_version(path: str | Path, read: Callable[[], T]) -> T:
    """``read()`` of the saved model or run at ``path``, done again until no other version came
    in while it read (:func:`version` the same before and after); a one-line RunInProgress after
    :data:`LOAD_TRIES` reads.

    config.json and the weights are read one after the other: a run replaced in between (a
    retrain with --overwrite, a save(overwrite=True)) gave the old threshold with the new network,
    flagging 2 rows of 200 where either version flagged 19.
    """
    path = Path(path)
    for _ in range(LOAD_TRIES):
        seen = version(path)
        try:
            result = read()
        except AekitError:
            if version(path) == seen:
                raise
            continue  # the files did not fit together because they were of two versions
        if version(path) == seen:
            return result
    raise RunInProgress(
        f"{path} was replaced while it was read, {LOAD_TRIES} times; load it once it is written"
    )


def version(path: str | Path) -> tuple | None:
    """What identifies the version of a saved model or run now at ``path``: its folder, and its
    two files' inodes, times and sizes (a new version holds new files); None where there is none.
    A command that reads a run and then writes it (``calibrate``, ``plot``) writes only over the
    version it read (:func:`aekit.recipes.folder.updating`)."""
    from .._transaction import folder_version

    return folder_version(path, (CONFIG, WEIGHTS))


def _load_once(path: Path, device: str | None, encoder: Any, decoder: Any):
    """One read of the model at ``path`` (see :func:`load`)."""
    from .._transaction import readable

    config = read_config(path)
    path = readable(path)
    cls = estimator_class(config["estimator"])
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in config["params"].items()}
    if (encoder is not None or decoder is not None) and not (
        params.get("encoder") or params.get("decoder")
    ):
        raise UsageError(
            f"{path} was trained with aekit's built-in network, which config.json rebuilds; "
            f"load it without encoder= and decoder="
        )
    for name, given in (("encoder", encoder), ("decoder", decoder)):
        if given is not None:
            # the weights go into these: nothing named in config.json is imported
            params[name] = check(name, given, NETWORKS[name])  # the caller's slip said
        else:
            refuse_files_under(params.get(name), path, name)
            refuse_unrecorded_files(params.get(name), path / CONFIG, name)
    try:
        est = cls(**params)
        validate_params(est)  # a hand-edited value is named here, not met deep in the model
        if device is not None:
            est.set_params(device=device)
        est._set_state(config["state"])
    except (TypeError, KeyError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        written = _recorded_aekit(config)  # a newer aekit's parameter, say
        other = f"; written by aekit {written}, read by {__version__}"
        other = other if written not in (None, __version__) else ""
        raise RunFailure(
            f"{path / CONFIG}: the saved parameters or state do not fit {cls.__name__} "
            f"({one_line(exc)[:160]}){other}"
        ) from None
    check_saved_state(est, path / CONFIG)
    _check_model_fits(est, path)  # before the model is built: sizes come from a file
    check_header(path / WEIGHTS, _model_tensors(est))  # before its data is read
    tensors = load_tensors(path / WEIGHTS)
    check_finite(tensors, str(path / WEIGHTS))
    try:
        # the network is built before its weights are loaded: its initial draws leave the
        # caller's generator as it was (a notebook seeding torch before or after a load alike)
        # float32 as trained, whatever the process's default dtype (float64 weights failed every batch)
        with GLOBAL_RNG, borrowed_rng(), float32_default():
            est._set_tensors(tensors, config["state"])
    except AekitError:
        raise
    except (
        RuntimeError,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        OverflowError,
        MemoryError,
    ) as exc:
        # ValueError/TypeError: bad params in config; MemoryError: sizes in config beyond the machine
        raise RunFailure(
            f"{path / WEIGHTS}: weights do not fit the model in {CONFIG} ({one_line(exc)[:160]})"
        ) from None
    check_loaded(est, config["state"], path)
    est._record_built_with()  # what a later save records, whatever set_params does
    return est
