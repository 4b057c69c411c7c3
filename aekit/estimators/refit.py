"""A fit that fails or is stopped leaves the estimator as it was.

A refit sets the data's attributes (``n_features_in_``, ``input_shape_``, ``scaler_``) before it
trains and the model's after: stopped in between (Ctrl-C in a notebook, a callback's error, a
diverged run), the estimator held the new data's scaler beside the old model and threshold, and
scored new rows with that mixture without a word (or failed inside torch on another width). The
state before the call is put back instead: a fitted estimator stays the model it was, an unfitted
one stays unfitted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def _keeping_state(fit: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fit)
    def whole_or_nothing(self, *args: Any, **kwargs: Any) -> Any:
        before = dict(vars(self))  # the attributes, not copies: a fit replaces them, never edits
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    whole_or_nothing._keeps_state = True  # type: ignore[attr-defined]
    return whole_or_nothing


class KeepsStateOnFailure:
    """Each subclass's own ``fit`` leaves the estimator as it was when it raises (a mixin)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fit = cls.__dict__.get("fit")
        if callable(fit) and not getattr(fit, "_keeps_state", False):
            cls.fit = _keeping_state(fit)
