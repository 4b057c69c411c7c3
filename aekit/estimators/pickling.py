"""Pickling a fitted estimator whose network comes from the user's file.

A network given as ``aekit.network("path/nets.py:Enc")`` is imported under a module name of
aekit's making (``_aekit_network_nets_<hash>``, :mod:`aekit.models.custom`), which another
process does not have: pickle stores a class by its module's name, so the pickle of such a fitted
estimator loaded only in the process that wrote it (joblib files, a model registry, a worker
answered ``ModuleNotFoundError``). Its model is pickled as what ``save`` writes instead, the
weights and the state beside them, and rebuilt from the parameters' spec on unpickling, as
:func:`aekit.load` rebuilds it (the file checked against its recorded SHA-256).
"""

from __future__ import annotations

from typing import Any

from ..models.custom import FILE_MODULES

WEIGHTS = "_aekit_model_weights"  # the state key that stands for the model in such a pickle


class PicklesByWeights:
    """``__getstate__``/``__setstate__`` for an estimator with ``model_``, ``_get_tensors``,
    ``_get_state`` and ``_set_tensors`` (see :class:`aekit.estimators.base.NeuralEstimator`)."""

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        if not _from_files(state.get("model_")):
            return state
        from .persistence import jsonable

        # the model and its parts held apart (encoder_, decoder_): rebuilt from the weights
        state = {k: v for k, v in state.items() if not _from_files(v)}
        state[WEIGHTS] = (self._get_tensors(), jsonable(self._get_state()))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        weights = state.pop(WEIGHTS, None)
        super().__setstate__(state)
        if weights is not None:
            from ..models.init import float32_default
            from ..training.loop import GLOBAL_RNG
            from ..training.rng import borrowed_rng

            tensors, saved = weights
            # as aekit.load builds it: the caller's generators untouched, float32 as trained
            with GLOBAL_RNG, borrowed_rng(), float32_default():
                self._set_tensors(tensors, saved)


def _from_files(model: Any) -> bool:
    """Whether ``model`` is a torch module with a part whose class is from a network file aekit
    imported."""
    modules = model.modules() if hasattr(model, "modules") and callable(model.modules) else ()
    return any(type(m).__module__.startswith(FILE_MODULES) for m in modules)
