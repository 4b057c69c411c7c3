"""Recipes: what ``aekit train FAMILY`` runs, end to end, into a run folder.

A recipe knows its estimator, its default built-in dataset, how to split the data,
which held-out figures go into ``metrics.json`` and which pictures go into
``figures/``. :func:`train_run` drives any recipe the same way:

    load data  ->  open the run folder (lock; refuse to clobber)  ->  write config.json
    ->  fit (checkpoint every epoch; --resume continues)  ->  save weights + config
    ->  history.csv  ->  metrics.json  ->  figures/
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import _io
from ..data import Data, load_builtin, read_path
from ..errors import RunFailure, UsageError
from ..training import distributed
from ..training.checkpoint import has_checkpoint
from ..training.runs import RunFolder, versions
from .persistence import CONFIG, _jsonable, read_config

logger = logging.getLogger(__name__)

# CLI family name -> "module:attribute" of its Recipe instance (imported on use).
RECIPES = {
    "basic": "aekit.tasks.autoencoder_recipe:BASIC",
    "stacked": "aekit.tasks.autoencoder_recipe:STACKED",
    "denoise": "aekit.tasks.denoise_recipe:RECIPE",
    "anomaly": "aekit.tasks.anomaly_recipe:RECIPE",
    "vae": "aekit.tasks.vae_recipe:RECIPE",
}


@dataclass
class DataSpec:
    """Where a run's data comes from: a built-in dataset or the user's own file or folder."""

    dataset: str | None = None  # built-in name (mnist, fashion-mnist, binarized-mnist, ecg5000)
    data: str | None = None  # path to .npy/.npz/.csv/.tsv or a folder of images
    data_dir: str | None = None  # root of the built-in datasets
    npz_key: str | None = None
    label_column: str | None = None
    normal_label: str | None = None  # anomaly detection: the label value of normal rows
    id_column: str | None = None
    image_size: tuple[int, int] | None = None
    validation_split: float = 0.2  # held-out fraction of the user's own data
    download: bool = True  # fetch missing built-in datasets
    stream: bool | None = None  # read the user's data from disk batch by batch; None: when over memory_cap
    memory_cap: int | None = None  # bytes the data may take in memory (None: aekit.data.default_memory_cap())

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if self.data is not None:
            d["data"] = str(Path(self.data).resolve())
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "DataSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        spec = cls(**{k: v for k, v in d.items() if k in known})
        if spec.image_size is not None:
            spec.image_size = tuple(spec.image_size)
        return spec

    def streams(self, path: str | None = None) -> bool:
        """Whether the user's data is read from disk batch by batch (``--stream``, or too big for memory)."""
        if self.stream is not None:
            return self.stream
        from ..data import should_stream

        return should_stream(path or self.data, self.memory_cap)

    def read_user(self, path: str | None = None, **kw: Any) -> Data:
        """The user's data: in memory, or with ``x`` a row store on disk when it :meth:`streams`."""
        path = path or self.data
        if not self.streams(path):
            return read_path(path, npz_key=self.npz_key, label_column=self.label_column,
                             id_column=self.id_column, image_size=self.image_size, **kw)
        from ..data import open_rows

        # .npy is mapped where it lies; tables and image folders are converted once into a .npy
        # in a temporary folder that lives as long as this process.
        disk = open_rows(path, cache_dir=_spill_dir(), label_column=self.label_column, id_column=self.id_column,
                         image_size=self.image_size)
        return Data(x=disk.rows, y=disk.y, ids=disk.ids, feature_names=disk.feature_names, names=disk.names,
                    image_mode=disk.image_mode, source=disk.source)


def _spill_dir() -> str:
    """A temporary folder for converted data, removed when the process exits."""
    import atexit
    import tempfile

    folder = tempfile.mkdtemp(prefix="aekit-stream-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


EVAL_ROWS = 10_000  # held-out samples kept in memory for validation, metrics and figures of streamed data


def in_memory(data: Data, limit: int | None = EVAL_ROWS) -> Data:
    """``data`` as arrays: a row store on disk is read whole, or cut to its first ``limit`` samples."""
    if isinstance(data.x, np.ndarray):
        return data
    part = data.subset(slice(0, limit))
    return dataclasses.replace(part, x=part.x.rows(0, len(part.x)))


def split_data(data: Data, fraction: float, seed: int, stratify: bool = False) -> tuple[Data, Data]:
    """Hold out ``fraction`` of the samples (seeded) for validation."""
    from sklearn.model_selection import train_test_split

    n = len(data)
    if n < 2 or not 0 < fraction < 1:
        raise UsageError(f"cannot hold out {fraction} of {n} samples for validation; give more data")
    idx = np.arange(n)
    strat = data.y if stratify and data.y is not None else None
    try:
        train_idx, val_idx = train_test_split(idx, test_size=fraction, random_state=seed, stratify=strat)
    except ValueError:
        train_idx, val_idx = train_test_split(idx, test_size=fraction, random_state=seed)
    return data.subset(np.sort(train_idx)), data.subset(np.sort(val_idx))


class Recipe:
    """One CLI family. Subclasses override what differs; ``train_run`` drives them."""

    name = ""
    estimator = ""  # class name in aekit.tasks.persistence.ESTIMATORS
    default_dataset = "fashion-mnist"
    defaults: dict[str, Any] = {}  # the recipe's own estimator settings
    evaluates_on_disk = False  # evaluate() takes a row store, so a streamed file need not fit in memory
    presets: dict[str, dict[str, Any]] = {}  # named settings for --preset, over the defaults

    def build(self, params: dict[str, Any]):
        """The estimator: the recipe's defaults < the preset named by ``params["preset"]`` < the other params."""
        from .persistence import estimator_class

        params = dict(params)
        preset = params.pop("preset", None)
        if preset is not None and preset not in self.presets:
            raise UsageError(f"unknown preset {preset!r} for {self.name}; expected one of: "
                             f"{', '.join(self.presets) or '(none)'}")
        chosen = self.presets[preset] if preset is not None else {}
        return estimator_class(self.estimator)(**{**self.defaults, **chosen, **params})

    def check(self, est) -> None:
        """Validate the estimator's parameters before anything is written."""
        est._check_params()

    def load_data(self, spec: DataSpec, seed: int) -> tuple[Data, Data]:
        """(train, held-out) data: a built-in dataset's train/test splits or a seeded split of the user's."""
        if spec.data is not None:
            return split_data(spec.read_user(), spec.validation_split, seed)
        name = spec.dataset or self.default_dataset
        return (load_builtin(name, "train", root=spec.data_dir, download=spec.download),
                load_builtin(name, "test", root=spec.data_dir, download=spec.download))

    def load_eval_data(self, spec: DataSpec, seed: int, path: str | None = None) -> Data:
        """The data ``aekit evaluate``/``aekit plot`` use: a given file, else the run's held-out split."""
        if path is not None:  # the whole file the user asked about
            data = spec.read_user(path)
            return data if self.evaluates_on_disk else in_memory(data, limit=None)
        return in_memory(self.load_data(spec, seed)[1])

    def fit(self, est, train: Data, val: Data, **kw: Any):
        return est.fit(train.x, validation_data=val.x, **kw)

    def evaluate(self, est, data: Data) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def figures(self, est, data: Data, folder: Path) -> list[Path]:  # pragma: no cover - abstract
        raise NotImplementedError


def get_recipe(name: str) -> Recipe:
    """The recipe of a CLI family name."""
    if name not in RECIPES:
        raise UsageError(f"unknown family {name!r}; expected one of: {', '.join(RECIPES)}")
    module, attr = RECIPES[name].split(":")
    return getattr(importlib.import_module(module), attr)


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
        metrics = recipe.evaluate(est, val)
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
    from .persistence import load

    config = read_config(path)
    family = config.get("family")
    if family is None:  # a model saved with est.save(): map its estimator to a recipe
        family = {"Autoencoder": "basic", "Denoiser": "denoise", "AnomalyDetector": "anomaly", "VAE": "vae"}[config["estimator"]]
    if not isinstance(family, str) or family not in RECIPES:
        raise RunFailure(f"{Path(path) / CONFIG}: unknown family {family!r}; expected one of: {', '.join(RECIPES)}")
    return load(path), get_recipe(family), config
