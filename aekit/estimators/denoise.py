"""``Denoiser``: a convolutional autoencoder trained to map noisy images to clean ones."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.metaestimators import available_if

from ..data.checks import to_numpy
from ..errors import DataError, UsageError
from ..models.conv import ConvAutoencoder, ConvConfig
from ..training.trainer import Trainer
from . import params
from .base import (
    NeuralEstimator,
    as_images,
    check_positive_int,
    check_rows,
    check_widths,
    image_shape,
    is_row_store,
    unit_range_failures,
)
from .noise import Noise, parse_noise
from .validation import RANGE_TOLERANCE, names_out, outside_unit_range, refuse_one_image

# held-out images are noised once with this seed, so val figures compare across runs
EVAL_NOISE_SEED = 0
PIXEL_BUDGET = 2**22  # values per inference batch: bounds memory for any image size


def _shape(X: Any, name: str = "X") -> tuple[int, ...]:
    """The shape of array-likes (lists, DataFrames, tensors) without NumPy's array-function dispatch;
    a ragged list is aekit's one line, as ``fit`` gives it."""
    return tuple(X.shape) if hasattr(X, "shape") else to_numpy(X, name).shape


def psnr(mse: float) -> float:
    """Peak signal-to-noise ratio in dB for images in [0, 1] (peak 1): ``10 * log10(1 / mse)``."""
    return 10.0 * math.log10(1.0 / max(float(mse), 1e-12))


class Denoiser(OneToOneFeatureMixin, TransformerMixin, NeuralEstimator):
    """Convolutional denoising autoencoder (TensorFlow's "Intro to Autoencoders" recipe).

    Trained on clean images, it corrupts every batch afresh with ``noise`` and learns to
    restore the clean image; trained on pairs, it learns ``X_noisy -> X_clean``. The model
    is fully convolutional: ``transform`` takes images of any height and width with the
    training data's number of channels.

    Parameters
    ----------
    noise : str or list of str, default "gaussian:0.2"
        Noise model, see :mod:`aekit.estimators.noise`: ``gaussian:FACTOR``, ``masking:P``,
        ``saltpepper:P``, combined with ``+`` (applied in order).
    channels : tuple of int, default (16, 8)
        Encoder conv widths (each halves height and width); the decoder mirrors them.
    kernel_size : int, default 3
    output_activation : str, default "sigmoid"
        Activation of the output. "sigmoid" is for images in [0, 1] (other values are refused);
        "linear" takes data of any range (signals, standardised tables).
    init : {"he", "glorot", "torch"}, default "he"
        Weight initialisation. He (Kaiming) suits these ReLU conv layers; Glorot, Keras' default,
        stalls on some seeds (``docs/guide/denoise.md``).
    epochs : int or "auto", default "auto"
        Training length. ``"auto"``: the epochs that give :attr:`auto_steps` optimizer steps on the
        data at hand (at most :attr:`auto_max_epochs`, but at least :attr:`auto_floor_steps` steps): the
        recipe's 10 epochs on Fashion-MNIST's 60,000 images, 100 on a few thousand, 2,000 steps on a
        few hundred photos. A number: that many passes over the data.
    batch_size : int, default 32
    lr : float, default 1e-3
        Adam's (peak) learning rate.
    schedule : {"constant", "onecycle"}, default "constant"
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" trains with bfloat16 autocast (weights and optimizer stay fp32), for GPUs and
        larger models; evaluation and saved weights are fp32.
    patience : int or None
        Early stopping on the validation loss (the best epoch's weights are kept).
    seed : int
        Seeds the weights, the shuffle and the training noise.
    device : str, default "auto"
    threads : int or None, default None
        As for :class:`aekit.Autoencoder`.
    verbose : {0, 1, 2}, default 0
        Progress on stderr, as in Keras: 0 silent, 1 a progress bar (a line per epoch when stderr
        is not a terminal), 2 a line per epoch.
    encoder, decoder : torch.nn.Module or aekit.network(...), default None
        Your own networks in place of the convolutional one (``docs/guide/networks.md``): images
        (B, C, H, W) -> codes -> images of the same shape (checked on one sample at ``fit``).
        ``channels``, ``kernel_size`` and ``init`` are refused when set, ``output_activation``'s
        layer is not used (its range check still is); such a model denoises images of the training
        height and width.

    Attributes
    ----------
    model_ : ConvAutoencoder
    noise_ : Noise
        The parsed noise model.
    history_ : list of dict
        Per-epoch ``train_loss``, ``val_loss`` (MSE against the clean images) and ``seconds``.
    input_shape_ : tuple of int
        ``(C, H, W)`` of the training images.

    Examples
    --------
    >>> import numpy as np, aekit
    >>> X = np.random.default_rng(0).random((64, 1, 12, 12), dtype=np.float32)
    >>> den = aekit.Denoiser(epochs=1).fit(X)
    >>> den.transform(den.add_noise(X[:3])).shape
    (3, 1, 12, 12)
    >>> sorted(den.evaluate(X))
    ['noisy_psnr', 'val_mse', 'val_psnr']
    """

    # what _build_model reads: a save records them as the model was built (base.NeuralEstimator)
    _model_params = ("encoder", "decoder", "channels", "kernel_size", "init", "output_activation")
    # epochs="auto": the step budget of the Fashion-MNIST recipe (10 epochs of 60,000 at batch 32).
    parameters = params.DENOISER  # what each parameter may be (check_params)
    auto_steps = 18_750
    auto_max_epochs = 100
    auto_floor_steps = 2_000  # tiny data: more passes (a few hundred rows train for 2,000 steps)

    def __init__(
        self,
        noise: str | Sequence[str] = "gaussian:0.2",
        channels: Sequence[int] = (16, 8),
        kernel_size: int = 3,
        init: str = "he",
        output_activation: str = "sigmoid",
        epochs: int | str = "auto",
        batch_size: int = 32,
        lr: float = 1e-3,
        schedule: str = "constant",
        precision: str = "fp32",
        patience: int | None = None,
        seed: int = 0,
        device: str = "auto",
        threads: int | None = None,
        verbose: int = 0,
        encoder: Any = None,
        decoder: Any = None,
    ):
        self.noise = noise
        self.channels = channels
        self.kernel_size = kernel_size
        self.init = init
        self.output_activation = output_activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.schedule = schedule
        self.precision = precision
        self.patience = patience
        self.seed = seed
        self.device = device
        self.threads = threads
        self.verbose = verbose
        self.encoder = encoder
        self.decoder = decoder

    @property
    def _sklearn_expected_failed(self) -> dict[str, str]:
        """scikit-learn's checks all pass on rows (one-row images) with ``output_activation="linear"``; with the
        sigmoid output those whose data lie outside [0, 1] are refused by design."""
        if self.output_activation != "sigmoid":
            return {}
        return unit_range_failures(
            "the check's data lie outside [0, 1], which the sigmoid output cannot produce; "
            "the Denoiser refuses it (output_activation='linear' takes any range and passes)"
        )

    def __sklearn_tags__(self):
        return self._aekit_tags(super().__sklearn_tags__())

    # ---- parameters and inputs --------------------------------------------------------------
    def _check_combinations(self) -> None:
        parse_noise(self.noise)  # the spec's own grammar and ranges

    def _noise(self) -> Noise:
        return parse_noise(self.noise)

    def _images(self, X: Any, name: str, reset: bool | None = None) -> np.ndarray:
        """(n, C, H, W) float32 in [0, 1]; (n, H, W) gains a channel axis; rows (n, d) are one-row images.

        ``reset``: as for :func:`aekit.estimators.validation.check_input` (True: the training X;
        False: data for the fitted model, a table's columns as fitted).
        """
        shape = tuple(getattr(X, "shape", ()))
        if reset is False and len(shape) == 2 and shape != tuple(self.input_shape_[1:]):
            self._refuse_strips(shape, name)  # before scikit-learn's "X has 20 features" line
        X = self._check_aux(X, name) if reset is None else self._check_x(X, name, reset)
        if reset is False:  # one channels-last image would be taken as H thin images
            self._refuse_strips(X.shape, name)  # first: signals (n, L, 1) of a model of rows
            refuse_one_image(X.shape, self.input_shape_, name)
        X = as_images(X)
        if X.ndim != 4:
            raise DataError(
                f"{name} has shape {X.shape}; the Denoiser expects images shaped (n, C, H, W) "
                f"or (n, H, W)"
            )
        lo, hi = float(X.min()), float(X.max())
        if self.output_activation == "sigmoid" and (
            lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE
        ):
            fitted = reset is False  # its output cannot change now: no training parameter to advise
            raise outside_unit_range(
                lo, hi, name,
                "this Denoiser (trained with a sigmoid output)" if fitted else "a sigmoid output",
                None if fitted else "output_activation='linear'",
            )  # fmt: skip
        return X

    def _refuse_strips(self, shape: tuple[int, ...], name: str) -> None:
        """One line for what :func:`as_images` would make strips of, for a model trained on
        images (or on rows): rows (n, H*W), one grayscale image held channels-last (H, W, 1) as H
        images of H x 1 pixels, or signals (n, length, 1) for a model of rows. Any other size is
        taken (the network is convolutional), but these came back worse than their noisy input."""
        c, h, w = (int(d) for d in self.input_shape_)
        got = image_shape(shape[1:])  # (C, H, W), as as_images makes a sample of the shape
        if h > 1 and got[1] == 1:
            fix = (
                f", e.g. X.reshape(-1, {c}, {h}, {w}) for rows of {c * h * w} pixels"
                if shape[-1] == c * h * w
                else f" (a row holds {c * h * w} pixels; if {name} is one grayscale image, "
                f"give x[None, None])"
            )
            raise DataError(
                f"{name} has shape {shape}: rows of {shape[-1]} values, and this Denoiser was "
                f"trained on images of {h}x{w} pixels; give images (n, C, H, W) or (n, H, W){fix}"
            )
        if len(shape) == 3 and w > 1 and got[1] > 1 and got[2] == 1:
            trained = f"rows of {w} values" if h == 1 else f"images of {h}x{w} pixels"
            fix = (
                "give rows (n, d): X.reshape(len(X), -1)"
                if h == 1
                else "for one image held channels-last (H, W, 1), give x.transpose(2, 0, 1)[None]"
            )
            raise DataError(
                f"{name} has shape {shape}: images of {got[1]}x1 pixels, and this Denoiser was "
                f"trained on {trained}; {fix}"
            )

    def check_fit_data(self, X: Any) -> None:
        self._fit_images(X, "X")
        self._refuse_no_noise()

    def _refuse_no_noise(self) -> None:
        """Training on clean images with noise that adds nothing teaches an identity, and its
        noisy_psnr was the 120 dB of a clamp, which no training could beat."""
        if self._noise().adds_nothing:
            raise UsageError(
                f"noise {self.noise!r}: a noise level of 0 adds no noise: nothing to learn to "
                f"remove; give a level above 0 (the default: gaussian:0.2)"
            )

    def _fit_images(self, X: Any, name: str, reset: bool | None = None) -> Any:
        """Training images: an array checked by :meth:`_images`, or a row store checked in chunks."""
        if not is_row_store(X):
            return self._images(X, name, reset)
        if len(X.sample_shape) != 3:
            raise DataError(
                f"{name} on disk has sample shape {X.sample_shape}; the Denoiser expects images "
                f"shaped (n, C, H, W) or (n, H, W)"
            )
        return check_rows(X, lambda chunk: self._images(chunk, name))

    def _fitted_images(self, X: Any, name: str) -> np.ndarray:
        """Images for a fitted model: its channel count, any height and width."""
        self.check_is_fitted()
        return self._like_training(self._images(X, name, reset=False), name)

    def _like_training(self, X: np.ndarray, name: str) -> np.ndarray:
        """Checked images (n, C, H, W) with the training images' channel count (and, for the
        user's network, their height and width)."""
        if X.shape[1] != self.input_shape_[0]:
            raise DataError(
                f"{name} has {X.shape[1]} channels; the model was trained on {self.input_shape_[0]}-channel "
                f"images (1 = grayscale, 3 = RGB)"
            )
        if self._custom_network() and X.shape[1:] != tuple(self.input_shape_):
            raise DataError(
                f"{name} has images of {X.shape[2]}x{X.shape[3]}; your network was trained "
                f"on {self.input_shape_[1]}x{self.input_shape_[2]} images: give images of that size"
            )
        return X

    def _build_model(self) -> torch.nn.Module:
        if self._custom_network():
            return self._custom_model()
        return ConvAutoencoder(
            ConvConfig(
                in_channels=int(self.input_shape_[0]),
                channels=check_widths("channels", self.channels),
                kernel_size=int(self.kernel_size),
                init=self.init,
                output_activation=self.output_activation,
            )
        )

    def _after_load(self) -> None:
        self.noise_ = self._noise()

    # ---- noise ---------------------------------------------------------------------------------
    def add_noise(self, X: Any, seed: int = 0) -> np.ndarray:
        """Corrupt clean images with this estimator's noise model, reproducibly.

        The noise is drawn on the CPU from ``seed``, so the same images and seed give the
        same noisy images on any machine. Does not need a fitted model.

        Parameters
        ----------
        X : array-like of shape (n, C, H, W) or (n, H, W), values in [0, 1]
        seed : int, default 0

        Returns
        -------
        ndarray, float32, shaped like ``X``

        Examples
        --------
        >>> noisy = Denoiser(noise="saltpepper:0.05").add_noise(X, seed=1)   # doctest: +SKIP
        """
        shape = _shape(X)
        images = self._images(X, "X")
        generator = torch.Generator().manual_seed(check_positive_int("seed", seed, 0))
        noisy = self._noise()(torch.from_numpy(images), generator).numpy()
        return noisy.reshape(shape)

    def _noisy_clean(
        self, data: Any, name: str, reset: bool | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(noisy, clean) from clean images (noised once with the fixed seed) or a (noisy, clean) tuple.

        ``reset=False``: each checked as the fitted model checks ``X`` (:meth:`_images`)."""
        if isinstance(data, tuple) and len(data) == 2:
            noisy = self._images(data[0], f"{name}[0]", reset)
            clean = self._images(data[1], f"{name}[1]", reset)
            if noisy.shape != clean.shape:
                raise DataError(
                    f"{name}: noisy images {noisy.shape} and clean images {clean.shape} differ in shape; "
                    f"give pairs of the same images"
                )
            return noisy, clean
        clean = self._images(data, name, reset)
        return self.add_noise(clean, seed=EVAL_NOISE_SEED), clean

    def _refuse_other_columns(self, X: Any, y: Any) -> None:
        """Clean images ``y`` as a DataFrame pair with ``X`` column by column: their columns must be
        X's (those recorded at ``fit`` where ``X`` has none), as ``validation_data``'s are. Read by
        position, ``clean[['f', ..., 'a']]`` trained noisy column a towards clean f without a word."""
        want = X.columns if hasattr(X, "columns") else getattr(self, "feature_names_in_", None)
        if not hasattr(y, "columns") or want is None:
            return
        have, want = [str(c) for c in y.columns], [str(c) for c in want]
        if len(have) != len(want) or have == want:
            return  # other widths: the shapes' line
        i = next(i for i, (a, b) in enumerate(zip(have, want)) if a != b)
        raise DataError(
            f"y's column {i} is {have[i]!r} but X's is {want[i]!r}; y holds the clean images of "
            f"X's samples, paired column by column: give y with X's columns, in X's order"
        )

    def _validation(self, data: Any, x_ndim: int) -> tuple[np.ndarray, np.ndarray]:
        """``fit``'s ``validation_data`` as (noisy, clean), checked against the recorded ``X`` as
        ``transform`` checks its input (a table's columns, the channels). A list of two batches
        with X's dimensions is the pair, as the tuple is: stacked, it was taken as two images."""
        if (
            isinstance(data, list)
            and len(data) == 2
            and all(len(_shape(d, "validation_data")) == x_ndim for d in data)
        ):
            data = tuple(data)
        pair = self._noisy_clean(data, "validation_data", reset=False)
        noisy, clean = (self._like_training(v, "validation_data") for v in pair)
        return noisy, clean

    # ---- training ------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        validation_data: Any = None,
        **run: Any,
    ) -> Denoiser:
        """Train on clean images ``X`` (fresh noise every batch), or on pairs ``X`` noisy, ``y`` clean.

        Parameters
        ----------
        X : array-like of shape (n, C, H, W) or (n, H, W), values in [0, 1]
            Clean images; or, with ``y``, their noisy versions.
        y : array-like shaped like ``X``, optional
            Clean targets for paired data (then ``noise`` is not used in training). A 1-D ``y``
            (class labels, as a scikit-learn ``Pipeline`` passes to each step) is ignored.
        validation_data : array-like or tuple (noisy, clean), optional
            Clean held-out images (noised once with a fixed seed, so figures compare between
            runs) or a tuple of noisy and clean images. Its MSE is ``val_loss`` each epoch.
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
        >>> den = Denoiser(noise="masking:0.3", epochs=3).fit(X_train, validation_data=X_test)  # doctest: +SKIP
        >>> den = Denoiser().fit(X_noisy, y=X_clean)                                             # doctest: +SKIP
        """
        trainer = Trainer.from_options(run, self)
        self.check_params()
        x_shape, given = _shape(X), X  # as given, for messages and y's columns
        X = self._fit_images(X, "X", reset=True)
        target = None
        y_shape = None if y is None else _shape(y, "y")
        if y_shape is not None and y_shape[1:] == ():
            y = None  # labels, as a scikit-learn Pipeline passes to every step's fit: not clean images
        if y is not None:
            self._refuse_other_columns(given, y)
            target = self._fit_images(y, "y")
            if target.shape != X.shape:
                raise DataError(
                    f"y has shape {y_shape} but X has {x_shape}; for paired training give the "
                    f"clean images as y, shaped like the noisy X"
                )
        if target is None:  # clean images: the noise makes the training pairs
            self._refuse_no_noise()
        # (C, H, W); X was checked by _fit_images (one pass over a row store)
        self._record_input_shape(X)
        validation = None
        if validation_data is not None:
            validation = self._validation(validation_data, len(x_shape))
        noise = self._noise()

        def noisy_loss(
            model: torch.nn.Module, x: torch.Tensor, clean: torch.Tensor, generator: torch.Generator
        ) -> torch.Tensor:
            return F.mse_loss(model(noise(x, generator)), clean)  # fresh noise every batch

        def paired_loss(
            model: torch.nn.Module,
            x: torch.Tensor,
            clean: torch.Tensor,
            generator: torch.Generator | None = None,
        ) -> torch.Tensor:
            return F.mse_loss(model(x), clean)

        model = self._seeded_model(self._build_model, len(X))
        self.model_ = self._fit_model(
            model,
            paired_loss if target is not None else noisy_loss,
            X,
            target,
            validation=validation,
            val_loss_fn=paired_loss,
            trainer=trainer,
        )
        self._after_load()
        return self

    # ---- inference -----------------------------------------------------------------------------
    def _denoise(self, X: np.ndarray) -> np.ndarray:
        batch = int(min(8192, max(1, PIXEL_BUDGET // math.prod(X.shape[1:]))))
        if math.prod(X.shape[1:]) > PIXEL_BUDGET:  # one image alone past the budget
            self._check_one_fits(X.shape[1:])
        return self.map_batches(self.model_, X, batch_size=batch)

    def _fitted_on_rows(self) -> bool:
        """Not fitted, or fitted on rows (one-row images, (1, 1, d)): names for each output column."""
        return not hasattr(self, "input_shape_") or tuple(self.input_shape_[:2]) == (1, 1)

    @available_if(_fitted_on_rows)
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output columns' names, as the input's (rows only: images have no columns, and
        without this method scikit-learn's ``set_output(transform="pandas")`` passes them through
        as arrays, where it failed on their 4 dimensions)."""
        return names_out(super().get_feature_names_out, input_features)

    def transform(self, X: Any) -> np.ndarray:
        """Denoise images; the output has ``X``'s shape.

        Parameters
        ----------
        X : array-like of shape (n, C, H, W) or (n, H, W), values in [0, 1]
            Noisy images with the training data's channels; any height and width.

        Returns
        -------
        ndarray, float32, values in [0, 1]

        Examples
        --------
        >>> clean = den.transform(noisy)         # doctest: +SKIP
        """
        shape = _shape(X)
        return self._denoise(self._fitted_images(X, "X")).reshape(shape)

    def reconstruct(self, X: Any) -> np.ndarray:
        """The same as :meth:`transform` (for ``aekit reconstruct``).

        Examples
        --------
        >>> clean = den.reconstruct(noisy)       # doctest: +SKIP
        """
        return self.transform(X)

    def evaluate(self, X: Any, y: Any = None) -> dict[str, float]:
        """Held-out figures on clean images ``X`` (noised with a fixed seed), or noisy ``X`` and clean ``y``.

        Returns ``val_mse`` (denoised vs clean, mean over all values), ``val_psnr`` and
        ``noisy_psnr`` (the noisy input vs clean), in dB with peak 1, from the mean MSE.

        Examples
        --------
        >>> den.evaluate(X_test)                 # doctest: +SKIP
        {'val_mse': 0.0069, 'val_psnr': 21.6, 'noisy_psnr': 15.9}
        """
        self.check_is_fitted()
        if y is not None and _shape(y, "y")[1:] == ():
            y = None  # labels, as scikit-learn's model selection passes to score: not clean images
        # a table's features (and names) as fitted; images: any height and width
        self._images(X, "X", reset=False)
        if y is not None:
            self._refuse_other_columns(X, y)
        noisy, clean = self._noisy_clean(X if y is None else (X, y), "X")
        noisy = self._fitted_images(noisy, "X")
        denoised = self._denoise(noisy)
        val_mse = float(np.mean(np.square(denoised - clean), dtype=np.float64))
        noisy_mse = float(np.mean(np.square(noisy - clean), dtype=np.float64))
        return {"val_mse": val_mse, "val_psnr": psnr(val_mse), "noisy_psnr": psnr(noisy_mse)}

    def score(self, X: Any, y: Any = None) -> float:
        """Negative MSE of the denoised images against the clean ones: higher is better, as model selection expects.

        ``X`` clean images (noised with a fixed seed, as in :meth:`evaluate`), or noisy ``X`` and clean ``y``.

        Examples
        --------
        >>> den.score(X_test)                    # doctest: +SKIP
        -0.0069
        """
        return -self.evaluate(X, y)["val_mse"]
