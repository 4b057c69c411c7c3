"""``AnomalyDetector``: flag samples that an autoencoder trained on normal data reconstructs badly.

PyOD-style: ``fit(X_normal)`` learns the model and the training scores
(``decision_scores_``); ``decision_function(X)`` scores new samples (higher = more
anomalous); ``predict(X)`` is 1 for an anomaly and 0 for a normal sample.

The threshold is never trained: ``threshold_`` is derived lazily from
``decision_scores_`` and the current parameters (``threshold``, ``k``, ``q``,
``contamination``), so ``set_threshold(...)`` or ``set_params(threshold=...)`` after
fitting changes it without retraining. ``fit_threshold(X_val, y_val)`` chooses a fixed
value on labelled validation data (it sets ``threshold`` to that number).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..data import as_array
from ..errors import DataError, UsageError
from ..models.activations import ACTIVATIONS
from ..models.dense import DenseAutoencoder, DenseConfig
from ..models.init import INITS
from .base import NeuralEstimator, check_positive_int, check_widths, is_row_store, iter_chunks
from .losses import per_sample_error, reconstruction_loss
from .preprocessing import SCALERS, Scaler
from .thresholds import METRICS, best_threshold, get_threshold

ERRORS = ("mae", "mse")
ARCHITECTURES = ("dense",)


def anomaly_metrics(y_anomaly: Any, scores: Any, threshold: float) -> dict[str, Any]:
    """Held-out figures of anomaly scores against labels (1 = anomaly, 0 = normal).

    Returns ``accuracy``, ``precision``, ``recall``, ``f1`` (positive class: anomaly),
    ``precision_normal``, ``recall_normal`` (positive class: normal, the tutorials'
    convention), ``roc_auc`` and ``pr_auc`` (``None`` unless both classes occur),
    ``threshold``, ``confusion_matrix`` (rows: true normal, anomaly; columns: predicted)
    and ``n_samples``, ``n_anomalies``.

    Examples
    --------
    >>> anomaly_metrics([0, 0, 1], [0.1, 0.2, 0.9], 0.5)["accuracy"]
    1.0
    """
    from sklearn import metrics as m

    y = np.asarray(y_anomaly).astype(np.int64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    pred = (s > threshold).astype(np.int64)
    both = 0 < y.sum() < len(y)
    out: dict[str, Any] = {
        "accuracy": float(m.accuracy_score(y, pred)),
        "precision": float(m.precision_score(y, pred, zero_division=0)),
        "recall": float(m.recall_score(y, pred, zero_division=0)),
        "f1": float(m.f1_score(y, pred, zero_division=0)),
        "precision_normal": float(m.precision_score(1 - y, 1 - pred, zero_division=0)),
        "recall_normal": float(m.recall_score(1 - y, 1 - pred, zero_division=0)),
        "roc_auc": float(m.roc_auc_score(y, s)) if both else None,
        "pr_auc": float(m.average_precision_score(y, s)) if both else None,
        "threshold": float(threshold),
        "confusion_matrix": m.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        "n_samples": int(len(y)),
        "n_anomalies": int(y.sum()),
    }
    return out


class AnomalyDetector(NeuralEstimator):
    """Reconstruction-error anomaly detector (the ECG5000 recipe by default).

    Train on normal samples only; a sample's score is its reconstruction error in the
    scaled space, and a score above ``threshold_`` flags an anomaly. The defaults are the
    TensorFlow ECG5000 recipe: global min-max scaling, a dense 140-32-16-8-16-32-140
    network (ReLU, sigmoid output), MAE loss and error, 20 epochs of batch 512, threshold
    mean + 1 std of the training errors.

    Parameters
    ----------
    hidden : tuple of int, default (32, 16)
        Encoder widths before the code; the decoder mirrors them.
    latent_dim : int, default 8
        Size of the code.
    architecture : {"dense"}, default "dense"
        The network (dense autoencoder, :class:`aekit.models.dense.DenseAutoencoder`).
    activation : str, default "relu"
    output_activation : str, default "auto"
        ``"auto"``: sigmoid with ``scaler="minmax"``, linear otherwise.
    init : {"glorot", "torch"}, default "glorot"
    scaler : {"minmax", "standard", "none"}, default "minmax"
        Preprocessing learned on the training data and saved with the model:
        ``minmax`` uses the training data's global min and max; ``standard`` is per feature.
    error : {"mae", "mse"}, default "mae"
        The per-sample score: mean absolute or squared reconstruction error.
    loss : {"mae", "mse"}, default "mae"
        Training loss.
    threshold : {"mean_std", "percentile", "contamination", "mad", "fixed"} or float, default "mean_std"
        How ``threshold_`` is derived from the training scores (see
        :mod:`aekit.estimators.thresholds`); a number is a fixed threshold.
    k : float, default 1.0
        ``mean_std``: mean + k std; ``mad``: median + k * 1.4826 MAD.
    q : float, default 95.0
        ``percentile``: the percentile of the training scores, in [0, 100].
    contamination : float, default 0.05
        ``contamination``: expected fraction of anomalies, in (0, 1).
    epochs : int, default 20
    batch_size : int, default 512
    lr : float, default 1e-3
        Adam's learning rate.
    schedule : {"constant", "onecycle"}, default "constant"
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" trains with bfloat16 autocast (weights and optimizer stay fp32), for GPUs and
        larger models; evaluation and saved weights are fp32.
    patience : int or None
        Early stopping on the validation loss.
    seed : int, default 0
    device : str, default "auto"
        Training, as for :class:`aekit.Autoencoder`.
    verbose : {0, 1, 2}, default 0
        Progress on stderr, as for :class:`aekit.Autoencoder`.

    Attributes
    ----------
    model_ : torch.nn.Module
    scaler_ : aekit.estimators.preprocessing.Scaler
    decision_scores_ : ndarray of shape (n_train,)
        Scores of the training samples.
    threshold_ : float
        Derived from ``decision_scores_`` and the current threshold parameters.
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
    >>> det = aekit.AnomalyDetector(epochs=5, batch_size=64).fit(X)
    >>> det.predict(X[:3]).shape
    (3,)
    >>> det.set_threshold("percentile", q=99).threshold_ > 0
    True
    """

    def __init__(self, hidden: Sequence[int] = (32, 16), latent_dim: int = 8, architecture: str = "dense",
                 activation: str = "relu", output_activation: str = "auto", init: str = "glorot",
                 scaler: str = "minmax", error: str = "mae", loss: str = "mae", threshold: str | float = "mean_std",
                 k: float = 1.0, q: float = 95.0, contamination: float = 0.05, epochs: int = 20,
                 batch_size: int = 512, lr: float = 1e-3, schedule: str = "constant",
                 precision: str = "fp32", patience: int | None = None,
                 seed: int = 0, device: str = "auto",
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
        self.patience = patience
        self.seed = seed
        self.device = device
        self.verbose = verbose

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
        check_positive_int("latent_dim", self.latent_dim)
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
        self._strategy()
        self._train_config()

    def _output_activation(self) -> str:
        if self.output_activation != "auto":
            return self.output_activation
        return "sigmoid" if self.scaler == "minmax" else "linear"

    def _build_model(self) -> torch.nn.Module:
        return DenseAutoencoder(DenseConfig(
            input_shape=tuple(self.input_shape_), latent_dim=int(self.latent_dim),
            hidden=check_widths("hidden", self.hidden), activation=self.activation,
            output_activation=self._output_activation(), init=self.init))

    # ---- training --------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, validation_data: Any = None, feature_names: Sequence[str] | None = None,
            checkpoint_dir: str | Path | None = None, resume: bool = False,
            callbacks: Sequence[object] = ()) -> "AnomalyDetector":
        """Train on normal samples ``X`` (``y`` is ignored, for scikit-learn pipelines).

        Parameters
        ----------
        X : array-like of shape (n, features), or a pandas DataFrame
            Normal samples only (a few unlabelled anomalies are tolerated by robust
            thresholds such as ``mad`` or ``percentile``).
        validation_data : array-like, optional
            Held-out samples (normal or not); their loss is recorded as ``val_loss``.
        feature_names : sequence of str, optional
            Column names (taken from a DataFrame's columns when not given).
        checkpoint_dir, resume, callbacks :
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
        if feature_names is not None:
            if len(self.input_shape_) != 1 or len(feature_names) != self.input_shape_[0]:
                raise DataError(f"feature_names has {len(feature_names)} names but X has shape {X.shape}; "
                                f"give one name per column")
            self.feature_names_in_ = np.asarray([str(f) for f in feature_names], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        loss = reconstruction_loss(self.loss)
        if is_row_store(X):
            # Data on disk: learn the scaler chunk by chunk and scale each batch on the device.
            self.scaler_ = Scaler(self.scaler).fit_chunks(iter_chunks(X))
            Xs, base_loss = X, loss

            def loss(model, x, target, generator=None):
                xs = self.scaler_.torch_transform(x)
                return base_loss(model, xs, xs, generator)
        else:
            self.scaler_ = Scaler(self.scaler).fit(X)
            Xs = self.scaler_.transform(X)
        validation = None
        if validation_data is not None:
            V = as_array(validation_data, name="validation_data")
            if V.shape[1:] != X.shape[1:]:
                raise DataError(f"validation_data: sample shape {V.shape[1:]} differs from X's {X.shape[1:]}")
            Vs = self.scaler_.transform(V)
            validation = (Vs, Vs)
        model = self._seeded_model(self._build_model)
        self.model_ = self._fit_model(model, loss, Xs, validation=validation,
                                      val_loss_fn=reconstruction_loss(self.loss),  # validation is scaled already
                                      checkpoint_dir=checkpoint_dir, resume=resume, callbacks=callbacks)
        self.decision_scores_ = self._scores(X)
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
    def threshold_(self) -> float:
        """The decision threshold: the threshold strategy applied to ``decision_scores_``."""
        self._check_is_fitted()
        return self._strategy().compute(self.decision_scores_)

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
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.scaler_ = Scaler.from_state(state["scaler"])
        if state.get("feature_names") is not None:
            self.feature_names_in_ = np.asarray(state["feature_names"], dtype=object)
        self.threshold_fit_ = state.get("threshold_fit")

    def _get_tensors(self) -> dict[str, torch.Tensor]:
        tensors = super()._get_tensors()
        tensors["decision_scores"] = torch.as_tensor(np.asarray(self.decision_scores_, np.float32))
        return tensors

    def _set_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.decision_scores_ = tensors["decision_scores"].cpu().numpy().astype(np.float32)
        super()._set_tensors(tensors)


def score_table(detector: AnomalyDetector, X: Any, *, ids: Sequence[Any] | None = None, sep: str = ",",
                header: bool = True) -> str:
    """CSV text with one row per sample: ``[id,] score, is_anomaly`` (with a header row unless ``header=False``).

    Examples
    --------
    >>> print(score_table(det, X[:2]))          # doctest: +SKIP
    score,is_anomaly
    0.0213,0
    0.0871,1
    """
    import csv
    import io

    scores = detector.decision_function(X)
    flags = (scores > detector.threshold_).astype(np.int64)
    if ids is not None and len(ids) != len(scores):
        raise DataError(f"ids has {len(ids)} values but X has {len(scores)} samples")
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    if header:
        writer.writerow((["id"] if ids is not None else []) + ["score", "is_anomaly"])
    for i, (s, f) in enumerate(zip(scores, flags)):
        writer.writerow(([ids[i]] if ids is not None else []) + [repr(float(s)), int(f)])
    return buf.getvalue()
