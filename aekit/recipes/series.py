"""The series recipe: anomalies in one long signal (``aekit train series --data TRAIN``).

The training stretch is a separate file that is normal (the UCR anomaly archive's ``*_TRAIN``
convention) or the first ``--train-steps N`` steps of the series. With ``--train-steps`` the
figures in ``metrics.json`` are those of the whole series (the archive's convention: the test file
is the whole series); without it, those of the training stretch itself (what the detector flags
there). With ``--label-column`` they include point ROC-AUC and PR-AUC, range precision, recall and
F1 and the UCR score (:mod:`aekit.estimators.series.metrics`).

:func:`score_file` scores a file of any length chunk by chunk into ``time, score, is_anomaly``
rows (and the flagged ranges), which is what ``aekit score`` runs for a series run.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import _io
from ..data import Data, columns_by_name
from ..data.series import iter_series, read_series
from ..errors import DataError, UsageError
from ..estimators.series import RangeTracker, top_step
from ..estimators.thresholds import p_values
from ..plots.curves import plot_history
from ..plots.series import plot_series_scores
from ..training.trainer import Trainer
from .base import Recipe
from .spec import DataSpec


def _read(spec: DataSpec, path: str | None = None) -> Data:
    return read_series(
        path or spec.data,
        time_column=spec.time_column,
        label_column=spec.label_column,
        columns=spec.columns,
        fill=spec.fill,
    )


class SeriesRecipe(Recipe):
    """``aekit train series``: see the module docstring.

    Examples
    --------
    >>> from aekit.recipes import train_run, DataSpec                        # doctest: +SKIP
    >>> spec = DataSpec(data="135_UCR_Anomaly_InternalBleeding16_TRAIN.csv", time_column="timestamp",
    ...                 label_column="is_anomaly")                           # doctest: +SKIP
    >>> est, metrics = train_run("series", {}, spec, "runs/series")          # doctest: +SKIP
    """

    name = "series"
    estimator = "SeriesDetector"
    number_columns_are_features = False
    default_dataset = None
    defaults: dict[str, Any] = {}  # the estimator's own defaults are the recipe

    def load_data(self, spec: DataSpec, seed: int) -> tuple[Data, Data]:
        """(training stretch, the series its figures are taken on); see the module docstring."""
        if spec.data is None:
            raise UsageError(
                "aekit train series needs --data SERIES: a .csv, .tsv, .parquet or .npy whose rows are "
                "time steps (a normal stretch, or the whole series with --train-steps N)"
            )
        data = _read(spec)
        train = data
        if spec.train_steps is not None:
            if not 1 <= spec.train_steps < len(data):
                raise UsageError(
                    f"--train-steps {spec.train_steps} must be between 1 and the series' {len(data) - 1} "
                    f"steps (at least one step after them; the figures cover the whole series)"
                )
            train = data.subset(slice(0, spec.train_steps))
        if train.y is not None and train.y.any():
            first = int(np.flatnonzero(train.y)[0])
            fix = (
                f"train on a normal stretch, e.g. --train-steps {first}"
                if first > 0
                else "no normal stretch comes before it: train on a separate file of normal steps"
            )
            raise DataError(
                f"the training stretch has {int(train.y.sum())} steps labelled anomalous (the first at "
                f"step {first}); {fix}"
            )
        return train, data

    def load_eval_data(self, spec: DataSpec, seed: int, path: str | None = None) -> Data:
        return _read(spec, path) if path is not None else self.load_data(spec, seed)[1]

    def fit(self, est, train: Data, val: Data, trainer: Trainer):
        # the run's checkpoints and logs are the network's: none for the neighbours alone (whose
        # fit would say that a checkpoint folder the user never gave is not used)
        trainer = trainer if est.method != "neighbors" else None
        return est.fit(train.x, channel_names=train.feature_names, trainer=trainer)

    def compare_baselines(self, est, spec: DataSpec, seed: int, data: Data | None = None):
        """Refused in one line: a series run scores steps, from windows spread over them, and the
        baselines score rows."""
        raise UsageError(
            "--baselines compares a detector of rows with scikit-learn's; a series run scores steps "
            "from overlapping windows, which the baselines do not: train an anomaly run on windows as "
            "rows to compare"
        )

    def evaluate(self, est, data: Data) -> dict[str, Any]:
        x = _channels(est, data)
        note = _check_label_classes(data)
        if data.y is not None and 0 < data.y.sum() < len(data.y):
            metrics = est.evaluate(x, data.y)
        else:  # no anomaly labelled: what the detector flags
            scores = est.score_samples(x)
            flagged = est.ranges(x)
            metrics = {
                "threshold": float(est.threshold_),
                "n_steps": int(len(scores)),
                "anomaly_rate": float(np.mean(scores > est.threshold_)),
                "n_flagged_ranges": len(flagged),
                "top_step": top_step(scores),
            }
        if note:  # every step labelled normal: the figures are those of an unlabelled series
            metrics["warnings"] = [note]
        if data.ids is not None and "top_step" in metrics:  # the file's own time of that step
            metrics["top_time"] = str(data.ids[metrics["top_step"]])
        found = {"window": int(est.window_), "window_source": est.window_source_}
        return {**found, "detrend": est.detrend_, **metrics}

    def quality_warnings(self, est, metrics: dict[str, Any], data: Data) -> list[str]:
        """The base warnings; alarms over most of the recording; channels that held one value while
        training (any change in them will be flagged)."""
        from .quality import alarms_everywhere

        warnings = super().quality_warnings(est, metrics, data)
        rate = metrics.get("anomaly_rate")
        if rate is None:  # labelled: the share of steps the threshold flags
            rate = float(np.mean(est.score_samples(_channels(est, data)) > est.threshold_))
        held = getattr(est, "constant_channels_", [])
        calibration = getattr(est, "calibration_", {})
        kept = calibration.get("steps", 0) if calibration.get("method") == "tail" else 0
        whole = len(est.decision_scores_) + kept >= len(data)  # no --train-steps: all of it
        found = alarms_everywhere(float(rate), est.threshold_rule(), whole, held)
        warnings += [found] if found else []
        if est.detrend_ != "none" and est.detrend == "auto":  # said once, where it was decided
            warnings.append(f"{est.detrend_source_} (--detrend none to model the levels)")
        if held:
            warnings.append(
                f"channel{'s' if len(held) > 1 else ''} {', '.join(held[:5])} held one value over the "
                f"training stretch, so any change in {'them' if len(held) > 1 else 'it'} will be "
                f"flagged as anomalous; drop {'them' if len(held) > 1 else 'it'} from --data, or train "
                f"on a stretch where {'they vary' if len(held) > 1 else 'it varies'}"
            )
        return warnings

    def figures(self, est, data: Data, folder: Path) -> list[Path]:
        folder = Path(folder)
        x = _channels(est, data)
        scores = est.score_samples(x)
        flagged = [(r.start, r.end) for r in est.ranges(x)]
        common = dict(
            threshold=est.threshold_,
            ranges=flagged,
            labels=data.y,
            channel_names=est.channel_names_,
            times=data.ids,  # the file's time column, when it has one: the axis in its times
            time_name=data.id_name or "time",
        )
        # the neighbours alone train no network: no loss curve to draw
        written = (
            [plot_history(est.history_, folder / "loss.png", overwrite=True)]
            if est.history_
            else []
        )
        written += [
            plot_series_scores(
                x,
                scores,
                folder / "series.png",
                **common,
                title=f"{Path(data.source).name}: window {est.window_}",
                overwrite=True,
            ),
        ]
        top = top_step(scores)
        reach = 2 * est.window_  # a zoom on the top-scoring step: two windows either side
        written.append(
            plot_series_scores(
                x,
                scores,
                folder / "top_range.png",
                start=top - reach,
                stop=top + reach + 1,
                title=f"around the top-scoring step {top}"
                + ("" if data.ids is None else f" ({data.ids[top]})"),
                **common,
                overwrite=True,
            )
        )
        return written


RECIPE = SeriesRecipe()


def _channels(est, data: Data):
    """The series' values in the channels' order: by name from a table, as they are from a .npy
    (values only, its channels numbered), as :func:`score_file` reads them."""
    if Path(str(data.source)).suffix.lower() == ".npy":
        return data.x
    return columns_by_name(data, est.channel_names_, "channels")


def _check_label_classes(data: Data) -> str | None:
    """Labels of one class: all anomalous is refused (nothing normal to compare with); all normal is
    said (the figures are then those of an unlabelled series). None when both classes are there."""
    if data.y is None or len(data.y) == 0:
        return None
    anomalous = int(np.sum(data.y))
    if anomalous == len(data.y):
        raise DataError(
            f"{Path(str(data.source)).name}: every one of its {len(data.y)} steps is labelled anomalous "
            f"(1); the figures compare anomalous steps with normal ones (0): check the label column"
        )
    if anomalous == 0:
        return (
            f"no step of {Path(str(data.source)).name} is labelled anomalous: the figures are those "
            f"of an unlabelled series (what the detector flags)"
        )
    return None


def read_run_series(est, path: str, spec: DataSpec | None = None) -> np.ndarray:
    """The normal series in ``path`` as a fitted detector reads it: its channels by name (a .npy in
    its order), ``spec``'s time column and fill; (steps, channels). Steps labelled anomalous in
    ``spec``'s label column are refused in one line (a calibration takes normal steps)."""
    spec = spec or DataSpec()
    columns = est.channel_names_ if Path(path).suffix.lower() != ".npy" else None
    chunks = list(
        iter_series(
            path,
            time_column=spec.time_column,
            label_column=spec.label_column,
            columns=columns,
            fill=spec.fill,
        )
    )
    y = [chunk.y for chunk in chunks if chunk.y is not None]
    flagged = np.flatnonzero(np.concatenate(y)) if y else []
    if len(flagged):
        raise DataError(
            f"{path} has {len(flagged)} steps labelled anomalous in {spec.label_column!r} (the "
            f"first at step {int(flagged[0])}); calibrate on a stretch of normal steps"
        )
    return np.concatenate([chunk.x for chunk in chunks])


def score_file(
    est,
    path: str,
    output: str,
    *,
    ranges_path: str | None = None,
    spec: DataSpec | None = None,
    chunk_steps: int | None = None,
    channels: bool = False,
) -> tuple[int, int]:
    """Score the series in ``path`` into ``output`` (``TIME, score, is_anomaly[, p_value]`` per
    step: the time column under its own name, else ``time``; the p-value when the detector has
    calibration scores; with ``channels``, a ``score_CHANNEL`` column per channel) and, when asked,
    the flagged ranges into ``ranges_path``; return ``(steps, ranges)``.

    The file is read, scored and written a chunk at a time (memory bounded whatever its length);
    both outputs appear atomically, only when the whole series is scored. ``time`` is the value
    of the time column, or the step number when the series has none.
    """
    spec = spec or DataSpec()
    kw = {} if chunk_steps is None else {"chunk_steps": chunk_steps}
    columns = est.channel_names_ if Path(path).suffix.lower() != ".npy" else None
    if columns is None and Path(path).suffix.lower() != ".npy":
        # channels unnamed (a model fitted on an array): every column but the time and the label
        kw["label_column"] = spec.label_column
    chunks = iter_series(path, time_column=spec.time_column, columns=columns, fill=spec.fill, **kw)
    times = _Times()
    sep = "\t" if output.lower().endswith(".tsv") else ","
    threshold = est.threshold_
    calibration = getattr(est, "calibration_scores_", None)
    windows = None if calibration is None else est.calibration_windows_  # what the steps are worth
    header = ["score", "is_anomaly"] + (["p_value"] if calibration is not None else [])
    if channels:
        names = est.channel_names_ or [str(c) for c in range(est.n_features_in_)]
        header += [f"score_{name}" for name in names]
    tracker = RangeTracker(threshold)
    found: list = []
    edge_times: dict[int, Any] = {}  # the time of each step where a range may start or end
    n = 0
    with _io.atomic_path(output) as tmp, _io.text_file(tmp) as f:
        writer = _io.CsvRows(f, delimiter=sep)
        pairs = est.iter_scores(times.values(chunks), cover=True, channels=channels)
        for scored, cover in pairs:
            if n == 0:  # the time column under the user's own name (known once a chunk is read)
                writer.writerow([times.name, *header])
            scores = (
                scored[:, 0] if channels else scored
            )  # (steps,); then each channel's, (steps, C)
            t = times.take(len(scores))
            flags = (scores > threshold).astype(np.int8)
            columns = [t.tolist(), map(repr, scores.tolist()), flags.tolist()]
            if calibration is not None:
                columns.append(map(repr, p_values(calibration, scores, windows).tolist()))
            if channels:
                columns += [map(repr, scored[:, 1 + c].tolist()) for c in range(len(names))]
            writer.writerows(zip(*columns))
            done = tracker.push(scores, cover)
            _note_edges(edge_times, done, tracker.open, t, n)
            found += done
            n += len(scores)
        found += tracker.finish()
        if n == 0:
            writer.writerow([times.name, *header])
    if ranges_path is not None:
        _write_ranges(ranges_path, found, edge_times)
    return n, len(found)


class _Times:
    """The time values of the steps read but not scored yet (the step numbers without a time column)."""

    def __init__(self) -> None:
        self.queue: collections.deque = collections.deque()
        self.name = "time"  # the time column's own name, once a chunk of a file with one is read

    def values(self, chunks: Iterator[Data]) -> Iterator[np.ndarray]:
        """Each chunk's values, its times queued."""
        step = 0
        for chunk in chunks:
            self.name = chunk.id_name or self.name
            self.queue.append(
                chunk.ids if chunk.ids is not None else np.arange(step, step + len(chunk))
            )
            step += len(chunk)
            yield chunk.x

    def take(self, k: int) -> np.ndarray:
        """The times of the next ``k`` steps scored."""
        out = []
        while k:
            head = self.queue[0]
            out.append(head[:k])
            if len(head) <= k:
                self.queue.popleft()
            else:
                self.queue[0] = head[k:]
            k -= len(out[-1])
        return np.concatenate(out) if out else np.zeros(0)


def _note_edges(
    edge_times: dict[int, Any], done: list, running: Any, t: np.ndarray, first: int
) -> None:
    """Record the time of each step in this chunk (from step ``first``) where a range may start or
    end: the ends of the ranges closed in it, and where the range still running starts, and where
    its narrowed part starts and ends so far."""
    steps = [s for r in done for s in (r.start, r.end)]
    if running is not None:
        steps += [running.start, running.first, running.last]
    for step in steps:
        if first <= step < first + len(t):
            edge_times[step] = t[step - first]


def _write_ranges(path: str, found: list, edge_times: dict[int, Any]) -> None:
    """The flagged ranges as a .csv or .tsv: start, end, their times, the peak step and score."""
    with _io.atomic_path(path) as tmp, _io.text_file(tmp) as f:
        writer = _io.CsvRows(f, delimiter="\t" if path.lower().endswith(".tsv") else ",")
        writer.writerow(["start", "end", "start_time", "end_time", "peak_step", "peak_score"])
        for r in found:
            writer.writerow(
                [
                    r.start,
                    r.end,
                    edge_times.get(r.start, r.start),
                    edge_times.get(r.end, r.end),
                    r.peak_step,
                    repr(float(r.peak_score)),
                ]
            )
