"""What a finished training's history says of its model, said to the user with a likely fix.

A training can end without error and still be useless: a validation loss that never improved on
its first epoch, one several times the training loss (the rows learned by heart), one that rose
with the training loss (steps too large to settle), a code as wide as its input. These checks read
only the history and the model's widths, so both surfaces give them: the command line's recipes
(:mod:`aekit.recipes.quality`, its options named as typed: ``--lr 0.001``) and the estimators'
``fit`` (:mod:`aekit.estimators.advice`, its parameters as Python says them: ``lr=0.001``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .loop import lower_lr

OVERFIT_RATIO = 3.0  # final validation loss over final training loss: several times is overfitting
OVERFIT_RISE = 1.3  # final validation loss over its best: rising again is overfitting

# How a parameter is said to the user: (name, value or None) -> text
Say = Callable[..., str]


def as_option(name: str, value: Any = None) -> str:
    """A parameter as the command line takes it.

    Examples
    --------
    >>> as_option("latent_dim", 8), as_option("lr")
    ('--latent-dim 8', '--lr')
    """
    option = "--" + name.replace("_", "-")
    return option if value is None else f"{option} {value}"


def as_parameter(name: str, value: Any = None) -> str:
    """A parameter as Python takes it.

    Examples
    --------
    >>> as_parameter("latent_dim", 8), as_parameter("lr")
    ('latent_dim=8', 'lr')
    """
    return name if value is None else f"{name}={value}"


def own_args(say: Say) -> str:
    """Where the user's own network (an encoder and a decoder of theirs) is sized."""
    if say is as_option:
        return "--encoder-args, --decoder-args"
    return "the arguments of your aekit.network(...) encoder and decoder"


def never_improved(history: Sequence[dict], lr: Any, say: Say = as_option) -> str | None:
    """The validation loss of every epoch after the first is no better than the first's.

    Examples
    --------
    >>> never_improved([{"val_loss": 1.0}, {"val_loss": 1.2}, {"val_loss": 1.1}], 1e-3) is not None
    True
    """
    vals = [r.get("val_loss") for r in history]
    vals = [float(v) for v in vals if v is not None]
    if len(vals) < 3 or min(vals[1:]) < vals[0]:
        return None
    number = isinstance(lr, (int, float)) and not isinstance(lr, bool)
    lower = f"a lower {say('lr')}" + (f" (e.g. {lower_lr(float(lr)):g})" if number else "")
    return (
        f"the validation loss never improved on epoch 1's {vals[0]:.4g} over {len(vals)} epochs; "
        f"the model learned nothing that holds on held-out data: try {lower}, or check the data"
    )


def overfitting(
    history: Sequence[dict], own: bool = False, lr: Any = None, say: Say = as_option
) -> str | None:
    """The validation loss ended several times the training loss, or rose well above its best
    (``own``: the user's own network, sized by its own arguments). When the training loss rose
    as well since the best epoch, the model did not learn its training rows by heart: the training
    is unstable, and the fix is a lower learning rate (``lr``), not a smaller model.

    Losses that can be negative or zero (none of aekit's) are left alone.

    Examples
    --------
    >>> overfitting([{"train_loss": 0.01, "val_loss": 0.02}, {"train_loss": 0.0027, "val_loss": 0.0217}])[:26]
    'the model learned the trai'
    >>> overfitting([{"train_loss": 0.1, "val_loss": 0.12}, {"train_loss": 0.09, "val_loss": 0.11}]) is None
    True
    """
    rows = [r for r in history if r.get("val_loss") is not None and r.get("train_loss") is not None]
    if len(rows) < 2:
        return None
    train, val = float(rows[-1]["train_loss"]), float(rows[-1]["val_loss"])
    best = min(float(r["val_loss"]) for r in rows)
    if not (train > 0 and best > 0 and np.isfinite(val)):
        return None
    sizes = own_args(say) if own else f"{say('latent_dim')}, {say('hidden')}"
    fix = (
        f"use a {'smaller network' if own else 'smaller model'} ({sizes}), more data, fewer "
        f"{say('epochs')}, or {say('patience', 5)} (early stopping keeps the best epoch)"
    )
    at_best = float(min(rows, key=lambda r: float(r["val_loss"]))["train_loss"])
    if (
        val >= OVERFIT_RATIO * train or val >= OVERFIT_RISE * best
    ) and train > OVERFIT_RISE * at_best:
        return unstable(best, val, at_best, train, lr, say)
    if val >= OVERFIT_RATIO * train:
        return (
            f"the model learned the training data by heart: validation loss {val:.4g} is "
            f"{val / train:.1f}x the training loss {train:.4g} (overfitting); {fix}"
        )
    if len(rows) >= 5 and val >= OVERFIT_RISE * best:
        return (
            f"the validation loss rose from its best {best:.4g} to {val:.4g} while the training loss "
            f"fell (overfitting); {fix}"
        )
    return None


def unstable(
    best: float, val: float, at_best: float, train: float, lr: Any, say: Say = as_option
) -> str:
    """The validation loss rose from its ``best`` to ``val`` and the training loss with it (from
    ``at_best``, in the best epoch, to ``train``): the steps are too large for the loss to settle.

    Examples
    --------
    >>> unstable(6.98, 8269, 15.06, 8277, 20.0)[-44:]
    'lower the learning rate (--lr 20: try 0.001)'
    """
    number = isinstance(lr, (int, float)) and not isinstance(lr, bool)
    lower = (
        f" ({say('lr', f'{lr:g}')}: try {lower_lr(float(lr)):g})" if number else f" ({say('lr')})"
    )
    return (
        f"the validation loss rose from its best {best:.4g} to {val:.4g}, and the training loss rose "
        f"too (from {at_best:.4g} to {train:.4g}): the training is unstable, not overfitting; "
        f"lower the learning rate{lower}"
    )


def identity_code(
    latent: int, n_features: int, own: bool = False, say: Say = as_option
) -> str | None:
    """The code is as wide as the input: the network can pass each value through (a copy);
    ``own``: the code is what the user's own encoder returns.

    Examples
    --------
    >>> identity_code(64, 9)[:40], identity_code(3, 9)
    ('the code (64 numbers) is as wide as or w', None)
    """
    if latent < n_features:
        return None
    if n_features == 1:  # no code narrower than one number
        fix = (
            "one feature leaves nothing to compress: give more features, or score the value itself"
        )
    elif own:
        fix = f"make your encoder's code smaller than {n_features} numbers ({own_args(say)})"
    else:
        fix = (
            f"use {say('latent_dim')} below {n_features} (the default, auto, picks the principal "
            f"components that explain 90% of the variance)"
        )
    wide = "as wide as" if latent == n_features else "as wide as or wider than"
    return (
        f"the code ({latent} numbers) is {wide} the input ({n_features} features): the model "
        f"can copy its input and has learned nothing about it; {fix}"
    )
