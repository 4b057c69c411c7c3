"""``AnomalyDetector``: flag samples that an autoencoder trained on normal data reconstructs badly.

PyOD-style: ``fit(X_normal)`` learns the model and the training scores
(``decision_scores_``); ``decision_function(X)`` scores new samples (higher = more
anomalous); ``predict(X)`` is 1 for an anomaly and 0 for a normal sample.

The threshold is never trained: ``threshold_`` is derived lazily from the normal rows' scores
(``threshold_scores_``) and the current parameters, so ``set_threshold(...)`` or
``set_params(threshold=...)`` changes it without retraining; ``fit_threshold(X_val, y_val)``
chooses a fixed value on labelled validation data. Defaults and presets: :mod:`.anomaly_defaults`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..data import RowsView
from ..errors import DataError, UsageError
from ..models.activations import ACTIVATIONS
from ..models import DenseAutoencoder, DenseConfig, signal_autoencoder
from ..models.init import INITS
from ..training.budget import AUTO, epochs_for_steps, holdout_indices
from ..training.loop import TrainConfig
from .anomaly_defaults import PRESETS, dense_size
from .anomaly_report import anomaly_metrics, score_table  # noqa: F401 (part of this module's API)
from .base import NeuralEstimator, check_fraction, check_positive_int, check_widths, is_row_store, iter_chunks
from .losses import per_sample_error, reconstruction_loss
from .preprocessing import SCALERS, Scaler
from .thresholds import METRICS, best_threshold, get_threshold

ERRORS = ("mae", "mse")
ARCHITECTURES = ("dense", "conv1d")
HOLDOUT_ROWS = 10_000  # at most this many rows held out: enough for early stopping and a 95th percentile


class AnomalyDetector(NeuralEstimator):
    """Reconstruction-error anomaly detector: an autoencoder trained on normal samples.

    Train on normal samples only; a sample's score is its reconstruction error in the
    scaled space, and a score above ``threshold_`` flags an anomaly.

    The defaults are meant for any table or set of signals (see ``docs/guide/anomaly.md`` for
    the evidence, a panel of public datasets): per-feature robust scaling, a network sized from
    the number of features (:func:`aekit.estimators.anomaly_defaults.dense_size`), a budget of
    optimizer steps rather than of epochs, early stopping on a held-out tenth of the normal rows
    with the best weights kept, and a threshold at the 95th percentile of the held-out rows'
    errors. The TensorFlow ECG5000 tutorial's settings are the preset ``recipe``:
    ``AnomalyDetector.from_preset("recipe")``.

    Parameters
    ----------
    hidden : tuple of int or "auto", default "auto"
        Encoder widths before the code; the decoder mirrors them. "auto": sized from the data.
    latent_dim : int or "auto", default "auto"
        Size of the code. "auto": sized from the data.
    architecture : {"dense", "conv1d"}, default "dense"
        The network: dense, or 1-D convs of widths ``hidden`` over each row as a signal (``models/conv1d.py``).
    activation : str, default "relu"
    output_activation : str, default "auto"
        ``"auto"``: sigmoid with ``scaler="minmax"``, linear otherwise.
    init : {"glorot", "torch"}, default "glorot"
    scaler : {"auto", "robust", "standard", "minmax", "none"}, default "auto"
        Preprocessing learned on the training rows and saved with the model: ``auto`` is ``robust``,
        with one shared scale when all features have a similar spread (a signal: see
        :mod:`aekit.estimators.preprocessing`); ``robust`` is the
        per-feature median and IQR (outliers among the training rows move neither; one wide
        column cannot drown the others); ``standard`` per-feature mean and std; ``minmax`` the
        training data's global min and max (the ECG5000 recipe).
    error : {"mae", "mse"}, default "mae"
        The per-sample score: mean squared or absolute reconstruction error.
    loss : {"mse", "mae"}, default "mse"
        Training loss.
    threshold : {"percentile", "contamination", "mean_std", "mad", "fixed"} or float, default "percentile"
        How ``threshold_`` is derived from the normal rows' scores (:attr:`threshold_scores_`;
        see :mod:`aekit.estimators.thresholds`); a number is a fixed threshold.
    k : float, default 1.0
        ``mean_std``: mean + k std; ``mad``: median + k * 1.4826 MAD.
    q : float, default 95.0
        ``percentile``: the percentile of the normal rows' scores, in [0, 100]. 95 expects one
        false alarm in twenty normal samples, whatever the scale of the errors.
    contamination : float, default 0.05
        ``contamination``: expected fraction of anomalies, in (0, 1).
    epochs : int or "auto", default "auto"
        Passes over the data; "auto" gives ``auto_steps`` optimizer steps whatever the number of
        rows (at most ``auto_max_epochs`` passes), see :mod:`aekit.training.budget`.
    batch_size : int, default 64
    lr : float, default 1e-3
        Adam's learning rate.
    schedule : {"constant", "onecycle"}, default "constant"
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" trains with bfloat16 autocast (weights and optimizer stay fp32), for GPUs and
        larger models; evaluation and saved weights are fp32.
    validation_fraction : float, default 0.1
        Fraction of the training rows held out (seeded, at most ``HOLDOUT_ROWS`` rows) for early
        stopping and the threshold; 0 trains on every row. Ignored when ``validation_data`` is
        given to :meth:`fit`, which then takes its place for early stopping.
    patience : int or None, default 20
        Early stopping: epochs without improvement of the validation loss (the best epoch's
        weights are kept); None trains for all ``epochs``.
    seed : int, default 0
    device : str, default "auto"
        Training, as for :class:`aekit.Autoencoder`; so are ``threads`` (int or None, default None) and
        ``verbose`` (0, 1 or 2, default 0: progress on stderr).

    Attributes
    ----------
    model_ : torch.nn.Module
    scaler_ : aekit.estimators.preprocessing.Scaler
    hidden_, latent_dim_ : tuple of int, int
        The network's widths as built ("auto" resolved).
    decision_scores_ : ndarray of shape (n_train,)
        Scores of the training samples (held-out ones included).
    threshold_scores_ : ndarray
        The scores the threshold is taken from: those of the held-out rows when rows were held
        out (the model never fitted them, so they are errors as on new normal data), else
        ``decision_scores_``.
    threshold_ : float
        Derived from ``threshold_scores_`` and the current threshold parameters.
    labels_ : ndarray of shape (n_train,)
        1 for the training samples above ``threshold_``.
    feature_names_in_ : ndarray of str or None
        Column names seen at ``fit`` (used to pick columns when scoring files).
    history_ : list of dict

    Examples
    --------
    >>> import numpy as np, aekit
    >>> t = np.linspace(0, 2 * np.pi, 64, dtype=np.float32)
    >>> rng = np.random.default_rng(0)
    >>> X = np.sin(t + rng.uniform(0, 6, (512, 1))).astype(np.float32)
    >>> det = aekit.AnomalyDetector(epochs=5).fit(X)
    >>> det.predict(X[:3]).shape
    (3,)
    >>> det.set_threshold("percentile", q=99).threshold_ > 0
    True
    >>> aekit.AnomalyDetector.from_preset("recipe").get_params()["scaler"]
    'minmax'
    """

    presets = PRESETS  # named complete settings: from_preset(name), aekit train anomaly --preset NAME
    auto_steps = 1500  # optimizer steps of epochs="auto" (early stopping may end sooner)
    auto_max_epochs = 2000  # tiny data: an epoch is one step, so allow as many epochs as steps
    auto_min_steps = 1000  # epochs="auto": early stopping may not stop before this many steps

    def __init__(self, hidden: Sequence[int] | str = "auto", latent_dim: int | str = "auto",
                 architecture: str = "dense", activation: str = "relu", output_activation: str = "auto",
                 init: str = "glorot", scaler: str = "auto", error: str = "mae", loss: str = "mse",
                 threshold: str | float = "percentile", k: float = 1.0, q: float = 95.0,
                 contamination: float = 0.05, epochs: int | str = "auto", batch_size: int = 64, lr: float = 1e-3,
                 schedule: str = "constant", precision: str = "fp32", validation_fraction: float = 0.1,
                 patience: int | None = 20, seed: int = 0, device: str = "auto", threads: int | None = None,
                 verbose: int = 0):
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.architecture = architecture
        self.activation = activation
        self.output_activation = output_activation
        self.init = init
        self.scaler = scaler
        self.error = error
        self.loss = loss
        self.threshold = threshold
        self.k = k
        self.q = q
        self.contamination = contamination
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.schedule = schedule
        self.precision = precision
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.seed = seed
        self.device, self.threads, self.verbose = device, threads, verbose  # one line: the file is near 500 lines

    _accepts_sparse = True  # SciPy sparse X: densified a batch at a time (PyOD outputs: no sklearn outlier tag)

    @classmethod
    def from_preset(cls, name: str, **params: Any) -> "AnomalyDetector":
        """A detector with the named preset's settings (:data:`presets`), ``params`` on top.

        Examples
        --------
        >>> AnomalyDetector.from_preset("recipe").epochs    # the TensorFlow ECG5000 tutorial
        20
        """
        if name not in cls.presets:
            raise UsageError(f"unknown preset {name!r}; expected one of: {', '.join(cls.presets)}")
        return cls(**{**cls.presets[name], **params})

    # ---- parameters ------------------------------------------------------------------------
    def _strategy(self):
        """The threshold strategy of the current parameters (validated)."""
        if isinstance(self.threshold, str):
            kw = {"mean_std": {"k": self.k}, "mad": {"k": self.k}, "percentile": {"q": self.q},
                  "contamination": {"contamination": self.contamination}}.get(self.threshold, {})
            if self.threshold == "fixed":
                raise UsageError("threshold='fixed' needs a value: pass the number itself, e.g. threshold=0.05")
            return get_threshold(self.threshold, **kw)
        return get_threshold(self.threshold)

    def _check_params(self) -> None:
        if self.latent_dim != AUTO:
            check_positive_int("latent_dim", self.latent_dim)
        if not (isinstance(self.hidden, str) and self.hidden == AUTO):
            check_widths("hidden", self.hidden)
        if self.architecture not in ARCHITECTURES:
            raise UsageError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.activation not in ACTIVATIONS:
            raise UsageError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.output_activation != "auto" and self.output_activation not in ACTIVATIONS:
            raise UsageError(f"output_activation must be 'auto' or one of {sorted(ACTIVATIONS)}, "
                             f"got {self.output_activation!r}")
        if self.init not in INITS:
            raise UsageError(f"init must be one of {INITS}, got {self.init!r}")
        if self.scaler not in SCALERS:
            raise UsageError(f"scaler must be one of {', '.join(SCALERS)}, got {self.scaler!r}")
        if self.error not in ERRORS:
            raise UsageError(f"error must be 'mae' or 'mse', got {self.error!r}")
        if self.loss not in ERRORS:
            raise UsageError(f"loss must be 'mae' or 'mse', got {self.loss!r}")
        if self.validation_fraction != 0:  # 0: no hold-out; else less than half (the model trains on the rest)
            check_fraction("validation_fraction", self.validation_fraction, high=0.5)
        self._strategy()
        self._train_config()

    def _output_activation(self) -> str:
        if self.output_activation != "auto":
            return self.output_activation
        return "sigmoid" if self.scaler == "minmax" else "linear"

    def _size(self) -> tuple[tuple[int, ...], int]:
        """``(hidden, latent_dim)``: the parameters, with "auto" worked out from the number of features."""
        hidden, latent = dense_size(self.n_features_in_)
        if not (isinstance(self.hidden, str) and self.hidden == AUTO):
            hidden = check_widths("hidden", self.hidden)
        if self.latent_dim != AUTO:
            latent = check_positive_int("latent_dim", self.latent_dim)
        return hidden, latent

    def _build_model(self) -> torch.nn.Module:
        hidden, latent = self._size()
        if self.architecture == "conv1d":
            return signal_autoencoder(self.input_shape_, hidden, latent, self._output_activation(), self.init)
        return DenseAutoencoder(DenseConfig(
            input_shape=tuple(self.input_shape_), latent_dim=latent, hidden=hidden, activation=self.activation,
            output_activation=self._output_activation(), init=self.init))

    # ---- training --------------------------------------------------------------------------
    def _train_config(self, n_samples: int | None = None) -> TrainConfig:
        """The base's, and with ``epochs="auto"`` no early stop before ``auto_min_steps`` steps.

        On tiny data an epoch is a step or two and the held-out rows are few, so the validation
        loss is noisy: a patience counted in epochs alone would stop after a few dozen steps.
        """
        config = super()._train_config(n_samples)
        if self.epochs == AUTO and n_samples is not None:
            config.min_epochs = epochs_for_steps(n_samples, config.batch_size, self.auto_min_steps)
        return config

    def _holdout(self, X: Any) -> tuple[Any, np.ndarray | None]:
        """(rows to train on, held-out rows in memory or None): a seeded part of ``X``, at most HOLDOUT_ROWS."""
        n = len(X)
        if not self.validation_fraction or n < 2:
            return X, None
        fraction = min(float(self.validation_fraction), HOLDOUT_ROWS / n)
        fit_idx, held_idx = holdout_indices(n, fraction, check_positive_int("seed", self.seed, 0))
        if is_row_store(X):  # the training rows stay on disk; the held-out ones (bounded) come into memory
            return RowsView(X, fit_idx), X.take(held_idx)
        return X[fit_idx], X[held_idx]

    def fit(self, X: Any, y: Any = None, *, validation_data: Any = None, feature_names: Sequence[str] | None = None,
            checkpoint_dir: str | Path | None = None, resume: bool = False,
            callbacks: Sequence[object] = (), tensorboard: Any = None) -> "AnomalyDetector":
        """Train on normal samples ``X`` (``y`` is ignored, for scikit-learn pipelines).

        Parameters
        ----------
        X : array-like of shape (n, features), or a pandas DataFrame, or a row store on disk
            Normal samples only (a few unlabelled anomalies are tolerated: the robust scaler
            and the percentile threshold are hardly moved by them).
        validation_data : array-like, optional
            Held-out samples (normal or not) whose loss is recorded as ``val_loss`` and drives
            early stopping, instead of the ``validation_fraction`` held out of ``X``.
        feature_names : sequence of str, optional
            Column names (taken from a DataFrame's columns when not given).
        checkpoint_dir, resume, callbacks, tensorboard :
            As for :meth:`aekit.Autoencoder.fit`.

        Returns
        -------
        self

        Examples
        --------
        >>> det = AnomalyDetector().fit(X_normal)        # doctest: +SKIP
        """
        self._check_params()
        if feature_names is None and hasattr(X, "columns"):
            feature_names = [str(c) for c in X.columns]
        X = self._validate_fit_input(X)
        self._record_feature_names(feature_names)
        Xfit, held = self._holdout(X) if validation_data is None else (X, None)  # validation_data replaces it
        loss = reconstruction_loss(self.loss)
        if is_row_store(Xfit):
            # Data on disk: learn the scaler chunk by chunk and scale each batch on the device.
            self.scaler_ = Scaler(self.scaler).fit_chunks(iter_chunks(Xfit))
            Xs, base_loss = Xfit, loss

            def loss(model, x, target, generator=None):
                xs = self.scaler_.torch_transform(x)
                return base_loss(model, xs, xs, generator)
        else:
            self.scaler_ = Scaler(self.scaler).fit(Xfit)
            Xs = self.scaler_.transform(Xfit)
        validation = None
        if validation_data is not None:
            V = self._check_aux(validation_data, "validation_data")
            if V.shape[1:] != X.shape[1:]:
                raise DataError(f"validation_data: sample shape {V.shape[1:]} differs from X's {X.shape[1:]}")
            validation = (self.scaler_.transform(V if isinstance(V, np.ndarray) else V.rows(0, len(V))),) * 2
        elif held is not None:
            validation = (self.scaler_.transform(held),) * 2
        self.hidden_, self.latent_dim_ = self._size()  # "auto" as built, for readers
        model = self._seeded_model(self._build_model)
        self.model_ = self._fit_model(model, loss, Xs, validation=validation, tensorboard=tensorboard,
                                      val_loss_fn=reconstruction_loss(self.loss),  # validation is scaled already
                                      checkpoint_dir=checkpoint_dir, resume=resume, callbacks=callbacks)
        self.decision_scores_ = self._scores(X)
        self.holdout_scores_ = None if held is None else self._scores(held)
        self.threshold_fit_ = None
        return self

    # ---- scores and decisions ----------------------------------------------------------------
    def _scores(self, X: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Per-sample error of raw ``X``, scaled batch by batch on the device."""
        def score(xb: torch.Tensor) -> torch.Tensor:
            xs = self.scaler_.torch_transform(xb)
            return per_sample_error(self.model_(xs), xs, self.error)

        kw = {} if batch_size is None else {"batch_size": check_positive_int("batch_size", batch_size)}
        return self._map_batches(score, X, **kw).astype(np.float32)

    def decision_function(self, X: Any, *, batch_size: int | None = None) -> np.ndarray:
        """Anomaly score of each sample (higher = more anomalous): its reconstruction error.

        Scored in batches (``aekit.estimators.base.INFERENCE_BATCH`` samples unless
        ``batch_size`` is given), so memory stays bounded for any number of samples.

        Examples
        --------
        >>> scores = det.decision_function(X)      # doctest: +SKIP
        """
        return self._scores(self._validate_input(X), batch_size)

    def score_samples(self, X: Any) -> np.ndarray:
        """Same as :meth:`decision_function` (higher = more anomalous).

        Examples
        --------
        >>> det.score_samples(X)                   # doctest: +SKIP
        """
        return self.decision_function(X)

    @property
    def threshold_scores_(self) -> np.ndarray:
        """The normal scores the threshold comes from: the held-out rows' if any, else the training rows'."""
        self._check_is_fitted()
        held = getattr(self, "holdout_scores_", None)
        return self.decision_scores_ if held is None or len(held) == 0 else held

    @property
    def threshold_(self) -> float:
        """The decision threshold: the threshold strategy applied to ``threshold_scores_``."""
        return self._strategy().compute(self.threshold_scores_)

    @property
    def labels_(self) -> np.ndarray:
        """1 for the training samples whose score is above ``threshold_``, else 0."""
        return (self.decision_scores_ > self.threshold_).astype(np.int64)

    def predict(self, X: Any) -> np.ndarray:
        """1 for an anomaly (score > ``threshold_``), 0 for a normal sample.

        Examples
        --------
        >>> det.predict(X)                          # doctest: +SKIP
        array([0, 0, 1])
        """
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Reconstructions of ``X``, in the input's units.

        Examples
        --------
        >>> X_hat = det.reconstruct(X[:2])          # doctest: +SKIP
        """
        X = self._validate_input(X)
        return self._map_batches(lambda xb: self.scaler_.torch_inverse(self.model_(self.scaler_.torch_transform(xb))), X)

    def set_threshold(self, strategy: str | float = "mean_std", **params: Any) -> "AnomalyDetector":
        """Change how ``threshold_`` is derived, without retraining; returns ``self``.

        Parameters
        ----------
        strategy : str or float
            ``mean_std`` / ``mad`` (``k=``), ``percentile`` (``q=``), ``contamination``
            (``contamination=``), ``fixed`` (``value=``), or a number (fixed).

        Examples
        --------
        >>> det.set_threshold("percentile", q=99).threshold_     # doctest: +SKIP
        0.061
        """
        strat = get_threshold(strategy, **params)  # validates before anything changes
        if strat.name == "fixed":
            self.set_params(threshold=float(strat.value))
        else:
            self.set_params(threshold=strategy, **{key: getattr(strat, key) for key in strat.params})
        return self

    def fit_threshold(self, X_val: Any, y_val: Any, metric: str = "f1") -> "AnomalyDetector":
        """Choose the threshold that maximises ``metric`` on labelled data (``y_val``: 1 = anomaly).

        Sets ``threshold`` to the chosen number (a fixed threshold) and records
        ``threshold_fit_ = {"metric": ..., "value": ...}``; returns ``self``.

        Parameters
        ----------
        X_val : array-like
        y_val : array-like of 0/1
        metric : {"f1", "accuracy", "balanced_accuracy", "mcc"}

        Examples
        --------
        >>> det.fit_threshold(X_val, y_val, metric="f1").threshold_     # doctest: +SKIP
        """
        if metric not in METRICS:
            raise UsageError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        scores = self.decision_function(X_val)
        threshold, value = best_threshold(scores, np.asarray(y_val).ravel(), metric)
        self.threshold = threshold
        self.threshold_fit_ = {"metric": metric, "value": value}
        return self

    def evaluate(self, X: Any, y_anomaly: Any) -> dict[str, Any]:
        """Held-out figures against labels (1 = anomaly); see :func:`anomaly_metrics`.

        Examples
        --------
        >>> det.evaluate(X_test, y_test)["roc_auc"]       # doctest: +SKIP
        0.966
        """
        scores = self.decision_function(X)
        y = np.asarray(y_anomaly).ravel()
        if len(y) != len(scores):
            raise DataError(f"y has {len(y)} labels but X has {len(scores)} samples; give one label per sample")
        return anomaly_metrics(y, scores, self.threshold_)

    # ---- persistence ---------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        state = super()._get_state()
        state["scaler"] = self.scaler_.get_state()
        names = getattr(self, "feature_names_in_", None)
        state["feature_names"] = None if names is None else [str(n) for n in names]
        state["threshold_fit"] = getattr(self, "threshold_fit_", None)
        state["threshold_value"] = self.threshold_  # for readers of config.json; recomputed on load
        # For readers too: the network as built, and how many normal rows set the threshold.
        state["network"] = {"hidden": list(self.hidden_), "latent_dim": int(self.latent_dim_)}
        held = getattr(self, "holdout_scores_", None)
        state["holdout_rows"] = 0 if held is None else int(len(held))
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.scaler_ = Scaler.from_state(state["scaler"])
        if state.get("feature_names") is not None:
            self.feature_names_in_ = np.asarray(state["feature_names"], dtype=object)
        self.threshold_fit_ = state.get("threshold_fit")
        self.hidden_, self.latent_dim_ = self._size()

    def _get_tensors(self) -> dict[str, torch.Tensor]:
        tensors = super()._get_tensors()
        tensors["decision_scores"] = torch.as_tensor(np.asarray(self.decision_scores_, np.float32))
        if getattr(self, "holdout_scores_", None) is not None:
            tensors["holdout_scores"] = torch.as_tensor(np.asarray(self.holdout_scores_, np.float32))
        return tensors

    def _set_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.decision_scores_ = tensors["decision_scores"].cpu().numpy().astype(np.float32)
        held = tensors.get("holdout_scores")
        self.holdout_scores_ = None if held is None else held.cpu().numpy().astype(np.float32)
        super()._set_tensors(tensors)
