"""A run, end to end: :func:`train_run` trains any recipe into a run folder; :func:`load_run` reads one back.

    check --out  ->  load data  ->  check memory  ->  open the run folder (lock; refuse to clobber;
    a staging folder beside it)  ->  config.json  ->  fit (checkpoint every epoch; --resume continues)
    ->  weights + config  ->  history.csv  ->  metrics.json  ->  figures/  ->  commit (swap it in)

Every file is written into the staging folder; only the commit makes the run visible at ``out``
(see :mod:`aekit.recipes.folder`), so a failure at any step leaves the previous run as it was.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .. import _io
from .._notes import note
from .._outputs import check_output
from .._transaction import named_at
from ..data import Data
from ..data.tables import say_output_columns
from ..errors import (
    Diverged,
    Interrupted,
    QualityWarning,
    RunFailure,
    UsageError,
    WriteFailure,
    naming,
)
from ..estimators.persistence import (
    CONFIG,
    estimator_class,
    jsonable,
    read_config,
    write_estimator,
)
from ..families import family_of
from ..training import distributed
from ..training.checkpoint import checkpoint_epoch
from ..training.device import resolve_device
from ..training.identity import read_json
from ..training.memory import check_images_fit
from ..training.mlflow import MLflowLog
from ..training.resume import CheckpointAhead
from ..training.trainer import Trainer
from . import tracking
from .base import RECIPES, Recipe, class_names, get_recipe, in_memory
from .folder import RunFolder, versions
from .spec import DataSpec

logger = logging.getLogger(__name__)

# Settings a resumed run may change: how to train on, never what the model or its data is.
RESUMABLE = ("epochs", "lr", "batch_size", "schedule", "patience", "precision", "device", "verbose")
# How a resumed run reads its recorded data: given again, they apply.
RESUMED_READING = ("data_dir", "stream", "memory_cap")
# What a resumed run's data is: given again, each must equal the recorded one (else it is refused).
RECORDED_DATA = (
    "dataset",
    "patch",
    "patches",
    "npz_key",
    "label_column",
    "normal_label",
    "id_column",
    "image_size",
    "validation_split",
    "time_column",
    "fill",
    "train_steps",
    "columns",
    "drop_columns",
    "categorical",
)
# A recorded None that is the documented default (a table's --fill median): given, it is no change.
RECORDED_DEFAULTS = {"fill": "median"}


def train_run(
    family: str,
    params: dict[str, Any],
    spec: DataSpec,
    out: str | Path,
    *,
    overwrite: bool = False,
    resume: bool = False,
    callbacks: Sequence[object] = (),
    figures: bool = True,
    tensorboard: bool = False,
    mlflow: MLflowLog | None = None,
):
    """Train ``family`` into the run folder ``out``; return ``(estimator, metrics)``.

    With ``resume``, the interrupted run beside ``out`` or else the finished run in ``out`` is
    continued from its last checkpoint with its recorded family, parameters and data; the
    settings in :data:`RESUMABLE` given in ``params`` replace the recorded ones (so a finished
    run can be trained for longer, or a diverged one continued with a lower ``lr``).
    ``callbacks`` watch the training; ``tensorboard``: also write TensorBoard logs into
    ``out/tensorboard`` (aekit.training.tensorboard); ``mlflow``: track the run in MLflow
    (:mod:`aekit.recipes.tracking`). All go into the run's one
    :class:`aekit.training.trainer.Trainer` with its checkpoint folder.
    """
    out = _check_out(out, spec)
    RunFolder.check_target(out, overwrite=overwrite, resume=resume)  # before the data are read
    spec.name_columns()  # recorded by name: every later file is read by name
    family, recipe, est, spec = _estimator(family, params, spec, out, resume)
    with tracking.tracked(mlflow, family, spec) as log:
        est, metrics = _train(
            recipe, est, spec, out, family, overwrite, resume, callbacks, figures, tensorboard, log
        )
        if distributed.is_main_process():
            tracking.finish(log, out, est, metrics)
    return est, metrics


def _train(
    recipe, est, spec, out, family, overwrite, resume, callbacks, figures, tensorboard, log
) -> dict[str, Any]:
    """Load the data, fit and write the run folder; the estimator and the metrics ({} in a process
    other than rank 0), the finished run's own when a --resume of it trained nothing."""
    train, val = _load(recipe, est, spec)
    if not distributed.is_main_process():
        # Another process of a distributed run: rank 0 alone checks and writes the run folder; once it
        # has prepared the checkpoint to resume from, train beside it (if rank 0 fails, torchrun stops us).
        distributed.wait_for_main()
        with _said_by_the_run():
            recipe.fit(est, train, val, Trainer(RunFolder(out).checkpoint_dir, resume=resume))
        distributed.finish()  # wait for rank 0 to write the run
        return est, {}

    if recipe.number_columns_are_features and not resume:  # what a new model is about to learn
        say_output_columns(train.source, train.feature_names)
    with RunFolder.open(out, overwrite=overwrite, resume=resume) as run:
        config = {
            "family": family,
            "estimator": recipe.estimator,
            "params": est.get_params(deep=False),
            "data": spec.to_json(),
            "seed": int(est.seed),
            "versions": versions(),
        }
        resumes = _resumes(run, config["params"]) if resume else []
        if resumes:
            config["resumed"] = resumes
        calibrated = _calibrations(run) if resume else []
        if calibrated:  # the run's history: what each calibration changed, and on what data
            config["calibrated"] = calibrated
        # an interrupted training's settings, put back if this resume is refused before an epoch
        kept = (run.work / CONFIG).read_bytes() if run.worth_keeping() else None
        _io.write_json(run.work / CONFIG, jsonable({**config, "status": "training"}))
        distributed.barrier()  # the others may now read the checkpoint
        tb = _tensorboard_log(run.work / "tensorboard", val) if tensorboard else None
        trainer = Trainer(
            run.checkpoint_dir, resume=resume, callbacks=callbacks, tensorboard=tb, mlflow=log
        )
        _fit(recipe, est, train, val, trainer, run, kept)
        if run.continues_finished and not run.made_progress():
            est, metrics = _unchanged(run, est)
        else:
            metrics = _finish(run, recipe, est, val, config, figures)
    distributed.finish()  # under torchrun: the others have waited for this run to be written
    return est, metrics


def _unchanged(run: RunFolder, est: Any) -> tuple[Any, dict[str, Any]]:
    """A --resume of a finished run that trained no epoch leaves the run as it was, and returns
    its estimator and metrics: fit recalibrated the threshold with copies trained at the resumed
    settings (--lr 0.01 moved it from 330 to 68 with the weights unchanged) and the run recorded
    settings that no epoch trained with."""
    done = run.epochs_kept()
    if not _is_int(est.epochs):  # a whole number's note was said before the data were read
        note(
            f"{run.path} has trained the {done} epochs that epochs=auto gives it (or stopped "
            f"early); nothing more trains, and the run stays as it is: pass --epochs above "
            f"{done} to train on"
        )
    run.discard()
    kept, _, _ = load_run(run.path)
    metrics = read_json(run.path / "metrics.json")  # None: written before metrics.json, or damaged
    return kept, metrics if isinstance(metrics, dict) else {}


def _calibrations(run: RunFolder) -> list[dict[str, Any]]:
    """config.json's ``calibrated`` records of the run ``--resume`` continues (they were dropped
    without a word); a run calibrated on rows the user gave is told that the new weights are
    calibrated on the training's held-out rows (scores of the old weights do not hold for them)."""
    import json

    try:
        saved = json.loads((run.work / CONFIG).read_text())
    except (OSError, ValueError, RecursionError):
        return []
    records = [r for r in saved.get("calibrated", []) if isinstance(r, dict)]
    given = [r["data"] for r in records if r.get("data")]  # a later --threshold keeps those rows
    state = saved.get("state") if isinstance(saved.get("state"), dict) else {}
    calibration = state.get("calibration") if isinstance(state.get("calibration"), dict) else {}
    if given and calibration.get("method") == "given":  # once: a resumed run's are held-out rows
        note(
            f"this run was calibrated on {given[-1]} ('aekit calibrate --data'); the "
            f"resumed training's weights are calibrated on its held-out rows: run 'aekit "
            f"calibrate {run.path} --data ...' again to use the rows you gave"
        )
    return records


def _resumes(run: RunFolder, params: dict[str, Any]) -> list[dict[str, Any]]:
    """config.json's record of the run's resumes that changed a training setting, this one added:
    the epochs trained before it and each changed setting's [before, after] (the recorded params are
    the last settings, so the record says which epochs trained with which)."""
    import json

    try:
        saved = json.loads((run.work / CONFIG).read_text())
    except (OSError, ValueError, RecursionError):
        return []
    resumes = [r for r in saved.get("resumed", []) if isinstance(r, dict)]
    before = saved.get("params") if isinstance(saved.get("params"), dict) else {}
    changed = {
        k: [before.get(k), params[k]]
        for k in RESUMABLE
        if k != "verbose" and k in params and _norm(before.get(k)) != _norm(params[k])
    }
    done = checkpoint_epoch(run.checkpoint_dir)
    if done and changed:
        resumes.append({"after_epoch": done, "changed": changed})
    return resumes


def _estimator(family: str, params: dict[str, Any], spec: DataSpec, out: Path, resume: bool):
    """(family, recipe, estimator, data spec) of the run: the recorded ones when resuming; the
    estimator's parameters checked before any data is read or any file written."""
    source = None
    if resume:
        family, params, spec, source = _resumed(out, family, params, spec)
    # the run's recorded estimator when resuming, else the data's row (a folder: the image row)
    recorded = _peek(source).get("estimator") if source is not None else None
    recipe = get_recipe(family, estimator=recorded, data=spec.data)
    try:
        est = recipe.build(params)
        est.check_params()
    except UsageError as exc:
        if source is None:
            raise
        raise RunFailure(
            f"{source / CONFIG}: the recorded settings cannot be used ({exc}); the file is damaged: "
            f"start again with --overwrite"
        ) from None
    if source is not None:
        _check_epochs_left(out, params, source)
    if est.epochs == 0:  # the run would be saved as done, untrained
        raise UsageError(
            "--epochs 0 trains nothing, and the run would be saved untrained; give --epochs 1 or "
            "more, or auto"
        )
    return family, recipe, est, spec


def _load(recipe: Recipe, est: Any, spec: DataSpec) -> tuple[Data, Data]:
    """The run's (train, held-out) data, checked against the estimator before an old run is replaced."""
    if spec.data is not None:
        check_images_fit(spec.data, spec.image_size)
        if spec.stream is None and spec.streams():
            # recorded: the held-out figures come from its first rows (in_memory below), and a
            # later evaluate under another memory cap or machine must read the data as this did
            spec.stream = True
    # under torchrun: one downloads
    with distributed.main_process_first(resolve_device(est.device)):
        train, val = recipe.load_data(spec, int(est.seed))
    # streamed data: validation, metrics and figures on a sample of the held-out
    val = in_memory(val)
    recipe.check_fit_data(est, train)
    return train, val


def _tensorboard_log(folder: Path, val: Data):
    """The run's TensorBoard log: the held-out samples' class names as the projector's labels."""
    from ..training.tensorboard import TensorBoardLog

    names = class_names(val)  # Fashion-MNIST's "Sneaker", not 7
    labels = None if val.y is None else [names[int(c)] if names else c for c in val.y]
    return TensorBoardLog(folder, labels=labels)


@contextlib.contextmanager
def _said_by_the_run() -> Iterator[None]:
    """The estimators' own warnings of a useless model (:class:`QualityWarning`) unsaid: the run
    says them, and more, with the options typed (``metrics.json``'s ``"warnings"``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QualityWarning)
        yield


def _fit(recipe, est, train: Data, val: Data, trainer: Trainer, run: RunFolder, kept: bytes | None):
    """Train; a failure before any epoch finished leaves nothing behind (a diverged run keeps its
    last good checkpoint, to resume with a lower learning rate), or, refusing to continue an
    interrupted training, leaves it as it was (``kept``: its config.json): its epochs were lost
    to a refused --batch-size, and the retry resumed at the refused settings."""
    try:
        with _said_by_the_run():
            recipe.fit(est, train, val, trainer)
    except Interrupted:  # stopped before an epoch of its own: nothing to resume, nothing to keep
        if not run.worth_keeping():
            run.discard()
        raise
    except (UsageError, RunFailure) as exc:  # data the model cannot take, a damaged checkpoint
        if not isinstance(exc, Diverged) and not run.worth_keeping():
            run.discard()  # nothing worth keeping: no epoch of its own, nor an interrupted run's
        elif kept is not None and not run.made_progress():
            _io.write_bytes(run.work / CONFIG, kept)
        if isinstance(exc, CheckpointAhead):
            raise _ahead(exc, run.path, est) from None
        raise
    except Exception as exc:  # a full disk, ulimit -f: a kept epoch resumes once fixed
        if not run.epochs_kept():
            run.discard()  # and the error names the run asked for, not the folder just removed
            if isinstance(exc, WriteFailure):
                raise named_at(exc, run.work, run.path) from None
        raise


def _ahead(exc: CheckpointAhead, out: Path, est: Any) -> UsageError:
    """The refusal of a resume whose checkpoint is past its epochs, said for the command line: the
    run folder (not its staging checkpoint, gone when this is read), and, under epochs=auto,
    that auto was worked out again for the resumed settings (a --batch-size 64 gave 39 of 41)."""
    if _is_int(est.epochs):
        why = f"--epochs {exc.epochs}"
    else:
        why = (
            f"the {exc.epochs} epochs that --epochs auto gives with the resumed settings (it is "
            f"worked out again for --batch-size {est.batch_size})"
        )
    return UsageError(
        f"--resume: {out} has trained {exc.trained} epochs, more than {why}: nothing would "
        f"train, and the run stays as it is; pass --epochs above {exc.trained} to train on, or "
        f"resume with the run's own settings"
    )


def _finish(run: RunFolder, recipe: Recipe, est: Any, val: Data, config: dict, figures: bool):
    """History, weights, config, metrics and figures into the run, then the commit; the metrics."""
    run.write_history(est.history_)
    config["threads"] = getattr(est, "threads_", None)  # the CPU threads it trained with, and why
    # where it trained: "auto" in params says nothing of it, and N processes give other weights
    config["trained_on"] = {
        "device": getattr(est, "device_", None),
        "processes": distributed.world_size(),
    }
    metrics = recipe.evaluate(est, val)
    metrics["warnings"] = recipe.quality_warnings(est, metrics, val)  # a useless result says so
    metrics.update(
        epochs=len(est.history_),
        **_best_epoch(est),
        train_seconds=round(sum(r["seconds"] for r in est.history_), 3),
    )
    write_estimator(est, run.work, extra={**config, "status": "done"})
    metrics, left = _io.finite_figures(metrics)  # as aekit evaluate writes them, not lost here
    if left:
        note(f"written as null, not finite numbers: {', '.join(left)}")
    run.write_json("metrics.json", metrics)
    if figures:
        recipe.figures(est, val, run.figures_dir)
    run.commit()  # the one step that makes the new run the run at ``out``
    return metrics


def _best_epoch(est: Any) -> dict[str, int]:
    """metrics.json's ``best_epoch`` for a family with early stopping: the epoch whose weights the
    run keeps, which ``epochs`` (the epochs run) is not (41 run, epoch 39's weights kept). The
    first epoch of the lowest validation loss when early stopping watched one, as the loop keeps
    it; else the last epoch (no patience, or no validation: a series detector)."""
    if "patience" not in est.get_params(deep=False) or not est.history_:
        return {}
    history = est.history_
    if est.patience is None or history[-1].get("val_loss") is None:
        return {"best_epoch": len(history)}
    judged = [
        (float(r["val_loss"]), i) for i, r in enumerate(history) if r.get("val_loss") is not None
    ]
    return {"best_epoch": min(judged)[1] + 1}


def _check_out(out: str | Path, spec: DataSpec) -> Path:
    """``--out`` may be a run folder (new or old) but not the data, nor a folder inside another run."""
    from ..data import data_root

    if out is None or not str(out).strip():
        raise UsageError("--out is empty; give the run folder to write, e.g. --out runs/basic")
    target = check_output(
        out, overwrite=True, inputs=[spec.data], option="--out", run=out, kind="run"
    )
    try:
        root = data_root(spec.data_dir).resolve()
    except UsageError:  # no home for the datasets (a container's uid): none to take along
        return Path(out)
    if target == root or target in root.parents:  # replacing it would take the datasets along
        raise UsageError(f"--out {out} holds the datasets folder {root}; pass another --out")
    return Path(out)


def _resumed(out: Path, family: str, params: dict[str, Any], spec: DataSpec):
    """The family, parameters and data of the run that ``--resume`` continues (with the changes allowed),
    and the folder it is read from (None: there is no run yet, so --resume starts one)."""
    source = RunFolder(out).resume_source()
    if source is None:
        if out.is_dir() and any(out.iterdir()):
            raise UsageError(
                f"--resume: {out} holds no aekit run to continue; pass the --out of a run, "
                f"or drop --resume to start one"
            )
        # a preempted job's first start passes --resume too: started, and said (a typo in --out)
        note(f"--resume: {out} holds no run and no interrupted training yet: starting it")
        return family, params, spec, None
    saved = _peek(source)
    _check_same_run(out, family, params, spec, saved)
    given, given_spec = dict(params), spec
    family, params, spec = saved["family"], dict(saved["params"]), DataSpec.from_json(saved["data"])
    # parameters added since the run was recorded: what they were then, not today's defaults
    older = getattr(estimator_class(get_recipe(family).estimator), "older_runs", {})
    params = {**{k: v for k, v in older.items() if k not in params}, **params}
    _check_same_data(out, given_spec, spec)
    if spec.changed():  # the same path, other rows: the resumed epochs would train on those
        raise UsageError(
            f"--resume: the run's data {spec.data} has changed since {out} was trained (its "
            f"checksum differs); restore the data, or start a new run with --overwrite"
        )
    for key in RESUMED_READING:  # how to read the recorded data: given again, they apply
        if getattr(given_spec, key) is not None:
            setattr(spec, key, getattr(given_spec, key))
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    for key in RESUMABLE:
        if given.get(key) is not None:
            params[key] = given[key]
    _check_same_params(out, given, params, saved)
    return family, params, spec, source


def _check_same_params(
    out: Path, given: dict[str, Any], params: dict[str, Any], saved: dict[str, Any]
) -> None:
    """Refuse a setting given with --resume that differs from the run's; the threads aekit chose
    (recorded None) are the ones config.json records it chose."""
    recorded = dict(params)
    if recorded.get("threads") is None:
        recorded["threads"] = (saved.get("threads") or {}).get("intra_op")
    fixed = {k: v for k, v in given.items() if k not in RESUMABLE and k != "preset"}
    changed = [k for k, v in fixed.items() if k in recorded and _norm(v) != _norm(recorded[k])]
    if changed:
        k = changed[0]
        raise naming(  # the command line names the option: --seed, not seed
            UsageError(
                f"--resume continues {out} with its recorded settings; {k} cannot change "
                f"(recorded {recorded[k]!r}, given {given[k]!r}); drop it, or start a new run "
                f"with --overwrite"
            ),
            k,
        )


def _check_epochs_left(out: Path, params: dict[str, Any], source: Path) -> None:
    """Refuse a --resume whose --epochs is below the epochs trained (the run's recorded epochs
    would contradict its weights); one equal to those of a finished run says that nothing trains."""
    done = checkpoint_epoch(source / "checkpoint")
    epochs = params.get("epochs")
    if not _is_int(epochs) or epochs > done:
        return
    if epochs < done:
        raise UsageError(
            f"--resume: {out} has trained {done} epochs; --epochs {epochs} would train none (the "
            f"run stays as it is); pass --epochs above {done} to train on"
        )
    if source.resolve() == out.resolve():  # finished: an interrupted one may yet write its files
        note(
            f"{out} has trained its {done} epochs; nothing more trains, and the run stays as it "
            f"is: pass --epochs above {done}"
        )


def _check_same_run(
    out: Path, family: str, params: dict[str, Any], spec: DataSpec, saved: dict[str, Any]
) -> None:
    """The family, --data and --preset given with --resume are the run's (or not given)."""
    if family != saved["family"]:
        raise UsageError(
            f"--resume: {out} is a {saved['family']} run; continue it with "
            f"'aekit train {saved['family']} --out {out} --resume'"
        )
    recorded = saved["data"].get("data")
    if spec.data is not None and (
        recorded is None or Path(spec.data).resolve() != Path(recorded).resolve()
    ):
        raise UsageError(
            f"--resume continues {out} on its recorded data ({recorded or saved['data'].get('dataset')}), "
            f"not {spec.data}; drop --data, or start a new run with --overwrite"
        )
    if params.get("preset") is not None:
        raise UsageError(
            f"--resume continues {out} with its recorded settings; --preset does not apply to it: "
            f"drop it, or start a new run with --overwrite"
        )


def _check_same_data(out: Path, given: DataSpec, recorded: DataSpec) -> None:
    """Refuse a data option given with --resume that differs from the run's (it would not apply)."""
    default = DataSpec()
    for key in RECORDED_DATA:
        value, was = getattr(given, key), getattr(recorded, key)
        if value is None or value == getattr(default, key) and key == "validation_split":
            continue
        if was is None and value == RECORDED_DEFAULTS.get(key):  # the default, given by name
            continue
        if _norm(value) != _norm(was) and str(value) != str(was):
            option = "--" + key.replace("_", "-")
            raise UsageError(
                f"--resume continues {out} on its recorded data; {option} cannot change (recorded "
                f"{_typed(was)!r}, given {_typed(value)!r}): drop it, or start a new run with "
                f"--overwrite"
            )


def _typed(value: Any) -> Any:
    """A list of columns as typed (``a,b``), another value as it is."""
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def _norm(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _peek(path: Path) -> dict[str, Any]:
    import json

    try:
        saved = json.loads((path / CONFIG).read_text())
        if (
            not isinstance(saved, dict)
            or not isinstance(saved.get("params"), dict)
            or not isinstance(saved.get("data"), dict)
            or saved.get("family") not in RECIPES
        ):
            raise ValueError("no family, params or data recorded")
        _check_recorded(saved, path / CONFIG)
    except RunFailure as exc:
        raise RunFailure(f"{exc}; cannot resume this run") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise RunFailure(
            f"{path / CONFIG}: unreadable ({exc}); the file is damaged, so the run cannot be "
            f"resumed: start again with --overwrite"
        ) from None
    return saved


def load_run(path: str | Path):
    """(estimator, recipe, config) of a finished run folder, all three of one version of it: a
    ``train --overwrite`` that ended between the reads of config.json and of the weights gave
    ``evaluate`` the old run's held-out split scored by the new model."""
    from ..estimators.persistence import read_one_version

    return read_one_version(path, lambda: _load_run_once(path))


def _load_run_once(path: str | Path):
    """One read of the run at ``path`` (see :func:`load_run`)."""
    from ..estimators.persistence import load

    config = read_config(path)
    family = config.get("family")
    if family is None:  # a model saved with est.save(): map its estimator to a recipe
        family = family_of(config["estimator"])
    if not isinstance(family, str) or family not in RECIPES:
        raise RunFailure(
            f"{Path(path) / CONFIG}: unknown family {family!r}; expected one of: {', '.join(RECIPES)}"
        )
    _check_recorded(config, Path(path) / CONFIG)
    return load(path), get_recipe(family, estimator=config.get("estimator")), config


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _name(v: Any) -> bool:
    return v is None or isinstance(v, str) or _is_int(v)


def _names(v: Any) -> bool:
    return v is None or isinstance(v, list) and all(isinstance(c, (str, int)) for c in v)


# config.json's "data": each field -> (a test of its recorded value, what it must be).
_RECORDED_DATA = {
    **{
        key: (_name, "a name or a path")
        for key in (
            "dataset",
            "data",
            "data_dir",
            "npz_key",
            "label_column",
            "normal_label",
            "id_column",
            "time_column",
        )
    },
    "image_size": (
        lambda v: (
            v is None
            or isinstance(v, list)
            and len(v) == 2
            and all(_is_int(i) and i > 0 for i in v)
        ),
        "[height, width]",
    ),
    "validation_split": (
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1,
        "a fraction in (0, 1)",
    ),
    "fill": (  # a series' gaps, or a table's missing cells
        lambda v: v is None or v in ("linear", "previous", "median", "mean", "zero", "none"),
        "null, 'linear' or 'previous' (a series), 'median', 'mean', 'zero' or 'none' (a table)",
    ),
    "columns": (_names, "null or a list of column names"),
    "drop_columns": (_names, "null or a list of column names"),
    "categorical": (_names, "null or a list of column names"),
    "fill_values": (
        lambda v: (
            v is None
            or isinstance(v, dict)
            and all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in v.values())
        ),
        "null or an object of numbers",
    ),
    "train_steps": (lambda v: v is None or _is_int(v) and v >= 1, "null or a whole number >= 1"),
    "patch": (lambda v: v is None or _is_int(v) and v >= 2, "null or a whole number >= 2"),
    "patches": (lambda v: v is None or _is_int(v) and v >= 1, "null or a whole number >= 1"),
    "stream": (lambda v: v is None or isinstance(v, bool), "null, true or false"),
    "memory_cap": (lambda v: v is None or _is_int(v) and v > 0, "null or a number of bytes"),
    "download": (lambda v: isinstance(v, bool), "true or false"),
    "checksums": (
        lambda v: v is None or isinstance(v, dict) and all(isinstance(c, str) for c in v.values()),
        "an object of checksums",
    ),
}


def _check_recorded(config: dict[str, Any], where: Path) -> None:
    """The run's recorded data and seed, which evaluate/plot/interpolate and --resume read, within
    their meaning: one line naming the file and the field."""

    def bad(field: str, what: str) -> RunFailure:
        return RunFailure(
            f"{where}: the field {field!r} {what}; the file is damaged (train the run again)"
        )

    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise bad("seed", f"must be a whole number >= 0, got {seed!r}")
    data = config.get("data", {})
    if not isinstance(data, dict):
        raise bad("data", f"is a JSON {type(data).__name__}, not an object")
    for key, (ok, what) in _RECORDED_DATA.items():
        if key in data and not ok(data[key]):
            shown = repr(data[key])[:60]
            expected = (
                "expected a name or a path" if what == "a name or a path" else f"expected {what}"
            )
            raise bad("data", f"has {key}={shown}; {expected}")
