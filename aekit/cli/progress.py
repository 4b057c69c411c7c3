"""Progress of CLI commands on stderr: a bar on a terminal, a line per epoch (at most one a second)
anywhere else.

Commands set the estimator's ``verbose`` (:mod:`aekit.training.progress`, Keras' meaning): training
epochs, and long passes such as a VAE's evaluation or scoring a large file, report progress;
``--quiet`` turns it off.
"""

from __future__ import annotations


def verbose_for(args) -> int:
    """``verbose`` for an estimator a command trains or loads: 0 with ``--quiet``, else 1."""
    return 0 if getattr(args, "quiet", False) else 1


def set_verbose(est, args) -> None:
    """Turn the loaded estimator's progress on (off with ``--quiet``), where it has a ``verbose``."""
    if "verbose" in est.get_params(deep=False):
        est.set_params(verbose=verbose_for(args))


def takes_verbose(family: str) -> bool:
    """Whether the estimator of ``family`` has a ``verbose`` parameter."""
    import inspect

    from ..estimators.persistence import estimator_class
    from ..recipes import get_recipe

    return "verbose" in inspect.signature(estimator_class(get_recipe(family).estimator)).parameters
