"""What a fitted :class:`aekit.AnomalyDetector` saves beside its weights, and how it comes back.

JSON (``config.json``'s ``state``): the scaler, the column names, a fixed threshold if one was
fitted, the network as built, the code density's numbers; for readers also the threshold and how
many held-out rows set it. Tensors (``model.safetensors``): the weights, the training and held-out
scores, the residual scale, the code density's reference (:mod:`.anomaly_density`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..training.budget import AUTO
from .anomaly_density import CodeDensity
from .preprocessing import Scaler


class DetectorStateMixin:
    """``_get_state``/``_set_state``/``_get_tensors``/``_set_tensors`` of :class:`aekit.AnomalyDetector`."""

    def _get_state(self) -> dict[str, Any]:
        state = super()._get_state()
        state["scaler"] = self.scaler_.get_state()
        names = getattr(self, "feature_names_in_", None)
        state["feature_names"] = None if names is None else [str(n) for n in names]
        state["threshold_fit"] = getattr(self, "threshold_fit_", None)
        state["threshold_value"] = self.threshold_  # for readers of config.json; recomputed on load
        # For readers too: the network as built, and how many normal rows set the threshold.
        state["network"] = {
            "hidden": list(self.hidden_),
            "latent_dim": int(self.latent_dim_),
            "members": self._members(),
        }
        held = getattr(self, "holdout_scores_", None)
        state["holdout_rows"] = 0 if held is None else int(len(held))
        density = getattr(self, "code_density_", None)
        state["code_density"] = None if density is None else density.state()
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.scaler_ = Scaler.from_state(state["scaler"])
        if state.get("feature_names") is not None:
            self.feature_names_in_ = np.asarray(state["feature_names"], dtype=object)
        self.threshold_fit_ = state.get("threshold_fit")
        if self.members == AUTO and "members" not in state.get("network", {}):
            self.members = 1  # saved before ensembles: "auto" meant one network
        if "code_density" not in state:
            self.density = (
                0.0  # saved before the code density: scored by reconstruction error alone
            )
        self._density_state = state.get("code_density")
        self.hidden_, self.latent_dim_ = self._size()

    def _get_tensors(self) -> dict[str, torch.Tensor]:
        tensors = super()._get_tensors()
        tensors["decision_scores"] = torch.as_tensor(np.asarray(self.decision_scores_, np.float32))
        if getattr(self, "residual_scale_", None) is not None:
            tensors["residual_scale"] = torch.as_tensor(self.residual_scale_)
        if getattr(self, "holdout_scores_", None) is not None:
            tensors["holdout_scores"] = torch.as_tensor(
                np.asarray(self.holdout_scores_, np.float32)
            )
        if getattr(self, "code_density_", None) is not None:
            tensors.update(self.code_density_.tensors())
        return tensors

    def _set_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.decision_scores_ = tensors["decision_scores"].cpu().numpy().astype(np.float32)
        scale = tensors.get("residual_scale")
        self.residual_scale_ = None if scale is None else scale.cpu().numpy().astype(np.float32)
        held = tensors.get("holdout_scores")
        self.holdout_scores_ = None if held is None else held.cpu().numpy().astype(np.float32)
        density = self.__dict__.pop("_density_state", None)  # set by _set_state, needed only here
        self.code_density_ = None if density is None else CodeDensity.from_saved(tensors, density)
        super()._set_tensors(tensors)
        if self.code_density_ is not None:
            self.code_density_.to(self._model_device())
