"""What every aekit estimator shares: parameters, the not-fitted guard, input checks,
batched inference and training through the shared loop.

scikit-learn conventions: ``__init__`` only stores its keyword arguments under their own
names; ``fit`` validates, learns and returns ``self``; learned state ends in ``_``.
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from .._notes import note
from ..data.rowstore import RowStore
from ..errors import DataError, UsageError, naming
from ..models.init import float32_default
from ..training.budget import AUTO, epochs_for_steps
from ..training.device import resolve_device
from ..training.loop import GLOBAL_RNG, LossFn, TrainConfig
from ..training.memory import check_model_fits
from ..training.progress import Pass, check_verbose
from ..training.rng import borrowed_rng
from ..training.threads import ThreadChoice, forward_flops, resolve, using_threads
from ..training.trainer import Trainer
from .advice import WarnsWhenUseless
from .params import TRAINING_SEEDS, not_nested, validate_params
from .refit import KeepsStateOnFailure
from .validation import (
    as_text,
    check_input,
    check_names,
    note_precision,
    refuse_keras_pair,
    refuse_one_image,
    refuse_other_gray_layout,
)

# What only the built-in networks read: with encoder=/decoder= they are refused when set.
BUILTIN_NETWORK_PARAMS = ("hidden", "architecture", "activation", "init", "channels", "kernel_size")
INFERENCE_BATCH = 1024  # samples per forward pass when scoring; bounds memory for any n
CHECK_ROWS = 8192  # rows per chunk when checking data on disk
# ... and at most this many values (16 MB of float32): 5,000-wide sparse rows stay bounded
CHECK_VALUES = 2**22


def is_row_store(X: Any) -> bool:
    """Data on disk read batch by batch, not an array in memory: ``isinstance(X, RowStore)``."""
    return isinstance(X, RowStore)


def check_rows(rows: Any, check: Callable[[np.ndarray], Any]) -> Any:
    """Run ``check`` on a row store chunk by chunk (bounded memory); return the store unchanged."""
    if len(rows) == 0:
        raise DataError("X has no samples; expected at least one")
    for chunk in iter_chunks(rows):
        check(chunk)
    return rows


def iter_chunks(rows: Any, size: int = CHECK_ROWS) -> Iterator[np.ndarray]:
    """A row store as in-memory chunks of at most ``size`` samples and ~``CHECK_VALUES`` values, one at a time."""
    # wide rows: fewer per chunk
    size = max(1, min(size, CHECK_VALUES // max(1, math.prod(rows.sample_shape))))
    for start in range(0, len(rows), size):
        yield rows.rows(start, min(len(rows), start + size))


def column_names(
    X: Any, given: Sequence[str] | None, name: str | None = None
) -> Sequence[str] | None:
    """The column names given, else a DataFrame's own (as text), else None; with ``name`` (the
    argument's), the names given are checked first (:func:`~.validation.check_names`)."""
    if given is None and hasattr(X, "columns"):
        return [as_text(c) for c in X.columns]
    return given if given is None or name is None else check_names(X, given, name)


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` if it is a whole number >= minimum, else a one-line UsageError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UsageError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_widths(name: str, value: Any) -> tuple[int, ...]:
    """Layer widths: a sequence of whole numbers >= 1."""
    try:
        widths = tuple(value)
    except TypeError:
        raise UsageError(
            f"{name} must be a sequence of layer widths such as (256, 128), got {value!r}"
        ) from None
    for w in widths:
        check_positive_int(f"each width in {name}", w)
    return tuple(int(w) for w in widths)


def as_images(X: np.ndarray) -> np.ndarray:
    """Images (n, C, H, W) for the convolutional models: (n, H, W) gains a channel; rows (n, d) are one-row images.

    Rows as 1 x d images let the Denoiser and the VAE take a table (scikit-learn's checks, signals)
    through the same convolutional network; their outputs are shaped back like the input.

    Examples
    --------
    >>> as_images(np.zeros((5, 3), np.float32)).shape
    (5, 1, 1, 3)
    """
    if X.ndim == 2:
        return X[:, None, None, :]  # (n, d) -> (n, 1, 1, d)
    if X.ndim == 3:
        return X[:, None]  # (n, H, W) -> (n, 1, H, W)
    return X


def image_shape(sample_shape: Sequence[int]) -> tuple[int, ...]:
    """One sample's shape as the image :func:`as_images` makes of it: (d,) -> (1, 1, d), (H, W) -> (1, H, W)."""
    shape = tuple(int(d) for d in sample_shape)
    return {1: (1, 1, *shape), 2: (1, *shape)}.get(len(shape), shape)


def _checked_chunk(
    chunk: np.ndarray, name: str, check: Callable[[np.ndarray], Any] | None = None
) -> Any:
    """One chunk of a row store on disk: numbers and finite (as ``check_input``), then ``check``."""
    chunk = check_input(None, chunk, reset=None, name=name)
    return chunk if check is None else check(chunk)


# scikit-learn's checks that fit or score data outside [0, 1] (standardised blobs, uniform values up to
# 3, values near 100): a model of values in [0, 1] (the Denoiser's sigmoid output, the VAE's Bernoulli
# likelihood) refuses that data by design, with a line that says how to scale it.
OUTSIDE_UNIT_RANGE_CHECKS = (
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
)


def unit_range_failures(reason: str) -> dict[str, str]:
    """The checks of :data:`OUTSIDE_UNIT_RANGE_CHECKS`, each with ``reason``."""
    return {name: reason for name in OUTSIDE_UNIT_RANGE_CHECKS}


# A sigmoid output is computed by a vectorised kernel for most of a batch and by a scalar one for
# its last few values, which can differ in the last bit of float32: a sample's score may change by
# ~1e-7 (relative) with its position in the batch, and these checks ask for equality within 1e-7.
# (Measured: the detector's decision_function on the checks' 20 x 3 data, 65 of 300 permutations
# differ by up to 1.4e-7; with a linear output none does.)
BATCH_POSITION_CHECKS = {
    name: "a sigmoid output may differ by one float32 ulp (~1e-7 relative) with the sample's position in the batch "
    "(vectorised vs scalar kernel); the check asks for 1e-7"
    for name in ("check_methods_sample_order_invariance", "check_methods_subset_invariance")
}


def expected_failed_checks(est: Any) -> dict[str, str]:
    """scikit-learn's estimator checks that ``est`` is known to fail, each with the reason.

    scikit-learn 1.6 replaced the ``_xfail_checks`` tag by this mapping, passed as
    ``check_estimator(est, expected_failed_checks=...)`` or
    ``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)``; each estimator
    declares its own beside its tags (``_sklearn_expected_failed``).

    Examples
    --------
    >>> from sklearn.utils.estimator_checks import check_estimator
    >>> check_estimator(est, expected_failed_checks=expected_failed_checks(est))   # doctest: +SKIP
    """
    return dict(getattr(est, "_sklearn_expected_failed", {}))


# a model's forward FLOPs (None: not countable), counted once per model for the inference thread choice
_FLOPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class NeuralEstimator(WarnsWhenUseless, KeepsStateOnFailure, BaseEstimator):
    """Base class of aekit's estimators (Autoencoder, Denoiser, AnomalyDetector, VAE, SeriesDetector).

    Subclasses declare ``parameters`` (their table in :mod:`aekit.estimators.params`), set
    ``model_`` in ``fit`` and implement ``_build_model``; they may extend
    ``_get_state``/``_set_state`` with learned non-tensor state (JSON) and
    ``_get_tensors``/``_set_tensors`` with extra tensors.

    What code outside ``aekit.estimators`` may use is public: ``check_params``,
    ``check_fit_data``, the fitted attributes and the scikit-learn methods.
    """

    # What each parameter may be: a table of aekit.estimators.params, read by check_params and the CLI.
    parameters: dict[str, list[Any]] = {}
    # Take SciPy sparse input (densified one batch at a time): the dense families do.
    _accepts_sparse = False
    # The parameters ``_build_model`` reads: a saved model records them as they were when it was
    # built (``_built_with``), whatever ``set_params`` changed after ``fit``.
    _model_params: tuple[str, ...] = ("encoder", "decoder")

    # ---- parameters ---------------------------------------------------------------------------
    def check_params(self) -> None:
        """Check every parameter against the estimator's table, then what the table cannot say alone
        (how parameters combine), then the training settings; one-line :class:`aekit.errors.UsageError`.

        ``fit`` calls it first; ``aekit train`` calls it before any data is read.
        """
        validate_params(self)
        self._check_networks()
        self._check_combinations()
        self._train_config()

    def _check_networks(self) -> None:
        """``encoder`` and ``decoder`` come as a pair; a spec's class imports and takes its arguments."""
        from ..models.custom import check_spec

        enc, dec = getattr(self, "encoder", None), getattr(self, "decoder", None)
        if (enc is None) != (dec is None):
            given, missing = ("encoder", "decoder") if dec is None else ("decoder", "encoder")
            raise UsageError(
                f"{given}= needs {missing}= too: your own network comes as an encoder and a decoder "
                f"(give neither for the built-in network)"
            )
        for name, value in (("encoder", enc), ("decoder", dec)):
            if isinstance(value, Mapping):
                check_spec(value, name)
        given = self._changed_params(self.builtin_network_params())
        if "latent_dim" in given:
            raise naming(
                UsageError(
                    f"latent_dim={self.latent_dim!r} is not passed to your encoder (its constructor "
                    f"takes no latent_dim, or its arguments set it): the code's size is what the "
                    f"encoder returns; leave it out, or give the size in the encoder's arguments"
                ),
                "latent_dim",
            )
        if given:
            shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in given)
            raise naming(
                UsageError(
                    f"{shown} {'sets' if len(given) == 1 else 'set'} the built-in network, which your "
                    f"own encoder and decoder replace: leave {'it' if len(given) == 1 else 'them'} "
                    f"out (give your network's sizes in its own arguments)"
                ),
                *given,
            )

    def builtin_network_params(self) -> list[str]:
        """The parameters that only shape the built-in network, unused with the user's own encoder and
        decoder: its widths, activation and initialisation, and ``latent_dim`` unless the encoder's
        constructor receives it. Empty for the built-in network."""
        from ..models.custom import takes

        encoder = getattr(self, "encoder", None)
        if encoder is None:
            return []
        params = self.get_params(deep=False)
        names = [n for n in BUILTIN_NETWORK_PARAMS if n in params]
        if "latent_dim" in params and not takes(encoder, "latent_dim"):
            names.append("latent_dim")
        return names

    def _check_combinations(self) -> None:
        """Hook: checks that involve several parameters."""

    def set_params(self, **params: Any) -> NeuralEstimator:
        """scikit-learn's ``set_params``; a name the estimator has not is aekit's one-line
        :class:`aekit.errors.UsageError` (still a ``ValueError``), as every bad value is at ``fit``."""
        valid = self.get_params(deep=True)
        for key in params:
            head, nested, _ = key.partition("__")
            if head not in valid:
                raise UsageError(
                    f"{type(self).__name__} has no parameter {key!r}; its parameters are: "
                    f"{', '.join(sorted(self.get_params(deep=False)))}"
                )
            if nested and not hasattr(valid[head], "set_params"):  # scikit-learn: AttributeError
                raise UsageError(not_nested(key, head, valid[head]))
        return super().set_params(**params)

    # ---- fitted-state guard ---------------------------------------------------------------
    def check_is_fitted(self) -> None:
        """Raise :class:`aekit.errors.NotFittedError` (one line) unless the estimator is fitted."""
        if not hasattr(self, "model_"):
            from ..errors import NotFittedError

            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X) first "
                f"or load a trained one with aekit.load(RUN)"
            )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def __sklearn_tags__(self):
        return self._aekit_tags(super().__sklearn_tags__())

    @property
    def _sklearn_expected_failed(self) -> dict[str, str]:
        """scikit-learn's checks known to fail (:func:`expected_failed_checks`): with a sigmoid output, two may
        flake by one float32 ulp (:data:`BATCH_POSITION_CHECKS`); every other check passes."""
        output = getattr(self, "_output_activation", None)  # the detector resolves "auto"
        sigmoid = (
            output() if callable(output) else getattr(self, "output_activation", None)
        ) == "sigmoid"
        return dict(BATCH_POSITION_CHECKS) if sigmoid else {}

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean squared reconstruction error of ``X``, in ``X``'s own units: higher is better.

        That is what model selection expects: a figure every candidate is measured in alike.
        ``GridSearchCV(aekit.Autoencoder(), {"latent_dim": [4, 8]}).fit(X)`` picks the latent size that
        reconstructs held-out folds best. Not ``score_samples``' units, which a searched ``scaler``
        (or a detector's ``error`` and density terms) changes: a search then picked the scaler
        that shrank the data most, not the model that reconstructed it best. ``y`` is ignored. The
        Denoiser and the VAE define their own; a model without reconstructions, its -mean
        ``score_samples``.

        Examples
        --------
        >>> ae.score(X_test)                    # doctest: +SKIP
        -0.0088
        """
        rebuild = getattr(self, "_rebuild", None)
        if rebuild is None:
            return -float(np.mean(self.score_samples(X), dtype=np.float64))
        X = self._validate_input(X)
        errors = self.map_batches(lambda xb: (rebuild(xb) - xb).square().flatten(1).mean(1), X)
        return -float(np.mean(errors, dtype=np.float64))

    def _aekit_tags(self, tags):
        """aekit's part of scikit-learn's tags: float32 out, sparse input for the dense families, seeded.

        Each estimator's ``__sklearn_tags__`` applies it last, after scikit-learn's mixins have set
        theirs (``TransformerMixin`` sets ``transformer_tags`` after this base class runs).
        """
        tags.input_tags.sparse = self._accepts_sparse
        # every draw comes from ``seed``: the same data give the same model
        tags.non_deterministic = False
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float32"]  # float64 in comes back as float32
        return tags

    # ---- inputs -----------------------------------------------------------------------------
    def _validate_fit_input(
        self, X: Any, name: str = "X", check: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> Any:
        """Check training data (scikit-learn's ``validate_data``) and record its sample shape.

        ``check`` adds the estimator's own checks: on the array, or on each chunk of a row store
        on disk within the same pass. Sparse input comes back as a row store of its own
        (:class:`aekit.data.sparse.SparseRows`), checked already.
        """
        if is_row_store(X):
            X = check_rows(X, lambda chunk: _checked_chunk(chunk, name, check))
            # a refit on data without names forgets the old ones
            for attr in "feature_names_in_":
                if attr in vars(self):
                    delattr(self, attr)
        else:
            X = self._as_model_input(self._check_x(X, name, reset=True))
            if check is not None:
                X = check_rows(X, check) if is_row_store(X) else check(X)
        self._record_input_shape(X)
        return X

    def _as_model_input(self, X: Any) -> Any:
        """Hook: checked input in the form the model takes (the VAE makes rows one-row images)."""
        return X

    def _check_x(self, X: Any, name: str = "X", reset: bool = False) -> Any:
        """``X`` through scikit-learn's ``validate_data``: recorded (``reset=True``, in fit) or checked."""
        out = check_input(self, X, reset=reset, name=name, accept_sparse=self._accepts_sparse)
        if reset and isinstance(out, np.ndarray):  # at fit, as a file's reader does
            note_precision(X, out, name)
        return out

    def _check_aux(self, X: Any, name: str) -> Any:
        """Validation data, targets, latent vectors: checked like ``X``, nothing recorded."""
        return check_input(self, X, reset=None, name=name, accept_sparse=self._accepts_sparse)

    def _check_validation(self, V: Any) -> Any:
        """``fit``'s ``validation_data``, checked as a fitted model checks ``X``: a DataFrame's columns
        by name (by position, reordered columns gave early stopping other features); nothing recorded."""
        refuse_keras_pair(V)
        if is_row_store(V) or not hasattr(self, "n_features_in_"):
            return self._check_aux(V, "validation_data")
        try:
            return check_input(
                self, V, reset=False, name="validation_data", accept_sparse=self._accepts_sparse
            )
        except DataError as exc:
            if "feature names" not in str(exc):
                raise
            raise DataError(
                f"validation_data: {exc} Give validation data with X's columns, in X's order"
            ) from None

    def _record_feature_names(self, feature_names: Sequence[str] | None) -> None:
        """``feature_names_in_`` from names given at ``fit`` (one per column: a table read by aekit's readers);
        without them, what ``validate_data`` recorded from a DataFrame's columns stays."""
        if feature_names is not None:
            if len(self.input_shape_) != 1 or len(feature_names) != self.input_shape_[0]:
                raise DataError(
                    f"feature_names has {len(feature_names)} names but X has samples of shape "
                    f"{self.input_shape_}; give one name per column"
                )
            self.feature_names_in_ = np.asarray([str(f) for f in feature_names], dtype=object)

    def _record_input_shape(self, X: Any) -> None:
        """``input_shape_`` (one sample's shape) and ``n_features_in_`` of checked training data."""
        shape = X.sample_shape if is_row_store(X) else X.shape[1:]
        self.input_shape_ = tuple(int(d) for d in shape)
        self.n_features_in_ = int(math.prod(self.input_shape_))

    def check_fit_data(self, X: Any) -> None:
        """Check that ``fit`` can take ``X``, without training: one line when it cannot.

        ``aekit train`` calls it before an old run is replaced (extended by image-only models).
        """
        if is_row_store(X):
            check_rows(X, lambda chunk: _checked_chunk(chunk, "X"))
        else:
            self._check_aux(X, "X")

    def _validate_input(self, X: Any, name: str = "X") -> Any:
        """Check data for a fitted model: numeric, finite, the features (and their names) it was trained on."""
        self.check_is_fitted()
        if not is_row_store(X):
            X = self._check_x(X, name, reset=False)
        given = tuple(X.shape)  # as the caller gave it, for the messages
        X = X if is_row_store(X) else self._as_model_input(X)
        if tuple(X.shape[1:]) != tuple(self.input_shape_):
            if len(self.input_shape_) == 3:  # one image, which would be taken as several
                refuse_one_image(given, self.input_shape_, name, gray_batches=False)
            refuse_other_gray_layout(given, self.input_shape_, name)
            if len(self.input_shape_) == 1 and len(X.shape) == 2:
                raise DataError(
                    f"{name} has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.input_shape_[0]} features as input; give data shaped like the training data"
                )
            raise DataError(
                f"{name}: the model was trained on sample shape {tuple(self.input_shape_)}, got "
                f"{given[1:]}; give data shaped like the training data"
            )
        return X

    # ---- training -----------------------------------------------------------------------------
    # ``epochs="auto"``: a budget of optimizer steps for the data at hand (aekit.training.budget).
    auto_steps = 1000  # optimizer steps an "auto" training aims at
    auto_max_epochs = 500  # ... but never more passes over the data than this
    auto_floor_steps = 0  # ... unless fewer passes would give less than this many steps (tiny data)

    def _epochs(self, n_samples: int | None = None) -> int:
        """``epochs`` as a number: "auto" becomes the epochs that give ``auto_steps`` on ``n_samples``."""
        if isinstance(self.epochs, str) and self.epochs == AUTO:
            if n_samples is None:  # checking parameters before the data is known
                return 1
            batch = check_positive_int("batch_size", self.batch_size)
            # epochs for the minimum
            floor = math.ceil(self.auto_floor_steps / max(1, math.ceil(n_samples / batch)))
            return epochs_for_steps(
                n_samples, batch, self.auto_steps, max_epochs=max(self.auto_max_epochs, floor)
            )
        if isinstance(self.epochs, str):
            raise UsageError(f"epochs must be a whole number >= 0 or 'auto', got {self.epochs!r}")
        return check_positive_int("epochs", self.epochs, 0)

    def _train_config(self, n_samples: int | None = None) -> TrainConfig:
        if getattr(self, "threads", None) is not None:
            check_positive_int("threads", self.threads)
        return TrainConfig(
            epochs=self._epochs(n_samples),
            batch_size=check_positive_int("batch_size", self.batch_size),
            lr=self.lr,
            seed=self.seed,
            schedule=getattr(self, "schedule", "constant"),
            precision=getattr(self, "precision", "fp32"),
            patience=getattr(self, "patience", None),
        ).validate()

    def _device(self) -> torch.device:
        return resolve_device(getattr(self, "device", "auto"))

    def _threads(self) -> int | None:
        """The ``threads`` parameter checked (None: aekit chooses; training times it)."""
        threads = getattr(self, "threads", None)
        return None if threads is None else check_positive_int("threads", threads)

    def _thread_choice(self, model: torch.nn.Module, batch_size: int, passes: int) -> ThreadChoice:
        """CPU threads for inference on batches of ``batch_size``: ``threads`` when set, else aekit's
        choice from the forward's work (``passes`` forwards a sample) and the free cores.

        The forward's work is counted once per model, on a zero sample of the training data's shape.
        """
        threads = self._threads()
        if threads is not None:
            return resolve(threads)
        # kept beside the model: a prediction leaves the estimator as it was
        if model not in _FLOPS:
            sample = next(model.parameters()).new_zeros((1, *self.input_shape_))  # its dtype
            _FLOPS[model] = forward_flops(model, sample)
        flops = _FLOPS[model]
        return resolve(None, None if flops is None else flops * passes * batch_size)

    @torch.inference_mode(False)  # a caller's inference_mode made weights that cannot train
    def _seeded_model(
        self, build: Callable[[], torch.nn.Module], rows: int | None = None
    ) -> torch.nn.Module:
        """Build a model with weights drawn from ``self.seed``, leaving the global RNG alone;
        ``rows``: the training rows, which no batch holds more of."""
        # Sizes beyond the machine are refused before anything is allocated (built on the meta
        # device), for the batch as large as it can be: a batch_size of 1e8 on 300 rows holds 300
        batch = self.batch_size if rows is None else min(int(self.batch_size), max(1, int(rows)))
        check_model_fits(build, getattr(self, "input_shape_", ()), batch, device=self._device())
        seed = check_positive_int("seed", self.seed, 0)
        if seed >= TRAINING_SEEDS:  # a run loads with any seed it was saved with
            raise UsageError(
                f"seed must be below 2**32 to train, got {seed}: torch keeps 32 bits of a seed, "
                f"so it would train as seed {seed % TRAINING_SEEDS}"
            )
        with GLOBAL_RNG, borrowed_rng(), float32_default():
            torch.manual_seed(seed)
            model = build()
        self._record_built_with()
        return model

    def _record_built_with(self) -> None:
        """Keep the parameters the model is built from (``_model_params``) as config.json records
        them: a save after ``set_params`` records these, which the weights were trained with."""
        from .persistence import jsonable

        params = self.get_params(deep=False)
        self._built_with = {n: jsonable(params[n]) for n in self._model_params if n in params}

    # ---- the user's own networks (aekit.models.custom) ------------------------------------------
    def _custom_network(self) -> bool:
        """Whether the model is the user's encoder and decoder (``encoder=``/``decoder=``), not the built-in one."""
        return getattr(self, "encoder", None) is not None

    def _custom_model(
        self, latent_dim: int | None = None, likelihood: str | None = None
    ) -> torch.nn.Module:
        """The user's encoder and decoder, built and checked on one sample of ``input_shape_``, as one model
        (a VAE's when ``likelihood`` is given); records ``latent_shape_``, one sample's code shape.

        ``latent_dim`` is what a spec's encoder receives as ``latent_dim`` if its constructor takes it.
        """
        from ..models.custom import CustomAutoencoder, CustomVAE, build_pair

        encoder, decoder, code = build_pair(
            self.encoder,
            self.decoder,
            self.input_shape_,
            latent_dim,
            variational=likelihood is not None,
        )
        self.latent_shape_ = code
        if likelihood is None:
            return CustomAutoencoder(encoder, decoder)
        return CustomVAE(encoder, decoder, likelihood)

    @torch.enable_grad()  # under a caller's no_grad, set_grad_enabled(False), inference_mode
    @torch.inference_mode(False)
    def _fit_model(
        self,
        model: torch.nn.Module,
        loss_fn: LossFn,
        X: np.ndarray,
        target: np.ndarray | None = None,
        *,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        val_loss_fn: LossFn | None = None,
        trainer: Trainer | None = None,
    ) -> torch.nn.Module:
        """Move data and model to the device, train through ``trainer`` (the run's concerns), keep the history.

        Arrays go to the device once; row stores on disk stay there and are read batch by batch.
        Under torchrun each process steps on its share of the global batch, which is what the
        CPU threads are chosen for.
        """
        trainer = trainer or Trainer()
        config = self._train_config(len(X))
        if config.epochs == 0 and not trainer.resume:  # the CLI refuses it; here a model is wanted
            note(
                f"epochs=0 trains nothing: this {type(self).__name__} keeps its initial (random) "
                f"weights; give epochs=1 or more, or 'auto', to train it"
            )
        if validation is None:
            self._note_unused_patience()
        device = self._device()
        model = model.to(device)
        inputs = X if is_row_store(X) else torch.as_tensor(X, device=device)
        targets = target
        if target is not None and not is_row_store(target):
            targets = torch.as_tensor(target, device=device)
        val = None
        if validation is not None:
            val = tuple(
                v if is_row_store(v) else torch.as_tensor(v, device=device) for v in validation
            )
        self.history_, choice = trainer.fit(
            model,
            loss_fn,
            inputs,
            targets,
            config=config,
            validation=val,
            val_loss_fn=val_loss_fn,
            threads=self._threads(),
            verbose=check_verbose(getattr(self, "verbose", 0)),
            views=lambda: self._tensorboard_views(model, inputs, val, config),
            owner=type(self).__name__,
            params=self.get_params(deep=False),
        )
        self.device_ = str(device)
        self.threads_ = choice.to_json()  # recorded in a run's config.json
        return model.eval()

    def _changed_params(self, names) -> list[str]:
        """Those of the parameters ``names`` set to other than the class's default: the ones a user
        gave, for a note that names the given ones a setting leaves unused."""
        init = inspect.signature(type(self).__init__).parameters
        return [n for n in names if n in init and getattr(self, n) != init[n].default]

    def _note_unused_patience(self) -> None:
        """A note when the user's ``patience`` (not the class default) goes unused: early stopping
        watches the validation loss, and this fit has none."""
        patience = getattr(self, "patience", None)
        if patience is None or not self._changed_params(["patience"]):
            return
        if "validation_fraction" in inspect.signature(type(self).__init__).parameters:
            # its own rows held out: the advice the command line can follow too
            advice = "give validation_fraction above 0 to stop early"
        elif "validation_data" in inspect.signature(self.fit).parameters:
            advice = "pass fit validation_data to stop early"
        else:
            advice = f"{type(self).__name__} trains without a validation set: leave patience out"
        note(
            f"patience={patience} is not used: early stopping watches the validation loss, and "
            f"this fit has no validation data; {advice}",
            ("patience", "validation_fraction"),
        )

    def _tensorboard_views(
        self, model: torch.nn.Module, inputs: Any, val: Any, config: TrainConfig
    ) -> dict:
        from .tensorboard import views

        return views(self, model, inputs, val, config)

    # ---- inference ----------------------------------------------------------------------------
    def _model_device(self) -> torch.device:
        return next(self.model_.parameters()).device

    def _check_one_fits(self, sample_shape: Sequence[int]) -> None:
        """One line, before the work, when one sample alone (an image past a batch's budget) is
        more than memory holds through the network: a 140 KB PNG of 12000x12000 pixels took 22 GB
        and the kernel's kill, without a word. Its activations, counted on the meta device."""
        check_model_fits(
            self._build_model, sample_shape, 1, training=False, device=self._model_device()
        )

    def _pass(self, total: int, desc: str, unit: str = "samples") -> Pass:
        """Progress of a long pass over data (silent for short ones, and with ``verbose=0``)."""
        return Pass(total, desc, unit=unit, verbose=check_verbose(getattr(self, "verbose", 0)))

    @torch.inference_mode()
    def map_batches(
        self,
        fn: Callable[[torch.Tensor], torch.Tensor],
        X: np.ndarray,
        batch_size: int = INFERENCE_BATCH,
    ) -> np.ndarray:
        """``fn`` applied to ``X`` batch by batch on the model's device, as one float32 array.

        ``fn`` maps a batch of raw samples (a tensor on the model's device) to outputs; only one
        batch of outputs is on the device at a time, and a row store on disk is read batch by
        batch. The model is in eval mode and no gradients are kept.

        Examples
        --------
        >>> logvar = vae.map_batches(lambda b: vae.model_.encode(b)[1], X)    # doctest: +SKIP
        """
        device = self._model_device()
        self.model_.eval()
        chunk = X.rows if is_row_store(X) else (lambda i, j: X[i:j])  # a row store reads from disk
        # The outputs go into one array allocated up front: no concatenated copy, and no small
        # result kept alive between freed batch buffers, which fragments the heap (+0.5 GB anonymous
        # memory for 1M rows scored in batches of 1024).
        out: np.ndarray | None = None
        with (
            using_threads(
                self._thread_choice(self.model_, min(batch_size, max(1, len(X))), passes=1)
            ),
            self._pass(len(X), type(self).__name__) as progress,
        ):
            for i in range(0, len(X), batch_size):
                # a copy, never a view of the caller's array: a network of the user's that works on
                # its input in place (x.clamp_, x.sub_(mean)) would change X (transform must not)
                y = fn(torch.tensor(chunk(i, i + batch_size), device=device)).float().cpu().numpy()
                if out is None:
                    out = np.empty((len(X), *y.shape[1:]), np.float32)
                out[i : i + len(y)] = y
                progress.update(len(y))
        return out if out is not None else np.empty((0,), np.float32)

    # ---- persistence ----------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        """Learned non-tensor state, as JSON (extend in subclasses)."""
        names = getattr(self, "feature_names_in_", None)
        state = {
            "input_shape": list(self.input_shape_),
            "history": getattr(self, "history_", []),
            "feature_names": None if names is None else [str(n) for n in names],
        }
        if self._custom_network():
            state["latent_shape"] = list(self.latent_shape_)  # one sample's code, for readers
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        self.input_shape_ = tuple(int(d) for d in state["input_shape"])
        self.n_features_in_ = int(math.prod(self.input_shape_))
        self.history_ = list(state.get("history", []))
        if state.get("feature_names") is not None:
            self.feature_names_in_ = np.asarray(state["feature_names"], dtype=object)

    def _get_tensors(self) -> dict[str, torch.Tensor]:
        return {f"model.{k}": v for k, v in self.model_.state_dict().items()}

    def _set_tensors(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """The saved tensors back (after ``_set_state``); ``state`` is config.json's state, for
        what needs both (the anomaly detector's code density)."""
        model = self._build_model()
        weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
        if self._custom_network():  # the user's networks: every tensor's name and shape, one line
            from ..models.custom import check_weights

            check_weights(model, weights, "model.safetensors")
        model.load_state_dict(weights)
        self.model_ = model.to(self._device()).eval()
        self.device_ = str(self._model_device())
        self._after_load()

    def _after_load(self) -> None:
        """Hook: derive attributes such as ``encoder_`` once ``model_`` is set."""

    def _build_model(self) -> torch.nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(
        self, path: str | Path, *, overwrite: bool = False, extra: dict[str, Any] | None = None
    ) -> Path:
        """Save to a folder: ``config.json`` (parameters, learned state) and ``model.safetensors``.

        Parameters
        ----------
        path : str or Path
            The folder (created if needed).
        overwrite : bool
            Replace a model already saved there.
        extra : dict, optional
            More JSON to record in ``config.json`` (a run's data spec and versions).

        Examples
        --------
        >>> ae.save("my-model")            # doctest: +SKIP
        >>> aekit.load("my-model")         # doctest: +SKIP
        """
        from .persistence import save_estimator

        self.check_is_fitted()
        return save_estimator(self, path, overwrite=overwrite, extra=extra)
