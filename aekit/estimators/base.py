"""What every aekit estimator shares: parameters, the not-fitted guard, input checks,
batched inference and training through the shared loop.

scikit-learn conventions: ``__init__`` only stores its keyword arguments under their own
names; ``fit`` validates, learns and returns ``self``; learned state ends in ``_``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator

from ..data import as_array
from ..errors import DataError, NotFittedError, UsageError
from ..training.budget import AUTO, epochs_for_steps
from ..training.device import resolve_device
from ..training.distributed import is_main_process, world_size
from ..training.loop import LossFn, TrainConfig, train
from ..training.progress import Pass, TrainingProgress, check_verbose
from ..training.memory import check_model_fits
from ..training.threads import ThreadChoice, record, recorded, resolve, forward_flops, using_threads

INFERENCE_BATCH = 1024  # samples per forward pass when scoring; bounds memory for any n
CHECK_ROWS = 8192  # rows per chunk when checking data on disk


def is_row_store(X: Any) -> bool:
    """Data on disk read batch by batch (``aekit.data.NpyRows``/``RowsView``), not an array in memory."""
    return not isinstance(X, np.ndarray) and all(hasattr(X, a) for a in ("take", "rows", "sample_shape"))


def check_rows(rows: Any, check: Callable[[np.ndarray], Any]) -> Any:
    """Run ``check`` on a row store chunk by chunk (bounded memory); return the store unchanged."""
    if len(rows) == 0:
        raise DataError("X has no samples; expected at least one")
    for chunk in iter_chunks(rows):
        check(chunk)
    return rows


def iter_chunks(rows: Any, size: int = CHECK_ROWS) -> Iterator[np.ndarray]:
    """A row store as in-memory chunks of ``size`` samples, read one at a time."""
    for start in range(0, len(rows), size):
        yield rows.rows(start, min(len(rows), start + size))


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` if it is a whole number >= minimum, else a one-line UsageError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UsageError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0, closed: bool = False) -> float:
    """Return ``value`` if it lies in (low, high) (or [low, high] when ``closed``), else a UsageError."""
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and ((low <= value <= high) if closed else (low < value < high))
    if not ok:
        bounds = f"[{low}, {high}]" if closed else f"({low}, {high})"
        raise UsageError(f"{name} must be a number in {bounds}, got {value!r}")
    return float(value)


def check_widths(name: str, value: Any) -> tuple[int, ...]:
    """Layer widths: a sequence of whole numbers >= 1."""
    try:
        widths = tuple(value)
    except TypeError:
        raise UsageError(f"{name} must be a sequence of layer widths such as (256, 128), got {value!r}") from None
    for w in widths:
        check_positive_int(f"each width in {name}", w)
    return tuple(int(w) for w in widths)


class NeuralEstimator(BaseEstimator):
    """Base class of aekit's estimators (Autoencoder, Denoiser, AnomalyDetector, VAE).

    Subclasses set ``model_`` in ``fit`` and implement ``_build_model``; they may
    extend ``_get_state``/``_set_state`` with learned non-tensor state (JSON) and
    ``_get_tensors``/``_set_tensors`` with extra tensors.
    """

    # ---- fitted-state guard ---------------------------------------------------------------
    def _check_is_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first "
                                 f"or load a trained one with aekit.load(RUN)")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    # ---- inputs -----------------------------------------------------------------------------
    def _validate_fit_input(self, X: Any, name: str = "X",
                            check: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
        """Check training data and record its sample shape.

        ``check`` adds the estimator's own checks: on the array, or on each chunk of a row store
        within the same pass over the disk.
        """
        def checked(a: Any) -> np.ndarray:
            a = as_array(a, name=name)
            return a if check is None else check(a)

        X = check_rows(X, checked) if is_row_store(X) else checked(X)
        self._record_input_shape(X)
        return X

    def _record_feature_names(self, feature_names: Sequence[str] | None) -> None:
        """``feature_names_in_`` from the names given at ``fit`` (one per column), or none."""
        if feature_names is not None:
            if len(self.input_shape_) != 1 or len(feature_names) != self.input_shape_[0]:
                raise DataError(f"feature_names has {len(feature_names)} names but X has samples of shape "
                                f"{self.input_shape_}; give one name per column")
            self.feature_names_in_ = np.asarray([str(f) for f in feature_names], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _record_input_shape(self, X: Any) -> None:
        """``input_shape_`` (one sample's shape) and ``n_features_in_`` of checked training data."""
        shape = X.sample_shape if is_row_store(X) else X.shape[1:]
        self.input_shape_ = tuple(int(d) for d in shape)
        self.n_features_in_ = int(math.prod(self.input_shape_))

    def _check_fit_data(self, X: Any) -> None:
        """Check that ``fit`` can take ``X`` without training (extended by image-only models)."""
        if is_row_store(X):
            check_rows(X, lambda chunk: as_array(chunk, name="X"))
        else:
            as_array(X, name="X")

    def _validate_input(self, X: Any, name: str = "X") -> np.ndarray:
        """Check data for a fitted model: numeric, finite, and the shape it was trained on."""
        self._check_is_fitted()
        if not is_row_store(X):
            X = as_array(X, name=name)
        if tuple(X.shape[1:]) != tuple(self.input_shape_):
            what = "features" if len(self.input_shape_) == 1 else "sample shape"
            got = X.shape[1] if len(self.input_shape_) == 1 and len(X.shape) == 2 else tuple(X.shape[1:])
            want = self.input_shape_[0] if len(self.input_shape_) == 1 else tuple(self.input_shape_)
            raise DataError(f"{name}: the model was trained on {what} {want}, got {got}; "
                            f"give data shaped like the training data")
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
            floor = math.ceil(self.auto_floor_steps / max(1, math.ceil(n_samples / batch)))  # epochs for the minimum
            return epochs_for_steps(n_samples, batch, self.auto_steps, max_epochs=max(self.auto_max_epochs, floor))
        if isinstance(self.epochs, str):
            raise UsageError(f"epochs must be a whole number >= 0 or 'auto', got {self.epochs!r}")
        return check_positive_int("epochs", self.epochs, 0)

    def _train_config(self, n_samples: int | None = None) -> TrainConfig:
        if getattr(self, "threads", None) is not None:
            check_positive_int("threads", self.threads)
        return TrainConfig(epochs=self._epochs(n_samples),
                           batch_size=check_positive_int("batch_size", self.batch_size),
                           lr=self.lr, seed=self.seed,
                           schedule=getattr(self, "schedule", "constant"),
                           precision=getattr(self, "precision", "fp32"),
                           patience=getattr(self, "patience", None)).validate()

    def _device(self) -> torch.device:
        return resolve_device(getattr(self, "device", "auto"))

    def _thread_choice(self, model: torch.nn.Module, batch_size: int, passes: int) -> ThreadChoice:
        """CPU threads for work on batches of ``batch_size``: ``threads`` when set, else aekit's choice.

        ``passes``: 1 for inference, 3 for a training step (forward and backward, ~2x the forward).
        The forward's work is counted once per model, on a zero sample of the training data's shape.
        """
        threads = getattr(self, "threads", None)
        if threads is not None:
            return resolve(check_positive_int("threads", threads))
        if getattr(self, "_flops_of", (None,))[0] is not model:
            sample = torch.zeros((1, *self.input_shape_), device=next(model.parameters()).device)
            self._flops_of = (model, forward_flops(model, sample))
        flops = self._flops_of[1]
        return resolve(None, None if flops is None else flops * passes * batch_size)

    def _seeded_model(self, build: Callable[[], torch.nn.Module]) -> torch.nn.Module:
        """Build a model with weights drawn from ``self.seed``, leaving the global RNG alone."""
        # Sizes beyond the machine are refused before anything is allocated (built on the meta device).
        check_model_fits(build, getattr(self, "input_shape_", ()), self.batch_size, device=self._device())
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(check_positive_int("seed", self.seed, 0))
            return build()

    def _fit_model(self, model: torch.nn.Module, loss_fn: LossFn, X: np.ndarray, target: np.ndarray | None = None, *,
                   validation: tuple[np.ndarray, np.ndarray] | None = None, val_loss_fn: LossFn | None = None,
                   checkpoint_dir: str | Path | None = None, resume: bool = False,
                   callbacks: Sequence[object] = ()) -> torch.nn.Module:
        """Move data and model to the device, run the shared loop, keep the history.

        Arrays go to the device once; row stores on disk stay there and are read batch by batch.
        """
        config = self._train_config(len(X))
        device = self._device()
        model = model.to(device)
        inputs = X if is_row_store(X) else torch.as_tensor(X, device=device)
        targets = target if target is None or is_row_store(target) else torch.as_tensor(target, device=device)
        val = None
        if validation is not None:
            val = tuple(torch.as_tensor(v, device=device) for v in validation)
        verbose = check_verbose(getattr(self, "verbose", 0))
        if verbose:  # Keras' and scikit-learn's meaning: 1 a bar (a line per epoch off a terminal), 2 lines
            callbacks = [*callbacks, TrainingProgress(verbose)]
        # A resumed run keeps the threads it started with (same sums, same weights); under torchrun
        # each process steps on its share of the global batch.
        choice = recorded(checkpoint_dir) if resume and getattr(self, "threads", None) is None else None
        choice = choice or self._thread_choice(model, max(1, config.batch_size // world_size()), passes=3)
        if is_main_process():
            record(choice, checkpoint_dir)
        with using_threads(choice) as choice:
            self.history_ = train(model, loss_fn, inputs, targets, config=config, validation=val,
                                  val_loss_fn=val_loss_fn, checkpoint_dir=checkpoint_dir, resume=resume,
                                  callbacks=callbacks)
        self.device_ = str(device)
        self.threads_ = choice.to_json()  # recorded in a run's config.json
        return model.eval()

    # ---- inference ----------------------------------------------------------------------------
    def _model_device(self) -> torch.device:
        return next(self.model_.parameters()).device

    def _pass(self, total: int, desc: str, unit: str = "samples") -> Pass:
        """Progress of a long pass over data (silent for short ones, and with ``verbose=0``)."""
        return Pass(total, desc, unit=unit, verbose=check_verbose(getattr(self, "verbose", 0)))

    @torch.inference_mode()
    def _map_batches(self, fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray,
                     batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """Apply ``fn`` to ``X`` in batches; only one batch of outputs is on the device at a time."""
        device = self._model_device()
        self.model_.eval()
        chunk = X.rows if is_row_store(X) else (lambda i, j: X[i:j])  # a row store reads from disk
        # The outputs go into one array allocated up front: no concatenated copy, and no small
        # result kept alive between freed batch buffers, which fragments the heap (+0.5 GB anonymous
        # memory for 1M rows scored in batches of 1024).
        out: np.ndarray | None = None
        with using_threads(self._thread_choice(self.model_, min(batch_size, max(1, len(X))), passes=1)), \
                self._pass(len(X), type(self).__name__) as progress:
            for i in range(0, len(X), batch_size):
                y = fn(torch.as_tensor(chunk(i, i + batch_size), device=device)).float().cpu().numpy()
                if out is None:
                    out = np.empty((len(X), *y.shape[1:]), np.float32)
                out[i:i + len(y)] = y
                progress.update(len(y))
        return out if out is not None else np.empty((0,), np.float32)

    # ---- persistence ----------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        """Learned non-tensor state, as JSON (extend in subclasses)."""
        return {"input_shape": list(self.input_shape_), "history": getattr(self, "history_", [])}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.input_shape_ = tuple(int(d) for d in state["input_shape"])
        self.n_features_in_ = int(math.prod(self.input_shape_))
        self.history_ = list(state.get("history", []))

    def _get_tensors(self) -> dict[str, torch.Tensor]:
        return {f"model.{k}": v for k, v in self.model_.state_dict().items()}

    def _set_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        model = self._build_model()
        model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
        self.model_ = model.to(self._device()).eval()
        self.device_ = str(self._model_device())
        self._after_load()

    def _after_load(self) -> None:
        """Hook: derive attributes such as ``encoder_`` once ``model_`` is set."""

    def _build_model(self) -> torch.nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, path: str | Path, *, overwrite: bool = False, extra: dict[str, Any] | None = None) -> Path:
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

        self._check_is_fitted()
        return save_estimator(self, path, overwrite=overwrite, extra=extra)
