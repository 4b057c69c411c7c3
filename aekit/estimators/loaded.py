"""What a loaded run must hold: the learned state that training always gives, checked once at load.

config.json and model.safetensors are files, and a number damaged or edited in them loaded
silently: a residual scale of 0 flagged every row with exit code 0, a density of 0 none, a NaN
calibration score failed each later score with a line blaming the input data, a missing
``residual_scale`` tensor told the user to fit with the error the run was fitted with, and a
``feature_names`` of 5 met the first score as an internal error (probe 67). Each is refused here
in one line naming the file and the value, by the attributes an estimator has (any family):
``RUN/config.json: state.reconstruction_scale holds 0; expected a positive finite number: the run
is damaged or was edited``. A run aekit wrote passes them all and loads as before.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .._notes import note
from ..errors import RunFailure
from ..models.imagescore import RULES as IMAGE_SCORES  # the image detector's rules for a score

CONFIG, WEIGHTS = "config.json", "model.safetensors"
MAX_SCALES = 8  # filter scales of each kind a run may hold (training picks one or two)
SMALLEST_BOUND = 64  # pixels a filter scale may reach on any image (training picks 0.5 to 6)


def damaged(file: Path, what: str, shown: str, expected: str) -> RunFailure:
    """The one line for a value of a run that training never gives."""
    return RunFailure(
        f"{file}: {what} holds {shown}; expected {expected}: the run is damaged or was edited"
    )


def numbers(
    value: Any, file: Path, what: str, *, positive: bool = False, inf: bool = False
) -> None:
    """Refuse ``value`` unless it is one or more finite numbers (each > 0 where ``positive``; +inf
    taken where ``inf``: a score past float32's range is a score, and calibration keeps it)."""
    expected = "positive finite numbers" if positive else "finite numbers"
    if inf:
        expected = "numbers, none NaN"
    try:
        flat = np.asarray(value, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise damaged(file, what, _short(value), expected) from None
    if flat.size == 0:
        raise damaged(file, what, "no value", expected)
    bad = np.isnan(flat) | np.isneginf(flat) if inf else ~np.isfinite(flat)
    bad = bad | (flat <= 0) if positive else bad
    if bad.any():
        raise damaged(file, what, f"{flat[bad][0]:g}", expected)


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


# ---- config.json: checked before the model is built (its sizes come from there) ----------------


def check_saved_state(est: Any, file: Path) -> None:
    """Refuse state from ``file`` (a run's config.json) that training never gives: sizes below 1,
    names that do not fit the features, a scale of 0, a NaN calibration score, an unknown rule."""
    _check_sizes(est, file)
    _check_names(est, file)
    for attr, key, positive in (
        ("level_", "level_weight", False),
        ("reconstruction_scale_", "reconstruction_scale", True),
        ("pixel_threshold_", "pixel_threshold", False),
    ):
        if hasattr(est, attr):
            numbers(getattr(est, attr), file, f"state.{key}", positive=positive)
    if getattr(est, "level_", 0.0) < 0:  # the level's weight is a parameter of Real(0)
        raise damaged(file, "state.level_weight", f"{est.level_:g}", "a number of 0 or more")
    image_score = getattr(est, "image_score_", IMAGE_SCORES[0])
    if image_score not in IMAGE_SCORES:
        raise damaged(file, "state.image_score", _short(image_score), f"one of {IMAGE_SCORES}")
    if getattr(est, "calibration_scores_", None) is not None:  # the series' and the images'
        numbers(est.calibration_scores_, file, _calibration_key(est), inf=True)
    scaler = getattr(est, "scaler_", None)
    if getattr(scaler, "_arrays_in_json", False):
        _check_scaler(est, file, "state.scaler.")
    if getattr(est, "filter_scales_", None) is not None:
        _check_filter_scales(est.filter_scales_, tuple(est.input_shape_), file)


def _check_filter_scales(scales: Any, shape: tuple[int, ...], file: Path) -> None:
    """The image detector's filter scales, in pixels: a few, each above 0 and within the image (a
    sigma of 1e9 built a kernel until memory ran out; training picks 0.5 to 6)."""
    side = max(*shape[-2:], SMALLEST_BOUND)  # small images: the bound of bigger ones
    for key in ("sigmas", "windows"):
        values = scales.get(key) if isinstance(scales, dict) else None
        what = f"state.filter_scales.{key}"
        numbers(values, file, what, positive=True)
        values = np.asarray(values, dtype=np.float64).ravel()
        if len(values) > MAX_SCALES or values.max() > side:
            shown = _short(values.tolist())
            raise damaged(
                file, what, shown, f"at most {MAX_SCALES} scales of at most {side} pixels"
            )


def _check_sizes(est: Any, file: Path) -> None:
    shape = tuple(getattr(est, "input_shape_", ()))
    if any(d < 1 for d in shape):
        raise damaged(file, "state.input_shape", _short(list(shape)), "sizes of 1 or more")
    fitted = getattr(est, "_fitted_shape", None)  # the VAE's outputs are given back in it
    if fitted is not None and (any(d < 1 for d in fitted) or math.prod(fitted) != math.prod(shape)):
        raise damaged(
            file, "state.fitted_shape", _short(list(fitted)),
            f"the shape of one sample of {math.prod(shape)} values (input_shape {list(shape)})",
        )  # fmt: skip


def _check_names(est: Any, file: Path) -> None:
    n = getattr(est, "n_features_in_", None)
    # the series' channel names first: its feature names are taken from them
    for attr, key in (("channel_names_", "channel_names"), ("feature_names_in_", "feature_names")):
        names = getattr(est, attr, None)
        if names is None:
            continue
        listed = np.asarray(names, dtype=object)
        if listed.ndim != 1 or len(listed) != n or not all(isinstance(s, str) for s in listed):
            expected = f"a list of {n} name{'' if n == 1 else 's'}, one per feature"
            raise damaged(file, f"state.{key}", _short(listed.tolist()), expected)


def _calibration_key(est: Any) -> str:
    return "state.calibration.scores" if hasattr(est, "window_") else "state.calibration_scores"


def _check_scaler(est: Any, file: Path, what: str) -> None:
    """The input scaler's offset and scale: finite, the scale > 0, one of each per feature."""
    scaler = est.scaler_
    numbers(scaler.offset_, file, f"{what}offset")
    numbers(scaler.scale_, file, f"{what}scale", positive=True)
    # the series' scaler works on steps of its channels, the others' on one sample
    shape = (est.n_features_in_,) if hasattr(est, "window_") else tuple(est.input_shape_)
    for name in ("offset_", "scale_"):
        got = np.shape(getattr(scaler, name))
        try:
            fits = np.broadcast_shapes(got, shape) == shape
        except ValueError:
            fits = False
        if not fits:
            raise damaged(
                file, f"{what}{name[:-1]}", f"{len(got) and got[0]} values of shape {got}",
                f"one per feature of a sample of shape {shape}",
            )  # fmt: skip


# ---- model.safetensors and config.json together: checked once the tensors are in --------------


def check_loaded(est: Any, state: dict[str, Any], path: Path) -> None:
    """Refuse what the tensors of ``path`` (a run folder) bring that training never gives: a
    residual scale or density that is missing, 0 or negative, scaler arrays of another size than
    the features, calibration scores that are NaN or none; then keep a threshold the run recorded
    where its calibration is missing (:func:`_keep_recorded_threshold`)."""
    weights = path / WEIGHTS
    scaler = getattr(est, "scaler_", None)
    if scaler is not None and not getattr(scaler, "_arrays_in_json", False):
        _check_scaler(est, weights, "the tensor scaler.")
    if not hasattr(est, "residual_scale_"):
        return  # the table detector's alone below
    if est.residual_scale_ is None and est.error == "nmse":
        raise RunFailure(
            f"{weights}: no residual_scale tensor, which error='nmse' scores with; the run is "
            f"damaged or was edited"
        )
    if est.residual_scale_ is not None:
        numbers(est.residual_scale_, weights, "the tensor residual_scale", positive=True)
    for prefix in ("density", "input_density"):
        density = getattr(est, "code_density_" if prefix == "density" else "input_density_", None)
        if density is not None:
            _check_density(density, weights, prefix)
    calibrated = isinstance(state.get("calibration"), dict)
    where = (path / CONFIG, "state.calibration.scores") if calibrated else (weights, "the scores")
    numbers(est.calibration_scores_, *where, inf=True)
    if not calibrated:
        _keep_recorded_threshold(est, state, path / CONFIG)


def _check_density(density: Any, file: Path, prefix: str) -> None:
    """A density term's reference: distances of 0 or more, densities above 0 (1 / distance)."""
    numbers(density.lrd.cpu().numpy(), file, f"the tensor {prefix}_lrd", positive=True)
    k_distance = density.k_distance.cpu().numpy()
    if (k_distance < 0).any():
        raise damaged(
            file, f"the tensor {prefix}_k_distance", f"{k_distance[k_distance < 0][0]:g}",
            "distances of 0 or more",
        )  # fmt: skip


def _keep_recorded_threshold(est: Any, state: dict[str, Any], file: Path) -> None:
    """A run without ``state.calibration`` whose recorded ``threshold_value`` is not the one its
    training scores give keeps the recorded one, as a fixed threshold, with a note: the scores gave
    a threshold of 22.19 where the run recorded 151.76, and flagged 14 rows of 300 where it flagged
    1 (probe 67 #4). Runs saved before calibration, whose threshold those scores gave, load as before."""
    recorded = state.get("threshold_value")
    if isinstance(recorded, bool) or not isinstance(recorded, (int, float)):
        return
    if not math.isfinite(recorded) or float(np.float32(recorded)) == float(
        np.float32(est.threshold_)
    ):
        return
    derived = est.threshold_
    est.threshold = float(recorded)
    note(
        f"{file}: no state.calibration, and the training scores give a threshold of {derived:g} "
        f"where the run recorded {recorded:g}; the recorded one is kept (threshold={recorded:g}), "
        f"and p-values come from the training scores: calibrate the run on normal rows (aekit "
        f"calibrate, or calibrate(X) in Python) for new ones"
    )


# ---- model.safetensors' header: read before its data ------------------------------------------

# safetensors' names of the dtypes torch gives a model's tensors
DTYPES = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16",
          "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8",
          "bool": "BOOL"}  # fmt: skip
ITEM_BYTES = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2,
              "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1}  # fmt: skip


# what a run saves beside its model's weights (the scaler, a detector's scores and references)
SAVED_BESIDE = frozenset(
    {"scaler.offset", "scaler.scale", "decision_scores", "holdout_scores", "residual_scale"}
    | {f"{p}_{n}" for p in ("density", "input_density") for n in ("codes", "k_distance", "lrd")}
    | {f"neighbors_{n}" for n in ("references", "starts", "scale", "local")}
)
UNKNOWN_BYTES = 1 << 20  # a tensor of another name up to this size is read (and left unused)
# the bytes of a file are read, joined and made tensors: about three copies at once
READ_COPIES = 3


def check_header(file: Path, model_shapes: dict[str, tuple[Any, str]]) -> None:
    """Refuse, before a byte of its data is read, weights whose header describes a tensor of the
    model larger than the model config.json describes or of another dtype, a large tensor that
    no run writes, or more bytes than memory holds: a header describing 20 GiB was read whole,
    then "out of memory" named no file, and bool weights were cast to float32 without a word
    (probe 67 #8, #9). ``model_shapes``: the model's tensors (name -> (shape, dtype)), as built
    on the meta device."""
    from .._memory import check_fits, format_bytes

    header = read_header(file)
    if header is None:
        return  # no header to read: reading the file says what is wrong with it
    total = 0
    for name, entry in header.items():
        shape, dtype = tuple(entry["shape"]), entry["dtype"]
        nbytes = math.prod(shape) * ITEM_BYTES.get(dtype, 8)
        total += nbytes
        want = model_shapes.get(name[len("model.") :]) if name.startswith("model.") else None
        if want is None:
            _check_other(file, name, nbytes, bool(model_shapes))
            continue
        if math.prod(shape) > math.prod(want[0]):
            raise RunFailure(
                f"{file}: the tensor {name} is {_shape(shape)} in the file's header, larger than "
                f"the {_shape(want[0])} of the model its config.json describes; the file is "
                f"damaged or not this run's weights"
            )
        if want[1] in DTYPES and DTYPES[want[1]] != dtype:  # a dtype of its own: as read
            raise RunFailure(
                f"{file}: the tensor {name} is {dtype}; expected {DTYPES[want[1]]}, "
                f"as aekit writes it: the run is damaged or was edited"
            )
    check_fits(
        READ_COPIES * total,
        f"{file}: reading its tensors ({format_bytes(total)} by its header)",
        "the file is damaged or not a run's weights",
    )


def _check_other(file: Path, name: str, nbytes: int, model_known: bool) -> None:
    """A tensor the model does not hold: one a run writes beside its weights, or a small one
    (a name of a run saved before); a large one of another name is no run's."""
    if nbytes <= UNKNOWN_BYTES:
        return
    if name.startswith("model.") and model_known:
        what = "that the model its config.json describes does not hold"
    elif name.startswith("model.") or name in SAVED_BESIDE:
        return
    else:
        what = "that no aekit run writes"
    raise RunFailure(
        f"{file}: the tensor {name} ({nbytes:,} bytes by its header) is one {what}; the file is "
        f"damaged or not this run's weights"
    )


def _shape(shape: tuple[int, ...]) -> str:
    return f"({', '.join(map(str, shape))})"


def read_header(file: Path) -> dict[str, dict[str, Any]] | None:
    """The tensors (name -> dtype, shape) that the safetensors header of ``file`` describes, read
    without its data; None for what is no regular file or no readable header."""
    import json
    import os
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(file, flags)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size if stat.S_ISREG(os.fstat(fd).st_mode) else 0
        head = os.pread(fd, 8, 0) if size >= 8 else b""
        length = int.from_bytes(head, "little") if len(head) == 8 else 0
        if not 0 < length <= min(size - 8, 100 << 20):  # safetensors' own limit on the header
            return None
        entries = json.loads(os.pread(fd, length, 8).decode("utf-8"))
        return {
            str(k): {"dtype": str(v["dtype"]), "shape": [int(d) for d in v["shape"]]}
            for k, v in entries.items()
            if k != "__metadata__"
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    finally:
        os.close(fd)
