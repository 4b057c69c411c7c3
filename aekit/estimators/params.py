"""Every estimator's parameters, declared once: what each may be, checked by one function.

scikit-learn's idea (``_parameter_constraints`` beside ``__init__``, checked by one validator),
written small: a table per estimator maps each parameter to the values it accepts (a
:class:`Constraint` or a plain value such as ``"auto"`` or ``None``), :func:`validate_params`
checks an estimator against its table and raises :class:`aekit.errors.UsageError` with one line,
and the command line reads the same tables for its ``choices=`` (:func:`choices`), so an option's
choices and the estimator's cannot drift apart.

This module imports neither torch nor NumPy, so that ``aekit --help`` stays fast. The names the
tables list (activations, initialisations, scalers, ...) are implemented in lower layers
(``aekit.models``, :mod:`aekit.estimators.preprocessing`); tests/estimators/test_params.py checks
that both sides agree.

Examples
--------
>>> validate({"latent_dim": [Int(1), "auto"]}, {"latent_dim": 0}, "Autoencoder")
Traceback (most recent call last):
...
aekit.errors.UsageError: latent_dim must be a whole number >= 1 or 'auto', got 0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UsageError

# ---- the constraints ---------------------------------------------------------------------------


class Constraint:
    """What a parameter accepts: ``accepts(value)`` and a phrase for the error line."""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Int(Constraint):
    """A whole number in ``[low, high]`` (``high=None``: no upper bound); bools are refused."""

    def __init__(self, low: int, high: int | None = None, text: str | None = None):
        self.low, self.high, self.text = low, high, text

    def accepts(self, value: Any) -> bool:
        return _is_int(value) and value >= self.low and (self.high is None or value <= self.high)

    def describe(self) -> str:
        if self.text is not None:
            return self.text
        if self.high is None:
            return f"a whole number >= {self.low}"
        return f"a whole number in [{self.low}, {self.high}]"


class Real(Constraint):
    """A finite number between ``low`` and ``high``; ``closed`` says which ends belong to it."""

    def __init__(self, low: float = -math.inf, high: float = math.inf, closed: str = "both"):
        self.low, self.high, self.closed = low, high, closed

    def accepts(self, value: Any) -> bool:
        if not _is_real(value) or not math.isfinite(value):
            return False
        above = value >= self.low if self.closed in ("both", "left") else value > self.low
        below = value <= self.high if self.closed in ("both", "right") else value < self.high
        return above and below

    def describe(self) -> str:
        if self.high == math.inf and self.low == -math.inf:
            return "a number"
        if self.high == math.inf:
            sign = ">=" if self.closed in ("both", "left") else ">"
            return f"a number {sign} {self.low:g}"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"a number in {left}{self.low:g}, {self.high:g}{right}"


class Choice(Constraint):
    """One of the named strings."""

    def __init__(self, *options: str):
        self.options = tuple(options)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options

    def describe(self) -> str:
        return f"one of {', '.join(self.options)}"


class Rule(Choice):
    """One of the named rules, alone or with its number: ``"fpr"`` or ``"fpr:0.01"``."""

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return split_rule(value)[0] in self.options
        except ValueError:
            return False

    def describe(self) -> str:
        return f"one of {', '.join(self.options)} (or NAME:NUMBER, e.g. fpr:0.01)"


def split_rule(text: str) -> tuple[str, float | None]:
    """``"fpr:0.01"`` -> ``("fpr", 0.01)``, ``"fpr"`` -> ``("fpr", None)``; ValueError when what
    follows the ``:`` is not a finite number.

    Examples
    --------
    >>> split_rule("percentile:99"), split_rule("mad")
    (('percentile', 99.0), ('mad', None))
    """
    name, sep, number = text.partition(":")
    if not sep:
        return text, None
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {number!r}")
    return name, value


class Widths(Constraint):
    """Layer widths: a sequence (not a string) of whole numbers >= 1, from ``least`` to ``most`` of them."""

    def __init__(self, least: int = 0, most: int | None = None):
        self.least, self.most = least, most

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            return False
        if len(value) < self.least or (self.most is not None and len(value) > self.most):
            return False
        return all(_is_int(w) and w >= 1 for w in value)

    def describe(self) -> str:
        if self.most is not None and self.most == self.least:
            return f"{self.least} layer widths (whole numbers >= 1) such as (32, 64)"
        least = "" if self.least == 0 else f"{self.least} or more "
        return f"a sequence of {least}layer widths (whole numbers >= 1) such as (256, 128)"


class Text(Constraint):
    """Any string (its meaning is checked where it is used, e.g. a device name)."""

    def __init__(self, what: str = "a string"):
        self.what = what

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)

    def describe(self) -> str:
        return self.what


class Texts(Constraint):
    """A list or tuple of one or more strings."""

    def accepts(self, value: Any) -> bool:
        return (
            isinstance(value, (list, tuple))
            and bool(value)
            and all(isinstance(v, str) for v in value)
        )

    def describe(self) -> str:
        return "a list of them"


class Flag(Constraint):
    """True or False."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "True or False"


class Network(Constraint):
    """The user's own network: a ``torch.nn.Module``, or a spec naming one by import path
    (``aekit.network("mypkg.nets:Encoder", ...)``, a mapping with a ``"network"`` string); its import
    and arguments are checked by :mod:`aekit.models.custom`."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, Mapping):
            return isinstance(value.get("network"), str)
        if isinstance(value, type):  # the class itself (refused below, with the fix)
            return False
        return callable(value) and hasattr(value, "state_dict") and hasattr(value, "parameters")

    def describe(self) -> str:
        return "a torch.nn.Module or aekit.network('MODULE:NAME', ...)"


class Value(Constraint):
    """Exactly this value (``"auto"``, ``None``); a plain value in a table means this."""

    def __init__(self, value: Any):
        self.value = value

    def accepts(self, value: Any) -> bool:
        if self.value is None:
            return value is None
        return isinstance(value, type(self.value)) and value == self.value

    def describe(self) -> str:
        return repr(self.value)


class Refused(Constraint):
    """A value that looks right but is not, with the line that says what to do instead."""

    def __init__(self, value: Any, message: str):
        self.value, self.message = value, message

    def accepts(self, value: Any) -> bool:
        return False

    def refuses(self, value: Any) -> bool:
        return isinstance(value, type(self.value)) and value == self.value

    def describe(self) -> str:
        return ""


class NetworkClass(Refused):
    """A network's class where an instance or a spec belongs (``encoder=Encoder``): the most common
    slip, which the duck-typed check would take for a module, then fail inside the build."""

    named = True  # the line opens with the parameter's name

    def __init__(self):
        super().__init__(None, "")

    def refuses(self, value: Any) -> bool:
        if not (isinstance(value, type) and hasattr(value, "state_dict")):
            return False
        target = f"{value.__module__}:{value.__qualname__}"
        self.message = (
            f"got the class {value.__qualname__}, not a network; pass an instance, "
            f"{value.__name__}(...), or aekit.network({target!r}, ...) to record it by name"
        )
        return True


def _constraint(c: Any) -> Constraint:
    return c if isinstance(c, Constraint) else Value(c)


# ---- the one validator -------------------------------------------------------------------------


def check(name: str, value: Any, accepted: Sequence[Any]) -> Any:
    """``value`` if one of ``accepted`` takes it, else a one-line UsageError naming what would do."""
    constraints = [_constraint(c) for c in accepted]
    for c in constraints:
        if isinstance(c, Refused) and c.refuses(value):
            raise _named(f"{name}: {c.message}" if getattr(c, "named", False) else c.message, name)
    if not any(c.accepts(value) for c in constraints):
        wanted = " or ".join(c.describe() for c in constraints if not isinstance(c, Refused))
        raise _named(f"{name} must be {wanted}, got {value!r}", name)
    return value


def _named(message: str, name: str) -> UsageError:
    """The error, with the parameter it is about (``param``): the CLI names its option instead."""
    err = UsageError(message)
    err.param = name  # type: ignore[attr-defined]
    return err


def validate(table: Mapping[str, Sequence[Any]], params: Mapping[str, Any], owner: str) -> None:
    """Check each parameter in ``params`` against ``table`` (parameters the table lacks: a bug)."""
    for name, value in params.items():
        if name not in table:
            raise KeyError(f"{owner}: parameter {name!r} is not declared in its parameter table")
        check(name, value, table[name])


def validate_params(est: Any) -> None:
    """Check an estimator's parameters against its table, ``type(est).parameters``."""
    validate(type(est).parameters, est.get_params(deep=False), type(est).__name__)


def validate_param(est: Any, name: str) -> Any:
    """One parameter of ``est`` checked against its table, and returned: for a parameter read
    after ``fit`` (``set_params(threshold=...)`` then ``threshold_``), which ``fit`` checked only
    as it was then."""
    value = getattr(est, name)
    check(name, value, type(est).parameters[name])
    return value


def not_nested(key: str, head: str, value: Any) -> str:
    """The line for ``set_params(lr__x=...)``: ``head``'s value is no estimator with parameters."""
    what = "None" if value is None else f"a {type(value).__name__}"
    hint = f"set {head} itself (set_params({head}=...))"
    if type(value).__name__ == "NetworkSpec":  # its arguments are given where it is made
        what = "a network spec (aekit.network(...))"
        hint = f"set {head}=aekit.network(..., ARG=value) with the network's arguments"
    return f"{key!r}: {head} is {what}, not an estimator with parameters of its own; {hint}"


def choices(table: Mapping[str, Sequence[Any]], name: str) -> tuple[str, ...]:
    """The named strings a parameter accepts (for ``argparse``'s ``choices=``)."""
    return tuple(o for c in table[name] if isinstance(c, Choice) for o in c.options)


# ---- the names the tables use (implemented below: see the module docstring) --------------------

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "linear")
INITS = ("glorot", "he", "torch")
SCALERS = ("minmax", "standard", "robust", "auto", "none")
LOSSES = ("mse", "mae")
SCHEDULES = ("constant", "onecycle")
PRECISIONS = ("fp32", "bf16")
MAX_THREADS = 1024  # CPU threads a model may ask for: more is no machine aekit runs on
# A number: a fixed threshold. "fpr" (a false-alarm rate, conformal) first: the detectors' default.
THRESHOLDS = ("fpr", "pot", "mean_std", "percentile", "contamination", "mad")

# ---- the tables --------------------------------------------------------------------------------

#: What every estimator's training takes (``aekit.training``).
TRAINING: dict[str, list[Any]] = {
    "epochs": [Int(0), "auto"],
    "batch_size": [Int(1)],
    "lr": [Real(0, closed="neither")],
    "schedule": [Choice(*SCHEDULES)],
    "precision": [Choice(*PRECISIONS)],
    "patience": [Int(1), None],
    "seed": [Int(0, 2**63 - 1, text="a whole number in [0, 2**63)")],
    "device": [Text("a device name such as 'auto', 'cpu' or 'cuda:0'")],
    # more than MAX_THREADS: libgomp's abort (10**9 asked for 216 GB) with no line of aekit's
    "threads": [Int(1, MAX_THREADS), None],
    "verbose": [Int(0, 2), Flag()],  # 0 silent, 1 a bar (a line per epoch off a terminal), 2 lines
}

#: Seeds a model trains with are below this: torch's CPU generator and scikit-learn's split keep 32
#: bits of a seed, so 2**32 trained as 0 (a run saved with a larger seed still loads).
TRAINING_SEEDS = 2**32

#: The user's own networks, which every family takes in place of its built-in one (:mod:`aekit.models.custom`).
NETWORKS: dict[str, list[Any]] = {
    "encoder": [None, Network(), NetworkClass()],
    "decoder": [None, Network(), NetworkClass()],
}

#: The threshold rule of both detectors (:mod:`aekit.estimators.thresholds`).
FIXED_NEEDS_A_VALUE = Refused(
    "fixed", "threshold='fixed' needs a value: pass the number itself, e.g. threshold=0.05"
)
THRESHOLD: dict[str, list[Any]] = {
    "threshold": [Rule(*THRESHOLDS), Real(), FIXED_NEEDS_A_VALUE],
    "k": [Real(0)],
    "q": [Real(0, 100)],
    "contamination": [Real(0, 1, closed="neither")],
}

AUTOENCODER: dict[str, list[Any]] = {
    "latent_dim": [Int(1), "auto"],
    "hidden": [Widths()],
    "activation": [Choice(*ACTIVATIONS)],
    "output_activation": [Choice(*ACTIVATIONS), "auto"],
    "init": [Choice(*INITS)],
    "loss": [Choice(*LOSSES)],
    "scaler": [Choice(*SCALERS)],
    **TRAINING,
    **NETWORKS,
}

DENOISER: dict[str, list[Any]] = {
    "noise": [Text("a noise spec such as 'gaussian:0.2'"), Texts()],
    "channels": [Widths(least=1)],
    "kernel_size": [Int(1)],
    "init": [Choice(*INITS)],
    "output_activation": [Choice(*ACTIVATIONS)],
    **TRAINING,
    **NETWORKS,
}

VAE: dict[str, list[Any]] = {
    "latent_dim": [Int(1)],
    "channels": [Widths(least=2, most=2)],
    "likelihood": [Choice("bernoulli", "gaussian")],
    "beta": [Real(0)],
    "free_bits": [Real(0)],
    "kl": [Choice("analytic", "mc")],
    "iw_samples": [Int(1)],
    "init": [Choice(*INITS)],
    **TRAINING,
    **NETWORKS,
}

ANOMALY_DETECTOR: dict[str, list[Any]] = {
    "hidden": [Widths(least=1), "auto"],
    "latent_dim": [Int(1), "auto"],
    "architecture": [Choice("dense", "conv1d", "conv2d")],
    "members": [Int(1), "auto"],
    "activation": [Choice(*ACTIVATIONS)],
    "output_activation": [Choice(*ACTIVATIONS), "auto"],
    "init": [Choice(*INITS)],
    "scaler": [Choice(*SCALERS)],
    "error": [Choice("nmse", "mae", "mse")],
    "density": [Real(0)],
    "n_neighbors": [Int(1)],
    "input_density": [Real(0)],
    "input_neighbors": [Int(1)],
    "loss": [Choice(*LOSSES)],
    **THRESHOLD,
    "validation_fraction": [Real(0, 0.5, closed="left")],
    **TRAINING,
    **NETWORKS,
}

SERIES_DETECTOR: dict[str, list[Any]] = {
    "window": [Int(2), "auto"],
    "stride": [Int(1)],
    "aggregate": [Choice("auto", "max", "mean")],
    "method": [Choice("both", "neighbors", "reconstruction")],
    "references": [Int(1)],
    "level": [Real(0), "auto"],
    "channels": [Widths(least=1)],
    "latent_dim": [Int(1), None],
    "kernel_size": [Int(1)],
    "init": [Choice(*INITS)],
    "scaler": [Choice("standard", "minmax", "none")],
    "error": [Choice(*LOSSES)],
    "loss": [Choice(*LOSSES)],
    "detrend": [Choice("auto", "none", "level", "difference")],
    **THRESHOLD,
    "threshold": [Rule("max", *THRESHOLDS), Real(), FIXED_NEEDS_A_VALUE],
    "margin": [Real(0, closed="neither")],
    **TRAINING,
    **NETWORKS,
}

IMAGE_DETECTOR: dict[str, list[Any]] = {
    "method": [Choice("features", "pixels", "ssim")],
    "bank_size": [Int(1)],
    "patch": [Int(1)],
    "smoothing": [Real(0)],
    "channels": [Widths(least=1)],
    "kernel_size": [Int(1)],
    "threshold": [Rule(*THRESHOLDS), Real(), FIXED_NEEDS_A_VALUE],
    "pixel_threshold": [Rule(*THRESHOLDS), Real(), FIXED_NEEDS_A_VALUE],
    "calibration_fraction": [Real(0, 0.5, closed="left")],
    **{
        k: TRAINING[k]
        for k in ("epochs", "batch_size", "lr", "seed", "device", "threads", "verbose")
    },
}
