"""``AnomalyDetector``: flag samples that an autoencoder trained on normal data reconstructs badly.

PyOD-style: ``fit(X_normal)`` learns the model and the training scores
(``decision_scores_``); ``decision_function(X)`` scores new samples (higher = more
anomalous); ``predict(X)`` is 1 for an anomaly and 0 for a normal sample.

The score: :mod:`.scores` (the reconstruction error) and :mod:`.density` (the code's and the
scaled row's local densities); defaults and presets: :mod:`.defaults`; the threshold rules:
:mod:`aekit.estimators.thresholds`; held-out figures: :mod:`.report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...errors import DataError, UsageError, naming
from ...models import DenseAutoencoder, DenseConfig, DenseEnsemble, signal_autoencoder
from ...models.conv import image_autoencoder
from ...models.custom import code_size
from ...training.budget import AUTO, epochs_for_steps, passes_for_steps
from ...training.loop import TrainConfig
from ...training.trainer import Trainer
from .. import params
from ..base import (
    INFERENCE_BATCH,
    NeuralEstimator,
    check_positive_int,
    column_names,
    is_row_store,
    iter_chunks,
)
from ..losses import reconstruction_loss
from ..preprocessing import Scaler
from ..validation import binary_labels
from .alarms import Alarms, resumed_unit, take_rows
from .baselines import Comparison, compare
from .calibration import RowPlan
from .defaults import PRESETS, dense_size, training_steps
from .density import (
    MIN_CALIBRATION_ROWS,
    TERMS,
    CodeDensity,
    fit_code_density,
    reference_rows,
)
from .report import anomaly_metrics
from .scores import (
    feature_errors,
    mean_reconstruction,
    normal_batches,
    overflow_as_infinite,
    residual_scale,
    sample_scores,
)


class AnomalyDetector(Alarms, NeuralEstimator):
    """Reconstruction-error anomaly detector: an autoencoder trained on normal samples.

    Train on normal samples only; a sample's score is its reconstruction error in the
    scaled space (by default each feature's error in units of its typical error on normal rows),
    by default weighed with how sparse the normal codes are around the sample's code and the
    normal rows around the sample, and a score above ``threshold_`` flags an anomaly.

    The defaults are meant for any table or set of signals (see ``docs/guide/anomaly.md`` for the
    evidence, a panel of public datasets): per-feature robust scaling, a network sized from the
    number of features (:func:`aekit.estimators.anomaly.defaults.dense_size`), three such networks
    trained side by side with their scores averaged (``members``), a budget of optimizer steps
    rather than of epochs (more passes over fewer rows), a held-out tenth of the normal rows
    (validation, the best weights kept), a score that weighs each feature by its typical error on
    normal rows (``error="nmse"``, :mod:`aekit.estimators.anomaly.scores`) times a power of the
    code's local outlier factor among the normal rows' codes (``density``,
    :mod:`aekit.estimators.anomaly.density`) and a smaller power of the row's own among the normal
    rows (``input_density``), and a threshold for a 5% false-alarm rate set on held-out normal
    rows (conformal, :mod:`aekit.estimators.anomaly.calibration`). The TensorFlow ECG5000
    tutorial's settings are the preset ``recipe``: ``AnomalyDetector.from_preset("recipe")``.

    Parameters
    ----------
    hidden : tuple of int or "auto", default "auto"
        Encoder widths before the code; the decoder mirrors them. "auto": sized from the data.
    latent_dim : int or "auto", default "auto"
        Size of the code. "auto": sized from the data.
    architecture : {"dense", "conv1d", "conv2d"}, default "dense"
        The network: dense, 1-D convs of widths ``hidden`` over each row as a signal
        (``models/conv1d.py``), or 2-D convs over images (n, C, H, W) (``models/conv.py``; "auto"
        widths ``conv2d_channels``); both with a dense code of ``latent_dim``.
    members : int or "auto", default "auto"
        Dense networks of the same shape and different initial weights, trained side by side in one
        batched step (:class:`aekit.models.DenseEnsemble`); a sample's score is the mean of theirs.
        "auto": ``auto_members`` (3) with the dense network, 1 with the convolutional ones.
    activation : str, default "relu"
    output_activation : str, default "auto"
        ``"auto"``: sigmoid with ``scaler="minmax"``, linear otherwise.
    init : {"glorot", "he", "torch"}, default "glorot"
    scaler : {"auto", "robust", "standard", "minmax", "none"}, default "auto"
        Preprocessing learned on the training rows and saved with the model: ``auto`` is ``robust``,
        with one shared scale when all features have a similar spread or range (a signal, an
        image's pixels: see
        :mod:`aekit.estimators.preprocessing`); ``robust`` is the
        per-feature median and IQR (outliers among the training rows move neither; one wide
        column cannot drown the others); ``standard`` per-feature mean and std; ``minmax`` the
        training data's global min and max (the ECG5000 recipe).
    error : {"nmse", "mae", "mse"}, default "nmse"
        The per-sample score: the mean squared error with each feature's error divided by its
        residual scale (its root mean squared error on normal rows, learned after training:
        ``residual_scale_``), or the plain mean squared or absolute error.
    density : float, default 0.5
        Weight of the code's local outlier factor in the score, against the reconstruction error's
        (:mod:`aekit.estimators.anomaly.density`); 0 scores by reconstruction error alone.
    n_neighbors : int, default 40
        ``density``: neighbours of a code among the training rows' codes (at most half their number).
    input_density : float, default 0.25
        Weight of the row's own local outlier factor among the normal rows (as scaled, before the
        network), against the spread of the score with the code density (the same formula): what a
        nearest-neighbour detector knows, folded in; 0 for none. Like ``density``, none below 20
        training rows.
    input_neighbors : int, default 20
        ``input_density``: neighbours of a scaled row among the scaled training rows (at most half
        their number). All four are fit-time settings: each term's reference and exponent are
        learned by :meth:`fit`.
    loss : {"mse", "mae"}, default "mse"
        Training loss.
    threshold : str or float, default "fpr:0.05"
        How ``threshold_`` is derived from the calibration scores (:attr:`calibration_scores_`,
        normal rows the network never trained on; :mod:`aekit.estimators.anomaly.calibration`):
        ``"fpr:RATE"`` the conformal threshold for a false-alarm rate RATE on normal data (the
        default: 5%, which 19 calibration rows can promise; 1% needs 99 and sets the threshold at the
        largest of up to 199 of them, see ``docs/guide/anomaly.md``), ``"pot:RATE"`` a fitted tail
        for very small rates, ``"percentile"``,
        ``"contamination"``, ``"mean_std"``, ``"mad"`` (each also as ``"NAME:VALUE"``; see
        :mod:`aekit.estimators.thresholds`); a number is a fixed threshold.
    k : float, default 1.0
        ``mean_std``: mean + k std; ``mad``: median + k * 1.4826 MAD.
    q : float, default 95.0
        ``percentile``: the percentile of the normal rows' scores, in [0, 100]. 95 expects one
        false alarm in twenty normal samples, whatever the scale of the errors.
    contamination : float, default 0.05
        ``contamination``: the share of the calibration rows' scores above it, in (0, 1).
    epochs : int or "auto", default "auto"
        Passes over the data; "auto": ``10,000 / sqrt(rows)`` optimizer steps, at most ``auto_steps``
        (1,000) and at least ``auto_min_steps`` (150), in epochs of at least ``auto_epoch_steps``
        steps (several passes over tiny data); see :mod:`aekit.training.budget`.
    batch_size : int, default 32
        Rows per optimizer step (see ``docs/guide/anomaly.md`` for why 32).
    lr : float, default 1e-3
        Adam's learning rate.
    schedule : {"constant", "onecycle"}, default "constant"
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" trains with bfloat16 autocast (weights and optimizer stay fp32), for GPUs and
        larger models; evaluation and saved weights are fp32.
    validation_fraction : float, default 0.1
        Fraction of the training rows held out (seeded, at most 10,000 rows): half for
        early stopping and the score's scales, half (or as many as ``fpr:RATE`` needs) for the
        calibration; where the rate needs more rows than are held out, the network trains on them
        too and a copy trained without them scores them; where that would leave less than half of
        the rows to train on, the calibration is cross-fitted instead
        (:mod:`aekit.estimators.anomaly.calibration`). 0 trains on every
        row (``fpr`` then cross-fits). ``validation_data`` given to :meth:`fit` takes the
        validation half's place.
    patience : int or None, default 20
        Early stopping: epochs without improvement of the validation loss (the best epoch's
        weights are kept); None trains for all ``epochs``.
    seed : int, default 0
    device : str, default "auto"
        Training, as for :class:`aekit.Autoencoder`; so are ``threads`` (int or None, default None) and
        ``verbose`` (0, 1 or 2, default 0: progress on stderr).
    encoder, decoder : torch.nn.Module or aekit.network(...), default None
        Your own networks in place of the dense one (``docs/guide/networks.md``), trained as one network
        (``members`` 1): (scaled) rows -> codes -> rows, checked on one sample at ``fit``. ``latent_dim``
        (its "auto" size included) is passed to a spec whose constructor takes it (set otherwise, it
        is refused); ``hidden``, ``architecture``, ``activation`` and ``init`` are refused when set,
        ``output_activation``'s layer is not used.

    Attributes
    ----------
    model_ : torch.nn.Module
    scaler_ : aekit.estimators.preprocessing.Scaler
    hidden_, latent_dim_ : tuple of int, int
        The network's widths as built ("auto" resolved).
    residual_scale_ : ndarray of the sample's shape, or None
        ``error="nmse"``: each feature's typical reconstruction error on normal rows (scaled units).
    code_density_ : aekit.estimators.anomaly.density.CodeDensity or None
        ``density`` > 0: the training rows' codes (a sample) and the score's exponent.
    input_density_ : aekit.estimators.anomaly.density.CodeDensity or None
        ``input_density`` > 0: the training rows as scaled (a sample) and the score's exponent.
    decision_scores_ : ndarray of shape (n_train,)
        Scores of the training samples (held-out ones included).
    calibration_scores_ : ndarray
        Sorted scores of normal rows a network never trained on (this one or its copies), which the threshold and
        :meth:`p_values` come from (also ``threshold_scores_``).
    calibration_ : dict
        How they were made: ``method`` "split" (rows set aside), "copy" (rows a copy trained
        without them scored), "cross" (cross-fitted copies),
        "training" (no rows held out: the training rows' own scores) or "given" (:meth:`calibrate`),
        and ``rows``.
    threshold_ : float
        Derived from ``calibration_scores_`` and the current threshold parameters.
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

    # what _build_model reads: a save records them as the model was built (base.NeuralEstimator)
    _model_params = (
        "encoder",
        "decoder",
        "hidden",
        "latent_dim",
        "architecture",
        "members",
        "activation",
        "init",
        "output_activation",
        "scaler",
    )
    parameters = params.ANOMALY_DETECTOR  # what each parameter may be (check_params)
    # named complete settings: from_preset(name), aekit train anomaly --preset NAME
    presets = PRESETS
    # epochs="auto": optimizer steps, 10,000 / sqrt(rows) between auto_min_steps and auto_steps
    # (defaults.training_steps): tiny data is passed over hundreds of times, large data a few times.
    auto_steps = 1000
    auto_min_steps = 150  # epochs="auto": the least budget; early stopping may not stop before it
    auto_epoch_steps = 20  # epochs="auto": an epoch of tiny data holds passes for this many steps
    auto_members = 3  # members="auto": dense networks trained side by side (their scores averaged)
    # what a parameter was before it existed, for a run recorded then: a --resume of such a run
    # continues the model it started (given today's input_density=0.25, an old run's threshold
    # went from 12.1 to 20.4); _set_state does the same on load, from the state's keys
    older_runs = {"density": 0.0, "input_density": 0.0, "members": 1}
    # architecture="conv2d", hidden="auto": conv widths, each halving the image's sides (a dense
    # network's "auto" widths, sized from the pixels, would be hundreds of channels)
    conv2d_channels = (32, 64)

    def __init__(
        self,
        hidden: Sequence[int] | str = "auto",
        latent_dim: int | str = "auto",
        architecture: str = "dense",
        members: int | str = "auto",
        activation: str = "relu",
        output_activation: str = "auto",
        init: str = "glorot",
        scaler: str = "auto",
        error: str = "nmse",
        density: float = 0.5,
        n_neighbors: int = 40,
        input_density: float = 0.25,
        input_neighbors: int = 20,
        loss: str = "mse",
        threshold: str | float = "fpr:0.05",
        k: float = 1.0,
        q: float = 95.0,
        contamination: float = 0.05,
        epochs: int | str = "auto",
        batch_size: int = 32,
        lr: float = 1e-3,
        schedule: str = "constant",
        precision: str = "fp32",
        validation_fraction: float = 0.1,
        patience: int | None = 20,
        seed: int = 0,
        device: str = "auto",
        threads: int | None = None,
        verbose: int = 0,
        encoder: Any = None,
        decoder: Any = None,
    ):
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.architecture, self.members = architecture, members
        self.activation = activation
        self.output_activation = output_activation
        self.init = init
        self.scaler = scaler
        self.error = error
        self.density, self.n_neighbors = density, n_neighbors
        self.input_density, self.input_neighbors = input_density, input_neighbors
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
        self.device = device
        self.threads = threads
        self.verbose = verbose
        self.encoder = encoder
        self.decoder = decoder

    # SciPy sparse X: densified a batch at a time (PyOD outputs: no sklearn outlier tag)
    _accepts_sparse = True
    # its validation_data may hold anomalies: their loss judges no fit (estimators.advice)
    _scores_anomalies = True

    @classmethod
    def from_preset(cls, name: str, **params: Any) -> AnomalyDetector:
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
    def _check_combinations(self) -> None:
        """What the parameter table cannot say alone: the ensemble's network, the threshold rule."""
        self._members()
        self.threshold_rule()

    def _output_activation(self) -> str:
        if self.output_activation != "auto":
            return self.output_activation
        return "sigmoid" if self.scaler == "minmax" else "linear"

    def _size(self) -> tuple[tuple[int, ...], int]:
        """``(hidden, latent_dim)``: the parameters, with "auto" worked out from the number of features."""
        hidden, latent = dense_size(self.n_features_in_)
        if self.hidden != AUTO:
            hidden = tuple(int(w) for w in self.hidden)
        if self.latent_dim != AUTO:
            latent = int(self.latent_dim)
        return hidden, latent

    def _members(self) -> int:
        """Networks in the ensemble: ``members``, "auto" being ``auto_members`` dense ones (conv: one)."""
        custom, dense = self._custom_network(), self.architecture == "dense"
        if self.members == AUTO:
            return self.auto_members if dense and not custom else 1
        members = int(self.members)
        if members > 1 and (custom or not dense):
            why = (
                "trains copies of the built-in dense network; your own encoder and decoder train "
                "as one network: use members=1 (or 'auto')"
                if custom
                else f"needs architecture='dense'; use members=1 with {self.architecture}"
            )
            raise naming(UsageError(f"members={members} {why}"), "members", "architecture")
        return members

    def _build_model(self) -> torch.nn.Module:
        hidden, latent = self._size()
        if self._custom_network():
            return self._custom_model(latent_dim=latent)
        if self.architecture == "conv1d":
            return signal_autoencoder(
                self.input_shape_, hidden, latent, self._output_activation(), self.init
            )
        if self.architecture == "conv2d":
            channels = self.conv2d_channels if self.hidden == AUTO else hidden
            return image_autoencoder(
                self.input_shape_, channels, latent, self._output_activation(), self.init
            )
        config = DenseConfig(
            input_shape=tuple(self.input_shape_),
            latent_dim=latent,
            hidden=hidden,
            activation=self.activation,
            output_activation=self._output_activation(),
            init=self.init,
        )
        members = self._members()
        return DenseAutoencoder(config) if members == 1 else DenseEnsemble(config, members)

    # ---- training --------------------------------------------------------------------------
    def _train_config(self, n_samples: int | None = None) -> TrainConfig:
        """The base's; with ``epochs="auto"``, epochs of at least ``auto_epoch_steps`` steps and no early stop
        before ``auto_min_steps`` steps.

        Tiny data would have epochs of a step or two: the validation after each would cost more than
        the training, and a patience counted in such epochs would stop after a few dozen steps.
        """
        config = super()._train_config(n_samples)
        if self.epochs == AUTO and n_samples is not None:
            config.passes = passes_for_steps(n_samples, config.batch_size, self.auto_epoch_steps)
            steps = training_steps(n_samples, self.auto_min_steps, self.auto_steps)
            config.epochs, config.min_epochs = (
                epochs_for_steps(n_samples, config.batch_size, s, passes=config.passes)
                for s in (steps, self.auto_min_steps)
            )
        return self._as_copy(config)  # a calibration copy trains as this detector did (Alarms)

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        validation_data: Any = None,
        feature_names: Sequence[str] | None = None,
        **run: Any,
    ) -> AnomalyDetector:
        """Train on normal samples ``X`` (``y`` is ignored, for scikit-learn pipelines).

        Parameters
        ----------
        X : array-like of shape (n, features), or a pandas DataFrame, or a row store on disk
            Normal samples only. A few unlabelled anomalies hardly move the robust scaler, but
            one among the held-out calibration rows, which every rule reads, can raise the
            threshold to its own score: then :meth:`calibrate` on rows known to be normal, or use
            ``threshold="mad"``, which one score hardly moves (it promises no false-alarm rate).
        validation_data : array-like, optional
            Held-out samples (normal or not) whose loss is recorded as ``val_loss`` and drives
            early stopping, instead of the ``validation_fraction`` held out of ``X``.
        feature_names : sequence of str, optional
            Column names (taken from a DataFrame's columns when not given).
        **run :
            How the run is kept and watched: ``trainer=aekit.Trainer(...)``, or its fields
            (``checkpoint_dir``, ``resume``, ``callbacks``, ``tensorboard``, ``mlflow``) by name.

        Returns
        -------
        self

        Examples
        --------
        >>> det = AnomalyDetector().fit(X_normal)        # doctest: +SKIP
        """
        trainer = Trainer.from_options(run, self)
        self.check_params()
        feature_names = column_names(X, feature_names, "feature_names")
        X = self._validate_fit_input(X)
        self._record_feature_names(feature_names)
        plan = self._plan_rows(len(X), own_validation=validation_data is not None)
        self._resumed_unit = resumed_unit(trainer)  # read before this fit's checkpoints (Alarms)
        self._train(X, plan, validation_data, trainer)
        self.decision_scores_ = self._scores(X)
        self._calibrate(X, plan)
        self.threshold_fit_ = None
        return self

    def _train(self, X: Any, plan: RowPlan, validation_data: Any, trainer: Trainer) -> None:
        """The network and the score's scales, on the plan's fit and validation rows."""
        Xfit, held = take_rows(X, plan.fit, view=True), take_rows(X, plan.validation)
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
            V = self._check_validation(validation_data)
            if V.shape[1:] != X.shape[1:]:
                raise DataError(
                    f"validation_data: sample shape {V.shape[1:]} differs from X's {X.shape[1:]}"
                )
            validation = (self.scaler_.transform(V.rows(0, len(V)) if is_row_store(V) else V),) * 2
        elif held is not None:
            validation = (self.scaler_.transform(held),) * 2
        self.hidden_, self.latent_dim_ = self._size()  # "auto" as built, for readers
        model = self._seeded_model(self._build_model, len(Xs))
        self._record_network()
        self.model_ = self._fit_model(
            model,
            loss,
            Xs,
            validation=validation,
            val_loss_fn=reconstruction_loss(self.loss),  # validation is scaled already
            trainer=trainer,
        )
        self.residual_scale_ = None
        if self.error == "nmse":  # each feature's typical residual on normal rows, the score's unit
            self.residual_scale_ = residual_scale(
                self._residuals, normal_batches(Xfit, held, INFERENCE_BATCH), self._members()
            )
        self.code_density_ = self.input_density_ = None
        if self.density > 0:
            self.code_density_ = self._fit_density("code", Xfit, held)
        if self.input_density > 0:
            self.input_density_ = self._fit_density("input", Xfit, held)

    # ---- scores and decisions ----------------------------------------------------------------
    def _residuals(self, rows: np.ndarray) -> torch.Tensor:
        """``x_hat - x`` of raw rows, in scaled units, on the model's device."""
        self.model_.eval()
        xs = self.scaler_.torch_transform(torch.as_tensor(rows, device=self._model_device()))
        return self.model_(xs) - xs

    def _codes(self, rows: np.ndarray) -> torch.Tensor:
        """The codes of raw rows, (B, ...) -> (B, D) (an ensemble's members' side by side), on the model's device."""
        self.model_.eval()
        xs = self.scaler_.torch_transform(torch.as_tensor(rows, device=self._model_device()))
        return self.model_.encode(xs).reshape(len(rows), -1)

    def _scaled(self, rows: np.ndarray) -> torch.Tensor:
        """Raw rows scaled as the network sees them, (B, ...) -> (B, F), on the model's device."""
        xs = self.scaler_.torch_transform(torch.as_tensor(rows, device=self._model_device()))
        return xs.reshape(len(rows), -1)

    @torch.inference_mode()
    def _fit_density(self, term: str, Xfit: Any, held: np.ndarray | None):
        """A density term's reference (``term`` "code": the training rows' codes; "input": the rows
        as scaled), its exponent set against the score without it on the held-out rows (out of
        sample; with too few of them, the reference rows, each scored without itself)."""
        embed, weight, k = (
            (self._codes, self.density, self.n_neighbors)
            if term == "code"
            else (self._scaled, self.input_density, self.input_neighbors)
        )
        before = () if term == "code" else ("code",)  # the terms already in the score
        take = Xfit.take if is_row_store(Xfit) else Xfit.__getitem__  # a row store reads only these
        idx = reference_rows(len(Xfit), embed(take(np.arange(1))).shape[1])
        density = fit_code_density(
            embed,
            (take(idx[i : i + INFERENCE_BATCH]) for i in range(0, len(idx), INFERENCE_BATCH)),
            k,
        )
        if density is None:
            return None
        if held is not None and len(held) >= MIN_CALIBRATION_ROWS:
            embedded = torch.as_tensor(self.map_batches(embed, held))  # batch by batch
            errors, lofs = self._scores(held, terms=before), density.lof(embedded)
        else:
            errors, lofs = (
                self._scores(take(idx), terms=before),
                density.lof(density.codes, of_reference=True),
            )
        return density.calibrate(errors, lofs.cpu().numpy(), weight)

    def _scores(
        self,
        X: np.ndarray,
        batch_size: int | None = None,
        terms: tuple[str, ...] = ("code", "input"),
    ) -> np.ndarray:
        """Per-sample score of raw ``X`` (:func:`.scores.sample_scores`) times the density ``terms``
        the detector has, batch by batch on the device."""
        scale = self._scale_tensor()
        code = getattr(self, "code_density_", None) if "code" in terms else None
        given = getattr(self, "input_density_", None) if "input" in terms else None

        def score(xb: torch.Tensor) -> torch.Tensor:
            xs = self.scaler_.torch_transform(xb)
            scores = sample_scores(self.model_(xs), xs, self.error, scale)
            if code is not None:
                scores = code.apply(scores, self.model_.encode(xs).reshape(len(xs), -1))
            if given is not None:
                scores = given.apply(scores, xs.reshape(len(xs), -1))
            return overflow_as_infinite(scores)

        return self.map_batches(score, X, **_batches(batch_size)).astype(np.float32)

    def _scale_tensor(self) -> torch.Tensor | None:
        """``residual_scale_`` on the model's device (None for ``mae``/``mse``)."""
        scale = getattr(self, "residual_scale_", None)
        if self.error == "nmse" and scale is None:
            raise UsageError(
                "error='nmse' needs the residual scale learned at fit; fit with error='nmse'"
            )
        return None if scale is None else torch.as_tensor(scale, device=self._model_device())

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

    def predict(self, X: Any) -> np.ndarray:
        """1 for an anomaly (score > ``threshold_``), 0 for a normal sample.

        Examples
        --------
        >>> det.predict(X)                          # doctest: +SKIP
        array([0, 0, 1])
        """
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def feature_errors(self, X: Any, *, batch_size: int | None = None) -> np.ndarray:
        """Each feature's part of each sample's reconstruction score, shaped as ``X``: (n, ...).

        A feature's squared residual in units of its residual scale (``error="nmse"``; its squared
        or absolute residual for ``"mse"`` and ``"mae"``), averaged over the ensemble's members: the
        mean over a sample's features is its score before the density terms multiply it. Large values
        say where a sample departs from the normal rows: which columns of a table, which steps of a
        signal, which pixels of an image (:meth:`anomaly_maps`).

        Examples
        --------
        >>> worst = det.feature_errors(X).argmax(axis=1)   # doctest: +SKIP
        """
        X = self._validate_input(X)
        scale = self._scale_tensor()

        def parts(xb: torch.Tensor) -> torch.Tensor:
            xs = self.scaler_.torch_transform(xb)
            return feature_errors(self.model_(xs), xs, self.error, scale)

        return self.map_batches(parts, X, **_batches(batch_size)).astype(np.float32)

    def anomaly_maps(self, X: Any, *, batch_size: int | None = None) -> np.ndarray:
        """Per-pixel anomaly maps (n, H, W) of a detector trained on images (n, C, H, W): each
        pixel's :meth:`feature_errors`, averaged over its channels (higher = more anomalous).

        A map's mean is the image's score before the density terms. The network reconstructs whole
        images (as rows, or with ``architecture="conv2d"``), so it knows what a whole normal image
        looks like (a digit among others, a part in its place); for small defects on textures,
        :class:`aekit.ImageAnomalyDetector` maps much better (``docs/guide/anomaly.md``).

        Examples
        --------
        >>> maps = det.anomaly_maps(images)          # doctest: +SKIP
        """
        self.check_is_fitted()
        if len(self.input_shape_) != 3:
            raise UsageError(
                f"anomaly_maps needs a detector trained on images shaped (n, C, H, W); this one was "
                f"trained on samples shaped {tuple(self.input_shape_)}: use feature_errors(X)"
            )
        parts = self.feature_errors(X, batch_size=batch_size)
        return parts.mean(axis=1)  # (n, C, H, W) -> (n, H, W)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Reconstructions of ``X``, in the input's units.

        Examples
        --------
        >>> X_hat = det.reconstruct(X[:2])          # doctest: +SKIP
        """
        return self.map_batches(self._rebuild, self._validate_input(X))

    def _rebuild(self, xb: torch.Tensor) -> torch.Tensor:  # a batch's, in its units (and score)
        xs = self.scaler_.torch_transform(xb)
        return self.scaler_.torch_inverse(mean_reconstruction(self.model_(xs), xs))

    def evaluate(self, X: Any, y_anomaly: Any) -> dict[str, Any]:
        """Held-out figures against labels (1 = anomaly); see :func:`anomaly_metrics`.

        Examples
        --------
        >>> det.evaluate(X_test, y_test)["roc_auc"]       # doctest: +SKIP
        0.966
        """
        scores = self.decision_function(X)
        return anomaly_metrics(binary_labels(y_anomaly, len(scores)), scores, self.threshold_)

    def compare(self, X: Any, y_anomaly: Any, *, X_train: Any) -> Comparison:
        """The detector beside scikit-learn's kNN distance, IsolationForest and LOF on the same rows.

        Each baseline is fitted on ``X_train`` (the normal rows this detector was fitted on: the
        detector keeps no copy of them) and scores ``X``; all in this detector's scaled units. Large
        data is cut to seeded samples (:mod:`aekit.estimators.anomaly.baselines`).

        Parameters
        ----------
        X : array-like
            Labelled rows to score.
        y_anomaly : array-like of 0/1
            1 = anomaly; both classes must occur.
        X_train : array-like
            The normal training rows, as given to :meth:`fit`.

        Returns
        -------
        Comparison
            ROC-AUC and PR-AUC of each method (``.rows``); ``print()`` shows the table, with a one-line
            hint when a baseline's ROC-AUC is higher by more than 0.02 (``.hint()``).

        Examples
        --------
        >>> print(det.compare(X_test, y_test, X_train=X_normal))     # doctest: +SKIP
        """
        X, X_train = self._validate_input(X), self._validate_input(X_train, "X_train")
        return compare(self, X, y_anomaly, X_train)

    # ---- persistence: what a fitted detector saves beside its weights --------------------------
    # JSON (config.json's ``state``): the scaler's kind, the column names, a fixed threshold if one was
    # fitted, the network as built, the code density's numbers; for readers also the threshold and how
    # many held-out rows set it. Tensors: the weights, the scaler's offset and scale, the training and
    # held-out scores, the residual scale, the code density's reference codes.
    def _get_state(self) -> dict[str, Any]:
        state = super()._get_state()
        state["scaler"] = self.scaler_.get_state(arrays=False)  # its arrays: with the tensors
        state["threshold_fit"] = getattr(self, "threshold_fit_", None)
        state["threshold_value"] = self.threshold_  # for readers of config.json; recomputed on load
        state["network"] = {
            "hidden": list(self.hidden_),
            "latent_dim": int(self.latent_dim_),
            "members": self._members(),
        }
        state["calibration"] = {
            **self.calibration_,
            "scores": [float(v) for v in self.calibration_scores_],  # sorted; exact as float32
        }
        for attr, key, _, _ in TERMS:
            density = getattr(self, attr, None)
            state[key] = None if density is None else density.state()
        return state

    def _get_tensors(self) -> dict[str, torch.Tensor]:
        tensors = super()._get_tensors()
        tensors.update(self.scaler_.tensors())
        tensors["decision_scores"] = torch.as_tensor(np.asarray(self.decision_scores_, np.float32))
        if getattr(self, "residual_scale_", None) is not None:
            tensors["residual_scale"] = torch.as_tensor(self.residual_scale_)
        for attr, _, prefix, _ in TERMS:
            density = getattr(self, attr, None)
            if density is not None:
                tensors.update(density.tensors(prefix))
        return tensors

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.scaler_ = Scaler.from_state(state["scaler"])
        self.threshold_fit_ = state.get("threshold_fit")
        if self.members == AUTO and "members" not in state.get("network", {}):
            self.members = 1  # saved before ensembles: "auto" meant one network
        if "code_density" not in state:
            # saved before the code density: scored by reconstruction error alone
            self.density = 0.0
        if "input_density" not in state:
            self.input_density = 0.0  # saved before the input density: none
        self.hidden_, self.latent_dim_ = self._size()
        if "latent_shape" in state:
            self.latent_shape_ = tuple(int(d) for d in state["latent_shape"])
            self._record_network()

    def _record_network(self) -> None:
        """``hidden_`` and ``latent_dim_`` of the user's own network: none known, and its code's size."""
        if self._custom_network():
            self.hidden_, self.latent_dim_ = (), code_size(self.latent_shape_)

    def _set_tensors(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        self.scaler_.load_tensors(tensors, "model.safetensors")  # runs saved before: in the JSON
        self.decision_scores_ = _array(tensors["decision_scores"])
        self.residual_scale_ = _array(tensors.get("residual_scale"))
        self._set_calibration(state.get("calibration"), _array(tensors.get("holdout_scores")))
        # each density term: its numbers in config.json, its reference rows here
        for attr, key, prefix, _ in TERMS:
            saved = state.get(key)
            density = None if saved is None else CodeDensity.from_saved(tensors, saved, prefix)
            setattr(self, attr, density)
        super()._set_tensors(tensors, state)
        for attr, _, _, _ in TERMS:
            density = getattr(self, attr)
            if density is not None:
                density.to(self._model_device())


def _array(tensor: torch.Tensor | None) -> np.ndarray | None:
    """A saved float tensor as float32 NumPy (None stays None)."""
    return None if tensor is None else tensor.cpu().numpy().astype(np.float32)


def _batches(batch_size: int | None) -> dict[str, int]:
    """``map_batches``' keyword for a batch size the caller gave (none: its default)."""
    return (
        {} if batch_size is None else {"batch_size": check_positive_int("batch_size", batch_size)}
    )
