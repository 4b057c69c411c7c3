"""``Autoencoder``: the basic and stacked dense autoencoders, and images to vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import TransformerMixin

from ..errors import DataError
from ..models.custom import code_size
from ..models.dense import DenseAutoencoder, DenseConfig
from ..training.trainer import Trainer
from . import params
from .base import (
    NeuralEstimator,
    check_widths,
    column_names,
    is_row_store,
    iter_chunks,
)
from .losses import per_sample_error, reconstruction_loss
from .preprocessing import Scaler
from .validation import (
    PIXELS_FROM,
    FeatureNamesOut,
    outside_unit_range,
    refuse_identical_rows,
    say_target_unused,
)

# latent_dim="auto" on a table: the principal components that explain this much of the variance
AUTO_VARIANCE = 0.9
AUTO_IMAGE_LATENT = 64  # latent_dim="auto" on images: the Fashion-MNIST recipe's code
AUTO_PCA_ROWS = 10_000  # rows of a large table the components are taken from


def auto_latent_dim(X: np.ndarray, sample_ndim: int) -> int:
    """The code size of ``latent_dim="auto"`` for the scaled training data ``X`` (n, ...).

    A table (``sample_ndim`` 1): the fewest principal components that explain :data:`AUTO_VARIANCE`
    (90%) of the variance, between 1 and one fewer than the features. A code that wide keeps the
    directions the rows vary along and leaves out the noise; one as wide as the input lets the
    network pass every feature through, a copy that has learned nothing (the 9-column table of
    issue 33 reached a validation MSE of 7e-5 with a code of 64). Images: 64, at most half the pixels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 2)) @ rng.standard_normal((2, 9))  # rank 2, 9 columns
    >>> auto_latent_dim(X + 0.05 * rng.standard_normal((500, 9)), 1)
    2
    """
    n_features = int(np.prod(X.shape[1:]))
    if sample_ndim != 1:
        return max(1, min(AUTO_IMAGE_LATENT, n_features // 2))
    x = np.asarray(X[:AUTO_PCA_ROWS], dtype=np.float64)
    x = x - x.mean(axis=0)
    variance = np.linalg.svd(x, compute_uv=False) ** 2  # each component's share, largest first
    if variance.sum() <= 0:
        return 1
    share = np.cumsum(variance) / variance.sum()
    k = int(np.searchsorted(share, AUTO_VARIANCE - 1e-9) + 1)
    return max(1, min(k, n_features - 1))


def auto_scaling(lo: float, hi: float, sample_ndim: int) -> str:
    """The scaler ``scaler="auto"`` picks for data with values in [lo, hi] and samples of ``sample_ndim`` axes.

    Examples
    --------
    >>> auto_scaling(0.0, 1.0, 1), auto_scaling(-3.0, 2500.0, 1), auto_scaling(0.0, 255.0, 3)
    ('none', 'standard', 'minmax')
    """
    if lo >= 0.0 and hi <= 1.0:
        return "none"  # already in a sigmoid's range: images in [0, 1], tables of fractions
    # tables per feature; images keep their pixel ratios
    return "standard" if sample_ndim == 1 else "minmax"


class Autoencoder(FeatureNamesOut, TransformerMixin, NeuralEstimator):
    """Dense autoencoder: compress each sample to a ``latent_dim`` vector and back.

    ``hidden=()`` is the classic recipe (one Dense layer each way); ``hidden=(256, 128)``
    makes a stacked autoencoder whose decoder mirrors the encoder. Works on 2-D tables
    ``(n, features)`` and on images ``(n, C, H, W)``, of any scale: by default tables are
    standardised per feature and the output activation follows the data (see ``scaler`` and
    ``output_activation``). The classic recipe's exact settings are ``aekit train basic --preset
    recipe``.

    Parameters
    ----------
    latent_dim : int or "auto", default "auto"
        Size of the code vector. ``"auto"`` (:func:`auto_latent_dim`): for a table, the principal
        components that explain :data:`AUTO_VARIANCE` of the scaled training data's variance, always
        fewer than its features; for images, 64 (the Fashion-MNIST recipe's), at most half the
        pixels. The size used is ``latent_dim_``.
    hidden : tuple of int, default ()
        Encoder widths before the code; the decoder mirrors them.
    activation : str, default "relu"
        Activation after each hidden layer and on the code.
    output_activation : str, default "auto"
        Activation of the reconstruction. ``"auto"``: sigmoid when the (scaled) training data lie
        in [0, 1], otherwise linear (a sigmoid cannot reach values outside [0, 1]).
    scaler : {"auto", "standard", "robust", "minmax", "none"}, default "auto"
        Input scaling learned at ``fit``, saved with the model and applied by every method (outputs
        come back in the input's units). ``"auto"``: none for data already in [0, 1]; per-feature
        standardisation for tables (2-D data); the global min-max for images outside [0, 1].
        ``"robust"``: per-feature median and IQR. See :mod:`aekit.estimators.preprocessing`.
    init : {"glorot", "he", "torch"}, default "glorot"
        Weight initialisation. Glorot (Keras' default) is what lets the classic recipe
        reach its quality in 10 epochs; He (Kaiming) and PyTorch's own are the others; see
        ``aekit.models.init``.
    loss : {"mse", "mae"}, default "mse"
        Training loss.
    epochs : int or "auto", default "auto"
        Training length. ``"auto"``: the epochs that give :attr:`auto_steps` optimizer steps on the
        data at hand (at most :attr:`auto_max_epochs`, but at least :attr:`auto_floor_steps` steps):
        10 epochs on Fashion-MNIST's 60,000 images at batch 32, 100 on a few thousand rows, 5,000
        steps on a few hundred.
        A number: that many passes over the data.
    batch_size : int, default 32
    lr : float, default 1e-3
        Adam's (peak) learning rate.
    schedule : {"onecycle", "constant"}, default "onecycle"
        Learning-rate schedule. "constant" is the Keras recipe exactly; "onecycle" (warm up to
        ``lr``, then cosine decay) at the same peak rate, batch and epochs reconstructs better
        (``docs/guide/autoencoder.md``).
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" trains with bfloat16 autocast (weights and optimizer stay fp32), for GPUs and
        larger models; evaluation and saved weights are fp32.
    patience : int or None
        Early stopping on the validation loss (the best epoch's weights are kept).
    seed : int
        Seeds the weights, the shuffle and every random draw.
    device : str, default "auto"
        "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", ...
    threads : int or None, default None
        CPU threads torch uses inside each op while fitting and predicting. None: aekit's choice
        from the work per step and the cores free now (one thread for small models); see
        :mod:`aekit.training.threads`, which also says how to make idle threads sleep rather than spin.
    verbose : {0, 1, 2}, default 0
        Progress on stderr, as in Keras: 0 silent, 1 a progress bar (a line per epoch when stderr
        is not a terminal), 2 a line per epoch. Long passes (``transform`` of many samples) show
        progress too.
    encoder, decoder : torch.nn.Module or aekit.network(...), default None
        Your own networks in place of the dense one (``docs/guide/networks.md``): the encoder maps a
        batch of (scaled) samples to codes, the decoder codes back to the samples' shape. The code's
        size comes from the encoder's output (checked on one sample at ``fit``); ``latent_dim`` is
        passed to a spec whose constructor takes it (set otherwise, it is refused), ``hidden``,
        ``activation`` and ``init`` are refused when set, and ``output_activation``'s layer is not
        used.

    Attributes
    ----------
    model_ : DenseAutoencoder
    encoder_, decoder_ : torch.nn.Module
        The two halves, usable on their own (on scaled inputs; see ``scaler_``).
    scaler_ : aekit.estimators.preprocessing.Scaler
        The fitted input scaling (``kind`` "none" when the data needed none).
    output_activation_ : str
        The output activation used ("sigmoid" or "linear" when ``output_activation="auto"``).
    feature_names_in_ : ndarray of str
        Column names seen at ``fit`` (from a DataFrame, or ``feature_names=``), when known.
    history_ : list of dict
        Per-epoch ``train_loss``, ``val_loss`` and ``seconds``.
    input_shape_ : tuple of int
    latent_dim_ : int
        The size of the code (``latent_dim``, with "auto" worked out from the data).
    latent_shape_ : tuple of int
        One sample's code: ``(latent_dim,)``, or what your encoder returns.

    Examples
    --------
    >>> import numpy as np, aekit
    >>> X = np.random.default_rng(0).random((512, 32), dtype=np.float32)
    >>> ae = aekit.Autoencoder(latent_dim=8, epochs=2).fit(X)
    >>> ae.transform(X[:3]).shape
    (3, 8)
    >>> ae.inverse_transform(ae.transform(X[:3])).shape
    (3, 32)
    """

    # epochs="auto": the step budget of the Fashion-MNIST recipe (10 epochs of 60,000 at batch 32).
    auto_steps = 18_750
    auto_max_epochs = 100
    # Tiny data: more passes, for at least 5,000 steps (a few seconds of a dense net). The breast-cancer
    # table (455 rows, latent 4): val MSE 0.35 after 2,000 steps, 0.27 after 5,000 (PCA: 0.21).
    auto_floor_steps = 5_000

    def __init__(
        self,
        latent_dim: int | str = "auto",
        hidden: Sequence[int] = (),
        activation: str = "relu",
        output_activation: str = "auto",
        init: str = "glorot",
        loss: str = "mse",
        epochs: int | str = "auto",
        batch_size: int = 32,
        lr: float = 1e-3,
        schedule: str = "onecycle",
        precision: str = "fp32",
        patience: int | None = None,
        seed: int = 0,
        device: str = "auto",
        threads: int | None = None,
        scaler: str = "auto",
        verbose: int = 0,
        encoder: Any = None,
        decoder: Any = None,
    ):
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.activation = activation
        self.output_activation = output_activation
        self.init = init
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.schedule = schedule
        self.precision = precision
        self.patience = patience
        self.seed = seed
        self.device = device
        self.threads = threads
        self.scaler = scaler
        self.verbose = verbose
        self.encoder = encoder
        self.decoder = decoder

    # what _build_model reads: a save records them as the model was built (base.NeuralEstimator)
    _model_params = (
        "encoder",
        "decoder",
        "hidden",
        "activation",
        "init",
    )
    parameters = params.AUTOENCODER  # what each parameter may be (check_params)
    _accepts_sparse = True  # SciPy sparse X is densified one batch at a time
    _code_may_copy = True  # a code as wide as the input can copy it: fit warns (estimators.advice)

    def __sklearn_tags__(self):
        return self._aekit_tags(super().__sklearn_tags__())

    @property
    def _n_features_out(self) -> int:
        """Output columns of ``transform`` (names ``autoencoder0``, ... for ``set_output(transform="pandas")``)."""
        shape = getattr(self, "latent_shape_", None)
        return int(self.latent_dim_) if shape is None else code_size(shape)

    def _build_model(self) -> torch.nn.Module:
        if self._custom_network():  # the code's size is what the encoder returns
            model = self._custom_model(latent_dim=int(self.latent_dim_))
            self.latent_dim_ = code_size(self.latent_shape_)
            return model
        self.latent_shape_ = (int(self.latent_dim_),)
        return DenseAutoencoder(
            DenseConfig(
                input_shape=tuple(self.input_shape_),
                latent_dim=int(self.latent_dim_),
                hidden=check_widths("hidden", self.hidden),
                activation=self.activation,
                output_activation=self.output_activation_,
                init=self.init,
            )
        )

    def _after_load(self) -> None:
        self.encoder_ = self.model_.encoder
        self.decoder_ = self.model_.decoder

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        validation_data: Any = None,
        feature_names: Sequence[str] | None = None,
        **run: Any,
    ) -> Autoencoder:
        """Train on ``X`` (``y`` is ignored, for scikit-learn pipelines).

        Parameters
        ----------
        X : array-like of shape (n, features) or (n, C, H, W), or a pandas DataFrame
        validation_data : array-like, optional
            Held-out samples; their loss is recorded each epoch as ``val_loss``.
        feature_names : sequence of str, optional
            Column names (taken from a DataFrame's columns when not given); recorded as
            ``feature_names_in_`` so that files read later can be matched by column name.
        **run :
            How the run is kept and watched (:class:`aekit.Trainer`): ``trainer=aekit.Trainer(...)``,
            or its fields by name: ``checkpoint_dir`` (a checkpoint after each epoch; with
            ``resume=True`` continue from it), ``callbacks`` (objects with optional
            ``on_train_begin``, ``on_epoch_start``, ``on_batch_end``, ``on_epoch_end``),
            ``tensorboard`` (True: ``runs/tensorboard/CLASS-TIME``, a folder, or a
            ``TensorBoardLog``; needs ``aekit[tensorboard]``), ``mlflow`` (True, a tracking URI
            or an ``aekit.mlflow.MLflowLog``: parameters and per-epoch losses to MLflow; needs
            ``aekit[mlflow]``).

        Returns
        -------
        self

        Examples
        --------
        >>> ae = Autoencoder(latent_dim=16, epochs=1).fit(X)     # doctest: +SKIP
        """
        trainer = Trainer.from_options(run, self)
        self.check_params()
        say_target_unused(self, X, y)
        feature_names = column_names(X, feature_names, "feature_names")
        bounds = [np.inf, -np.inf]

        # the data's range, read in the same pass as the checks
        def track(a: np.ndarray) -> np.ndarray:
            if a.size:
                bounds[:] = [min(bounds[0], float(a.min())), max(bounds[1], float(a.max()))]
            return a

        X = self._validate_fit_input(X, check=track)
        # a model of images in [0, 1] refuses 8-bit pixels (_takes_unit_range)
        self._input_range = tuple(bounds)
        self._refuse_untrainable(X)
        self._record_feature_names(feature_names)
        kind = (
            auto_scaling(*bounds, len(self.input_shape_)) if self.scaler == "auto" else self.scaler
        )
        loss = reconstruction_loss(self.loss)
        if kind == "none":
            self.scaler_ = Scaler("none").fit(np.zeros((1, 1), np.float32))
            Xs = X
        elif is_row_store(X):  # data on disk: scale each batch on the device
            self.scaler_ = Scaler(kind).fit_chunks(iter_chunks(X))
            Xs, base_loss = X, loss

            def loss(model, x, target, generator=None):
                xs = self.scaler_.torch_transform(x)
                return base_loss(model, xs, xs, generator)
        else:
            self.scaler_ = Scaler(kind).fit(X)
            Xs = self.scaler_.transform(X)
        if self.output_activation == "auto":  # a sigmoid only where it can reach every value
            lo, hi = (
                self.scaler_.transform(np.asarray(bounds, np.float32)).ravel()[[0, -1]]
                if kind in ("none", "minmax")
                else (-1.0, 1.0)
            )
            self.output_activation_ = "sigmoid" if lo >= -1e-6 and hi <= 1 + 1e-6 else "linear"
        else:
            self.output_activation_ = self.output_activation
        validation = None
        if validation_data is not None:
            V = self._check_validation(validation_data)
            if V.shape[1:] != X.shape[1:]:
                raise DataError(
                    f"validation_data: sample shape {V.shape[1:]} differs from X's {X.shape[1:]}"
                )
            V = self.scaler_.transform(V) if kind != "none" else V
            validation = (V, V)
        self.latent_dim_ = self._latent_size(Xs)
        model = self._seeded_model(self._build_model, len(Xs))
        self.model_ = self._fit_model(
            model,
            loss,
            Xs,
            validation=validation,
            val_loss_fn=reconstruction_loss(self.loss),  # validation is scaled already
            trainer=trainer,
        )
        self._after_load()
        return self

    def check_fit_data(self, X: Any) -> None:
        if is_row_store(X):
            super().check_fit_data(X)
        self._refuse_untrainable(X if is_row_store(X) else self._check_aux(X, "X"))

    def _refuse_untrainable(self, X: Any) -> None:
        """One line, before training, for data no autoencoder can learn: samples all the same, or
        one number each where aekit picks the code (latent_dim="auto": it must be narrower than
        the sample, and none is). A width the user gave trains, as on 2 features (review 2 R2-4)."""
        shape = tuple(X.sample_shape if is_row_store(X) else X.shape[1:])
        auto = self.latent_dim == "auto" and not self._custom_network()
        if int(np.prod(shape)) == 1 and auto:
            what = "X has 1 feature(s)" if len(shape) == 1 else "X's images have 1 pixel"
            raise DataError(
                f"{what}: an autoencoder learns by squeezing each sample through a code "
                f"narrower than it, and no code is narrower than 1 number; give samples of at "
                f"least 2 values"
            )
        refuse_identical_rows(X)

    def _latent_size(self, Xs: Any) -> int:
        """``latent_dim``, or "auto" worked out from the scaled training data (a row store: its
        first rows, scaled)."""
        if self.latent_dim != "auto":
            return int(self.latent_dim)
        if is_row_store(Xs):
            first = Xs.rows(0, min(len(Xs), AUTO_PCA_ROWS))
            Xs = self.scaler_.transform(first) if self.scaler_.kind != "none" else first
        return auto_latent_dim(Xs, len(self.input_shape_))

    # ---- inputs and scaling: every method takes and returns the input's units -------------------
    def _validate_input(self, X: Any, name: str = "X") -> Any:
        X = super()._validate_input(X, name)
        if not is_row_store(X) and len(self.input_shape_) == 3 and self._takes_unit_range():
            lo, hi = float(X.min()), float(X.max())
            # 8-bit pixels (a uint8 .npy, an image from PIL) were encoded 255x off without a word;
            # other values past [0, 1] are taken as before, and a table's rows whatever they hold:
            # an outlier of 200 in a [0, 1] table is what a detector of its rows is there to score
            if lo >= 0 and PIXELS_FROM < hi <= 255:
                raise outside_unit_range(
                    lo, hi, name, "this Autoencoder (trained with a sigmoid output)", None
                )
        return X

    def _takes_unit_range(self) -> bool:
        """Whether the model is one of values in [0, 1], as a Denoiser with a sigmoid output is:
        unscaled, a sigmoid output of its own network, trained on values in [0, 1]. Models saved
        before the training range was recorded: "auto" picked no scaler and a sigmoid for such
        values only (both set by hand, as ``--preset recipe`` does, the range is unknown)."""
        if self.scaler_.kind != "none" or self.output_activation_ != "sigmoid":
            return False
        if self._custom_network():  # the user's decoder: its output is its own
            return False
        span = getattr(self, "_input_range", None)
        if span is None:
            return "auto" in (self.scaler, self.output_activation)
        return span[0] >= 0 and span[1] <= 1

    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.scaler_.kind == "none" else self.scaler_.torch_transform(x)

    def _unscale(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.scaler_.kind == "none" else self.scaler_.torch_inverse(x)

    def transform(self, X: Any) -> np.ndarray:
        """Encode: samples -> latent vectors of shape (n, latent_dim).

        Examples
        --------
        >>> Z = ae.transform(X)          # doctest: +SKIP
        """
        X = self._validate_input(X)
        return self.map_batches(lambda xb: self.model_.encode(self._scale(xb)), X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decode: latent vectors (n, latent_dim) -> samples shaped like the training data, in its units.

        Examples
        --------
        >>> X_hat = ae.inverse_transform(Z)     # doctest: +SKIP
        """
        self.check_is_fitted()
        Z = self._check_aux(Z, "Z")
        if tuple(Z.shape[1:]) != tuple(self.latent_shape_):
            shape = ", ".join(str(d) for d in ("n", *self.latent_shape_))
            raise DataError(f"Z: expected latent vectors of shape ({shape}), got {Z.shape}")
        return self.map_batches(lambda z: self._unscale(self.model_.decode(z)), Z)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Encode then decode ``X``; same shape and units as ``X``.

        Examples
        --------
        >>> X_hat = ae.reconstruct(X)           # doctest: +SKIP
        """
        X = self._validate_input(X)
        return self.map_batches(self._rebuild, X)

    def _rebuild(self, xb: torch.Tensor) -> torch.Tensor:
        """A batch's reconstructions, in its units (:meth:`reconstruct`, :meth:`score`)."""
        return self._unscale(self.model_(self._scale(xb)))

    def score_samples(self, X: Any) -> np.ndarray:
        """Per-sample reconstruction error (mean squared error per value, in the scaled units); higher = worse fit.

        Examples
        --------
        >>> errors = ae.score_samples(X)        # doctest: +SKIP
        """
        X = self._validate_input(X)

        def error(xb: torch.Tensor) -> torch.Tensor:
            xs = self._scale(xb)
            return per_sample_error(self.model_(xs), xs, "mse")

        return self.map_batches(error, X)

    def evaluate(self, X: Any) -> dict[str, float]:
        """Held-out figures: ``val_mse`` and ``val_mae`` (mean error per value, in the scaled units).

        With a standardising scaler (tables, by default) a ``val_mse`` of 1 is no better than
        predicting each feature's mean; images in [0, 1] are not scaled.

        Examples
        --------
        >>> ae.evaluate(X_test)                 # doctest: +SKIP
        {'val_mse': 0.0088, 'val_mae': 0.049}
        """
        X = self._validate_input(X)

        def errors(xb: torch.Tensor) -> torch.Tensor:
            xs = self._scale(xb)
            x_hat = self.model_(xs)
            return torch.stack(
                [per_sample_error(x_hat, xs, "mse"), per_sample_error(x_hat, xs, "mae")], 1
            )

        errs = self.map_batches(errors, X)
        return {"val_mse": float(errs[:, 0].mean()), "val_mae": float(errs[:, 1].mean())}

    # ---- persistence -------------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        state = super()._get_state()
        state["scaler"] = self.scaler_.get_state(arrays=False)  # its arrays: with the tensors
        state["output_activation"] = self.output_activation_
        state["latent_dim"] = int(self.latent_dim_)
        span = getattr(self, "_input_range", None)
        state["input_range"] = None if span is None else [float(v) for v in span]
        names = getattr(self, "feature_names_in_", None)
        state["feature_names"] = None if names is None else [str(n) for n in names]
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        # Models saved before scaling existed: no scaler, the output activation is the parameter.
        self.scaler_ = (
            Scaler.from_state(state["scaler"])
            if "scaler" in state
            else Scaler("none").fit(np.zeros((1, 1), np.float32))
        )
        self.output_activation_ = state.get("output_activation", self.output_activation)
        # models saved before latent_dim="auto" existed: the parameter was the size
        self.latent_dim_ = int(state.get("latent_dim", self.latent_dim))
        self.latent_shape_ = tuple(state.get("latent_shape", (self.latent_dim_,)))
        span = state.get("input_range")  # saved before it was recorded: None
        self._input_range = None if span is None else tuple(span)
        if state.get("feature_names") is not None:
            self.feature_names_in_ = np.asarray(state["feature_names"], dtype=object)

    def _get_tensors(self) -> dict[str, torch.Tensor]:
        return {**super()._get_tensors(), **self.scaler_.tensors()}

    def _set_tensors(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        self.scaler_.load_tensors(tensors, "model.safetensors")  # runs saved before: in the JSON
        super()._set_tensors(tensors, state)
