"""A run resumed from its checkpoint: the weights, the optimizer and early stopping restored, and
the run trained on as it was (its unit of an epoch, its data), or said where it cannot be."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._notes import note
from ..errors import RunFailure, UsageError
from .checkpoint import has_checkpoint, load_checkpoint, start_again
from .numbers import whole_number
from .rows import fingerprint

logger = logging.getLogger("aekit.training.loop")  # the loop's own log, as before the move


def resume(run: Any, stopping: Any) -> tuple[list[dict], int]:
    """(history, first epoch) of the checkpoint in the run's folder, weights, optimizer and early
    stopping restored. ``run`` and ``stopping`` are the loop's (``_Run``, ``_EarlyStopping``),
    typed loosely: the loop imports this module, and no import goes back."""
    if run.checkpoint_dir is None or not has_checkpoint(run.checkpoint_dir):
        return [], 0
    state = load_checkpoint(run.checkpoint_dir, model=run.model, optimizer=run.optimizer)
    if int(state["epoch"]) > run.config.epochs:
        raise CheckpointAhead(run.checkpoint_dir, int(state["epoch"]), run.config.epochs)
    stopping.restore(state["extra"].get("stopping"), state["extra_tensors"], run.checkpoint_dir)
    _keep_unit(run, stopping, state["extra"].get("unit"))
    _same_data(run, state["extra"].get("data"))
    for group in run.optimizer.param_groups:  # a resumed run may change these (a lower lr)
        group["lr"], group["weight_decay"] = run.config.lr, run.config.weight_decay
    logger.info("resuming from %s after epoch %d", run.checkpoint_dir, int(state["epoch"]))
    return list(state["history"]), int(state["epoch"])


def _keep_unit(run: Any, stopping: Any, unit: Any) -> None:
    """Train on in the checkpoint's unit: its epochs are ``passes`` passes over the data each
    (epochs="auto" packs several on few rows), and early stopping waits ``min_epochs`` of them.
    An explicit epochs=50 after 41 auto epochs of 4 passes trained 9 single passes, its patience
    counted those and its floor dropped to 0: the history mixed two units under one name."""
    if unit is None:  # a checkpoint written before the unit was kept: as it was
        return
    passes = whole_number(unit.get("passes")) if isinstance(unit, dict) else None
    floor = whole_number(unit.get("min_epochs")) if isinstance(unit, dict) else None
    if passes is None or passes < 1 or floor is None or floor < 0:
        raise RunFailure(
            f"{run.checkpoint_dir}: the epochs' unit is damaged ({unit!r}); "
            f"{start_again(Path(run.checkpoint_dir))}"
        )
    config = run.config
    if passes != config.passes:
        note(
            f"the checkpoint's epochs are {passes} passes over the data each, and the resumed "
            f"ones are too: the epochs and the patience count {passes}-pass epochs"
        )
    run.config = replace(config, passes=passes, min_epochs=max(config.min_epochs, floor))
    run.steps = run.pass_steps * passes
    stopping.min_epochs = run.config.min_epochs


def _same_data(run: Any, recorded: Any) -> None:
    """A note when a resume trains on other data than its checkpoint's: fine-tuning is a use, but
    the run is then no continuation of the interrupted one (probe 60 training 8: silent)."""
    if isinstance(recorded, str) and recorded != data_id(run):
        note(
            f"the checkpoint in {run.checkpoint_dir} was trained on other data than this (its "
            f"rows differ): the resumed epochs train on this data, not as the interrupted run would"
        )


def data_id(run: Any) -> str:
    """The run's training data's fingerprint, which each checkpoint records and a resume compares:
    read once a run (the data do not change within it), not at every epoch's checkpoint."""
    if run.data_id is None:
        run.data_id = fingerprint(run.inputs)
    return run.data_id


class CheckpointAhead(UsageError):
    """A resume whose checkpoint has trained more epochs (``trained``) than its settings give
    (``epochs``): nothing would train. The command line says it in its own terms (the run folder,
    and why ``auto`` came to fewer epochs)."""

    def __init__(self, where: Any, trained: int, epochs: int):
        self.trained, self.epochs = trained, epochs
        super().__init__(
            f"the checkpoint in {where} has trained {trained} epochs, more than epochs={epochs}: "
            f"nothing would train; give epochs above {trained} to train on"
        )
