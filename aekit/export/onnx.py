"""ONNX export of every family: small ``nn.Module`` wrappers around the fitted model, exported with
``torch.onnx.export(dynamo=True)``, named, annotated and written as one ``.onnx`` file.

Parts (the first of each family is the default; ``batch`` is a dynamic axis everywhere):

===============  ===========  ====================================================================
estimator        part         graph
===============  ===========  ====================================================================
Autoencoder      autoencoder  ``x`` -> ``reconstruction``  (``reconstruct``)
                 encoder      ``x`` -> ``latent``  (``transform``)
                 decoder      ``latent`` -> ``reconstruction``  (``inverse_transform``)
Denoiser         denoiser     ``x`` -> ``denoised``, any height and width  (``transform``)
                 encoder      ``x`` -> ``features`` (the padded image's code)
                 decoder      ``features`` -> ``image`` (padded size)
AnomalyDetector  detector     raw ``x`` -> ``score``, ``label``: scaler, model, per-sample error, the
                              code density and the fitted threshold in the graph  (``decision_function``,
                              ``predict``); a row holding NaN or infinity gets label 1 and score NaN
                 autoencoder  raw ``x`` -> ``reconstruction`` in the input's units  (``reconstruct``)
VAE              decoder      ``z`` -> ``image`` = E[x|z], in [0, 1] for Bernoulli  (``sample``)
                 encoder      ``x`` -> ``mu``, ``logvar`` of q(z|x)  (``transform`` gives ``mu``)
                 autoencoder  ``x`` -> ``reconstruction``  (``reconstruct``)
===============  ===========  ====================================================================

Why the dynamo exporter (``torch.export``) rather than the TorchScript tracer (``dynamo=False``):
it traces with symbolic sizes, so a dynamic axis is either really dynamic or the export fails,
whereas the tracer silently bakes sizes into the graph (it fixes the denoiser's padding branch to
the example image's size) and is deprecated since torch 2.9. It costs the onnxscript dependency
and about a second per export.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import io
import json
import logging
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import __version__, _io, _outputs
from ..errors import RunFailure, UsageError, naming, one_line
from ..estimators.anomaly.density import TERMS, lof_factor
from ..estimators.anomaly.scores import (
    mean_reconstruction,
    overflow_as_infinite,
    sample_scores,
)
from ..estimators.persistence import jsonable
from ..estimators.thresholds import raised_calibration
from ..estimators.validation import FLOAT32_MAX
from ..families import family_of
from ..models.imagescore import image_score
from ..training.serialize import check_finite
from . import PARTS

logger = logging.getLogger(__name__)

INSTALL = "pip install 'aekit[onnx]'"
# torch.export specialises sizes 0 and 1, so trace with 2 and declare the axis dynamic
EXAMPLE_BATCH = 2
# the exporter writes opset >= 18; lower versions go through a converter that may fail
MIN_OPSET = 18
# An image detector's bank in slices of this many features in its graph (a Gemm and a ReduceMin
# each): onnxruntime then holds (pixels, BANK_PART) distances at a time, not (pixels, bank_size)
BANK_PART = 256
# Loggers and warnings the exporter fills on success (torchvision missing, deprecations, progress).
NOISY_LOGGERS = (
    "torch.onnx",
    "torch.export",
    "torch._export",
    "torch._dynamo",
    "torch.fx",
    "torch.__trace",
    "onnxscript",
    "onnx_ir",
)


# The oldest releases that export every part (probe 64 floor #3-#5): torch 2.6 could not trace the
# detector's batched product, and 2.6 and 2.7 gave the denoiser's graph other sizes on odd images;
# onnxscript 0.6.0's version pass refused every model ("The model contains functions").
LEAST = {"torch": (2, 8), "onnxscript": (0, 6, 1)}


def _require(module: str):
    """An optional dependency, or one line naming the extra (for onnxscript: torch >= 2.8 too)."""
    if module == "onnxscript":
        _new_enough("torch", torch.__version__)
    try:
        found = importlib.import_module(module)
    except ImportError:
        raise UsageError(
            f"ONNX export needs the '{module}' package, which is not installed; run: {INSTALL}"
        ) from None
    if module in LEAST:
        _new_enough(module, getattr(found, "__version__", ""))
    return found


def _new_enough(name: str, version: str) -> None:
    """One line where ``version`` of ``name`` is older than :data:`LEAST` holds."""
    numbers = tuple(int(p) for p in re.findall(r"\d+", version.split("+")[0])[:3])
    if numbers and numbers < LEAST[name]:
        least = ".".join(map(str, LEAST[name]))
        raise UsageError(f"ONNX export needs {name} >= {least}, not {version}; run: {INSTALL}")


@contextlib.contextmanager
def _quiet():
    """Keep only errors from the exporter's loggers and silence its warnings, for the duration."""
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    # a failed export prints the traced graphs: the error line says what failed (--debug keeps the cause)
    sink = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


# ---- the graphs ------------------------------------------------------------------------------------


class _Part(nn.Module):
    """One exported graph, ``fn(self, x)``, over a CPU copy of the estimator's model (and constants)."""

    def __init__(
        self,
        model: nn.Module,
        fn: Callable[[_Part, torch.Tensor], Any],
        **constants: torch.Tensor,
    ):
        super().__init__()
        self.model = model
        self.fn = fn
        for name, value in constants.items():  # buffers: they become initializers of the graph
            self.register_buffer(name, value)

    def forward(self, x: torch.Tensor):
        return self.fn(self, x)


def _pad(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """ConvAutoencoder.pad without its "already a multiple" branch: padding by 0 is a no-op, and a
    branch on the size would fix height and width to the example's."""
    m = model.multiple
    return F.pad(x, (0, -x.shape[-1] % m, 0, -x.shape[-2] % m), mode="replicate")


def _denoise(p: _Part, x: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2:]
    return p.model.decode(p.model.encoder(_pad(p.model, x)))[
        ..., :h, :w
    ]  # as ConvAutoencoder.forward


def _detect(
    p: _Part, x: torch.Tensor, error: str, densities: dict[str, dict] | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    xs = (x - p.offset) / p.scale  # Scaler.torch_transform
    score = sample_scores(p.model(xs), xs, error, getattr(p, "residual_scale", None))
    # the density terms' factors (aekit.estimators.anomaly.density), in decision_function's order
    for prefix, numbers in (densities or {}).items():
        # (B, ...) -> (B, D): the code, or the scaled input itself
        rows = (p.model.encode(xs) if prefix == "density" else xs).reshape(x.shape[0], -1)
        ref, k_distance, lrd = (getattr(p, f"{prefix}_{n}") for n in ("codes", "k_distance", "lrd"))
        score = score * lof_factor(rows, ref, k_distance, lrd, **numbers)
    score = overflow_as_infinite(score)  # AnomalyDetector._scores
    score, label = flag_non_finite(
        x, score, (score > p.threshold).to(torch.int64)
    )  # AnomalyDetector.predict
    return score, label, conformal_p_value(score, p.calibration)


def conformal_p_value(score: torch.Tensor, calibration: torch.Tensor) -> torch.Tensor:
    """``(1 + #{calibration >= score}) / (n + 1)`` per row, as ``AnomalyDetector.p_values``
    (:func:`aekit.estimators.thresholds.p_values`); a NaN score has none at or above it.
    ``calibration``: the scores raised past float32's rounding (``raised_calibration``), so that a
    score equal to one of them, give or take its last bits, counts it, as ``p_values`` does."""
    at_least = (calibration[None, :] >= score[:, None]).sum(dim=1)  # (B, n) -> (B,)
    return (1.0 + at_least.to(torch.float64)) / (calibration.shape[0] + 1.0)


def flag_non_finite(
    x: torch.Tensor, score: torch.Tensor, label: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A row holding NaN or infinity is anomalous: its ``label`` is 1 and its ``score`` NaN.

    PyTorch's detector refuses such a row; a graph cannot refuse, and NaN > threshold is false,
    so without this a NaN row would be labelled normal. The score is made NaN (whatever the
    network made of the row) so that a consumer that reads only the score sees it is no score.
    """
    valid = torch.isfinite(x).flatten(1).all(dim=1)  # (B, ...) -> (B,)
    score = torch.where(valid, score, torch.full_like(score, float("nan")))
    return score, torch.where(valid, label, torch.ones_like(label))


def _vae_image(p: _Part, z: torch.Tensor) -> torch.Tensor:
    return p.model.mean_image(p.model.decode(z))  # E[x|z], as VAE.sample and inverse_transform


@dataclass
class _Graph:
    module: nn.Module
    input: str  # the input's name
    input_shape: list  # ints, or the names of dynamic axes
    outputs: dict[str, list]  # output name -> shape, as input_shape
    example: tuple[int, ...]  # the traced input's shape


def _graph(est: Any, part: str) -> _Graph:
    """The wrapper module, names and shapes of one part of a fitted estimator."""
    kind = type(est).__name__
    if kind not in _GRAPHS:  # pragma: no cover - _check_part refuses these first
        raise UsageError(f"cannot export a {kind}; expected one of {', '.join(PARTS)}")
    model = copy.deepcopy(est.model_).cpu().eval()  # on the CPU; the user's model stays where it is
    shape = [int(d) for d in est.input_shape_]
    return _GRAPHS[kind](est, part, model, shape)


def _scaling(scaler: Any) -> dict[str, torch.Tensor]:
    """A scaler's offset and scale as float32 tensors (buffers of the exported module)."""
    values = (("offset", scaler.offset_), ("scale", scaler.scale_))
    return {name: torch.as_tensor(value, dtype=torch.float32) for name, value in values}


def _latent(est: Any) -> list[int]:
    """One sample's code shape: ``latent_shape_`` (the user's encoder's output, or ``latent_dim``)."""
    return [int(d) for d in getattr(est, "latent_shape_", None) or (est.latent_dim_,)]


def _autoencoder_graph(est: Any, part: str, model: nn.Module, shape: list[int]) -> _Graph:
    x_shape, x_example = ["batch", *shape], (EXAMPLE_BATCH, *shape)
    z = ["batch", *_latent(est)]
    z_example = (EXAMPLE_BATCH, *z[1:])
    scaler = getattr(est, "scaler_", None)
    if scaler is None or scaler.kind == "none":
        if part == "autoencoder":
            return _Graph(model, "x", x_shape, {"reconstruction": x_shape}, x_example)
        if part == "encoder":
            return _Graph(model.encoder, "x", x_shape, {"latent": z}, x_example)
        return _Graph(model.decoder, "latent", z, {"reconstruction": x_shape}, z_example)
    # The input scaling is part of the model: inside the graph.
    scaling = _scaling(scaler)
    if part == "autoencoder":
        module = _Part(model, _scaled_rebuild, **scaling)
        return _Graph(module, "x", x_shape, {"reconstruction": x_shape}, x_example)
    if part == "encoder":
        module = _Part(model, lambda p, x: p.model.encoder((x - p.offset) / p.scale), **scaling)
        return _Graph(module, "x", x_shape, {"latent": z}, x_example)
    module = _Part(model, lambda p, x: _unscaled(p, p.model.decoder(x)), **scaling)
    return _Graph(module, "latent", z, {"reconstruction": x_shape}, z_example)


def _unscaled(p: nn.Module, r: torch.Tensor) -> torch.Tensor:
    """A reconstruction back in the input's units, held within float32's range as the estimators'
    ``Scaler.torch_inverse`` holds it (a column near 3.4e38 gave -inf in the graph alone)."""
    return (r * p.scale + p.offset).clamp(-FLOAT32_MAX, FLOAT32_MAX)


def _scaled_rebuild(p: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return _unscaled(p, p.model((x - p.offset) / p.scale))


def _scaled_mean_rebuild(p: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """An ensemble's reconstructions averaged over its members, in the input's units."""
    return _unscaled(p, mean_reconstruction(p.model((x - p.offset) / p.scale), x))


def _denoiser_graph(est: Any, part: str, model: nn.Module, shape: list[int]) -> _Graph:
    """Fully convolutional: height and width are dynamic too (the user's own network: fixed, as trained)."""
    if est.encoder is not None:
        return _custom_denoiser_graph(est, part, model, shape)
    c, h, w = shape
    m, code = model.multiple, int(model.config.channels[-1])
    image = ["batch", c, "height", "width"]
    example = (EXAMPLE_BATCH, c, max(h, 2), max(w, 2))
    if part == "denoiser":
        return _Graph(_Part(model, _denoise), "x", image, {"denoised": image}, example)
    if part == "encoder":
        features = ["batch", code, f"ceil(height/{m})", f"ceil(width/{m})"]
        encode = _Part(model, lambda p, x: p.model.encoder(_pad(p.model, x)))
        return _Graph(encode, "x", image, {"features": features}, example)
    features = ["batch", code, "feature_height", "feature_width"]
    out = ["batch", c, f"{m}*feature_height", f"{m}*feature_width"]
    example = (EXAMPLE_BATCH, code, max(math.ceil(h / m), 2), max(math.ceil(w / m), 2))
    return _Graph(model.decoder, "features", features, {"image": out}, example)


def _custom_denoiser_graph(est: Any, part: str, model: nn.Module, shape: list[int]) -> _Graph:
    """The user's own encoder and decoder: images of the training height and width."""
    image, example = ["batch", *shape], (EXAMPLE_BATCH, *shape)
    code = ["batch", *_latent(est)]
    if part == "denoiser":
        return _Graph(model, "x", image, {"denoised": image}, example)
    if part == "encoder":
        return _Graph(
            _Part(model, lambda p, x: p.model.encode(x)), "x", image, {"features": code}, example
        )
    decode = _Part(model, lambda p, z: p.model.decode(z))
    return _Graph(decode, "features", code, {"image": image}, (EXAMPLE_BATCH, *code[1:]))


def _detector_graph(est: Any, part: str, model: nn.Module, shape: list[int]) -> _Graph:
    x_shape, x_example = ["batch", *shape], (EXAMPLE_BATCH, *shape)
    scaling = _scaling(est.scaler_)
    if part != "detector":
        module = _Part(model, _scaled_mean_rebuild, **scaling)
        return _Graph(module, "x", x_shape, {"reconstruction": x_shape}, x_example)
    # float32, as in predict: NumPy compares float32 scores with the Python-float threshold in float32.
    threshold = torch.tensor(est.threshold_, dtype=torch.float32)
    if getattr(est, "residual_scale_", None) is not None:  # nmse: each feature's error in its unit
        scaling["residual_scale"] = torch.as_tensor(est.residual_scale_, dtype=torch.float32)
    densities = {}
    for attr, _, prefix, _ in TERMS:
        density = getattr(est, attr, None)
        if density is not None and density.gamma != 0.0:
            scaling.update({name: t.float() for name, t in density.tensors(prefix).items()})
            densities[prefix] = {
                "k": density.k,
                "gamma": density.gamma,
                "median_log_lof": density.median_log_lof,
            }
    detect = functools.partial(_detect, error=est.error, densities=densities)
    calibration = torch.as_tensor(raised_calibration(est.calibration_scores_), dtype=torch.float32)
    module = _Part(model, detect, threshold=threshold, calibration=calibration, **scaling)
    outputs = {"score": ["batch"], "label": ["batch"], "p_value": ["batch"]}
    return _Graph(module, "x", x_shape, outputs, x_example)


def _vae_graph(est: Any, part: str, model: nn.Module, shape: list[int]) -> _Graph:
    x_shape, x_example = ["batch", *shape], (EXAMPLE_BATCH, *shape)
    z = ["batch", *_latent(est)]
    if part == "decoder":
        return _Graph(_Part(model, _vae_image), "z", z, {"image": x_shape}, (EXAMPLE_BATCH, z[1]))
    if part == "encoder":
        encode = _Part(model, lambda p, x: p.model.encode(x))
        return _Graph(encode, "x", x_shape, {"mu": z, "logvar": z}, x_example)
    rebuild = _Part(model, lambda p, x: _vae_image(p, p.model.encode(x)[0]))
    return _Graph(rebuild, "x", x_shape, {"reconstruction": x_shape}, x_example)


def _image_map(p: _Part, x: torch.Tensor) -> torch.Tensor:
    """ImageAnomalyDetector.anomaly_maps: (B, C, H, W) -> (B, H, W), every pixel at once (the
    bank in slices)."""
    if hasattr(p.model, "bank"):  # PatchBank.forward without its loop over blocks of pixels
        b, _, h, w = x.shape
        parts = max(1, p.model.bank.shape[0] // BANK_PART)  # the bank in slices instead
        return p.model.smooth(p.model.nearest(p.model.rows(x), parts=parts).view(b, h, w))
    ae = p.model.autoencoder  # ReconstructionMap.forward, padded as the denoiser's graph is
    h, w = x.shape[-2:]
    return p.model.dissimilarity(x, ae.decode(ae.encoder(_pad(ae, x)))[..., :h, :w])


def _detect_image(p: _Part, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    maps = _image_map(p, x)
    score = image_score(maps, p.image_score)  # as ImageAnomalyDetector.image_scores
    score, label = flag_non_finite(x, score, (score > p.threshold).to(torch.int64))
    return score, label, conformal_p_value(score, p.calibration), maps


def _image_graph(est: Any, part: str, model: nn.Module, shape: list[int]) -> _Graph:
    """Any height and width: the score, label, p-value and the map of each image."""
    c, h, w = shape
    image = ["batch", c, "height", "width"]
    constants = {
        "threshold": torch.tensor(est.threshold_, dtype=torch.float32),
        "calibration": torch.as_tensor(
            raised_calibration(est.calibration_scores_), dtype=torch.float32
        ),
    }
    outputs = {
        "score": ["batch"],
        "label": ["batch"],
        "p_value": ["batch"],
        "map": ["batch", "height", "width"],
    }
    module = _Part(model, _detect_image, **constants)
    module.image_score = getattr(est, "image_score_", "top")  # a constant of the graph
    return _Graph(module, "x", image, outputs, (EXAMPLE_BATCH, c, max(h, 8), max(w, 8)))


# Each exportable estimator's graphs (its parts: PARTS).
_GRAPHS = {
    "Autoencoder": _autoencoder_graph,
    "Denoiser": _denoiser_graph,
    "AnomalyDetector": _detector_graph,
    "VAE": _vae_graph,
    "ImageAnomalyDetector": _image_graph,
}


def _check_part(est: Any, part: str | None) -> str:
    kind = type(est).__name__
    if kind not in PARTS:
        raise UsageError(  # given as a run folder or as an estimator: the kind is what is wrong
            f"cannot export a {kind} to ONNX: the families that export are "
            f"{', '.join(PARTS)} (docs/guide/export.md)"
        )
    parts = PARTS[kind]
    if part is None:
        return parts[0]
    if part not in parts:
        raise UsageError(
            f"{kind} has no part {part!r}; choose one of: {parts[0]} (default), {', '.join(parts[1:])}"
        )
    return part


def _estimator(model: Any) -> tuple[Any, dict[str, Any]]:
    """(fitted estimator, extra metadata) from an estimator or the path of a saved model / run folder."""
    if isinstance(model, (str, Path)):
        from .runs import loaded_run

        return loaded_run(model)
    if not hasattr(model, "check_is_fitted"):
        raise UsageError(
            f"expected a fitted aekit estimator or the path of a saved model, got {type(model).__name__}"
        )
    model.check_is_fitted()
    return model, {}


def _default_family(est: Any) -> str:
    """The name ``aekit train`` gives the family."""
    kind = type(est).__name__
    if kind == "Autoencoder":
        return "stacked" if tuple(est.hidden) else "basic"
    return family_of(kind)


def _plain(value: Any) -> Any:
    """JSON for what json cannot write: NumPy scalars and arrays (parameters given as np.int64, ...), else str."""
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else str(value)


# ---- export --------------------------------------------------------------------------------------------


def _set_shape(value_info: Any, shape: list) -> None:
    """Name every axis (the exporter leaves expressions such as ``Min(height, ...)`` on outputs)."""
    dims = value_info.type.tensor_type.shape.dim
    if len(dims) != len(shape):
        raise RunFailure(
            f"ONNX export: {value_info.name} has {len(dims)} axes, expected {len(shape)}"
        )
    for dim, d in zip(dims, shape):
        if isinstance(d, str):
            dim.dim_param = d
        else:
            dim.dim_value = int(d)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception an exporter error was raised from (its own first line is generic)."""
    seen = {id(exc)}
    while exc.__cause__ is not None and id(exc.__cause__) not in seen:
        exc = exc.__cause__
        seen.add(id(exc))
    return exc


def _to_proto(g: _Graph, opset: int | None, label: str, hint: str = ""):
    """Export ``g`` with the dynamo exporter; the ModelProto, weights inside."""
    onnx = _require("onnx")
    _require("onnxscript")  # the dynamo exporter translates through it
    newest = int(onnx.defs.onnx_opset_version())
    if opset is not None and (
        isinstance(opset, bool) or not isinstance(opset, int) or not 1 <= opset <= newest
    ):
        why = f"({MIN_OPSET} and newer are written directly, older ones through ONNX's converter)"
        raise naming(
            UsageError(f"opset must be a whole number from 1 to {newest} {why}, got {opset!r}"),
            "opset",
        )
    # Dim.DYNAMIC rather than named Dims: torch.export refuses named height/width Dims for the denoiser's
    # padding arithmetic ("Cannot create Dim with inconsistent min"), while DYNAMIC still fails loudly if an
    # axis would be specialised. The axes get their names afterwards (_set_shape).
    dynamic = {
        i: torch.export.Dim.DYNAMIC for i, d in enumerate(g.input_shape) if isinstance(d, str)
    }
    try:
        with _quiet(), torch.no_grad():
            program = torch.onnx.export(
                g.module,
                (torch.zeros(g.example),),
                dynamo=True,
                verbose=False,
                input_names=[g.input],
                output_names=list(g.outputs),
                opset_version=opset,
                dynamic_shapes=(dynamic,),
                optimize=True,
            )
        proto = program.model_proto
    # the exporter's errors are long; keep the first line (--debug shows the rest)
    except Exception as exc:
        cause = _root_cause(exc) if hint else exc  # a user's network: what torch.export tripped on
        # the exporter colours its messages
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(cause)).strip()
        first = text.splitlines()[0] if text else type(cause).__name__
        raise RunFailure(f"ONNX export of {label} failed: {one_line(first)[:300]}{hint}") from exc
    got = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    if opset is not None and got != opset:  # the converter to older opsets falls back silently
        raise UsageError(
            f"cannot export {label} to ONNX opset {opset} (the exporter could only write opset {got}); "
            f"pass an opset between {MIN_OPSET} and {newest}"
        )
    return proto


def export_onnx(
    model: Any,
    output: str | Path,
    part: str | None = None,
    *,
    opset: int | None = None,
    overwrite: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write one part of a fitted estimator as a single ONNX file with a dynamic batch axis.

    The graph has named inputs and outputs (see :mod:`aekit.export.onnx` for each part),
    the weights inside the file, and ``metadata_props`` whose values are JSON: ``aekit_version``,
    ``estimator``, ``family``, ``part``, ``inputs`` and ``outputs`` (name -> shape, dynamic axes by
    name), ``params``, and for detectors ``threshold``, ``error``, ``scaler`` and ``feature_names``.
    The file is written atomically; the export runs on the CPU.

    Parameters
    ----------
    model : estimator or path
        A fitted :class:`aekit.Autoencoder`, :class:`aekit.Denoiser`, :class:`aekit.AnomalyDetector`
        or :class:`aekit.VAE`, or the folder of a saved model or run.
    output : str or Path
        The ``.onnx`` file to write.
    part : str, optional
        What to export; default: ``autoencoder`` (Autoencoder), ``denoiser`` (Denoiser), ``detector``
        (AnomalyDetector: raw rows -> ``score`` and ``label`` with the scaler and the fitted
        threshold inside), ``decoder`` (VAE: ``z`` -> image, for sampling). Others: ``encoder``,
        ``decoder``, ``autoencoder`` where the family has them.
    opset : int, optional
        ONNX opset version (default: the exporter's, 18 or newer).
    overwrite : bool, default False
        Replace an existing ``output``.
    metadata : dict, optional
        More ``metadata_props`` (values are stored as JSON).

    Returns
    -------
    Path
        ``output``.

    Examples
    --------
    >>> import numpy as np, aekit
    >>> from aekit.export import export_onnx
    >>> X = np.random.default_rng(0).random((64, 12), dtype=np.float32)
    >>> det = aekit.AnomalyDetector(hidden=(8,), latent_dim=2, epochs=1).fit(X)
    >>> export_onnx(det, "detector.onnx")                             # doctest: +SKIP
    PosixPath('detector.onnx')
    >>> export_onnx("runs/vae", "sampler.onnx", part="decoder")       # doctest: +SKIP
    PosixPath('sampler.onnx')
    """
    output = _io.as_path(output, "output", "a .onnx file path")
    if output.suffix.lower() != ".onnx":
        raise UsageError(f"cannot write {output}: expected a .onnx file")
    # a link to a file: replaced, not followed
    written = _outputs.refuse_existing(output, overwrite)
    est, extra = _estimator(model)
    part = _check_part(est, part)  # first: a kind with no graph may have no network at all
    kind = type(est).__name__
    check_finite(est.model_.state_dict(), f"cannot export the {kind}")  # a diverged model: NaN
    label = f"the {kind}'s {part}"
    g = _graph(est, part)
    custom = getattr(est, "encoder", None) is not None
    hint = (
        "; your encoder and decoder must be traceable by torch.export (no Python branch on tensor "
        "values, no batch size fixed in a reshape)"
        if custom
        else ""
    )
    proto = _to_proto(g, opset, label, hint)

    for value_info, shape in zip(
        [*proto.graph.input, *proto.graph.output], [g.input_shape, *g.outputs.values()]
    ):
        _set_shape(value_info, shape)
    props: dict[str, Any] = {
        "aekit_version": __version__,
        "estimator": kind,
        "family": _default_family(est),
        "part": part,
        "inputs": {g.input: g.input_shape},
        "outputs": g.outputs,
        "params": jsonable(est.get_params(deep=False)),  # the user's networks as import paths
    }
    if kind == "AnomalyDetector":
        names = getattr(est, "feature_names_in_", None)
        props.update(
            threshold=float(est.threshold_),
            threshold_rule=str(est.threshold),
            calibration=est.calibration_,
            error=est.error,
            scaler=est.scaler,
            feature_names=None if names is None else [str(n) for n in names],
        )
    if kind == "ImageAnomalyDetector":
        props.update(
            threshold=float(est.threshold_),
            threshold_rule=str(est.threshold),
            pixel_threshold=float(est.pixel_threshold_),
            calibration=est.calibration_,
        )
    props.update(extra)
    props.update(metadata or {})
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = str(key), json.dumps(value, default=_plain)
    proto.doc_string = f"aekit {kind} ({part}): {g.input} {tuple(g.input_shape)} -> " + ", ".join(
        f"{k} {tuple(v)}" for k, v in g.outputs.items()
    )
    onnx = _require("onnx")
    onnx.checker.check_model(proto)
    # one file: these models are far below protobuf's 2 GB
    _io.write_bytes(written, proto.SerializeToString())
    logger.info("wrote %s: %s", output, proto.doc_string)
    return output
