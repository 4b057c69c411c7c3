"""Say when a fit ends in a model that is not useful: a :class:`~aekit.errors.QualityWarning`
with a likely fix, once the outermost ``fit`` returns (as scikit-learn's ``ConvergenceWarning``).

The command line's recipes say these and more (:mod:`aekit.recipes.quality`, their options as
typed); a Python session gets the checks that the history and the code's width tell
(:mod:`aekit.training.advice`), their parameters as Python takes them (``lr=0.0001``).
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any

from ..errors import QualityWarning
from ..training.advice import as_parameter, identity_code, never_improved, overfitting

_fitting = threading.local()  # inside a fit on this thread: a fit it calls says nothing of its own


def findings(est: Any) -> list[str]:
    """What a fitted ``est``'s history (and, for a model whose code may copy its input, the code's
    width) says is wrong with it, each a line with a likely fix.

    Examples
    --------
    >>> class Fitted:
    ...     lr, history_ = 1e-3, [{"val_loss": 1.0}, {"val_loss": 1.2}, {"val_loss": 1.1}]
    >>> findings(Fitted())[0][-47:]
    'try a lower lr (e.g. 0.0001), or check the data'
    """
    history, lr = getattr(est, "history_", None) or [], getattr(est, "lr", None)
    own = getattr(est, "encoder", None) is not None
    found = [never_improved(history, lr, as_parameter)]
    if not found[0]:  # a loss that never improved has not overfitted: one warning is enough
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
        for line in findings(self):
            warnings.warn(line, QualityWarning, stacklevel=2)  # at the caller's fit(...)
        return fitted

    fit_then_warn._warns = True  # type: ignore[attr-defined]
    return fit_then_warn
