"""Your own encoder and decoder: how aekit names, builds, checks and reloads them, without pickle.

A network is given to an estimator (``encoder=``, ``decoder=``) in one of two forms:

* a **spec**, ``aekit.network("mypkg.nets:Encoder", channels=64)``: the import path of a
  ``torch.nn.Module`` class (or of a function returning one) and its constructor arguments as JSON.
  aekit builds it at ``fit`` with the weights drawn from the estimator's ``seed``, passing
  ``input_shape`` (one sample's shape) and ``latent_dim`` when the constructor takes them and the
  spec does not set them. A spec *is* its JSON (a ``dict``: ``{"network": ..., "args": {...}}``), so
  ``config.json`` records it as it is and :func:`aekit.load` rebuilds it in a fresh process.
* a **module** you built yourself: trained as given (a copy: your module is not changed). If its
  class has a ``get_config()`` method returning its constructor arguments as JSON, the run records
  ``{"network": "its.module:Class", "args": get_config()}`` and reloads by import path too;
  otherwise reload it with ``aekit.load(path, encoder=..., decoder=...)``, which loads the weights
  into the modules you pass after checking every tensor's name and shape (:func:`check_weights`).

The import path is ``MODULE:NAME`` with MODULE an importable module (``mypkg.nets``) or a file
(``path/to/nets.py``). **Loading a run imports the code its config.json names**, as ``import
mypkg.nets`` would: only load runs you trust, as you would only import code you trust. A file is
recorded with its absolute path and its SHA-256, and is imported again only while it is unchanged;
a file inside the run folder being loaded is refused (a run folder never brings code of its own).
Nothing is ever unpickled: the weights are safetensors, the rest JSON.

:func:`build_pair` checks the two networks on one sample of zeros before training: the encoder's
output gives the latent size, and a decoder that does not give back the input's shape is one line
("the decoder returned (B, 1, 27, 27) for inputs of (B, 1, 28, 28)").
"""

from __future__ import annotations

import copy
import copyreg
import hashlib
import importlib
import importlib.util
import inspect
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import AekitError, NotFound, RunFailure, UsageError, one_line
from .vae import GaussianLatentVAE

NAME_HINT = "'mypkg.nets:Encoder' or 'path/to/nets.py:Encoder'"
# samples of the shape check: two, so that a network that drops the batch axis shows
PROBE_BATCH = 2
# The modules imported from files: module name -> (absolute path, SHA-256), to record their classes.
_FILES: dict[str, tuple[Path, str]] = {}


class NetworkSpec(dict):
    """A network named by import path, with JSON constructor arguments: ``{"network": "MODULE:NAME",
    "args": {...}}`` (and ``"sha256"`` for a file). Made by :func:`network`; it is JSON as it stands.

    Examples
    --------
    >>> NetworkSpec({"network": "torch.nn:Identity", "args": {}})
    aekit.network('torch.nn:Identity')
    """

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in (self.get("args") or {}).items())
        return f"aekit.network({self.get('network')!r}{args})"


def network(target: str, /, **args: Any) -> NetworkSpec:
    """Name a network by import path and constructor arguments, for ``encoder=`` / ``decoder=``.

    The class is imported now (so a wrong name is one line before any data is read) and the
    arguments are checked against its constructor; the network itself is built at ``fit``, with its
    weights drawn from the estimator's ``seed``. ``input_shape`` (one sample's shape, as the network
    receives it) and ``latent_dim`` (the encoder: the estimator's ``latent_dim``; the decoder: the
    size of the encoder's output) are passed when the constructor takes them and ``args`` does not
    set them. A run saved with it reloads with ``aekit.load(path)`` alone.

    Parameters
    ----------
    target : str
        ``"MODULE:NAME"``: an importable module (``"mypkg.nets:Encoder"``) or a Python file
        (``"path/to/nets.py:Encoder"``, recorded with its absolute path and SHA-256), and the name of
        a ``torch.nn.Module`` class (a class only: a spec that could name any function would let
        a run's config.json call it).
    **args :
        Constructor arguments: JSON values (numbers, strings, booleans, None, lists, dicts).

    Returns
    -------
    NetworkSpec
        A ``dict`` ``{"network": target, "args": args}``, as ``config.json`` records it.

    Examples
    --------
    >>> import aekit
    >>> aekit.network("torch.nn:Identity")
    aekit.network('torch.nn:Identity')
    >>> enc = aekit.network("mypkg.nets:Encoder", channels=64)      # doctest: +SKIP
    >>> aekit.Autoencoder(encoder=enc, decoder=aekit.network("mypkg.nets:Decoder"))   # doctest: +SKIP
    """
    return named(target, args, "network")


def named(target: str, args: Mapping[str, Any], name: str) -> NetworkSpec:
    """:func:`network` with ``name`` (``"--encoder"``) opening its error lines."""
    if not isinstance(target, str):
        raise UsageError(f"{name}: expected an import path such as {NAME_HINT}, got {target!r}")
    spec: dict[str, Any] = {"network": target, "args": dict(args)}
    module, _, _ = _split(target, name)
    if _is_file(module):
        path = Path(module).expanduser().resolve()
        spec["network"] = f"{path}:{target.rpartition(':')[2]}"
        spec["sha256"] = _digest(path, name)
    return check_spec(spec, name)


# ---- specs: their form, the import, the build ------------------------------------------------------


def check_spec(value: Mapping[str, Any], name: str) -> NetworkSpec:
    """``value`` (a spec's JSON) as a :class:`NetworkSpec`, its class imported and its arguments checked."""
    spec = _check_form(value, name)
    if spec["args"] is not None:  # null: a module recorded without arguments, passed again at load
        factory = import_network(spec, name)
        try:
            inspect.signature(factory).bind_partial(**spec["args"])
        except TypeError as exc:
            raise UsageError(
                f"{name}: {spec['network']} does not take these arguments ({exc})"
            ) from None
        except ValueError:  # no signature to read (a builtin): the build will tell
            pass
    return spec


def _check_form(value: Mapping[str, Any], name: str) -> NetworkSpec:
    """The JSON frame of a spec: a network name, an object of arguments (or null: not rebuildable)."""
    unknown = set(value) - {"network", "args", "sha256"}
    if unknown or not isinstance(value.get("network"), str):
        raise UsageError(
            f"{name} must be {{'network': 'MODULE:NAME', 'args': {{...}}}} (aekit.network(...)), got "
            f"{dict(value)!r}"
        )
    args = value.get("args", {})
    if args is not None and not isinstance(args, Mapping):
        raise UsageError(f"{name}: 'args' must be an object of constructor arguments, got {args!r}")
    if args is not None:
        try:
            json.dumps(dict(args), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"{name}: the arguments of {value['network']} must be JSON values (numbers, strings, "
                f"lists, dicts) so that the run can record them: {exc}"
            ) from None
    sha = value.get("sha256")
    if sha is not None and not isinstance(sha, str):
        raise UsageError(f"{name}: 'sha256' must be a hex digest, got {sha!r}")
    spec = NetworkSpec(network=value["network"], args=None if args is None else dict(args))
    if sha is not None:
        spec["sha256"] = sha
    return spec


def _split(target: str, name: str) -> tuple[str, str, str]:
    module, sep, attr = target.rpartition(":")
    if not sep or not module or not attr or not all(p.isidentifier() for p in attr.split(".")):
        raise UsageError(f"{name}: {target!r} is not MODULE:NAME; expected e.g. {NAME_HINT}")
    return module, sep, attr


def _is_file(module: str) -> bool:
    return module.endswith(".py") or "/" in module or "\\" in module


def _digest(path: Path, name: str) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise NotFound(
            f"{name}: no such file {path}; expected a Python file with the network",
            filename=str(path),
        ) from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read {path} ({exc.strerror or exc})") from None


def import_network(spec: Mapping[str, Any], name: str) -> type[nn.Module]:
    """The ``torch.nn.Module`` class a spec names: its module imported (a file only while unchanged).

    A class and nothing else: a spec is JSON that a run folder brings, and a spec that could name
    any callable would let a config.json call ``shutil:rmtree`` or ``subprocess:call`` with
    arguments of its choosing, what a malicious pickle does and aekit's model files never may.
    """
    module_name, _, attr = _split(spec["network"], name)
    if module_name == "__main__":
        raise UsageError(
            f"{name}: {spec['network']} is defined in __main__ (a script or notebook), which another "
            f"process cannot import; move it into a module or file and name that"
        )
    if _is_file(module_name):
        module = _import_file(Path(module_name), spec.get("sha256"), name)
    else:
        module = _import_module(module_name, name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise UsageError(f"{name}: {module_name} has no {attr!r}; expected e.g. {NAME_HINT}")
    if not (inspect.isclass(obj) and issubclass(obj, nn.Module)):
        raise UsageError(
            f"{name}: {spec['network']} is not a torch.nn.Module class; aekit builds a network only "
            f"from a class of one (it calls nothing else that a spec names)"
        )
    return obj


def _import_module(module_name: str, name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"{name}: cannot import {module_name!r} ({one_line(exc)}); install it or put it on "
            f"PYTHONPATH, or give its file: path/to/{module_name.rpartition('.')[2]}.py:NAME"
        ) from None
    except SystemExit as exc:  # a program, not a module: it must not end aekit's process
        raise _exits(module_name, exc, name) from None
    except Exception as exc:  # the user's module failed while importing
        raise UsageError(
            f"{name}: importing {module_name} failed: {type(exc).__name__}: {one_line(exc)[:200]}"
        ) from None


def _exits(what: Any, exc: SystemExit, name: str) -> UsageError:
    """The one line for a network's module that called ``sys.exit()`` while it was imported."""
    code = "" if exc.code is None else repr(exc.code)
    return UsageError(
        f"{name}: importing {what} called sys.exit({code}); a network's module must not run a "
        f'program when imported (put that under if __name__ == "__main__":)'
    )


def _import_file(path: Path, sha256: str | None, name: str) -> Any:
    """A Python file as a module of its own (``_aekit_network_STEM_HASH`` in ``sys.modules``)."""
    if not path.is_absolute():
        raise UsageError(
            f"{name}: the file {path} is relative; aekit.network() records files by absolute path"
        )
    digest = _digest(path, name)
    if sha256 is not None and digest != sha256:
        raise UsageError(
            f"{name}: {path} has changed since the network was recorded (SHA-256 {digest[:12]}..., "
            f"recorded {sha256[:12]}...); put back the file as it was recorded, or train the run "
            f"again (in Python, aekit.load(path, encoder=..., decoder=...) loads it into networks "
            f"you pass; the aekit command cannot)"
        )
    # named by the path and the content: a copy of the file in another folder is a module of its
    # own, so a pickle names the file its network came from (one module for both named the first
    # copy, and failed once that copy was gone: review 66 #4); an edited file is a new module
    where = hashlib.sha256(f"{path}\0{digest}".encode("utf-8", "surrogateescape")).hexdigest()
    module_name = (
        f"_aekit_network_{''.join(c if c.isalnum() else '_' for c in path.stem)}_{where[:16]}"
    )
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{name}: {path} is not a Python file that can be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # classes defined there can be found again (copies, pickles)
    _FILES[module_name] = (path, digest)
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:
        del sys.modules[module_name], _FILES[module_name]
        raise _exits(path, exc, name) from None
    except Exception as exc:
        del sys.modules[module_name], _FILES[module_name]
        raise UsageError(
            f"{name}: importing {path} failed: {type(exc).__name__}: {one_line(exc)[:200]}"
        ) from None
    _pickled_by_file(module, module_name)
    return module


def _pickled_by_file(holder: Any, module_name: str, seen: set | None = None) -> None:
    """The torch modules defined in a network file (at its top or nested in its classes) pickle by
    the file's path (:func:`_reduce_by_file`); a class with its own pickling keeps it."""
    seen = set() if seen is None else seen
    for cls in vars(holder).values():
        if not (inspect.isclass(cls) and cls.__module__ == module_name) or id(cls) in seen:
            continue
        seen.add(id(cls))  # classes naming each other (A.partner = B, B.partner = A) once each
        _pickled_by_file(cls, module_name, seen)  # Outer.Block
        own = (
            cls.__reduce_ex__ is not object.__reduce_ex__ or cls.__reduce__ is not object.__reduce__
        )
        if issubclass(cls, nn.Module) and not own:
            cls.__reduce_ex__ = _reduce_by_file


def _reduce_by_file(self: nn.Module, protocol: int) -> Any:
    """Pickle an instance of a class from a network file by the file's path and SHA-256, not by
    the module name aekit imported it under, which another process has not (a pickled fitted
    estimator answered "No module named '_aekit_network_nets_...'" there): unpickled by
    :func:`_file_object`, which imports the file again if it must. A subclass defined elsewhere
    (the user's script) pickles as Python pickles it."""
    reduced = object.__reduce_ex__(self, protocol)
    cls = type(self)
    # protocol 0 or 1, keyword arguments to __new__, or a class from elsewhere: as Python does
    if reduced[0] is not copyreg.__newobj__ or cls.__module__ not in _FILES:
        return reduced
    path, digest = _FILES[cls.__module__]
    args = (str(path), digest, cls.__module__, cls.__qualname__, *reduced[1][1:])
    return (_file_object, args, *reduced[2:])


def _file_object(path: str, digest: str, module_name: str, qualname: str, *args: Any) -> Any:
    """A bare instance of the class ``qualname`` of a network file (its state follows): from the
    module already imported in this process (a copy needs no file), else the file imported again
    while it is unchanged."""
    module = sys.modules.get(module_name)
    if module is None:
        if _digest(Path(path), "unpickling a network") != digest:
            raise UsageError(
                f"unpickling a network: {path} has changed since it was pickled (SHA-256 "
                f"{digest[:12]}... then); put the file back as it was, or fit and pickle again"
            )
        module = _import_file(Path(path), digest, "unpickling a network")
    cls: Any = module
    for part in qualname.split("."):
        cls = getattr(cls, part)
    return cls.__new__(cls, *args)


def file_under(value: Any, folder: Path) -> Path | None:
    """The network file a spec names, when it lies inside ``folder``; else None."""
    if not isinstance(value, Mapping) or not isinstance(value.get("network"), str):
        return None
    module = value["network"].rpartition(":")[0]
    if not _is_file(module):
        return None
    path, root = Path(module).resolve(), folder.resolve()
    return path if path == root or root in path.parents else None


def refuse_files_under(value: Any, folder: Path, name: str) -> None:
    """Refuse a spec naming a file inside ``folder`` (the run being loaded): a run never brings its own code."""
    path = file_under(value, folder)
    if path is not None:
        raise RunFailure(
            f"{folder}: config.json names a network file inside the run folder ({path}); aekit "
            f"does not import code that comes with a run. Load it with aekit.load(path, "
            f"{name}=..., ...) and the modules you trust"
        )


def refuse_unrecorded_files(value: Any, config: Path, name: str) -> None:
    """Refuse, before it is imported, a network file that ``config`` (a run's config.json) names
    without its SHA-256: aekit records the digest of every file it trains with, and a spec without
    one would import whatever the file holds now (a hand-written config.json just left it out)."""
    if not isinstance(value, Mapping) or value.get("sha256") is not None:
        return
    target = value.get("network")
    module = target.rpartition(":")[0] if isinstance(target, str) else ""
    if _is_file(module):
        raise RunFailure(
            f"{config}: the {name} names the file {module} without its SHA-256, which every run "
            f"aekit writes records; the file is not imported (the run was edited or not written "
            f"by aekit). Load it with aekit.load(path, {name}=..., ...) and the modules you trust"
        )


def refuse_files_in_output(params: Mapping[str, Any], folder: Path) -> None:
    """Before training or saving into ``folder``: a network file inside it would make a run that
    nothing loads (a run never brings its own code), so it is refused while nothing is lost."""
    for name in ("encoder", "decoder"):
        path = file_under(params.get(name), folder)
        if path is not None:
            raise UsageError(
                f"the {name}'s file {path} lies inside the run folder {folder}, and aekit never "
                f"imports code from inside a run; keep the network file outside it"
            )


def _with_digest(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec naming a file records its SHA-256 (a dict written by hand may lack it), which
    loading the run requires (:func:`refuse_unrecorded_files`)."""
    target = spec.get("network")
    module = target.rpartition(":")[0] if isinstance(target, str) else ""
    if spec.get("sha256") is None and _is_file(module) and Path(module).is_file():
        spec["sha256"] = _digest(Path(module), "network")
    return spec


def describe(value: Any) -> dict[str, Any] | None:
    """How a parameter's network is recorded in config.json: a spec as it is; a module as its class's
    import path with ``get_config()`` as arguments (``"args": null`` when it has none: not rebuildable)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _with_digest(dict(value))
    cls = type(value)
    path, digest = _FILES.get(cls.__module__, (cls.__module__, None))
    target = f"{path}:{cls.__qualname__}"
    get_config = getattr(value, "get_config", None)
    args = get_config() if callable(get_config) and "<locals>" not in cls.__qualname__ else None
    if args is not None and cls.__module__ == "__main__":
        args = None  # a fresh process cannot import it
    recorded = {"network": target, "args": None if args is None else dict(args)}
    if digest is not None:
        recorded["sha256"] = digest
    if args is not None:
        _check_form(recorded, f"{cls.__name__}.get_config()")
    return recorded


def build(value: Any, name: str, context: Mapping[str, Any], memo: dict | None = None) -> nn.Module:
    """The network a parameter gives: a copy of a module, or a spec built with its arguments (and of
    ``context`` what its constructor takes and the arguments do not set).

    Modules copied with one ``memo`` keep what they share (a decoder tied to the encoder's weights)."""
    if isinstance(value, nn.Module):
        return copy.deepcopy(value, memo)
    spec = _check_form(value, name)
    if spec["args"] is None:
        raise UsageError(
            f"the {name} ({spec['network']}) was recorded without constructor arguments (its class "
            f"has no get_config()), so only Python can load the run, given the modules: "
            f"aekit.load(path, encoder=..., decoder=...); the aekit command cannot build them"
        )
    factory = import_network(check_spec(spec, name), name)
    kwargs = dict(spec["args"])
    try:
        taken = inspect.signature(factory).parameters
    except ValueError:
        taken = {}
    kwargs.update(
        {k: v for k, v in context.items() if k in taken and k not in kwargs and v is not None}
    )
    try:
        module = factory(**kwargs)
    except Exception as exc:
        raise UsageError(
            f"the {name} {spec['network']}({_args(kwargs)}) failed: {type(exc).__name__}: "
            f"{one_line(exc)[:200]}"
        ) from None
    if not isinstance(module, nn.Module):
        raise UsageError(
            f"the {name} {spec['network']} returned a {type(module).__name__}; expected a torch.nn.Module"
        )
    return module


def takes(value: Any, key: str) -> bool:
    """Whether building ``value`` passes it ``key`` from the estimator (``latent_dim``): a spec whose
    constructor takes ``key`` and whose arguments do not set it; never a module built already."""
    if not isinstance(value, Mapping) or value.get("args") is None or key in value["args"]:
        return False
    try:
        return key in inspect.signature(import_network(value, key)).parameters
    except ValueError:  # no signature to read: the build passes nothing
        return False


def _args(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


# ---- the shape check on one sample ------------------------------------------------------------------


def _b(shape: Sequence[int]) -> str:
    """A batch's shape with the batch axis as B: (B, 1, 28, 28)."""
    return "(" + ", ".join(["B", *(str(int(d)) for d in shape[1:])]) + ")"


def _device_of(module: nn.Module) -> torch.device | None:
    tensor = next(iter(module.parameters()), None)
    return None if tensor is None else tensor.device


@torch.no_grad()
def _run(module: nn.Module, x: torch.Tensor, name: str, what: str) -> Any:
    """``module(x)`` in eval mode (its training flag restored), a failure as one line."""
    was = module.training
    module.eval()
    try:
        return module(x)
    except Exception as exc:
        raise UsageError(
            f"the {name} failed on {what} of {_b(x.shape)}: {type(exc).__name__}: {one_line(exc)[:240]}"
        ) from None
    finally:
        module.train(was)


def as_tensor(out: Any, name: str, key: str = "reconstruction") -> torch.Tensor:
    """A network's output as one tensor: a tensor, or pythae's ``ModelOutput`` (a mapping) holding ``key``."""
    if isinstance(out, Mapping) and key in out:
        out = out[key]
    if not isinstance(out, torch.Tensor):
        raise UsageError(f"the {name} returned a {type(out).__name__}; expected one tensor")
    return out


def as_posterior(out: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """A variational encoder's output as ``(mean, logvar)``: a pair of tensors, or pythae's ``ModelOutput``
    with ``embedding`` and ``log_covariance``."""
    if isinstance(out, Mapping) and "embedding" in out:
        if out.get("log_covariance") is None:
            raise UsageError(
                "the VAE's encoder returned a mapping with 'embedding' but no 'log_covariance' (an "
                "autoencoder's encoder); expected (mean, logvar), or pythae's embedding and "
                "log_covariance of q(z|x)"
            )
        out = (out["embedding"], out["log_covariance"])
    if (
        not isinstance(out, (tuple, list))
        or len(out) != 2
        or not all(isinstance(t, torch.Tensor) for t in out)
    ):
        raise UsageError(
            f"the VAE's encoder returned a {type(out).__name__}; expected (mean, logvar): two "
            f"tensors (B, latent), the mean and log-variance of q(z|x)"
        )
    return out[0], out[1]


def _check_code(out: Any, x: torch.Tensor, variational: bool) -> tuple[int, ...]:
    """One sample's code shape from the encoder's output on ``x``, or one line saying what is wrong."""
    if variational:
        mean, logvar = as_posterior(out)
        if mean.dim() != 2 or mean.shape != logvar.shape or len(mean) != len(x):
            raise UsageError(
                f"the VAE's encoder returned a mean of {_b(mean.shape)} and a log-variance of "
                f"{_b(logvar.shape)} for inputs of {_b(x.shape)}; expected both (B, latent)"
            )
        return (int(mean.shape[1]),)
    z = as_tensor(out, "encoder", "embedding")
    if z.dim() < 2 or len(z) != len(x):
        raise UsageError(
            f"the encoder returned {tuple(z.shape)} for inputs of {tuple(x.shape)}; expected a code "
            f"per sample, (B, ...)"
        )
    return tuple(int(d) for d in z.shape[1:])


def build_pair(
    encoder: Any,
    decoder: Any,
    input_shape: Sequence[int],
    latent_dim: int | None = None,
    *,
    variational: bool = False,
) -> tuple[nn.Module, nn.Module, tuple[int, ...]]:
    """(encoder, decoder, one sample's code shape): both built and checked on zeros of ``input_shape``.

    The encoder is built first and run on one batch; its output gives the code's shape, which the
    decoder's constructor may take as ``latent_dim`` (a flat code) or ``latent_shape``; the decoder
    must give back ``input_shape`` (a VAE's decoder: the likelihood's parameters, shaped as the input).
    """
    shape = tuple(int(d) for d in input_shape)
    memo: dict = {}  # one copy of what the two modules share: tied weights stay tied
    enc = build(encoder, "encoder", {"input_shape": shape, "latent_dim": latent_dim}, memo)
    x = torch.zeros((PROBE_BATCH, *shape), device=_device_of(enc))
    out = _run(enc, x, "encoder", "inputs")
    code = _check_code(out, x, variational)
    z = as_posterior(out)[0] if variational else as_tensor(out, "encoder", "embedding")
    flat = code[0] if len(code) == 1 else None
    dec = build(
        decoder, "decoder", {"input_shape": shape, "latent_dim": flat, "latent_shape": code}, memo
    )
    y = as_tensor(_run(dec, z.to(_device_of(dec) or z.device), "decoder", "codes"), "decoder")
    if tuple(y.shape) != tuple(x.shape):
        raise UsageError(
            f"the decoder returned {_b(y.shape) if len(y) == len(x) else tuple(y.shape)} for inputs of "
            f"{_b(x.shape)}; it must give back the input's shape"
            + ("" if len(y) == len(x) else f" (a batch of {len(x)} gave {len(y)})")
        )
    for name, t in (("encoder", z), ("decoder", y)):
        if not t.is_floating_point():  # a loss cannot flow back through integers
            raise UsageError(
                f"the {name} returned {t.dtype} numbers; expected floating-point tensors (a loss "
                f"trains a network through them: round or cast after the network, not inside it)"
            )
    _check_trainable(enc, dec)
    return enc, dec, code


def _check_trainable(encoder: nn.Module, decoder: nn.Module) -> None:
    """Refuse two networks with nothing to train: the optimizer would have no parameter to step."""
    if not any(p.requires_grad for m in (encoder, decoder) for p in m.parameters()):
        raise UsageError(
            "the encoder and decoder have no trainable parameters (no nn.Parameter that requires "
            "grad); give at least one of them a layer to train"
        )


# ---- the models around the user's networks -------------------------------------------------------


def _tracing() -> bool:
    """Whether torch is tracing the model (``torch.export``, ``torch.compile``): the tracer's own
    error then says what it tripped on."""
    # each asked only where this torch has it (torch.compiler.is_compiling from 2.3, is_exporting 2.6)
    compiling = getattr(torch.compiler, "is_compiling", lambda: False)
    exporting = getattr(torch.compiler, "is_exporting", lambda: False)
    return bool(compiling() or exporting())


def forward(module: nn.Module, x: torch.Tensor, name: str, what: str) -> Any:
    """``module(x)``: the user's network on a batch during training or inference (the shape check only
    ran two samples of zeros), its failure one line naming the network, the batch and the error."""
    if _tracing():
        return module(x)
    try:
        return module(x)
    except (AekitError, torch.cuda.OutOfMemoryError):  # torch.OutOfMemoryError from torch 2.5
        raise
    except Exception as exc:
        mode = "training" if module.training else "inference"
        raise UsageError(
            f"the {name} failed on a batch of {len(x)} {what}{'' if len(x) == 1 else 's'} of "
            f"{_b(x.shape)} ({mode}): "
            f"{type(exc).__name__}: {one_line(exc)[:240]}"
        ) from None


class CustomAutoencoder(nn.Module):
    """The user's encoder and decoder as one autoencoder: ``encode``, ``decode`` and ``forward`` as
    aekit's own models have them (a pythae-style ``ModelOutput`` is unwrapped to its tensor).

    Examples
    --------
    >>> model = CustomAutoencoder(nn.Flatten(), nn.Unflatten(1, (1, 2, 2)))
    >>> model(torch.zeros(3, 1, 2, 2)).shape
    torch.Size([3, 1, 2, 2])
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        out = forward(self.encoder, x, "encoder", "input")
        return as_tensor(out, "encoder", "embedding")  # (B, *input_shape) -> (B, *code)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = forward(self.decoder, z, "decoder", "code")
        return as_tensor(out, "decoder")  # (B, *code) -> (B, *input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class CustomVAE(GaussianLatentVAE):
    """The user's encoder (x -> mean, logvar of q(z|x)) and decoder (z -> the likelihood's parameters:
    Bernoulli logits or Gaussian means) as a VAE with aekit's prior, sampling and likelihoods.

    Examples
    --------
    >>> class Enc(nn.Module):
    ...     def forward(self, x):
    ...         return x.flatten(1)[:, :2], x.flatten(1)[:, 2:]
    >>> vae = CustomVAE(Enc(), nn.Unflatten(1, (1, 1, 2)))
    >>> vae.encode(torch.zeros(3, 1, 1, 4))[0].shape
    torch.Size([3, 2])
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, likelihood: str = "bernoulli"):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self._add_likelihood(likelihood)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = forward(self.encoder, x, "encoder", "input")
        return as_posterior(out)  # (B, *input_shape) -> 2 x (B, latent)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = forward(self.decoder, z, "decoder", "code")
        x = as_tensor(out, "decoder")  # (B, latent) -> (B, *input_shape)
        if self.likelihood == "bernoulli" and isinstance(out, Mapping):
            x = _logits_of(x)
        return x


def _logits_of(p: torch.Tensor) -> torch.Tensor:
    """Bernoulli logits from a pythae decoder's ``reconstruction``: pythae's is the reconstruction
    itself (probabilities after its sigmoid; its loss is ``binary_cross_entropy(recon_x, x)``), where
    aekit's Bernoulli decoder gives logits. Read as logits, every pixel stayed near 0.5."""
    if not _tracing() and p.numel() and bool((p.amin() < 0) | (p.amax() > 1)):
        raise UsageError(
            "the VAE's decoder returned a 'reconstruction' outside [0, 1]; a pythae-style Bernoulli "
            "decoder gives probabilities (end it in a Sigmoid), or return a tensor of logits"
        )
    return torch.logit(p, eps=torch.finfo(p.dtype).eps)


# ---- weights into networks the user passes -------------------------------------------------------


def check_weights(model: nn.Module, tensors: Mapping[str, torch.Tensor], where: str) -> None:
    """Refuse, in one line, saved tensors that do not fit ``model``: every name and shape must match."""
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    missing = [k for k in want if k not in got]  # in the network's order
    extra = [k for k in got if k not in want]
    wrong = [k for k in want if k in got and want[k] != got[k]]
    if wrong:
        k = wrong[0]
        problem = f"the tensor {k!r} is {got[k]} in the file but {want[k]} in the network"
    elif missing:
        problem = f"the network has {len(missing)} tensor(s) the file lacks, e.g. {missing[0]!r}"
    elif extra:
        problem = f"the file holds {len(extra)} tensor(s) the network lacks, e.g. {extra[0]!r}"
    else:
        return
    raise RunFailure(
        f"{where}: the weights do not fit the network: {problem}"
        + (f" ({len(wrong)} tensors differ in shape)" if len(wrong) > 1 else "")
        + "; pass the encoder and decoder the run was trained with"
    )


def code_size(shape: Sequence[int]) -> int:
    """The number of values in one sample's code."""
    return int(math.prod(int(d) for d in shape))
