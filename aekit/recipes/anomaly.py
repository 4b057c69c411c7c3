"""The anomaly-detection recipe: a dense autoencoder trained on normal rows, ECG5000 by default.

Out of the box (``aekit train anomaly``) the detector has its data-driven defaults
(:class:`aekit.AnomalyDetector`: robust scaling, a network sized from the data, a budget of
optimizer steps, early stopping on a held-out tenth of the normal training rows, the error
weighed with the code's local density, and the conformal threshold for a false-alarm rate of 5%
on normal data, ``fpr:0.05``, from the held-out calibration rows).
The default dataset is ECG5000's classic split (TRAIN then TEST concatenated,
``train_test_split(test_size=0.2, random_state=21)``); what each preset scores there and on a
panel of public datasets is in the guide (docs/guide/anomaly.md).

Presets (``aekit train anomaly --preset NAME``; :data:`PRESETS`, the estimator's own
``AnomalyDetector.presets``):

* ``recipe``: TensorFlow's ECG5000 tutorial: global min-max scaling (of the normal training beats;
  the tutorial's, of the whole training split, gives scores about 5% smaller), a
  140-32-16-8-16-32-140 network trained on the normal training beats for 20 epochs (batch 512,
  Adam 1e-3, MAE), the validation loss on all test beats, threshold mean + 1 std of the training
  errors.
* ``robust``: the recipe widened (64-32-16), 100 epochs of batch 64, the error scored as MSE and
  the threshold at the 95th percentile of the training errors.

The held-out split of a labelled dataset holds anomalies, so it never steers training: it is
given to the detector as ``validation_data`` only by presets that hold out nothing of their own
(``validation_fraction=0``, the tutorial's validation curve).

The user's own data (``--data FILE``):

* without ``--label-column``: every row is normal; a seeded ``--validation-split`` is held
  out for the figures and the anomaly rate;
* with ``--label-column COL --normal-label VALUE``: a stratified split; the model trains on
  the normal rows of the training part and is evaluated on all held-out rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from .._notes import note
from ..data import Data, ecg5000_classic_split, load_builtin, read_path
from ..data.encoding import is_number, missing_mask
from ..errors import UsageError
from ..estimators.anomaly import anomaly_metrics
from ..estimators.anomaly.baselines import check_labels
from ..estimators.anomaly.defaults import PRESETS as ANOMALY_PRESETS
from ..estimators.thresholds import FalseAlarmRate, threshold_rule
from ..training.trainer import Trainer
from .base import Recipe, fill_recorded, in_memory, model_columns, split_filled
from .quality import infinite_scores
from .spec import DataSpec

#: Named estimator settings, selected with ``--preset NAME``: the estimator's own presets.
PRESETS: dict[str, dict[str, Any]] = ANOMALY_PRESETS


FEATURE_ROWS = 8  # feature_errors.png: the held-out rows of highest score it shows


def labels_match(labels: Any, normal_label: Any) -> np.ndarray:
    """Boolean mask of the rows whose label equals ``normal_label``: as numbers when both are
    (``0`` is ``0.0``, as pandas writes a column of 0/1 that held a missing cell), else as text."""
    labels = np.asarray(labels)
    try:
        wanted = float(normal_label)
    except (TypeError, ValueError):
        wanted = None
    if wanted is not None and labels.dtype.kind in "iuf":
        return labels == wanted
    text = np.char.strip(labels.astype(str))
    if wanted is not None and all(is_number(v) for v in np.unique(text)):
        return text.astype(np.float64) == wanted
    return text == str(normal_label).strip()


def _unlabelled(labels: np.ndarray, normal_label: Any) -> np.ndarray:
    """Which rows have no label: a missing cell (empty, ``NA``, ...: the markers of a missing
    value, :data:`aekit.data.encoding.MISSING`) that is not the normal label itself, or NaN."""
    labels = np.asarray(labels)
    if labels.dtype.kind == "f":
        return np.isnan(labels)
    if labels.dtype.kind not in "US":
        return np.zeros(len(labels), dtype=bool)
    text = np.char.strip(labels.astype(str))
    return missing_mask(text) & (np.char.lower(text) != str(normal_label).strip().lower())


def anomaly_labels(data: Data, normal_label: Any, where: str = "the label column") -> Data:
    """``data`` with ``y`` recoded to 1 = anomaly, 0 = normal (rows labelled ``normal_label`` are
    normal); rows with no label (``where``: what holds the labels) left out, with a note that
    counts them: they are neither normal rows nor anomalies."""
    if data.y is None:
        raise UsageError(
            f"{data.source or 'the data'} has no labels; give --label-column COL with --normal-label"
        )
    if normal_label is None:
        raise UsageError("--label-column needs --normal-label VALUE: the label of the normal rows")
    missing = _unlabelled(data.y, normal_label)
    if missing.any():
        count, verb = int(missing.sum()), "has" if missing.sum() == 1 else "have"
        note(
            f"{data.source or 'the data'}: {count} of {len(missing)} rows {verb} no label (an "
            f"empty or NA cell in {where}; the first is data row {int(np.argmax(missing)) + 1}): "
            f"left out, as neither normal rows nor anomalies"
        )
        data = data.subset(~missing)
    normal = labels_match(data.y, normal_label)
    if not normal.any():
        found = ", ".join(map(str, np.unique(data.y)[:10]))
        raise UsageError(
            f"{data.source or 'the data'}: no row has the normal label {normal_label!r}; the "
            f"labels are: {found} (name the "
            f"normal rows' label with --normal-label VALUE)"
        )
    return replace(data, y=(~normal).astype(np.int64))


def run_labels(data: Data, spec: DataSpec) -> Data:
    """The user's ``data`` with its labels as a detector reads them (one rule for train, evaluate and
    calibrate): ``y`` 1 = anomaly, 0 = normal from ``spec.label_column`` or an .npz's ``y``/``labels``
    array with ``spec.normal_label``; ``y`` None when unlabelled (an .npz's labels without a
    normal label are not used, with a note)."""
    if spec.label_column is not None:
        return anomaly_labels(data, spec.normal_label, f"the label column {spec.label_column!r}")
    if data.y is None or spec.normal_label is None:
        if data.y is not None:  # an .npz's labels: which of them is normal is not known
            folder = Path(data.source).is_dir()  # a folder's labels are its sub-folders
            what = "sub-folders" if folder else "labels (a y or labels array)"
            note(
                f"{data.source}: its {what} are used with --normal-label "
                f"{'FOLDER' if folder else 'VALUE'} only, the label of the normal "
                f"{'images' if folder else 'rows'}: without it every "
                f"{'image' if folder else 'row'} is read unlabelled, anomalies included"
            )
        return replace(data, y=None)
    return anomaly_labels(data, spec.normal_label, "its labels")


def calibration_rows(
    path: str,
    read: dict[str, Any],
    spec: DataSpec,
    check: Callable[[Any], None] | None = None,
    unlabelled: Callable[[], None] | None = None,
) -> np.ndarray:
    """The rows of the table ``path`` to calibrate a detector on, read with ``read`` (the run's
    columns, as :func:`aekit.data.read_path` takes them) and ``spec``'s labels (:func:`run_labels`):
    the rows labelled normal, with a note counting the others, or every row when unlabelled.
    ``check(x)``: refuses samples the detector cannot take, before anything is said of labels;
    ``unlabelled()``: called when the file holds no labels (a .npy, an .npz without y), to refuse
    a normal label given for them or to say that every row is taken as normal."""
    data = read_path(path, label_column=spec.label_column, **read)
    if check is not None:
        check(data.x)
    data = run_labels(data, spec)
    if data.y is None:
        if unlabelled is not None:
            unlabelled()
        return data.x
    normal = normal_rows(data)
    note(
        f"{path}: calibrating on its {len(normal)} rows labelled normal; {int(data.y.sum())} "
        f"labelled anomalous left out"
    )
    return normal.x


def normal_rows(train: Data) -> Data:
    """The rows a detector trains on: all of unlabelled data, the normal ones (``y == 0``) of labelled."""
    return train if train.y is None else train.subset(train.y == 0)


def recorded(spec: DataSpec) -> DataSpec:
    """``spec``, once its file is there and unchanged since the run was trained (its recorded checksum):
    else one line, since rows read from another file would not be the ones the run trained on."""
    if spec.data is None or not spec.checksums:  # a built-in dataset: checked when read
        return spec
    if not Path(spec.data).exists():
        raise UsageError(
            f"--baselines: the run's training data {spec.data} is not there any more; the baselines "
            f"are fitted on the rows the detector was trained on: put the file back"
        )
    if spec.changed():
        raise UsageError(
            f"--baselines: the run's training data {spec.data} has changed since the run was trained "
            f"(its checksum differs); the baselines are fitted on the rows the detector was trained "
            f"on: put the original back"
        )
    return spec


def _check_labelled(data: Data) -> None:
    """Rows that ``--baselines`` can score: labelled, normal rows and anomalies both; else one line."""
    if data.y is None:
        raise UsageError(
            "--baselines needs labelled rows: give --data with labels (a table's --label-column "
            "COL, or an .npz's y) and --normal-label VALUE; the run's held-out split has labels "
            "only when it was trained with --normal-label"
        )
    check_labels(data.y, len(data.y))


class AnomalyRecipe(Recipe):
    """``aekit train anomaly``: see the module docstring.

    The data it hands on has ``y`` 1 = anomaly, 0 = normal (``None`` when unlabelled).

    Examples
    --------
    >>> from aekit.recipes import train_run, DataSpec      # doctest: +SKIP
    >>> est, metrics = train_run("anomaly", {}, DataSpec(dataset="ecg5000"), "runs/anomaly")  # doctest: +SKIP
    """

    name = "anomaly"
    estimator = "AnomalyDetector"
    default_dataset = "ecg5000"
    defaults: dict[str, Any] = {}  # the estimator's own defaults
    evaluates_on_disk = True
    presets = PRESETS

    def load_data(self, spec: DataSpec, seed: int) -> tuple[Data, Data]:
        if spec.data is not None:
            data = spec.read_user()
            if data.y is None and spec.normal_label is not None:
                raise UsageError(
                    f"--normal-label needs labels, and {spec.data} is read with none: give "
                    f"--label-column COL (a table), or an .npz with a y or labels array"
                )
            data = run_labels(data, spec)
            return split_filled(data, spec, seed, stratify=data.y is not None)
        # recorded, as base.load_data does
        name = spec.dataset = spec.dataset or self.default_dataset
        if name == "ecg5000":
            if spec.normal_label not in (None, 1, "1"):  # the tutorial's split keeps 1 / not 1
                raise UsageError(
                    f"--dataset ecg5000 is the tutorial's split, class 1 normal and the others "
                    f"anomalous; --normal-label {spec.normal_label} does not apply: drop it"
                )
            train, test = ecg5000_classic_split(spec.data_dir, download=spec.download)
            return anomaly_labels(train, 1), anomaly_labels(test, 1)
        if spec.normal_label is None:
            raise UsageError(
                f"--dataset {name} needs --normal-label CLASS (e.g. 0): the class taken as normal"
            )
        parts = [
            load_builtin(name, split, root=spec.data_dir, download=spec.download)
            for split in ("train", "test")
        ]
        return tuple(anomaly_labels(p, spec.normal_label) for p in parts)

    def load_eval_data(self, spec: DataSpec, seed: int, path: str | None = None) -> Data:
        """A given file (its labels recoded with ``spec.normal_label``), else the run's held-out split."""
        if path is None:
            return in_memory(self.load_data(spec, seed)[1])
        # a streamed file stays on disk: evaluate() scores it in batches
        return run_labels(fill_recorded(spec.read_user(path), spec), spec)

    def fit(self, est, train: Data, val: Data, trainer: Trainer):
        x = normal_rows(train).x
        if len(x) == 0:
            raise UsageError("no normal rows to train on; check --label-column and --normal-label")
        # A detector that holds out normal rows of its own stops early on them; the held-out split
        # (anomalies included) is then only evaluated, never trained against.
        validation = val.x if not est.validation_fraction else None
        return est.fit(
            x, validation_data=validation, feature_names=train.feature_names, trainer=trainer
        )

    def compare_baselines(self, est, spec: DataSpec, seed: int, data: Data | None = None):
        """The run's detector beside scikit-learn's baselines on the labelled ``data`` (None: the run's
        held-out split) (:meth:`aekit.AnomalyDetector.compare`), fitted on the run's normal training
        rows read again as the run read them (the same split, fill and columns)."""
        if data is not None:
            _check_labelled(data)  # before the training data is read
        train, held = self.load_data(recorded(spec), seed)
        data = in_memory(held) if data is None else data
        _check_labelled(data)
        train = normal_rows(train)
        return est.compare(model_columns(est, data), data.y, X_train=model_columns(est, train))

    def evaluate(self, est, data: Data) -> dict[str, Any]:
        scores = est.decision_function(model_columns(est, data))
        if data.y is None:  # unlabelled: what the detector flags
            return {
                "threshold": float(est.threshold_),
                "n_samples": int(len(scores)),
                "anomaly_rate": float(np.mean(scores > est.threshold_)),
                "mean_score": float(np.mean(scores)),  # inf when one is: null in JSON
                **infinite_count(scores),
            }
        # est.evaluate's figures from the scores at hand, which also count the inf ones (the
        # labelled held-out rows' warning was missing); the labels are 0/1 already (run_labels)
        return {**anomaly_metrics(data.y, scores, est.threshold_), **infinite_count(scores)}

    def quality_warnings(self, est, metrics: dict[str, Any], data: Data) -> list[str]:
        count = metrics.get("infinite_scores", 0)
        found = infinite_scores(count, "held-out rows", "mean_score" in metrics)
        said = list(metrics.get("warnings", []))  # the figures' own (a class no row holds)
        return said + super().quality_warnings(est, metrics, data) + ([found] if found else [])

    def _reconstructions(self, est, x, data: Data, picks, scores, folder: Path) -> Path:
        """A normal and an anomalous row with their reconstructions: a table's feature by feature
        (named by column and id), a signal's as curves."""
        from .autoencoder import TABLE_FEATURES, row_names

        rows = np.array([i for i, _ in picks])
        rec = est.reconstruct(x[rows])
        if data.feature_names is not None and x.shape[1] <= TABLE_FEATURES:
            names = row_names(data, rows, len(rows))
            return plots.plot_table_reconstructions(
                x[rows],
                rec,
                folder / "reconstructions.png",
                feature_names=data.feature_names,
                row_names=[f"{t}: {n} (score {scores[i]:.4g})" for (i, t), n in zip(picks, names)],
                center=np.median(x, axis=0),
                scale=x.std(axis=0),
                overwrite=True,
            )
        panels = [
            (x[i], rec[j], f"{title} (score {scores[i]:.4g})") for j, (i, title) in enumerate(picks)
        ]
        return plots.plot_signal_reconstructions(
            panels, folder / "reconstructions.png", overwrite=True
        )

    def _feature_errors(self, est, x, data: Data, scores, folder: Path) -> Path:
        """The held-out rows of highest score, each feature's part of it (which columns drove it)."""
        from .autoencoder import TABLE_FEATURES, row_names

        rows = np.argsort(-scores, kind="stable")[:FEATURE_ROWS]  # the highest scores first
        named = data.feature_names is not None and x.shape[1] <= TABLE_FEATURES
        return plots.plot_feature_errors(
            est.feature_errors(x[rows]),
            folder / "feature_errors.png",
            feature_names=data.feature_names if named else None,
            row_names=[
                f"{n} (score {scores[i]:.4g})"
                for i, n in zip(rows, row_names(data, rows, len(rows)))
            ],
            xlabel="feature" if named else "feature (position in the row)",
            title=f"what drove the {len(rows)} highest scores",
            overwrite=True,
        )

    def figures(self, est, data: Data, folder: Path) -> list[Path]:
        folder = Path(folder)
        x = model_columns(est, data)
        written = [plots.plot_history(est.history_, folder / "loss.png", overwrite=True)]
        scores = est.decision_function(x)
        y = np.zeros(len(x), np.int64) if data.y is None else np.asarray(data.y)
        picks = [
            (int(np.flatnonzero(y == c)[0]), title)
            for c, title in ((0, "normal"), (1, "anomalous"))
            if (y == c).any()
        ]
        if x.ndim == 2 and picks:
            written.append(self._reconstructions(est, x, data, picks, scores, folder))
        if x.ndim == 2 and len(x):
            written.append(self._feature_errors(est, x, data, scores, folder))
        written.append(
            plots.plot_error_histogram(
                scores[y == 0],
                scores[y == 1],
                est.threshold_,
                folder / "error_histogram.png",
                xlabel=f"reconstruction error ({est.error})",
                target_rate=target_rate(est.threshold),
                promised_rate=_promised(est),
                overwrite=True,
            )
        )
        if 0 < y.sum() < len(y):
            written.append(
                plots.plot_roc(
                    y, scores, folder / "roc.png", title="anomaly detector ROC", overwrite=True
                )
            )
        return written


def _promised(est) -> float | None:
    """The rate a table detector's threshold promises when its calibration scores are too few
    (:func:`promised_rate`); None for one calibrated on its training rows' own scores, which
    promise no rate at all (the note at training says so)."""
    if getattr(est, "calibration_", {}).get("method") == "training":
        return None
    return promised_rate(est.threshold, len(est.calibration_scores_))


def infinite_count(scores: np.ndarray) -> dict[str, int]:
    """``infinite_scores``, the count of the ``scores`` that are inf, when there are any: a row
    whose squared error overflows scores inf (the most anomalous there is:
    :func:`aekit.estimators.anomaly.scores.overflow_as_infinite`), and makes the mean inf, which
    JSON writes as null; the count says how many rows did it."""
    count = int((~np.isfinite(scores)).sum())
    return {"infinite_scores": count} if count else {}


def target_rate(threshold: Any) -> float | None:
    """The false-alarm rate a detector's ``threshold`` rule sets it for ("fpr:0.02", "pot"), which
    its histogram names beside the rate it has; None for a rule that sets no rate."""
    rule = threshold_rule(threshold)
    return float(rule.rate) if rule.name in ("fpr", "pot") else None


def promised_rate(threshold: Any, n: int) -> float | None:
    """The false-alarm rate that ``n`` calibration scores can promise when they are too few for
    the rate of a ``threshold`` "fpr:RATE" (the one the note at training names), which its
    histogram names beside the rate asked; None when they are enough, or for another rule."""
    rule = threshold_rule(threshold)
    return rule.promised(int(n)) if isinstance(rule, FalseAlarmRate) else None


RECIPE = AnomalyRecipe()
