"""Run-level concerns in one object: checkpoints, resuming, callbacks, TensorBoard, MLflow and progress.

An estimator's parameters say what to learn; a :class:`Trainer` says how one run of that learning
is kept and watched: where its checkpoints go, whether it continues from them, who is told about
each epoch. Lightning's ``Trainer`` and pythae's ``BaseTrainer`` keep these apart from the model
for the same reason: they belong to the run, not to the model, so they are never saved with it
and never appear among its parameters.

The recipe of ``aekit train`` makes one (``aekit.recipes.run.train_run``); in Python ``fit`` takes
one as ``trainer=`` or its fields as keywords, which become one (:meth:`Trainer.from_options`):

>>> import aekit
>>> ae = aekit.Autoencoder(epochs=2)                                          # doctest: +SKIP
>>> ae.fit(X, trainer=aekit.Trainer(checkpoint_dir="ck", resume=True))        # doctest: +SKIP
>>> ae.fit(X, checkpoint_dir="ck", resume=True)                               # the same  # doctest: +SKIP
>>> ae.fit(X, mlflow=True)           # parameters and per-epoch losses to MLflow  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .._notes import note
from ..errors import ArgumentTypeError, UsageError
from . import distributed
from .checkpoint import check_checkpoint_folder
from .loop import LossFn, TrainConfig, autocast_for, first_batch, memory_format_for, train
from .mlflow import mlflow_log
from .probe import model_key, probe_threads, throwaway_step
from .progress import TrainingProgress
from .threads import ThreadChoice, record, recorded, resolve, using_threads

#: fit's keywords that describe the run rather than the model: a Trainer's fields, or one Trainer.
RUN_OPTIONS = ("trainer", "checkpoint_dir", "resume", "callbacks", "tensorboard", "mlflow")


@dataclasses.dataclass
class Trainer:
    """How one training run is kept and watched (see the module docstring).

    Parameters
    ----------
    checkpoint_dir : str or Path, optional
        A checkpoint (weights, optimizer, history) after every epoch, and the CPU threads the run
        chose, go here: a new or empty folder, or one an earlier aekit checkpoint went to (its
        checkpoint is continued with ``resume``, else replaced). aekit writes ``latest.json``,
        ``threads.json`` and ``epoch-NNNN.safetensors`` there and removes only the weights files
        it wrote; a folder where these names hold files aekit did not write, or a folder inside
        an aekit folder (a run, a saved model), is refused in one line. Other files are left alone.
    resume : bool, default False
        Continue from the last checkpoint in ``checkpoint_dir`` (exactly: same batches, same draws,
        same threads), or start when there is none.
    callbacks : sequence of objects, default ()
        Each may define ``on_train_begin(epochs, steps)``, ``on_epoch_start(epoch, steps)``,
        ``on_batch_end(epoch, step)`` and ``on_epoch_end(record)``.
    tensorboard : None, bool, str, Path or TensorBoardLog
        TensorBoard event files: True writes ``runs/tensorboard/CLASS-TIME``, a folder writes there,
        a :class:`aekit.training.tensorboard.TensorBoardLog` gives every setting.
    mlflow : None, bool, str or MLflowLog
        MLflow tracking (the estimator's parameters, the losses of each epoch): True into
        ``MLFLOW_TRACKING_URI`` (or MLflow's default), a string is the tracking URI, a
        :class:`aekit.training.mlflow.MLflowLog` gives every setting. Needs ``aekit[mlflow]``.

    Examples
    --------
    >>> trainer = Trainer(checkpoint_dir="ckpt", resume=True)
    >>> aekit.Autoencoder(epochs=20).fit(X, trainer=trainer)  # doctest: +SKIP
    Autoencoder(epochs=20)
    """

    checkpoint_dir: str | os.PathLike | None = None
    resume: bool = False
    callbacks: Sequence[object] = ()
    tensorboard: Any = None
    mlflow: Any = None

    @classmethod
    def from_options(cls, options: dict[str, Any], owner: Any = None) -> Trainer:
        """The Trainer that ``fit``'s run keywords describe: ``trainer=`` itself, or its fields by
        name. ``owner``: the estimator whose ``fit`` was called, to say where its own parameters go
        (Keras's ``fit(x, x, epochs=50, batch_size=256)``)."""
        unknown = [k for k in options if k not in RUN_OPTIONS]
        if unknown:
            own = owner is not None and unknown[0] in owner.get_params(deep=False)
            where = (
                f"; it is the estimator's parameter: {type(owner).__name__}({unknown[0]}=...) "
                f"or .set_params({unknown[0]}=...)"
                if own
                else ""
            )
            raise ArgumentTypeError(
                f"fit() got an unexpected keyword argument {unknown[0]!r}{where}; run options are "
                f"{', '.join(RUN_OPTIONS)}"
            )
        trainer = options.get("trainer")
        fields = {k: v for k, v in options.items() if k != "trainer"}
        if trainer is None:
            return cls(**fields).checked()
        if not isinstance(trainer, Trainer):
            raise ArgumentTypeError(f"trainer must be an aekit.Trainer, got {trainer!r}")
        if fields:
            raise UsageError(
                f"pass {', '.join(fields)} inside the Trainer, not beside trainer=: "
                f"aekit.Trainer({next(iter(fields))}=...)"
            )
        return trainer.checked()

    def say_unused(self, why: str) -> None:
        """One note naming the run's options that were given (``checkpoint_dir``, ``callbacks``...)
        to a fit that trains no network (``why``): a checkpoint folder never made and callbacks
        never called, without a word, looked like a training that did not happen."""
        # each field's default is empty (None, False, no callbacks): a given one is not
        given = [f.name for f in dataclasses.fields(self) if getattr(self, f.name)]
        if given:
            they = "they are" if len(given) > 1 else "it is"
            note(f"fit({', '.join(f'{g}=...' for g in given)}): {why}, so {they} not used")

    def checked(self) -> Trainer:
        """This Trainer, its fields checked (one line for a wrong type)."""
        if not isinstance(self.resume, bool):
            raise ArgumentTypeError(f"resume must be True or False, got {self.resume!r}")
        if self.checkpoint_dir is not None and not isinstance(
            self.checkpoint_dir, (str, os.PathLike)
        ):
            raise ArgumentTypeError(
                f"checkpoint_dir must be a folder path, got {self.checkpoint_dir!r}"
            )
        if self.checkpoint_dir is not None:  # never the user's files replaced, nor aekit's folders
            check_checkpoint_folder(self.checkpoint_dir)
        try:
            self.callbacks = list(self.callbacks or ())
        except TypeError:
            raise ArgumentTypeError(
                f"callbacks must be a list of callback objects, got {self.callbacks!r}"
            ) from None
        mlflow_log(self.mlflow)  # a wrong value, or no MLflow client, is one line before training
        return self

    # ---- what the estimator's training asks of its run ------------------------------------------
    def tensorboard_log(self, owner: str):
        """The TensorBoard log this run writes (None without one); a missing package fails here, first."""
        from .tensorboard import TensorBoardLog

        tb = self.tensorboard
        if tb is None or tb is False:
            return None
        if isinstance(tb, TensorBoardLog):
            return tb
        if tb is True:
            return TensorBoardLog(
                Path("runs") / "tensorboard" / f"{owner}-{time.strftime('%Y%m%d-%H%M%S')}"
            )
        if not isinstance(tb, (str, os.PathLike)):
            raise ArgumentTypeError(
                f"tensorboard must be True, a folder or a TensorBoardLog, got {tb!r}"
            )
        return TensorBoardLog(tb)

    def fit(
        self,
        model: Any,
        loss_fn: LossFn,
        inputs: Any,
        targets: Any = None,
        *,
        config: TrainConfig,
        validation: tuple[Any, Any] | None = None,
        val_loss_fn: LossFn | None = None,
        threads: int | None = None,
        verbose: int = 0,
        views: Callable[[], dict[str, Any]] | None = None,
        owner: str = "model",
        params: dict[str, Any] | None = None,
    ) -> tuple[list[dict], ThreadChoice]:
        """Train ``model`` through the one loop (:func:`aekit.training.loop.train`) as this run asks.

        ``threads``: the estimator's CPU threads, or None for aekit's choice (:meth:`choose_threads`);
        ``verbose`` adds the progress display; ``views()`` gives the TensorBoard log its images and
        embedding; ``owner`` names the default TensorBoard folder; ``params`` (the estimator's) go to
        MLflow. Returns the history and the threads that applied.
        """
        # a missing tensorboard or mlflow package fails here, before training
        log = self.tensorboard_log(owner)
        tracking = mlflow_log(self.mlflow)
        callbacks = list(self.callbacks)
        # Keras' and scikit-learn's meaning: 1 a bar (a line per epoch off a terminal), 2 lines
        if verbose:
            callbacks.append(TrainingProgress(verbose))
        if log is not None:
            callbacks.append(log.bind(**views()) if views is not None else log)
        if tracking is not None:
            tracking.log_params(params or {})
            callbacks.append(tracking)
        try:
            history, applied = self._train(
                model,
                loss_fn,
                inputs,
                targets,
                config,
                callbacks,
                threads=threads,
                validation=validation,
                val_loss_fn=val_loss_fn,
            )
        except BaseException:
            if log is not None:
                log.abandon()
            if tracking is not None:
                tracking.fit_ended(failed=True)
            raise
        if log is not None:
            log.close(len(history))
        if tracking is not None:
            tracking.fit_ended(failed=False)
        return history, applied

    def _train(
        self,
        model,
        loss_fn,
        inputs,
        targets,
        config,
        callbacks,
        *,
        threads,
        validation,
        val_loss_fn,
    ):
        """The loop under the run's CPU threads; (history, the threads that applied)."""
        choice = self.choose_threads(threads, model, loss_fn, inputs, targets, config)
        if distributed.is_main_process():
            record(choice, self.checkpoint_dir)
        with using_threads(choice) as applied:
            history = train(
                model,
                loss_fn,
                inputs,
                targets,
                config=config,
                validation=validation,
                val_loss_fn=val_loss_fn,
                checkpoint_dir=self.checkpoint_dir,
                resume=self.resume,
                callbacks=callbacks,
            )
        return history, applied

    def choose_threads(
        self, threads: int | None, model: Any, loss_fn: LossFn, inputs: Any, targets: Any, config
    ) -> ThreadChoice:
        """The CPU threads of this run: ``threads`` when the estimator pins them; a resumed run's own
        (the thread count splits the sums, so a resumed run keeps it to end with the bits of an
        uninterrupted one); under torchrun this process's share of the free cores; else timed
        (:mod:`aekit.training.probe`)."""
        if threads is not None:
            return resolve(threads)
        saved = recorded(self.checkpoint_dir) if self.resume else None
        if saved is not None:
            return saved
        if distributed.world_size() > 1:
            return resolve(None)
        device = next(model.parameters()).device
        xb, tb = first_batch(inputs, targets, config, device)
        model.to(memory_format=memory_format_for(inputs, config))  # as the loop lays it out
        step = throwaway_step(model, loss_fn, xb, tb, autocast_for(device, config), config)
        return probe_threads(step, model_key(model, xb))
