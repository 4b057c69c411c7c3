"""Check an exported graph against the estimator it came from: onnxruntime's outputs beside the
estimator's own, on plausible inputs of every size the graph claims (or the inputs given)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RunFailure, UsageError, one_line
from . import runtime
from .onnx import _check_part, _estimator, _Graph, _graph, _require


def _sample_inputs(
    est: Any, part: str, n: int, seed: int, size: tuple[int, int] | None = None
) -> np.ndarray:
    """``n`` plausible inputs of the part: images in [0, 1], rows in the detector's units, N(0, I)
    codes; images of ``size`` (height, width) where the graph takes any (the traced one if None)."""
    rng = np.random.default_rng(seed)
    g = _graph(est, part)
    shape = (n, *g.example[1:]) if size is None else (n, *g.example[1:-2], *size)
    if g.input in ("z", "latent"):
        return rng.standard_normal(shape).astype(np.float32)
    x = rng.random(shape, dtype=np.float32)
    scaled = (
        type(est).__name__ in ("AnomalyDetector", "Autoencoder")
        and getattr(est, "scaler_", None) is not None
    )
    return est.scaler_.inverse_transform(x) if scaled else x  # rows in the input's units


def _reference(est: Any, part: str, x: np.ndarray) -> dict[str, np.ndarray]:
    """The estimator's own outputs for the part, by output name (its model's where it has no method)."""
    kind = type(est).__name__
    if part in ("autoencoder", "denoiser"):
        name = "denoised" if part == "denoiser" else "reconstruction"
        return {name: est.reconstruct(x)}
    if kind == "AnomalyDetector":
        return {
            "score": est.decision_function(x),
            "label": est.predict(x),
            "p_value": est.p_values(x),
        }
    if kind == "ImageAnomalyDetector":
        maps = est.anomaly_maps(x)
        scores = est.image_scores(maps)
        return {
            "score": scores,
            "label": (scores > est.threshold_).astype(np.int64),
            "p_value": est.p_values(x),
            "map": maps,
        }
    if kind == "Denoiser":
        fn = est.model_.encode if part == "encoder" else est.model_.decode
        return {"features" if part == "encoder" else "image": est.map_batches(fn, x)}
    if part == "decoder":
        return {"reconstruction" if kind == "Autoencoder" else "image": est.inverse_transform(x)}
    if kind == "Autoencoder":
        return {"latent": est.transform(x)}
    return {
        "mu": est.transform(x),
        "logvar": est.map_batches(lambda b: est.model_.encode(b)[1], x),
    }


def verify_onnx(
    path: str | Path,
    model: Any,
    inputs: Any = None,
    *,
    n: int = 5,
    seed: int = 0,
    outputs: Any = None,
) -> float:
    """Run an exported file with onnxruntime; the largest absolute difference from the estimator's outputs.

    The reference is the estimator's own method for the part (``reconstruct``, ``transform``,
    ``decision_function`` and ``predict``, ``inverse_transform``, ...), so the check covers the
    wrapper as well as the exporter. A label that differs counts as a difference of 1.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`export_onnx`.
    model : estimator or path
        The estimator (or saved model / run folder) it was exported from.
    inputs : array-like, optional
        Inputs of the part, float32, any batch size; default ``n`` random ones (images in [0, 1],
        rows in the detector's units, latent codes from N(0, I)).
    n : int, default 5
        Number of random inputs when ``inputs`` is not given; of each of four sizes for a graph
        of images of any height and width (the traced one, larger, smaller, 3x2).
    seed : int, default 0
        Seed of the random inputs.
    outputs : sequence of str, optional
        Compare these outputs only (default: all). The image detector's ``map`` and ``score`` on
        its own training images, say: its calibration images among them score at the threshold
        and at the calibration scores themselves, where float32's last digits flip a label and a
        p-value.

    Returns
    -------
    float

    Examples
    --------
    >>> verify_onnx("detector.onnx", det) < 1e-5                      # doctest: +SKIP
    True
    """
    ort = runtime.onnxruntime(_require)
    est, _ = _estimator(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a few samples: threads cost more than they give
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise UsageError(
            f"cannot read {path} with onnxruntime: {one_line(str(exc))[:300]}"
        ) from None
    meta = session.get_modelmeta().custom_metadata_map
    try:
        kind, part = json.loads(meta["estimator"]), json.loads(meta["part"])
    except (KeyError, ValueError):
        raise UsageError(
            f"{path} was not written by aekit's export (no 'estimator' and 'part' metadata)"
        ) from None
    if kind != type(est).__name__:
        raise UsageError(
            f"{path} holds a {kind} part, but the model to compare with is a {type(est).__name__}"
        )
    if inputs is not None:
        x = np.ascontiguousarray(inputs, np.float32)
        return _difference(session, path, est, part, x, outputs)
    # a graph of any height and width is checked on sizes other than the one it was traced at:
    # a branch on the size that the trace froze shows only there
    sizes = [None, *_other_sizes(_graph(est, part))]
    return max(
        _difference(session, path, est, part, _sample_inputs(est, part, n, seed, size), outputs)
        for size in sizes
    )


def checked_sizes(model: Any, part: str | None = None) -> int:
    """How many input sizes :func:`verify_onnx` compares a part on by default (1; 4 for any image size).

    Parameters
    ----------
    model : estimator or str or Path
        A fitted aekit estimator, or a run or saved-model folder.
    part : str, optional
        The part exported (:data:`aekit.export.PARTS`); the estimator's default when None.

    Examples
    --------
    >>> checked_sizes(aekit.load("runs/denoise"))  # doctest: +SKIP
    4
    """
    est, _ = _estimator(model)
    return 1 + len(_other_sizes(_graph(est, _check_part(est, part))))


def _other_sizes(g: _Graph) -> list[tuple[int, int]]:
    """Image sizes besides the traced one: larger, smaller, tiny (only for any height and width)."""
    if g.input_shape[-2:] != ["height", "width"]:
        return []
    h, w = g.example[-2:]
    return [(2 * h + 3, w + 5), (max(2, h // 2 - 1), max(2, w // 3)), (3, 2)]


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    """The largest absolute difference of two outputs, a NaN or an infinity on one side only
    infinite (``max(0.0, nan)`` is 0.0: a graph of NaNs read as perfect agreement)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))  # equal infinities, or NaN on both sides
    with np.errstate(invalid="ignore"):  # inf - inf, where they are the same: no warning line
        gap = np.where(same, 0.0, np.abs(a - b))
    return float(np.max(np.where(np.isnan(gap), np.inf, gap), initial=0.0))


def _difference(session, path, est: Any, part: str, x: np.ndarray, names: Any = None) -> float:
    """The largest absolute difference of the session's outputs on ``x`` (those in ``names``, or
    all) from the estimator's."""
    try:
        got = session.run(None, {session.get_inputs()[0].name: x})
    except Exception as exc:  # onnxruntime's own errors: a graph that fails on this input
        raise RunFailure(
            f"{path} fails on inputs shaped {x.shape} that PyTorch scores: "
            f"{one_line(str(exc))[:300]}"
        ) from None
    want = _reference(est, part, x)
    diff = 0.0
    for out, value in zip(session.get_outputs(), got):
        if names is not None and out.name not in names:
            continue
        ref = np.asarray(want[out.name])
        if value.shape != ref.shape and value.size == ref.size and len(value) == len(ref):
            # a VAE fitted in Python on rows or (n, H, W) gives them back so; its graph gives the
            # network's (batch, 1, 1, d) or (batch, 1, H, W): the same values, shaped otherwise
            value = value.reshape(ref.shape)
        if value.shape != ref.shape:
            raise RunFailure(
                f"{path}: output {out.name} has shape {value.shape}, PyTorch gives {ref.shape}"
            )
        diff = max(diff, _gap(value, ref))
    return diff
