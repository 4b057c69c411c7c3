"""``aekit train anomaly`` and ``aekit score``: reconstruction-error anomaly detection."""

from __future__ import annotations

import argparse
import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import _io
from ..estimators import params as P
from .options import (
    add_data_options,
    add_table_options,
    add_threshold_options,
    first_given,
    input_id_column,
    input_label_column,
    option_name,
    refuse_feature_roles,
    table_options,
)
from .types import int_list, non_negative_float, number, or_auto, positive_int
from .widths import check_width

TABLE = P.ANOMALY_DETECTOR  # the detector's parameters: the options' choices come from it
IMAGES = "ImageAnomalyDetector"  # the estimator of the family's image row (cmd_images)
# Options of `aekit score` that only a scoring in this process reads or writes (not --dask's)
LOCAL_SCORE_OPTIONS = (
    "feature_errors", "maps", "maps_format", "overlay", "ranges", "channels", "time_column",
    "fill", "npz_key", "image_size", "label_column",
)  # fmt: skip


def _threshold_options(p: argparse.ArgumentParser) -> None:
    add_threshold_options(
        p,
        TABLE,
        rule="fpr:RATE (default fpr:0.05, a folder of images fpr:0.01: a false-alarm rate on normal "
        "data, calibrated on normal rows or images the model never trained on), pot:RATE, "
        "percentile, contamination, mean_std, mad (each also as NAME:VALUE), or a number",
        k=1,
        q=95,
    )


def _run_threshold_options(p: argparse.ArgumentParser, rule: str) -> None:
    """``aekit score`` and ``calibrate``: the rules of every detector run, a series run's ``max``
    too (:func:`cmd_series.refuse_series_rule` refuses it for the others)."""
    add_threshold_options(p, P.SERIES_DETECTOR, rule=rule, k=1, q=95)


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument_group("data").add_argument(
        "--normal-label",
        metavar="VALUE",
        help="with --label-column: the label of normal rows (others are anomalies); a folder of "
        "images in class sub-folders: the sub-folder of the good images (default good)",
    )
    add_table_options(p)
    g = p.add_argument_group("model")
    g.add_argument(
        "--architecture",
        choices=P.choices(TABLE, "architecture"),
        help="dense (default), conv1d (a 1-D conv autoencoder over each row as a signal) or conv2d "
        "(a 2-D conv autoencoder over images, an (n, C, H, W) .npy)",
    )
    g.add_argument(
        "--hidden",
        type=or_auto(int_list),
        metavar="W1,W2",
        help="encoder widths before the code (default auto: sized from the number of features)",
    )
    g.add_argument(
        "--members",
        type=positive_int,
        metavar="N",
        help="dense networks trained side by side, their scores averaged (default 3 dense, 1 conv)",
    )
    g.add_argument("--activation", help="hidden activation (default relu)")
    g.add_argument(
        "--output-activation",
        help="auto (default: sigmoid with minmax, else linear), sigmoid, linear",
    )
    g.add_argument(
        "--init", choices=P.choices(TABLE, "init"), help="weight initialisation (default glorot)"
    )
    g.add_argument(
        "--scaler",
        choices=P.choices(TABLE, "scaler"),
        help="preprocessing saved with the model (default auto: per-feature median/IQR, one shared "
        "scale when all features have a similar spread or range: a signal, an image's pixels)",
    )
    g.add_argument(
        "--error",
        choices=P.choices(TABLE, "error"),
        help="the anomaly score (default nmse: the squared "
        "error of each feature in units of its typical error on normal rows, averaged)",
    )
    g.add_argument(
        "--density",
        type=non_negative_float,
        metavar="W",
        help="weight of the code's local outlier "
        "factor among the normal rows' codes in the score (default 0.5; 0 = reconstruction error alone)",
    )
    g.add_argument(
        "--neighbors",
        type=positive_int,
        metavar="K",
        help="--density: neighbours of a code (default 40)",
    )
    g.add_argument(
        "--input-density",
        type=non_negative_float,
        metavar="W",
        help="weight of the scaled row's local "
        "outlier factor among the normal rows in the score (default 0.25; 0 = none)",
    )
    g.add_argument(
        "--input-neighbors",
        type=positive_int,
        metavar="K",
        help="--input-density: neighbours of a row (default 20)",
    )
    g.add_argument("--loss", choices=P.choices(TABLE, "loss"), help="training loss (default mse)")
    g.add_argument(
        "--validation-fraction",
        type=number,
        metavar="F",
        help="normal training rows held out for "
        "early stopping and the threshold (default 0.1; 0 = none)",
    )
    _threshold_options(p)


TRAIN_OPTIONS = {"anomaly": _options}
HELP = {
    "anomaly": "anomaly detection by reconstruction error (train on normal data; --preset recipe: the "
    "ECG5000 tutorial); --data FOLDER of good images: which images are defective and where (a map "
    "per image)"
}

_PARAMS = {
    "hidden": "hidden",
    "activation": "activation",
    "output_activation": "output_activation",
    "init": "init",
    "scaler": "scaler",
    "error": "error",
    "loss": "loss",
    "threshold": "threshold",
    "k": "k",
    "q": "q",
    "contamination": "contamination",
    "validation_fraction": "validation_fraction",
    "architecture": "architecture",
    "members": "members",
    "density": "density",
    "neighbors": "n_neighbors",
    "input_density": "input_density",
    "input_neighbors": "input_neighbors",
}


def train_params(family: str, args: argparse.Namespace) -> dict[str, Any]:
    """The detector's parameters: the image detector's for a folder of images (cmd_images)."""
    from . import cmd_images
    from .cmd_series import refuse_unread_at_training

    if cmd_images.image_run(args):
        return cmd_images.train_params(args)
    cmd_images.refuse_given(
        args, cmd_images.IMAGE_ONLY, "applies to a folder of images (--data FOLDER), not a table"
    )
    params = {p: getattr(args, a) for a, p in _PARAMS.items() if getattr(args, a, None) is not None}
    refuse_unread_at_training(family, args, params)
    return params


def _register_calibrate(subparsers) -> None:
    c = subparsers.add_parser(
        "calibrate",
        help="change a detector run's threshold rule or calibrate it on new normal data, "
        "without retraining (the weights stay as they are)",
    )
    c.add_argument(
        "run", metavar="RUN", help="a run folder of 'aekit train anomaly' or 'aekit train series'"
    )
    c.add_argument(
        "--data",
        metavar="PATH",
        help="normal rows the model never trained on (read like the training data), or an image "
        "run's good images: their scores become the calibration scores",
    )
    g = c.add_argument_group("labels (a table or series holding anomalies too)")
    g.add_argument(
        "--label-column",
        metavar="COL",
        help="the column (name or index) of the labels, the run's own by default when --data has "
        "it: a table calibrates on its rows labelled normal alone; a series refuses anomalous steps",
    )
    g.add_argument(
        "--normal-label",
        metavar="VALUE",
        help="a table's label of normal rows (default: the run's)",
    )
    _run_threshold_options(
        c,
        "the new rule: fpr:RATE (a false-alarm rate), pot:RATE, percentile, contamination, "
        "mean_std, mad (each also as NAME:VALUE), a series run's max (or max:M), or a number",
    )
    from .cmd_series import add_series_data_options

    add_series_data_options(c.add_argument_group("a series run ('aekit train series')"))
    c.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (it shows none: taken as by every command on a run)",
    )
    c.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``aekit calibrate RUN [--threshold RULE] [--data NORMAL]``."""
    from ..recipes import load_run
    from ..recipes.calibrate import calibrate_run
    from .cmd_series import apply_threshold_options, refuse_options, refuse_series_rule

    est, recipe, config = load_run(args.run)
    refuse_series_rule(args, config.get("estimator"))
    if config.get("estimator") == IMAGES:
        from .cmd_images import cmd_calibrate_images

        refuse_options(args, ("label_column", "normal_label"), "an image run (good images)")
        return cmd_calibrate_images(args, recipe, config)
    refuse_options(args, ("pixel_threshold",), "which is not an image run")
    series = config.get("estimator") == "SeriesDetector"
    if not series:
        refuse_options(args, ("time_column", "fill"), "which is not a series run")
    else:
        refuse_options(args, ("normal_label",), "a series run (its labels are 0 or 1)")
    reading = first_given(args, ("label_column", "normal_label", "time_column", "fill"))
    if args.data is None and reading is not None:  # they say how to read --data
        from ..errors import UsageError

        raise UsageError(f"{option_name(reading)} says how to read --data; give --data or drop it")
    if hasattr(est, "threshold_rule"):  # a detector: a --k, --q the rule ignores is one line
        apply_threshold_options(args, est)
    normal = None if args.data is None else _calibration_data(args, est, config, series)
    rule = {p: getattr(args, p) for p in ("threshold", "k", "q", "contamination")}
    given = {p: v for p, v in rule.items() if v is not None}
    est = calibrate_run(args.run, normal=normal, source=args.data, **given)
    c = est.threshold_basis() if series else est.calibration_  # the steps the rule read
    count = f"{c['steps']} normal steps" if series else f"{c['rows']} normal rows"
    print(
        f"{args.run}: threshold {est.threshold!s} = {est.threshold_:.6g} "
        f"(calibration: {c['method']}, {count}); weights unchanged"
    )
    return 0


def _calibration_data(args: argparse.Namespace, est, config: dict, series: bool):
    """``--data`` read as the run reads its data, its labels too (given, or the run's label column
    when the file has it): a series' channels by name, its anomalous steps refused; a table's
    columns and fill values, its rows labelled normal alone."""
    label = input_label_column(args, config, args.data)
    if series:
        from ..recipes.series import read_run_series
        from .cmd_series import series_spec

        spec = series_spec(args, config, args.data)  # a given --label-column checked there
        spec.label_column = label
        return read_run_series(est, args.data, spec)
    from ..recipes import DataSpec
    from ..recipes.anomaly import calibration_rows

    labels = DataSpec(**_calibration_labels(args, config, label))
    check = functools.partial(check_width, est=est, path=args.data)  # named, before any note
    unlabelled = functools.partial(_no_labels_read, args, config)
    return calibration_rows(args.data, table_options(est, config), labels, check, unlabelled)


def _no_labels_read(args: argparse.Namespace, config: dict) -> None:
    """``--data`` read with no labels (a .npy, an .npz without y; a table without its label column
    is told by :func:`_calibration_labels`): a given ``--normal-label`` would be ignored, so it is
    refused, as evaluate refuses it; else, for a run trained on labelled rows, a note that every
    row is taken as normal."""
    from .._notes import note
    from ..errors import UsageError
    from .options import input_format

    if input_format(args.data) == "table":
        return
    if args.normal_label is not None:
        raise UsageError(
            f"--normal-label is a label of normal rows, and {args.data} is read with no labels "
            f"(a .npy has none; an .npz needs a y or labels array); drop it"
        )
    recorded = config.get("data") or {}
    if recorded.get("label_column") is not None or recorded.get("normal_label") is not None:
        note(f"{args.data} holds no labels: every row is taken as normal")


def _calibration_labels(args: argparse.Namespace, config: dict, label) -> dict[str, Any]:
    """The label column and normal label a table's ``--data`` is calibrated with: ``label`` (given,
    or the run's when the file has it) and the given or the run's normal label, which an .npz's
    y array takes too. A table without a label column: a given ``--normal-label`` would be ignored
    and the anomalies calibrated on as normal rows, so it is refused (the run's column named as
    evaluate names it); without one, a note that every row is taken as normal."""
    from .._notes import note
    from ..errors import UsageError
    from .options import input_format

    recorded = config.get("data") or {}
    normal = recorded.get("normal_label") if args.normal_label is None else args.normal_label
    if label is not None or input_format(args.data) != "table":
        return {"label_column": label, "normal_label": normal}
    column = recorded.get("label_column")
    if args.normal_label is not None:
        if column is None:
            raise UsageError(
                f"--normal-label is a value of the label column, and {args.data} is read with "
                f"none: give --label-column COL with it"
            )
        return {"label_column": column, "normal_label": normal}  # the reader names the columns
    if column is not None:
        note(
            f"{args.data} has no column {column!r}, the run's label column: every row is taken "
            f"as normal, whatever its other columns hold (name its labels with --label-column COL)"
        )
    return {"label_column": None, "normal_label": None}


def register(subparsers) -> None:
    """``aekit score RUN --input FILE --output scores.csv``; ``aekit calibrate RUN``."""
    _register_calibrate(subparsers)
    s = subparsers.add_parser(
        "score", help="anomaly scores of new samples (one row per input row, or per image)"
    )
    s.add_argument(
        "run", metavar="RUN", help="a run folder of 'aekit train anomaly' (or a saved detector)"
    )
    s.add_argument(
        "--input",
        required=True,
        metavar="PATH",
        help=".csv/.tsv (columns picked by name), .npy or .npz; an image run: a folder of images "
        "or an image",
    )
    s.add_argument(
        "--output",
        required=True,
        metavar="FILE",
        help=".csv or .tsv: [id,] score, is_anomaly, p_value, then an error_COLUMN per feature "
        "with --feature-errors (with --dask: a folder of .parquet parts); an image run: file, score, "
        "is_anomaly, p_value; a series run: TIME, score, is_anomaly[, p_value][, score_CHANNEL...]",
    )
    s.add_argument(
        "--dask",
        metavar="SCHEDULER",
        help="score Parquet files (--input 'data/*.parquet') on the Dask cluster at SCHEDULER "
        "(tcp://host:8786), one part per input file; needs pip install 'aekit[dask]'",
    )
    add_data_options(s, builtin=False)
    _run_threshold_options(
        s,
        "the run's rule for these scores: fpr:RATE (a false-alarm rate), pot:RATE, percentile, "
        "contamination, mean_std, mad (each also as NAME:VALUE), a series run's max (or max:M), "
        "or a number",
    )
    from .cmd_series import add_series_data_options

    g = s.add_argument_group("a series run ('aekit train series')")
    add_series_data_options(g)
    g.add_argument(
        "--ranges",
        metavar="FILE",
        help=".csv or .tsv: the anomalous ranges, one a row: start, end (the scored file's step "
        "numbers from 0, end inclusive), their times, the peak step and score",
    )
    g.add_argument(
        "--channels",
        action="store_true",
        default=None,
        help="add a score_CHANNEL column per channel: which channels drove each step's score",
    )
    s.add_argument(
        "--feature-errors",
        action="store_true",
        default=None,
        help="a table run: add an error_COLUMN column per feature, its part of the row's score "
        "(which columns drove it)",
    )
    s.add_argument("--overwrite", action="store_true", help="replace an existing output")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")
    s.set_defaults(func=_score)


def _npy_chunks(path: str, rows: int = 16_384):
    """A .npy file as in-memory Data chunks of ``rows`` samples, read from disk one at a time."""
    from ..data import Data, NpyRows
    from ..estimators.base import iter_chunks

    with NpyRows(path) as store:
        for x in iter_chunks(store, rows):
            yield Data(x=x, source=path)


def _score(args: argparse.Namespace) -> int:
    """``aekit score``: on a Dask cluster with --dask, else in this process (:func:`cmd_score`)."""
    from ..estimators.persistence import read_config
    from .cmd_series import refuse_series_rule

    refuse_series_rule(args, read_config(args.run).get("estimator"))
    return _score_on_dask(args) if args.dask is not None else cmd_score(args)


def _score_on_dask(args: argparse.Namespace) -> int:
    """``--dask``: the files scored on a Dask cluster (:func:`aekit.dask.score_files`)."""
    from ..dask.files import score_files
    from ..errors import UsageError
    from ..estimators.persistence import load, read_config
    from .cmd_series import apply_threshold_options

    if read_config(args.run).get("estimator") == IMAGES:
        raise UsageError(
            f"--dask scores tables (Parquet files) on a cluster; {args.run} is an image run: score "
            f"its images here, without --dask"
        )
    local = first_given(args, LOCAL_SCORE_OPTIONS)  # read or written here: refused, not ignored
    if local is not None:
        option = option_name(local)
        raise UsageError(
            f"{option} is for a scoring in this process; --dask scores Parquet files on a "
            f"cluster, without it: drop --dask for {option}"
        )

    # a rule option the run's rule does not read: the line said without --dask (the cluster dropped
    # it; aekit.dask refuses it too, in Python's words)
    apply_threshold_options(args, load(args.run))
    thresholds = {p: getattr(args, p) for p in ("threshold", "k", "q", "contamination")}
    rows, parts = score_files(
        args.run,
        args.input,
        args.output,
        scheduler=args.dask,
        overwrite=args.overwrite,
        id_column=args.id_column,
        **{p: v for p, v in thresholds.items() if v is not None},
    )
    print(f"wrote {rows} scores in {parts} parts to {args.output}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from .._outputs import refuse_existing
    from ..errors import UsageError
    from ..estimators.persistence import read_config
    from ..recipes import load_run
    from .cmd_images import IMAGE_SCORE_OPTIONS
    from .cmd_series import SERIES_SCORE_OPTIONS, apply_threshold_options, refuse_options
    from .progress import set_verbose

    estimator = read_config(args.run).get("estimator")
    if estimator in (IMAGES, "SeriesDetector"):
        refuse_options(args, ("feature_errors",), "which is not a table run")
    if estimator == IMAGES:
        from .cmd_images import cmd_score_images

        est, _, config = load_run(args.run)
        set_verbose(est, args)
        return cmd_score_images(args, est, config)
    if estimator == "SeriesDetector":
        from .cmd_series import cmd_score_series

        refuse_options(args, IMAGE_SCORE_OPTIONS, "which is not an image run")
        return cmd_score_series(args)
    refuse_options(args, SERIES_SCORE_OPTIONS, "which is not a series run")
    est, _, config = load_run(args.run)
    set_verbose(est, args)
    if config.get("estimator") != "AnomalyDetector":
        raise UsageError(
            f"{args.run} is a {config.get('estimator')} run; 'aekit score' needs an anomaly run "
            f"('aekit train anomaly')"
        )
    if args.output.lower().endswith(".tsv"):
        sep = "\t"
    elif args.output.lower().endswith(".csv"):
        sep = ","
    else:
        raise UsageError(f"cannot write {args.output}: expected a .csv or .tsv file")
    out = refuse_existing(args.output, args.overwrite, inputs=[args.input])
    maps = _maps_target(args, est, out)
    apply_threshold_options(args, est)
    return _write_scores(args, est, config, out, sep, maps)


def _maps_target(args: argparse.Namespace, est, out: Path) -> Path | None:
    """Where ``--maps FILE.npy`` of a detector trained on image arrays goes (checked before
    anything is read), or None; the options of image runs' files are refused in one line."""
    from .._outputs import refuse_existing
    from ..errors import UsageError
    from .cmd_series import refuse_options

    images = len(est.input_shape_) == 3  # trained on (n, C, H, W) arrays
    kind = "which scores image arrays, not image files" if images else "which is not an image run"
    refuse_options(args, ("maps_format", "overlay"), kind)
    if args.maps is None:
        return None
    if not images:
        refuse_options(args, ("maps",), kind)
    if not args.maps.lower().endswith(".npy"):
        raise UsageError(
            f"cannot write {args.maps}: {args.run} scores image arrays, so --maps is one .npy file "
            f"of their maps, (n, H, W) in the input's order"
        )
    if Path(args.input).suffix.lower() in (".csv", ".tsv"):
        raise UsageError(
            f"--maps needs the images as images: an (n, C, H, W) .npy or .npz, or image files, "
            f"not the table {args.input}"
        )
    target = refuse_existing(args.maps, args.overwrite, inputs=[args.input], option="--maps")
    if target == out:
        raise UsageError("--output and --maps must be two files")
    return target


@contextlib.contextmanager
def _maps_file(path: Path | None, rows: int) -> Iterator[Any]:
    """``--maps``: yields ``add(maps)``, which writes a chunk's (b, H, W) maps after the ones
    before (None without ``--maps``); the (rows, H, W) float32 .npy appears whole or not at all."""
    import numpy as np

    if path is None:
        yield None
        return
    with _io.atomic_path(path) as tmp:
        out, done = None, 0

        def add(maps: np.ndarray) -> None:
            nonlocal out, done
            if out is None:  # the maps' height and width: the images', known at the first chunk
                shape = (rows, *maps.shape[1:])
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
            out[done : done + len(maps)] = maps
            done += len(maps)

        yield add
        if out is not None:
            out.flush()
            del out  # the mapping closed before the file is renamed


def _write_scores(args: argparse.Namespace, est, config: dict, out, sep: str, maps=None) -> int:
    """The table run's scores of ``--input``, chunk by chunk, into ``out`` (atomically), and the
    maps of a detector of image arrays into ``maps`` (another file, as atomically)."""

    from ..data import iter_table, read_path
    from ..data.missing import refuse_missing
    from ..data.rowstore import npy_layout
    from ..data.writers import refuse_shared_name
    from ..estimators.anomaly import SCORE_COLUMNS, feature_columns, score_table
    from ..training.progress import Pass

    refuse_feature_roles(args, est)
    options = dict(  # the model's columns by name (others are ignored), filled as at training
        label_column=args.label_column,
        id_column=input_id_column(args, config),
        **table_options(est, config),
    )
    rows = 0  # the images' count, for --maps (refused for a table)
    if Path(args.input).suffix.lower() in (".csv", ".tsv"):
        # streamed: memory bounded by one chunk, any file size
        chunks = iter_table(args.input, **options)
    elif Path(args.input).suffix.lower() == ".npy":
        chunks = _npy_chunks(args.input)  # memory-mapped, read a chunk at a time
        rows = npy_layout(Path(args.input))[0][0]  # the header only, checked
    else:
        chunks = [
            read_path(args.input, npz_key=args.npz_key, image_size=args.image_size, **options)
        ]
        rows = len(chunks[0])
    n = 0
    with (
        _io.atomic_path(out) as tmp,
        _io.text_file(tmp) as f,
        _maps_file(maps, rows) as add_maps,
        Pass(None, "score", unit="rows", verbose=0 if args.quiet else 1) as progress,
    ):
        for chunk in chunks:
            if n == 0:  # the header: the id column under its own name, as in the input
                check_width(chunk.x, est, args.input, names=chunk.feature_names)
                ident = [chunk.id_name or "id"] if chunk.ids is not None else []
                extra = feature_columns(est) if args.feature_errors else []
                if ident:  # a header naming two columns alike: none, not one aekit refuses
                    refuse_shared_name(ident[0], [*SCORE_COLUMNS, *extra], args.output, args.input)
                _io.CsvRows(f, delimiter=sep).writerow([*ident, *SCORE_COLUMNS, *extra])
            if chunk.x.ndim == 2 and options["fill_values"] is None:  # the run fills none
                refuse_missing(chunk.x, chunk.feature_names, args.input, n)
            f.write(
                score_table(
                    est, chunk.x, ids=chunk.ids, sep=sep, header=False, features=bool(extra)
                )
            )
            if add_maps is not None:  # a second pass of the network: the score needs more
                add_maps(est.anomaly_maps(chunk.x))
            n += len(chunk)
            progress.update(len(chunk))
    print(
        f"wrote {n} score{'s' if n != 1 else ''} to {args.output} (threshold {est.threshold_:.6g})"
    )
    if maps is not None:
        print(f"wrote {n} maps to {args.maps} (one per image, in the input's order)")
    return 0
