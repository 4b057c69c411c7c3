"""Say when a fit ends in a model that is not useful: a :class:`~aekit.errors.QualityWarning`
with a likely fix, once the outermost ``fit`` returns (as scikit-learn's ``ConvergenceWarning``).

The command line's recipes say these and more (:mod:`aekit.recipes.quality`, their options as
typed); a Python session gets the checks that the history and the code's width tell
(:mod:`aekit.training.advice`), their parameters as Python takes them (``lr=0.0001``).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

from ..errors import QualityWarning
from ..training.advice import as_parameter, identity_code, never_improved, overfitting

_fitting = threading.local()  # inside a fit on this thread: a fit it calls says nothing of its own


def findings(est: Any, judged: bool = True) -> list[str]:
    """What a fitted ``est``'s history (and, for a model whose code may copy its input, the code's
    width) says is wrong with it, each a line with a likely fix; ``judged``: whether its validation
    loss says how well it fits normal data (a detector's ``validation_data`` may hold anomalies,
    whose high loss is no overfitting).

    Examples
    --------
    >>> class Fitted:
    ...     lr, history_ = 1e-3, [{"val_loss": 1.0}, {"val_loss": 1.2}, {"val_loss": 1.1}]
    >>> findings(Fitted())[0][-47:]
    'try a lower lr (e.g. 0.0001), or check the data'
    """
    history, lr = getattr(est, "history_", None) or [], getattr(est, "lr", None)
    own = getattr(est, "encoder", None) is not None
    found = [never_improved(history, lr, as_parameter)] if judged else []
    if judged and not found[0]:  # a loss that never improved has not overfitted: one is enough
        found.append(overfitting(history, own, lr, as_parameter))
    if getattr(est, "_code_may_copy", False) and hasattr(est, "latent_dim_"):
        width = int(getattr(est, "n_features_in_", 0))
        found.append(identity_code(int(est.latent_dim_), width, own, as_parameter))
    return [f for f in found if f]


class WarnsWhenUseless:
    """Each subclass's own ``fit`` warns (:func:`findings`) when the model it fitted is not useful
    (a mixin; the outermost fit of a thread says it, once)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fit = cls.__dict__.get("fit")
        if callable(fit) and not getattr(fit, "_warns", False):
            cls.fit = _warning(fit)


def _warning(fit: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fit)
    def fit_then_warn(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(_fitting, "inside", False):
            return fit(self, *args, **kwargs)
        _fitting.inside = True
        try:
            fitted = fit(self, *args, **kwargs)
        finally:
            _fitting.inside = False
        # a detector's validation_data may hold anomalies (its docstring says so)
        anomalies = getattr(self, "_scores_anomalies", False)
        judged = not (anomalies and kwargs.get("validation_data") is not None)
        for line in findings(self, judged):
            warnings.warn(line, QualityWarning, stacklevel=_callers_level())
        return fitted

    fit_then_warn._warns = True  # type: ignore[attr-defined]
    return fit_then_warn


def _callers_level() -> int:
    """The ``stacklevel`` of the first frame outside aekit and scikit-learn: the user's line that
    called ``fit``, ``fit_transform``, a Pipeline's or a search's fit (as scikit-learn's own
    warnings point into its code)."""
    import sklearn

    aekit = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # aekit/estimators/..
    inside = (aekit + os.sep, os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep)
    frame, level = sys._getframe(2), 2  # 1: warnings.warn's caller (fit_then_warn)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(inside):
        frame, level = frame.f_back, level + 1
    return level
