"""A run, end to end: :func:`train_run` trains any recipe into a run folder; :func:`load_run` reads one back.

    load data  ->  open the run folder (lock; refuse to clobber)  ->  write config.json
    ->  fit (checkpoint every epoch; --resume continues)  ->  save weights + config
    ->  history.csv  ->  metrics.json  ->  figures/
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, Sequence

from .. import _io
from ..errors import RunFailure, UsageError
from ..estimators.persistence import CONFIG, _jsonable, read_config
from ..training import distributed
from ..training.checkpoint import has_checkpoint
from .base import RECIPES, get_recipe, in_memory
from .folder import RunFolder, versions
from .spec import DataSpec

logger = logging.getLogger(__name__)


def train_run(family: str, params: dict[str, Any], spec: DataSpec, out: str | Path, *, overwrite: bool = False,
              resume: bool = False, callbacks: Sequence[object] = (), figures: bool = True):
    """Train ``family`` into the run folder ``out``; return ``(estimator, metrics)``.

    With ``resume`` and an existing run, the run's recorded family, parameters and data
    are used, and training continues from its last checkpoint (up to ``params["epochs"]``
    when given, so a finished run can be trained for longer).
    """
    out = Path(out)
    if resume and (out / CONFIG).is_file():
        saved = _peek(out)
        epochs = params.get("epochs")  # the one setting a resumed run may change: train on to a new total
        family, params, spec = saved["family"], saved["params"], DataSpec.from_json(saved["data"])
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        if epochs is not None:
            params["epochs"] = epochs
    recipe = get_recipe(family)
    est = recipe.build(params)
    recipe.check(est)  # bad options fail before any data is read or any file written
    seed = int(est.seed)
    with distributed.main_process_first(est._device()):  # under torchrun: one process downloads
        train, val = recipe.load_data(spec, seed)
    val = in_memory(val)  # streamed data: validation, metrics and figures on a sample of the held-out split
    est._check_fit_data(train.x)  # data the model cannot take fails before an old run is replaced

    if not distributed.is_main_process():
        # Another process of a distributed run: train beside rank 0, which alone checks and writes
        # the run folder (if rank 0 fails, torchrun stops the others); it reads the checkpoint to resume.
        recipe.fit(est, train, val, checkpoint_dir=RunFolder(out).checkpoint_dir, resume=resume, callbacks=())
        distributed.finish()  # wait for rank 0 to write the run
        return est, {}

    created = not out.exists()
    with RunFolder.create(out, overwrite=overwrite, resume=resume) as run:
        config = {"family": family, "estimator": recipe.estimator, "params": est.get_params(deep=False),
                  "data": spec.to_json(), "seed": seed, "versions": versions()}
        _io.write_json(run.path / CONFIG, _jsonable({**config, "status": "training"}))
        try:
            recipe.fit(est, train, val, checkpoint_dir=run.checkpoint_dir, resume=resume, callbacks=callbacks)
        except UsageError:  # data the model cannot take: leave no half-made run behind
            if not resume and not has_checkpoint(run.checkpoint_dir):
                run.clear()
                if created:
                    shutil.rmtree(run.path, ignore_errors=True)
            raise
        run.write_history(est.history_)
        config["threads"] = getattr(est, "threads_", None)  # the CPU threads it trained with, and why
        metrics = recipe.evaluate(est, val)
        metrics["warnings"] = recipe.quality_warnings(est, metrics, val)  # a useless result says so
        metrics.update(epochs=len(est.history_), train_seconds=round(sum(r["seconds"] for r in est.history_), 3))
        est.save(run.path, overwrite=True, extra={**config, "status": "done"})
        run.write_json("metrics.json", metrics)
        if figures:
            recipe.figures(est, val, run.figures_dir)
    distributed.finish()  # under torchrun: the others have waited for this run to be written
    return est, metrics


def _peek(path: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads((path / CONFIG).read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path / CONFIG}: unreadable ({exc}); cannot resume this run") from None


def load_run(path: str | Path):
    """(estimator, recipe, config) of a finished run folder."""
    from ..estimators.persistence import load

    config = read_config(path)
    family = config.get("family")
    if family is None:  # a model saved with est.save(): map its estimator to a recipe
        family = {"Autoencoder": "basic", "Denoiser": "denoise", "AnomalyDetector": "anomaly", "VAE": "vae"}[config["estimator"]]
    if not isinstance(family, str) or family not in RECIPES:
        raise RunFailure(f"{Path(path) / CONFIG}: unknown family {family!r}; expected one of: {', '.join(RECIPES)}")
    return load(path), get_recipe(family), config
