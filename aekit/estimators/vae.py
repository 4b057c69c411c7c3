"""``VAE``: a convolutional variational autoencoder that encodes, reconstructs and generates images."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import TransformerMixin

from .._notes import note
from ..data.checks import to_numpy
from ..errors import DataError, UsageError
from ..models.vae import (
    ConvVAE,
    VAEConfig,
    gaussian_kl,
    log_normal,
    negative_elbo,
    negative_iw_bound,
)
from ..training.memory import check_output_fits
from ..training.trainer import Trainer
from . import params
from .base import (
    NeuralEstimator,
    as_images,
    check_positive_int,
    check_rows,
    is_row_store,
    unit_range_failures,
)
from .validation import (
    RANGE_TOLERANCE,
    FeatureNamesOut,
    outside_unit_range,
    refuse_identical_rows,
    say_target_unused,
)

# free_bits: nats of KL per latent dimension the training loss charges at least (see the parameter)
FREE_BITS = 0.5
# likelihood="gaussian": training data of a larger root mean square get a note. Standardised columns
# and images in [0, 1] are about 1; 8-bit images (about 100) or a table x30 gave ELBOs of -1e20 and
# more, the encoder's variances overflowing from the first step
GAUSSIAN_SCALE = 10.0
SCALE_FIX = "divide 8-bit images by 255, standardise table columns"  # data past GAUSSIAN_SCALE
# images decoded per pass when estimating the ELBO / log-likelihood; bounds memory
DECODE_BUDGET = 2048
# values torch's CPU randn fills as one block (a shorter tail is filled otherwise): prior_draws
RANDN_BLOCK = 16


def root_mean_square(x: np.ndarray) -> float:
    """The root mean square of ``x``'s values (0 for none): what :data:`GAUSSIAN_SCALE` bounds."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if np.size(x) else 0.0


def _check_channels(value: Any) -> tuple[int, int]:
    try:
        channels = tuple(value)
    except TypeError:
        channels = ()
    if len(channels) != 2:
        raise UsageError(f"channels must be two conv widths such as (32, 64), got {value!r}")
    for c in channels:
        check_positive_int("each entry of channels", c)
    return int(channels[0]), int(channels[1])


def _one_image(X: Any, shape: tuple[int, ...]) -> bool:
    """Whether ``X`` is one image of the training ``shape`` (C, H, W): an array, a tensor or nested
    lists of it (a frame, or what holds no shape, is not)."""
    if hasattr(X, "columns") or len(shape) != 3:
        return False
    if hasattr(X, "shape"):
        return tuple(X.shape) == shape
    try:
        return isinstance(X, (list, tuple)) and np.shape(X) == shape
    except ValueError:  # ragged lists: their own line comes from the checks
        return False


def prior_draws(n: int, size: int, generator: torch.Generator) -> np.ndarray:
    """``n`` codes z ~ N(0, I) of ``size`` values, float32 (as the network is), each the same
    whatever ``n``: the first m of ``n`` draws are the m draws (``sample(m, seed)`` a prefix).

    torch's CPU ``randn`` fills blocks of 16 values one way and a shorter tail another, so drawing
    exactly ``n * size`` values gave other first codes for most ``n``. Drawing whole blocks of 16
    and slicing keeps every code; a count already a multiple of 16 (``sample(64)`` at latent 2,
    a run's samples.png) draws exactly as before.

    Examples
    --------
    >>> g = lambda: torch.Generator().manual_seed(1)
    >>> bool((prior_draws(3, 2, g()) == prior_draws(9, 2, g())[:3]).all())
    True
    """
    values = n * size
    block = -(-values // RANDN_BLOCK) * RANDN_BLOCK  # rounded up to whole blocks
    z = torch.randn(block, generator=generator, dtype=torch.float32)[:values]
    return z.reshape(n, size).numpy()


class VAE(FeatureNamesOut, TransformerMixin, NeuralEstimator):
    """Convolutional variational autoencoder (Kingma & Welling 2014) for images ``(n, C, H, W)``.

    The network is the TensorFlow "Convolutional VAE" tutorial's (see ``aekit.models.vae``); it is
    trained by maximising the ELBO (minimising ``-log p(x|z) + beta * KL`` in nats per image).

    Parameters
    ----------
    latent_dim : int, default 2
        Size of z. 2 gives a drawable latent map and manifold; 32 fits much better.
    channels : (int, int), default (32, 64)
        Encoder conv widths (the decoder uses them in reverse).
    likelihood : {"bernoulli", "gaussian"}, default "bernoulli"
        ``p(x|z)``: Bernoulli on logits (binary images, values in [0, 1]) or Gaussian with a learned
        standard deviation shared by all pixels (continuous data).
    beta : float, default 1.0
        Weight of the KL term during training (1 = the ELBO; >1 = beta-VAE). Reported ELBOs use 1.
    free_bits : float, default 0.5
        Nats of KL per latent dimension the training loss charges at least (Kingma et al. 2016):
        each dimension's KL, averaged over the batch, costs ``max(KL_d, free_bits)``, so below it
        a dimension costs a constant and nothing pulls it onto the prior: the code keeps carrying
        something about each input and reconstructions differ from input to input. The training
        loss is then up to ``free_bits * latent_dim`` nats above the -ELBO. 0: the plain ELBO
        (``--preset recipe``). Reported ELBOs and KLs are always the plain ones.
    kl : {"analytic", "mc"}, default "analytic"
        Training estimate of the KL: closed form, or the single-sample Monte Carlo estimate
        ``log q(z|x) - log p(z)`` of the TensorFlow recipe.
    iw_samples : int, default 1
        Samples of z per image in the training objective. 1: the ELBO above. K > 1: the importance-weighted
        bound ``log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x)`` (Burda et al., ICLR 2016; with ``beta``
        weighing ``log q - log p``; ``kl`` and ``free_bits`` are not used: a note says so when they
        are not their defaults), a tighter bound at K decodes per image.
    init : {"glorot", "he", "torch"}, default "glorot"
        Weight initialisation (Keras' defaults by default).
    epochs : int or "auto", default "auto"
        Training length. ``"auto"``: the epochs that give :attr:`auto_steps` optimizer steps on the
        data at hand (at most :attr:`auto_max_epochs`, but at least :attr:`auto_floor_steps` steps): 10
        epochs on MNIST's 60,000 images, 100 on a couple of thousand, 2,000 steps on a few hundred.
        A number: that many passes over the data.
    batch_size : int, default 32
    lr : float, default 1e-3
        Adam's (peak) learning rate. The tutorial's 1e-4 (``aekit train vae --preset recipe``) is
        too slow for small image sets: a few thousand images collapse to one grey image.
    schedule : {"onecycle", "constant"}, default "onecycle"
        Learning-rate schedule: warm up to ``lr`` then cosine decay, or constant (the tutorial).
    precision : {"fp32", "bf16"}, default "fp32"
        "bf16" trains with bfloat16 autocast (weights and optimizer stay fp32), for GPUs and
        larger models; evaluation and saved weights are fp32.
    patience : int or None
        Early stopping on the validation loss (-ELBO; the best epoch's weights are kept).
    seed : int
        Seeds the weights, the shuffle, every z drawn in training and the default of the
        evaluation methods' ``seed``.
    device : str, default "auto"
    threads : int or None, default None
        As for :class:`aekit.Autoencoder`.
    verbose : {0, 1, 2}, default 0
        Progress on stderr, as in Keras: 0 silent, 1 a progress bar (a line per epoch when stderr
        is not a terminal), 2 a line per epoch. Long evaluations show progress too.
    encoder, decoder : torch.nn.Module or aekit.network(...), default None
        Your own networks in place of the convolutional ones (``docs/guide/networks.md``): the encoder maps
        a batch to ``(mean, logvar)`` of q(z|x), two (B, latent) tensors; the decoder maps z (B, latent)
        to the likelihood's parameters (Bernoulli logits or Gaussian means) shaped as the input. Samples
        keep their shape (rows stay rows). The latent size comes from the encoder (checked on one sample
        at ``fit``); ``latent_dim`` is passed to a spec whose constructor takes it (set otherwise, it is
        refused); ``channels`` and ``init`` are refused when set.

    Attributes
    ----------
    model_ : ConvVAE
    history_ : list of dict
        Per-epoch ``train_loss``, ``val_loss`` and ``seconds``, in nats per image. ``train_loss``
        is the training objective: the -ELBO only with ``free_bits=0``, ``beta=1`` and
        ``iw_samples=1`` (else its free-bits, beta-weighted or importance-weighted form, so it
        differs from the -ELBO on the same images); ``val_loss`` is the plain -ELBO of
        ``validation_data``.
    input_shape_ : tuple of int
    latent_shape_ : tuple of int
        ``(latent size,)``: ``latent_dim``, or what your encoder returns.

    Examples
    --------
    >>> import numpy as np, aekit
    >>> X = (np.random.default_rng(0).random((256, 1, 28, 28)) > 0.5).astype(np.float32)
    >>> vae = aekit.VAE(latent_dim=2, epochs=1).fit(X)
    >>> vae.transform(X[:3]).shape
    (3, 2)
    >>> vae.sample(4, seed=0).shape
    (4, 1, 28, 28)
    """

    # what _build_model reads: a save records them as the model was built (base.NeuralEstimator)
    _model_params = (
        "encoder",
        "decoder",
        "channels",
        "init",
        "latent_dim",
        "likelihood",
    )
    # epochs="auto": the step budget of the tutorial (10 epochs of 60,000 at batch 32).
    parameters = params.VAE  # what each parameter may be (check_params)
    auto_steps = 18_750
    auto_max_epochs = 100
    auto_floor_steps = 2_000  # tiny data: more passes (a few hundred rows train for 2,000 steps)

    def __init__(
        self,
        latent_dim: int = 2,
        channels: Sequence[int] = (32, 64),
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        free_bits: float = FREE_BITS,
        kl: str = "analytic",
        iw_samples: int = 1,
        init: str = "glorot",
        epochs: int | str = "auto",
        batch_size: int = 32,
        lr: float = 1e-3,
        schedule: str = "onecycle",
        precision: str = "fp32",
        patience: int | None = None,
        seed: int = 0,
        device: str = "auto",
        threads: int | None = None,
        verbose: int = 0,
        encoder: Any = None,
        decoder: Any = None,
    ):
        self.latent_dim = latent_dim
        self.channels = channels
        self.likelihood = likelihood
        self.beta = beta
        self.free_bits = free_bits
        self.kl = kl
        self.iw_samples = iw_samples
        self.init = init
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
        """scikit-learn's checks all pass on rows (one-row images) with ``likelihood="gaussian"``; with the
        Bernoulli likelihood those whose data lie outside [0, 1] are refused by design."""
        if self.likelihood != "bernoulli":
            return {}
        return unit_range_failures(
            "the check's data lie outside [0, 1], which a Bernoulli likelihood cannot model; "
            "the VAE refuses it (likelihood='gaussian' takes any range and passes)"
        )

    def __sklearn_tags__(self):
        return self._aekit_tags(super().__sklearn_tags__())

    @property
    def _n_features_out(self) -> int:
        """Output columns of ``transform`` (names ``vae0``, ... for ``set_output(transform="pandas")``)."""
        return self._latent_size()

    def _latent_size(self) -> int:
        """The size of z: ``latent_dim``, or what the user's encoder returns (once fitted)."""
        shape = getattr(self, "latent_shape_", None)
        return int(self.latent_dim) if shape is None else int(shape[0])

    def _as_model_input(self, X: Any) -> Any:
        if self._custom_network():
            return X  # the user's networks take the samples as they are
        return as_images(X)  # rows (n, d) -> (n, 1, 1, d); (n, H, W) -> (n, 1, H, W)

    # ---- parameters and data -------------------------------------------------------------------
    def check_fit_data(self, X: Any) -> None:
        if is_row_store(X):
            check_rows(X, lambda chunk: self._check_scale(self._check_images(chunk, "X", True)))
        else:
            checked = self._as_model_input(self._check_aux(X, "X"))
            refuse_identical_rows(self._check_scale(self._check_images(checked, "X", True)))

    def _check_scale(self, X: np.ndarray) -> np.ndarray:
        """A note for training a Gaussian VAE on data far from unit scale: the VAE does not scale
        its input, and 8-bit images (0..255) trained to an ELBO of -2e27 without a word (its first
        loss already enormous, no later one grew past it). A note, not an error: such data train
        (scikit-learn's checks fit on values near 100), to a poor model."""
        rms = root_mean_square(X)
        if self.likelihood == "gaussian" and rms > GAUSSIAN_SCALE:
            note(
                f"X: values of root mean square {rms:.3g} (in [{X.min():.3g}, {X.max():.3g}]); the "
                f"VAE does not scale its input and a Gaussian likelihood fits data of about unit "
                f"scale far better: {SCALE_FIX}"
            )
        return X

    def _note_unused_by_iw(self, samples: int) -> None:
        """The importance-weighted bound charges no KL term: name ``kl`` and ``free_bits`` set to
        other than their defaults, which it leaves unused (taken, recorded and without effect);
        ``free_bits=0``, the plain ELBO, is what the bound generalises, so it is not named."""
        unused = [
            f"{name}={getattr(self, name)!r}"
            for name in self._changed_params(["kl", "free_bits"])
            # free_bits=0 is the plain ELBO, which the bound generalises (--preset recipe sets it)
            if not (name == "free_bits" and float(self.free_bits) == 0)
        ]
        if samples > 1 and unused:
            note(
                f"{', '.join(unused)} not used: iw_samples={samples} trains on the importance-"
                f"weighted bound, which has no KL term of its own (iw_samples=1 uses them)"
            )

    def _check_images(self, X: np.ndarray, name: str, fit: bool = False) -> np.ndarray:
        X = self._as_model_input(X)
        if X.ndim != 4 and not self._custom_network():
            raise DataError(
                f"{name}: the VAE takes images shaped (n, C, H, W) (or rows (n, d) as one-row images), "
                f"got {X.shape}; reshape rows to images (e.g. X.reshape(-1, 1, 28, 28))"
            )
        if self.likelihood != "bernoulli":
            return X
        lo, hi = float(X.min()), float(X.max())
        if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            raise outside_unit_range(
                lo, hi, name,
                "a Bernoulli likelihood" if fit else "this VAE (trained with a Bernoulli likelihood)",
                "likelihood='gaussian'" if fit else None,  # a fitted model keeps its likelihood
            )  # fmt: skip
        # float32's rounding past [0, 1] (MinMaxScaler's 1.0000001) taken as the bound: a target
        # past 1 makes the Bernoulli log-likelihood unbounded, its logit pushed without end
        return np.clip(X, 0.0, 1.0) if lo < 0 or hi > 1 else X

    def _validate_input(self, X: Any, name: str = "X") -> np.ndarray:
        if _one_image(X, tuple(getattr(self, "input_shape_", ()))):
            X = [X] if isinstance(X, (list, tuple)) else X[None]  # (C, H, W) -> (1, C, H, W)
        return self._check_images(super()._validate_input(X, name), name)

    def _build_model(self) -> torch.nn.Module:
        if self._custom_network():
            return self._custom_model(latent_dim=int(self.latent_dim), likelihood=self.likelihood)
        self.latent_shape_ = (int(self.latent_dim),)
        return ConvVAE(
            VAEConfig(
                input_shape=tuple(self.input_shape_),
                latent_dim=int(self.latent_dim),
                channels=_check_channels(self.channels),
                likelihood=self.likelihood,
                beta=float(self.beta),
                init=self.init,
            )
        )

    def _tensorboard_images(self, model: ConvVAE, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """TensorBoard's images: held-out images over their reconstructions, and 16 samples from the prior."""
        recon = model.mean_image(model.decode(model.encode(x)[0]))
        # the same z each time
        z = torch.randn(16, self._latent_size(), generator=self._generator(None), dtype=x.dtype)
        z = z.to(x.device)
        return {
            "reconstructions": torch.cat([x, recon]),
            "samples": model.mean_image(model.decode(z)),
        }

    def _generator(self, seed: int | None) -> torch.Generator:
        """A CPU generator: draws are made on the CPU, so results do not depend on the device."""
        if seed is not None:  # the range a run's --seed takes (and serve's), so the same seeds work
            seed = params.check("seed", seed, params.TRAINING["seed"])
        seed = int(self.seed) if seed is None else int(seed)
        return torch.Generator().manual_seed(seed)

    # ---- training ----------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        validation_data: Any = None,
        **run: Any,
    ) -> VAE:
        """Train on images ``X`` (``y`` is ignored).

        Parameters
        ----------
        X : array-like of shape (n, C, H, W)
            Values in [0, 1] for the Bernoulli likelihood (binary images for a proper likelihood).
        validation_data : array-like, optional
            Held-out images; their -ELBO (analytic KL) is recorded each epoch as ``val_loss``.
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
        >>> vae = VAE(epochs=10).fit(X_train, validation_data=X_test)     # doctest: +SKIP
        """
        trainer = Trainer.from_options(run, self)
        self.check_params()
        say_target_unused(self, X, y)
        self._fitted_shape = None  # recorded by _check_x from an array (a row store: rows)
        X = self._validate_fit_input(
            X, check=lambda images: self._check_scale(self._check_images(images, "X", True))
        )
        refuse_identical_rows(X)
        validation = None
        if validation_data is not None:
            V = self._check_images(self._check_validation(validation_data), "validation_data", True)
            if V.shape[1:] != X.shape[1:]:
                raise DataError(
                    f"validation_data: sample shape {V.shape[1:]} differs from X's {X.shape[1:]}"
                )
            validation = (V, V)
        beta, kl, free = float(self.beta), self.kl, float(self.free_bits)
        samples = int(self.iw_samples)
        self._note_unused_by_iw(samples)

        def loss_fn(model, x, target, generator):
            if samples > 1:  # the importance-weighted bound (Burda et al. 2016)
                return negative_iw_bound(model, x, generator, samples=samples, beta=beta)
            return negative_elbo(model, x, generator, beta=beta, kl=kl, free_bits=free)

        def val_loss_fn(model, x, target, generator):
            return negative_elbo(model, x, generator, beta=1.0, kl="analytic")

        model = self._seeded_model(self._build_model, len(X))
        self.model_ = self._fit_model(
            model,
            loss_fn,
            X,
            validation=validation,
            val_loss_fn=val_loss_fn,
            trainer=trainer,
        )
        return self

    # ---- encoding and decoding -------------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Posterior means: images -> (n, latent_dim).

        Examples
        --------
        >>> Z = vae.transform(X)        # doctest: +SKIP
        """
        X = self._validate_input(X)
        return self.map_batches(lambda xb: self.model_.encode(xb)[0], X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Decode latent vectors (n, latent_dim) to expected images E[x|z] (Bernoulli: in [0, 1]).

        Examples
        --------
        >>> images = vae.inverse_transform(np.zeros((1, 2)))     # doctest: +SKIP
        """
        self.check_is_fitted()
        Z = self._check_aux(Z, "Z")
        if Z.ndim != 2 or Z.shape[1] != self._latent_size():
            raise DataError(
                f"Z: expected latent vectors of shape (n, {self._latent_size()}), got {Z.shape}"
            )
        out = self.map_batches(lambda z: self.model_.mean_image(self.model_.decode(z)), Z)
        return self._as_fitted(out)

    def _as_fitted(self, out: np.ndarray) -> np.ndarray:
        """Outputs as the training samples were: rows (n, d) for a VAE fitted on rows and (n, H, W)
        for one fitted on (n, H, W), which its network takes as (n, 1, 1, d) and (n, 1, H, W);
        (n, C, H, W) as they are, as the Autoencoder gives them. (Given back as the network's
        images, ``reconstruct(X) - X`` broadcast to (n, n, H, W) without a word.)"""
        return out.reshape(len(out), *self._fitted_sample_shape())

    def _fitted_sample_shape(self) -> tuple[int, ...]:
        """One training sample's shape as ``fit`` was given it: (d,), (H, W) or (C, H, W). A model
        saved before it was recorded: rows when its network took one-row images, else its images."""
        shape = getattr(self, "_fitted_shape", None)
        if shape is not None:
            return tuple(shape)
        rows = tuple(self.input_shape_[:2]) == (1, 1) and len(self.input_shape_) == 3
        return (int(self.input_shape_[-1]),) if rows else tuple(self.input_shape_)

    def _check_x(self, X: Any, name: str = "X", reset: bool = False) -> Any:
        X = super()._check_x(X, name, reset)
        if reset:  # fit: the form outputs are given back in (_as_fitted)
            self._fitted_shape = tuple(int(d) for d in X.shape[1:])
        return X

    def _get_state(self) -> dict[str, Any]:
        return {**super()._get_state(), "fitted_shape": list(self._fitted_sample_shape())}

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        shape = state.get("fitted_shape")  # absent in a model saved before it was recorded
        self._fitted_shape = None if shape is None else tuple(int(d) for d in shape)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Decode each image's posterior mean: the expected image E[x|z=mean]; same shape as ``X``.

        Examples
        --------
        >>> X_hat = vae.reconstruct(X)     # doctest: +SKIP
        """
        X = self._validate_input(X)
        return self._as_fitted(
            self.map_batches(
                lambda xb: self.model_.mean_image(self.model_.decode(self.model_.encode(xb)[0])), X
            )
        )

    def sample(self, n: int = 64, seed: int | None = None) -> np.ndarray:
        """Generate ``n`` images: z ~ N(0, I) decoded to E[x|z] (Bernoulli means = sigmoid(logits), in [0, 1];
        Gaussian: the decoded means).

        ``seed=None`` uses the estimator's ``seed``, so repeated calls give the same images; pass
        different seeds for different draws. The first ``m`` of ``sample(n, seed)`` are
        ``sample(m, seed)`` (the same z; the images to float32 rounding, decoded in other batches).
        Shaped as the training samples: (n, C, H, W), (n, H, W) or rows (n, d).

        Examples
        --------
        >>> images = vae.sample(64, seed=1)      # doctest: +SKIP
        """
        self.check_is_fitted()
        n = check_positive_int("n", n)
        check_output_fits(
            n, self.input_shape_, f"generating {n} images", "ask for fewer images (n, --n)"
        )
        return self.inverse_transform(prior_draws(n, self._latent_size(), self._generator(seed)))

    def interpolate(
        self, x_a: Any, x_b: Any, steps: int = 10, method: str = "linear"
    ) -> np.ndarray:
        """Decode ``steps`` points between the posterior means of two images (ends included).

        Parameters
        ----------
        x_a, x_b : array-like of shape (C, H, W) or (1, C, H, W); one sample as ``fit`` was given
            them: an (H, W) image for a VAE fitted on (n, H, W), a row (d,) for one fitted on rows
        steps : int, default 10
        method : {"linear", "slerp"}
            Straight line, or spherical interpolation (keeps the norm typical of prior samples).

        Returns
        -------
        ndarray of shape (steps, C, H, W), or (steps, H, W) / (steps, d) as the training samples

        Examples
        --------
        >>> strip = vae.interpolate(X_test[0], X_test[1], steps=10)     # doctest: +SKIP
        """
        steps = check_positive_int("steps", steps, 2)
        self.check_is_fitted()
        check_output_fits(
            steps,
            self.input_shape_,
            f"an interpolation of {steps} steps",
            "ask for fewer (--steps)",
        )
        if method not in ("linear", "slerp"):
            raise UsageError(f"method must be 'linear' or 'slerp', got {method!r}")
        a, b = self._posterior_mean(x_a, "x_a"), self._posterior_mean(x_b, "x_b")
        t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
        if method == "linear":
            z = (1 - t) * a + t * b
        else:
            cos = np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12)
            omega = math.acos(min(1.0, max(-1.0, cos)))
            if omega < 1e-6:
                z = (1 - t) * a + t * b
            else:
                z = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / math.sin(omega)
        return self.inverse_transform(z.astype(np.float32))  # (steps, latent) -> (steps, C, H, W)

    def _posterior_mean(self, x: Any, name: str) -> np.ndarray:
        """z's mean for one sample as ``fit`` took them ((C, H, W), (H, W) or a row (d,)), one
        image (C, H, W), or a batch of one."""
        named = getattr(self, "feature_names_in_", None) is not None  # checked as transform does
        if named and hasattr(x, "to_frame") and hasattr(x, "index") and x.ndim == 1:
            x = x.to_frame().T  # a Series (df.iloc[i]): its index names the columns
        if named and hasattr(x, "columns"):
            return self._row_mean(x, name)
        if hasattr(x, "detach") or not hasattr(x, "ndim"):
            x = to_numpy(x, name)  # as fit reads it: a tensor detached, a ragged list one line
        shape = self._fitted_sample_shape()
        # a gray (H, W) image is one sample of a one-channel model too, however it was fitted
        gray = tuple(self.input_shape_[1:]) if self.input_shape_[0] == 1 else None
        one = x.ndim == 3 or tuple(x.shape) in (shape, gray) or x.ndim == 1 and len(shape) == 1
        x = self._check_aux(np.asarray(x)[None] if one else x, name)  # one sample
        self._refuse_samples(len(x), name)
        return self.transform(x)[0].astype(np.float64)

    def _row_mean(self, frame: Any, name: str) -> np.ndarray:
        """z's mean for a one-row DataFrame, its columns checked by name as ``transform`` checks
        them: read by position, a frame with its columns reordered was interpolated without a word."""
        self._refuse_samples(len(frame), name)
        try:
            return self.transform(frame)[0].astype(np.float64)
        except DataError as exc:
            if "feature names" not in str(exc):
                raise
            raise DataError(
                f"{name}: {str(exc).rstrip('.')}; give it with X's columns, in X's order"
            ) from None

    def _refuse_samples(self, n: int, name: str) -> None:
        if n != 1:
            shape = self._fitted_sample_shape()
            one_shape = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
            raise DataError(f"{name}: expected one sample ({one_shape}), got {n} samples")

    def score(self, X: Any, y: Any = None) -> float:
        """Mean ELBO per image in nats (:meth:`elbo`; higher is better, as model selection expects).

        Deterministic: the z samples are drawn from the estimator's ``seed``. ``y`` is ignored.

        Examples
        --------
        >>> vae.score(X_test)                    # doctest: +SKIP
        -156.8
        """
        return float(np.mean(self.elbo(X), dtype=np.float64))

    # ---- likelihood bounds --------------------------------------------------------------------------
    @torch.inference_mode()
    def _log_weights(
        self,
        X: np.ndarray,
        k: int,
        seed: int | None,
        *,
        analytic: bool,
        take: Callable[[slice, torch.Tensor, torch.Tensor], None],
    ) -> None:
        """Hand each pass's (images, log p(x|z), KL or log q(z|x) - log p(z)) to ``take``: float64
        (kk, B) tensors on the CPU, at most :data:`DECODE_BUDGET` values each. ``take`` reduces them,
        so memory stays O(n + DECODE_BUDGET) for any ``k`` (an (n, k) array was 480 MB at k=20,000)."""
        self.model_.eval()
        gen = self._generator(seed)
        device = self._model_device()
        images = max(1, DECODE_BUDGET // k)  # images per pass
        kc = min(k, DECODE_BUDGET)  # samples per pass
        with self._pass(
            len(X), "ELBO" if k == 1 else f"log-likelihood (k={k})", unit="images"
        ) as progress:
            for i in range(0, len(X), images):
                xb = torch.tensor(X[i : i + images], device=device)  # a copy: X stays as given
                mean, logvar = self.model_.encode(xb)
                for j in range(0, k, kc):
                    kk = min(kc, k - j)
                    eps = torch.randn(kk, *mean.shape, generator=gen, dtype=mean.dtype)
                    eps = eps.to(device)  # (kk, B, latent)
                    z = mean + torch.exp(0.5 * logvar) * eps
                    # (kk*B, latent) -> (kk*B, C, H, W)
                    decoded = self.model_.decode(z.reshape(-1, mean.shape[1]))
                    # (kk, B, C, H, W) -> (kk*B, C, H, W)
                    xr = xb.expand(kk, *xb.shape).reshape(-1, *xb.shape[1:])
                    log_px = self.model_.log_px(xr, decoded).reshape(kk, -1)  # (kk*B,) -> (kk, B)
                    if analytic:
                        kl = gaussian_kl(mean, logvar).expand(kk, -1)
                    else:
                        kl = log_normal(z, mean, logvar) - log_normal(z)  # (kk, B)
                    take(slice(i, i + len(xb)), log_px.double().cpu(), kl.double().cpu())
                progress.update(len(xb))

    def _elbo_terms(self, X: np.ndarray, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Per image: log p(x|z) of one z sample and the analytic KL, float64 (n,) each."""
        log_px, kl = np.empty(len(X), np.float64), np.empty(len(X), np.float64)

        def take(rows: slice, log_px_b: torch.Tensor, kl_b: torch.Tensor) -> None:
            log_px[rows], kl[rows] = log_px_b[0].numpy(), kl_b[0].numpy()  # (1, B) -> (B,)

        self._log_weights(X, 1, seed, analytic=True, take=take)
        return log_px, kl

    def elbo(self, X: Any, seed: int | None = None) -> np.ndarray:
        """Per-image ELBO in nats (higher is better): one z sample for E_q[log p(x|z)], analytic KL.

        Returns the array of shape (n,); ``elbo(X).mean()`` is the usual reported figure. Deterministic
        for a given ``seed`` (default: the estimator's ``seed``).

        Examples
        --------
        >>> vae.elbo(X_test).mean()       # doctest: +SKIP
        -156.8
        """
        X = self._validate_input(X)
        log_px, kl = self._elbo_terms(X, seed)
        return log_px - kl

    def log_likelihood(self, X: Any, k: int = 1000, seed: int | None = None) -> np.ndarray:
        """Importance-weighted estimate of log p(x) per image, in nats (Burda, Grosse & Salakhutdinov 2016).

        ``log p(x) ~ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)`` with ``z_i ~ q(z|x)``: a lower bound
        that tightens as ``k`` grows (k=1 is the single-sample ELBO). Decoded in passes of at most
        2048 images, each reduced to a running log-sum per image, so memory stays bounded for any
        ``k`` and grows with ``n`` only by the result; deterministic for a ``seed``.

        Returns
        -------
        ndarray of shape (n,)

        Examples
        --------
        >>> -vae.log_likelihood(X_test[:1000], k=100).mean()     # NLL in nats   # doctest: +SKIP
        """
        X = self._validate_input(X)
        k = check_positive_int("k", k)
        total = np.full(len(X), -np.inf)  # log sum_i w_i so far, per image

        def take(rows: slice, log_px: torch.Tensor, log_ratio: torch.Tensor) -> None:
            # (kk, B) -> (B,): this pass's log-sum, added to the images' running one
            total[rows] = np.logaddexp(total[rows], torch.logsumexp(log_px - log_ratio, 0).numpy())

        self._log_weights(X, k, seed, analytic=False, take=take)
        return total - math.log(k)

    def evaluate(
        self, X: Any, k: int = 100, n_iw: int | None = None, seed: int | None = None
    ) -> dict[str, Any]:
        """Held-out figures, in nats per image.

        ``test_elbo`` (higher is better; analytic KL, one z sample), ``test_reconstruction``
        (-E_q[log p(x|z)], lower is better), ``test_kl`` (so ``test_elbo = -(test_reconstruction + test_kl)``),
        ``test_nll_iw`` (-log p(x) by importance weighting with ``k`` samples on the first ``n_iw``
        images, all by default), ``k`` and ``n_iw``.

        Examples
        --------
        >>> vae.evaluate(X_test, k=100, n_iw=1000)        # the 10-epoch recipe   # doctest: +SKIP
        {'test_elbo': -156.8, 'test_reconstruction': 151.3, 'test_kl': 5.5, 'test_nll_iw': 150.9, 'k': 100, ...}
        """
        X = self._validate_input(X)
        log_px, kl = self._elbo_terms(X, seed)
        n_iw = len(X) if n_iw is None else min(check_positive_int("n_iw", n_iw), len(X))
        nll = -float(self.log_likelihood(X[:n_iw], k=k, seed=seed).mean())
        return {
            "test_elbo": float((log_px - kl).mean()),
            "test_reconstruction": float(-log_px.mean()),
            "test_kl": float(kl.mean()),
            "test_nll_iw": nll,
            "k": int(k),
            "n_iw": int(n_iw),
        }
