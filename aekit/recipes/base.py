"""What every recipe shares: the :class:`Recipe` base, the registry of families, data splits.

A recipe knows its estimator, its default built-in dataset, how to split the data,
which held-out figures go into ``metrics.json`` and which pictures go into
``figures/``; :func:`aekit.recipes.run.train_run` drives any recipe the same way.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Data, RowStore, columns_by_name, load_builtin
from ..errors import UsageError
from ..families import RECIPES, recipe_of
from ..training.trainer import Trainer
from .spec import DataSpec

# held-out samples kept in memory for validation, metrics and figures of streamed data
EVAL_ROWS = 10_000


def in_memory(data: Data, limit: int | None = EVAL_ROWS) -> Data:
    """``data`` as arrays: a row store on disk is read whole, or cut to its first ``limit`` samples."""
    if not isinstance(data.x, RowStore):
        return data
    part = data.subset(slice(0, limit))
    return dataclasses.replace(part, x=part.x.rows(0, len(part.x)))


def split_data(data: Data, fraction: float, seed: int, stratify: bool = False) -> tuple[Data, Data]:
    """Hold out ``fraction`` of the samples (seeded) for validation."""
    from sklearn.model_selection import train_test_split

    n = len(data)
    held = math.ceil(fraction * n)  # as scikit-learn rounds a share of the samples
    if n < 2 or not 0 < fraction < 1 or held >= n:
        raise UsageError(
            f"cannot hold out {fraction} of {n} samples for validation (nothing would be left to "
            f"train on); give more data" + (" or a smaller validation share" if n >= 2 else "")
        )
    idx = np.arange(n)
    strat = data.y if stratify and data.y is not None else None
    try:
        train_idx, val_idx = train_test_split(
            idx, test_size=fraction, random_state=seed, stratify=strat
        )
    except ValueError:
        train_idx, val_idx = train_test_split(idx, test_size=fraction, random_state=seed)
    return data.subset(np.sort(train_idx)), data.subset(np.sort(val_idx))


def split_filled(
    data: Data, spec: DataSpec, seed: int, stratify: bool = False
) -> tuple[Data, Data]:
    """:func:`split_data`, a table's missing cells filled first (one note says so).

    The values that fill them (``spec.fill``: the median by default, :mod:`aekit.data.missing`) are
    learned from the training rows the first time and recorded in ``spec.fill_values``, so that the
    run's config keeps them and every later command fills alike.
    """
    from ..data.missing import DEFAULT_FILL, FILLS, fill_missing, fill_values

    x = data.x
    if isinstance(x, RowStore) or x.ndim != 2:  # images; a streamed table is complete (spill)
        return split_data(data, spec.validation_split, seed, stratify)
    how = spec.fill if spec.fill in FILLS else DEFAULT_FILL
    if spec.fill_values is None and how != "none":
        train, _ = split_data(data, spec.validation_split, seed, stratify)
        spec.fill_values = fill_values(train.x, how, data.feature_names)
    filled = fill_missing(x, spec.fill_values, data.feature_names, data.source, how)
    return split_data(dataclasses.replace(data, x=filled), spec.validation_split, seed, stratify)


class Recipe:
    """One CLI family. Subclasses override what differs; ``train_run`` drives them."""

    name = ""
    estimator = ""  # class name in aekit.estimators.persistence.ESTIMATORS
    default_dataset = "fashion-mnist"
    defaults: dict[str, Any] = {}  # the recipe's own estimator settings
    # evaluate() takes a row store, so a streamed file need not fit in memory
    evaluates_on_disk = False
    presets: dict[str, dict[str, Any]] = {}  # named settings for --preset, over the defaults
    takes_tables = True  # False: an image family (the estimator takes rows too, but the recipe's figures do not)
    # every number column of a table is a feature, the rest given by --id-column, --label-column and
    # --drop-columns (False: the series', whose columns are channels, chosen by its own options)
    number_columns_are_features = True

    def build(self, params: dict[str, Any]):
        """The estimator: the recipe's defaults < the preset named by ``params["preset"]`` < the other params."""
        from ..estimators.persistence import estimator_class

        params = dict(params)
        preset = params.pop("preset", None)
        if preset is not None and preset not in self.presets:
            raise UsageError(
                f"unknown preset {preset!r} for {self.name}; expected one of: "
                f"{', '.join(self.presets) or '(none)'}"
            )
        chosen = self.presets[preset] if preset is not None else {}
        est = estimator_class(self.estimator)(**{**self.defaults, **chosen, **params})
        if est.get_params(deep=False).get("encoder") is not None:
            # the recipe's settings of the built-in network do not apply to the user's own
            unused = est.builtin_network_params()
            kept = {k: v for k, v in {**self.defaults, **chosen}.items() if k not in unused}
            est = estimator_class(self.estimator)(**{**kept, **params})
        return est

    def load_data(self, spec: DataSpec, seed: int) -> tuple[Data, Data]:
        """(train, held-out) data: a built-in dataset's train/test splits or a seeded split of the user's."""
        if spec.data is not None:
            data = self.require_images(spec.read_user(), spec.data)
            return split_filled(data, spec, seed)
        # the run records which dataset it read
        name = spec.dataset = spec.dataset or self.default_dataset
        return (
            load_builtin(name, "train", root=spec.data_dir, download=spec.download),
            load_builtin(name, "test", root=spec.data_dir, download=spec.download),
        )

    def load_heldout(self, spec: DataSpec, seed: int) -> Data:
        """The run's held-out data alone: a built-in dataset's test split (its training split is not read),
        or the seeded held-out part of the user's data."""
        if spec.data is None:
            return load_builtin(
                spec.dataset or self.default_dataset,
                "test",
                root=spec.data_dir,
                download=spec.download,
            )
        return self.load_data(spec, seed)[1]

    def load_eval_data(self, spec: DataSpec, seed: int, path: str | None = None) -> Data:
        """The data ``aekit evaluate``/``aekit plot`` use: a given file, else the run's held-out split."""
        if path is not None:  # the whole file the user asked about
            data = fill_recorded(self.require_images(spec.read_user(path), path), spec)
            return data if self.evaluates_on_disk else in_memory(data, limit=None)
        return in_memory(self.load_heldout(spec, seed))

    def require_images(self, data: Data, source: str | Path) -> Data:
        """``data`` unchanged, or a one-line refusal of a table given to an image family."""
        x = data.x
        shape = x.sample_shape if isinstance(x, RowStore) else x.shape[1:]
        if not self.takes_tables and len(shape) == 1:
            raise UsageError(
                f"{source} holds a table (rows of {shape[0]} values); {self.name} works on images: "
                f"give an image folder, or an .npy/.npz of shape (n, H, W) or (n, C, H, W)"
            )
        return data

    def check_fit_data(self, est, train: Data) -> None:
        """The training data checked against ``est`` before an old run is replaced."""
        est.check_fit_data(train.x)

    def fit(self, est, train: Data, val: Data, trainer: Trainer):
        """Train ``est`` on the run's data; ``trainer`` holds the run's checkpoints, callbacks and logs."""
        return est.fit(train.x, validation_data=val.x, trainer=trainer)

    def compare_baselines(self, est, spec: DataSpec, seed: int, data: Data | None = None):
        """The run's model beside scikit-learn's anomaly detectors on ``data`` (None: the run's
        held-out split; ``--baselines``): an anomaly run's alone; any other says so in one line."""
        raise UsageError(
            f"--baselines compares an anomaly detector with scikit-learn's; this is a {self.name} "
            f"run: compare an anomaly run (aekit train anomaly)"
        )

    def evaluate(self, est, data: Data) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def figures(self, est, data: Data, folder: Path) -> list[Path]:  # pragma: no cover - abstract
        raise NotImplementedError

    def quality_warnings(self, est, metrics: dict[str, Any], data: Data) -> list[str]:
        """One-line warnings, each with a likely fix, about a finished run that is not useful (see ``quality``)."""
        from .quality import never_improved, one_row_threshold, overfitting, own_network

        history = getattr(est, "history_", [])
        found = [never_improved(history, getattr(est, "lr", None))]
        if not found[0]:  # a loss that never improved has not overfitted: one warning is enough
            found.append(overfitting(history, own_network(est), getattr(est, "lr", None)))
        calibration = getattr(est, "calibration_", None) or {}  # a row detector's threshold's rows
        if calibration.get("method") == "training" and calibration.get("rows") == 1:
            found.append(one_row_threshold(est.threshold_rule().name))
        return [w for w in found if w]


def fill_recorded(data: Data, spec: DataSpec) -> Data:
    """A table read for a finished run: its missing cells refused with one line when the run
    fills none (the reader filled them with the recorded values otherwise)."""
    from ..data.missing import fill_missing

    if isinstance(data.x, RowStore) or data.x.ndim != 2:
        return data
    x = fill_missing(data.x, spec.fill_values, data.feature_names, data.source, "none")
    return dataclasses.replace(data, x=x)


def figure_indices(data: Data, n: int = 10, seed: int = 0) -> np.ndarray:
    """``n`` seeded sample indices for figures, spread across the classes when there are labels.

    Taking the first samples by path would show ten images of one class of a class-folder dataset;
    this takes a seeded shuffle and then one sample of each class in turn.

    Examples
    --------
    >>> figure_indices(Data(x=np.zeros((6, 1)), y=np.array([0, 0, 0, 1, 1, 1])), n=4).tolist()
    [0, 2, 3, 5]
    """
    order = np.random.default_rng(seed).permutation(len(data))
    if data.y is None:
        return np.sort(order[:n])
    y = np.asarray(data.y)[order]
    per_class = [order[y == c] for c in np.unique(y)]  # each class's samples in shuffled order
    picked: list[int] = []
    for k in range(max(map(len, per_class), default=0)):
        picked += [int(c[k]) for c in per_class if k < len(c)]
        if len(picked) >= n:
            break
    return np.sort(np.asarray(picked[:n], dtype=np.int64))


def class_names(data: Data) -> list[str] | None:
    """A built-in dataset's class names (Fashion-MNIST's "T-shirt/top", ...), for figure legends."""
    from ..data import DATASETS

    cls = DATASETS.get(data.source.split(":")[0])
    return None if cls is None else getattr(cls, "classes", None)


def model_columns(est, data: Data) -> np.ndarray:
    """``data.x`` with the model's feature columns (``feature_names_in_``): :func:`~aekit.data.columns_by_name`."""
    return columns_by_name(data, getattr(est, "feature_names_in_", None))


def image_folder(path: str | Path | None) -> bool:
    """Whether ``path`` is a folder, which aekit reads as images (:func:`aekit.data.read_path`): the
    data a family's ``images`` row (:mod:`aekit.families`) trains on."""
    return path is not None and Path(path).is_dir()


def get_recipe(name: str, estimator: str | None = None, data: str | Path | None = None) -> Recipe:
    """The recipe of a CLI family name: for the run's recorded ``estimator`` when given, else for
    the ``data`` to train on (a folder of images picks the family's image row, if it has one)."""
    if name not in RECIPES:
        raise UsageError(f"unknown family {name!r}; expected one of: {', '.join(RECIPES)}")
    kind = "images" if image_folder(data) else ""
    module, attr = recipe_of(name, estimator, kind).split(":")
    return getattr(importlib.import_module(module), attr)


def refuse_outside_unit_range(data: Data, needs: str, instead: str | None) -> None:
    """Training images outside [0, 1] (by more than float32's rounding) where ``needs`` takes only
    those, said in the command's words before the estimator says it in Python's ("X", a parameter
    ``aekit train denoise`` has no option for): the file named; ``instead``: the command's option
    that takes any range, or None."""
    from ..estimators.validation import RANGE_TOLERANCE, outside_unit_range

    if isinstance(data.x, RowStore) or not data.x.size:  # streamed: the estimator checks its chunks
        return
    lo, hi = float(data.x.min()), float(data.x.max())
    if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
        raise outside_unit_range(lo, hi, data.source, needs, instead)
