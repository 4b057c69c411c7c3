"""aekit: autoencoders for real work, in PyTorch.

Turn images or signals into latent vectors (:class:`Autoencoder`), denoise images
(:class:`Denoiser`), detect anomalies by reconstruction error (:class:`AnomalyDetector`)
and generate new samples (:class:`VAE`). Every estimator follows scikit-learn's
conventions (``fit`` returns ``self``, learned state ends in ``_``) and saves to a
folder of safetensors weights and JSON that :func:`load` reads back without unpickling.

Examples
--------
>>> import aekit, numpy as np
>>> X = np.random.default_rng(0).random((256, 20), dtype=np.float32)
>>> ae = aekit.Autoencoder(latent_dim=4, epochs=2).fit(X)
>>> ae.transform(X).shape
(256, 4)
"""

from ._lazy import lazy_names
from ._version import __version__
from .families import ESTIMATORS

# The public names are imported on first use, so ``import aekit`` (and ``aekit --help``) stays
# fast: torch is only imported when a model is needed.
_LAZY = {
    **ESTIMATORS,  # the registered families' estimators (aekit.families)
    "Trainer": "aekit.training.trainer",
    "load": "aekit.estimators.persistence",
    "network": "aekit.models.custom",
}

__all__ = ["__version__", *_LAZY]

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
