"""``aekit train series`` and the series side of ``aekit score``: anomalies in one long signal."""

from __future__ import annotations

import argparse
from typing import Any

from ..estimators import params as P
from .options import add_threshold_options, first_given, option_name, refuse_processes
from .types import int_list, name_list, non_negative_float, positive_float, positive_int

FILLS = ("linear", "previous")
TABLE = P.SERIES_DETECTOR  # the detector's parameters: the options' choices come from it


def window_arg(text: str) -> int | str:
    """'auto' or a whole number >= 2."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a whole number of steps, got {text!r}"
        ) from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected a window of at least 2 steps, got {value}")
    return value


def level_arg(text: str) -> float | str:
    """'auto' or a number >= 0."""
    return text if text == "auto" else non_negative_float(text)


def add_series_data_options(g) -> None:
    """How a series file is read: the time column and gaps (train, score)."""
    g.add_argument(
        "--time-column",
        metavar="COL",
        help="the column (name or index) of each step's time; carried through to the scores",
    )
    g.add_argument(
        "--fill",
        choices=FILLS,
        help="fill gaps (empty cells, NaN) instead of refusing them: linear "
        "(a straight line across the gap) or previous (the last value)",
    )


def _options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("series")
    add_series_data_options(g)
    g.add_argument(
        "--columns",
        type=name_list,
        metavar="A,B",
        help="the channels (default: every column but the time and label ones); later files are "
        "read by these names",
    )
    g.add_argument(
        "--train-steps",
        type=positive_int,
        metavar="N",
        help="train on the first N steps of --data (default: all of it: a separate file of normal "
        "steps, as the UCR archive's *_TRAIN); the run's figures then cover the whole series, "
        "these N steps included",
    )
    g.add_argument(
        "--window",
        type=window_arg,
        metavar="W",
        help="steps per window (default auto: the signal's "
        "dominant period, from its autocorrelation; recorded in config.json)",
    )
    g.add_argument(
        "--stride", type=positive_int, metavar="S", help="steps between windows (default 1)"
    )
    g.add_argument(
        "--method",
        choices=P.choices(TABLE, "method"),
        help="a window's score: its z-normalised distance to the nearest training window, in units "
        "of the distances there (neighbors, the default; no network), a 1-D conv autoencoder's "
        "reconstruction error (reconstruction), or both",
    )
    g.add_argument(
        "--references",
        type=positive_int,
        metavar="N",
        help="training windows kept to compare with, at most (default 50000; evenly spaced)",
    )
    g.add_argument(
        "--level",
        type=level_arg,
        metavar="L",
        help="neighbors: the weight of a window's level (mean, std) beside its shape (default auto: "
        "1, or 0.3 on a detrended stretch; 0: shape alone)",
    )
    g.add_argument(
        "--detrend",
        choices=P.choices(TABLE, "detrend"),
        help="model each step minus the mean of the window before it (level) or the step-to-step "
        "differences (difference) instead of the raw values (none); default auto: level when a "
        "straight line explains most of a channel's variance over the training stretch (said in "
        "one line, recorded in config.json)",
    )
    g.add_argument(
        "--aggregate",
        choices=P.choices(TABLE, "aggregate"),
        help="a step's score: the mean (default with neighbors) or the highest (default otherwise) "
        "score of the windows covering it",
    )
    m = p.add_argument_group("model (--method reconstruction or both)")
    m.add_argument(
        "--channels", type=int_list, metavar="C1,C2", help="encoder conv widths (default 32,16)"
    )
    m.add_argument("--kernel-size", type=positive_int, metavar="K", help="conv taps (default 7)")
    m.add_argument("--no-latent", action="store_true", help="no dense code: fully convolutional")
    m.add_argument(
        "--scaler",
        choices=P.choices(TABLE, "scaler"),
        help="scaling fitted on the training stretch (default standard: per channel)",
    )
    m.add_argument(
        "--error", choices=P.choices(TABLE, "error"), help="a window's error (default mse)"
    )
    m.add_argument("--loss", choices=P.choices(TABLE, "loss"), help="training loss (default mse)")
    t = add_threshold_options(
        p,
        TABLE,
        rule="max (default: margin x the highest training score), fpr:RATE (a per-step "
        "false-alarm rate, calibrated on the last 20%% of the stretch, which is then not trained "
        "on), pot:RATE, mean_std, percentile, contamination, mad, or a number",
        k=3,
        q=99,
    )
    t.add_argument(
        "--margin", type=positive_float, metavar="M", help="max: the factor (default 1.5)"
    )


TRAIN_OPTIONS = {"series": _options}
# --data of `aekit train series`: the series files it reads (aekit.data.series.SERIES_EXTENSIONS)
DATA_HELP = {
    "series": "your own recording: .csv, .tsv, .parquet (rows are time steps, columns channels) or "
    ".npy (steps,) or (steps, channels)"
}
# The shared training options that a series does not read: no built-in series, no images or .npz,
# no split (the training stretch is --data or its first --train-steps), no streaming, no presets.
NOT_APPLICABLE = {
    "series": (
        "--dataset",
        "--data-dir",
        "--npz-key",
        "--id-column",
        "--image-size",
        "--validation-split",
        "--stream",
        "--memory-cap",
        "--preset",
    )
}
HELP = {
    "series": "anomalous steps and ranges of one long signal (train on a normal stretch; nearest "
    "training window or a 1-D conv autoencoder)"
}

_PARAMS = (
    "window",
    "stride",
    "method",
    "references",
    "level",
    "detrend",
    "aggregate",
    "channels",
    "kernel_size",
    "scaler",
    "error",
    "loss",
    "threshold",
    "margin",
    "k",
    "q",
    "contamination",
)


def train_params(family: str, args: argparse.Namespace) -> dict[str, Any]:
    params = {p: getattr(args, p) for p in _PARAMS if getattr(args, p, None) is not None}
    if getattr(args, "no_latent", False):
        if getattr(args, "latent_dim", None) is not None:
            from ..errors import UsageError

            raise UsageError(
                "--no-latent leaves no code for --latent-dim to size; give one of them"
            )
        params["latent_dim"] = None
    refuse_unread_at_training(family, args, params)
    _refuse_network_options(args, params.get("method"))
    if getattr(args, "patience", None) is not None:  # refused as the image CLI refuses it
        from ..errors import UsageError

        raise UsageError(
            "--patience does not apply to a series: the series detector trains without a "
            "validation set, so nothing stops early; drop --patience (--epochs sets the training)"
        )
    return params


def _refuse_network_options(args: argparse.Namespace, method: str | None) -> None:
    """``--nproc``, ``--tensorboard``, ``--no-latent``: the neighbours alone train no network
    (refused rather than run N times over, or silently ignored)."""
    from ..errors import UsageError
    from ..estimators.series import SeriesDetector

    if (method or SeriesDetector().get_params()["method"]) != "neighbors":
        return
    refuse_processes(args, "neighbors", "its nearest-window search", "reconstruction or both")
    for dest, option in (
        ("tensorboard", "--tensorboard"),
        ("no_latent", "--no-latent"),
        ("encoder", "--encoder"),
        ("decoder", "--decoder"),
        ("network", "--network"),
    ):
        if getattr(args, dest, False):
            raise UsageError(
                f"{option} does not apply to method 'neighbors': its nearest-window search trains "
                f"no network; drop {option} (or use --method reconstruction or both)"
            )


def register(subparsers) -> None:
    """The series commands are ``aekit train series`` and ``aekit score`` (dispatched from cmd_anomaly)."""


# `aekit score` options of a table run that a series run does not read, and the reverse.
TABLE_SCORE_OPTIONS = ("id_column", "npz_key", "image_size")
SERIES_SCORE_OPTIONS = ("time_column", "fill", "ranges", "channels")
# How a series file is read: the same options on train, score and evaluate, checked against the run.
READ_OPTIONS = ("time_column", "label_column", "fill")


def series_spec(args: argparse.Namespace, config: dict, path: str | None):
    """The run's recorded data spec with ``--time-column``, ``--label-column`` and ``--fill`` as given,
    refused in one line where they contradict the run: a column the run reads as a channel named as
    the time or label column, a fill other than the one it was trained with, or, on the run's own
    data (no other file given), another time or label column than it was read with. ``path``: the
    file to read (a .npy has values only: the recorded columns do not apply to it)."""
    from pathlib import Path

    from ..recipes import DataSpec

    spec = DataSpec.from_json(config.get("data", {})).reading_from(getattr(args, "data_dir", None))
    own = path is None or str(path) == str(spec.data)
    if not own and Path(path).suffix.lower() == ".npy":
        spec.time_column = spec.label_column = None
    channels = [str(c) for c in (config.get("state") or {}).get("channel_names") or []]
    for name in READ_OPTIONS:
        given = getattr(args, name, None)
        if given is not None:
            _check_read_option(args.run, name, given, getattr(spec, name), own, channels)
            setattr(spec, name, given)
    return spec


def _check_read_option(run, name: str, given, recorded, own: bool, channels: list[str]) -> None:
    from ..errors import UsageError

    option = option_name(name)
    strict = own or name == "fill"  # another file may name its time and label columns its own way
    if strict and recorded is not None and str(given) != str(recorded):
        raise UsageError(
            f"{option} {given} contradicts {run}, trained with {option} {recorded}; "
            f"give {option} {recorded} or drop it"
        )
    if name != "fill" and str(given) in channels:
        raise UsageError(
            f"{option} {given} contradicts {run}: {given!r} is one of its channels (it was trained "
            f"on it); name the {name.split('_')[0]} column, or drop {option}"
        )


def refuse_options(args: argparse.Namespace, names, run_kind: str) -> None:
    """One line for an option given to ``aekit score`` that a run of ``run_kind`` would not apply."""
    from ..errors import UsageError

    for name in names:
        if getattr(args, name, None) is not None:
            option = option_name(name)
            raise UsageError(f"{option} does not apply to {args.run}, {run_kind}; drop it")


def apply_threshold_options(args: argparse.Namespace, est) -> None:
    """``--threshold``, ``--k``, ``--q``, ``--contamination`` set on the detector; a parameter that
    the resulting rule does not read (``--contamination`` on a ``max`` rule) is refused in one line."""
    given = {
        p: getattr(args, p)
        for p in ("threshold", "k", "q", "contamination")
        if getattr(args, p, None) is not None
    }
    if not given:
        return
    est.set_params(**given)
    est.check_params()  # a bad rule fails before anything is read
    refuse_unread_rule_options(args, est, f" of {args.run}")


def refuse_series_rule(args: argparse.Namespace, estimator: str | None) -> None:
    """One line for ``--threshold max`` (``max:M``) given to ``aekit score`` or ``calibrate`` on a run
    that is not a series run: only the series detector has that rule."""
    from ..errors import UsageError

    rule = getattr(args, "threshold", None)
    if (
        estimator == "SeriesDetector"
        or not isinstance(rule, str)
        or rule.partition(":")[0] != "max"
    ):
        return
    raise UsageError(
        f"--threshold {rule} is a series run's rule ('aekit train series'), and {args.run} is not "
        f"one; give fpr:RATE, pot:RATE, mean_std, percentile, contamination, mad or a number"
    )


# A threshold rule's parameters given as options, and the rules that read each
RULE_OPTIONS = {
    "k": "mean_std or mad",
    "q": "percentile",
    "contamination": "contamination",
    "margin": "max",
}


def refuse_unread_rule_options(args: argparse.Namespace, est, of: str = "") -> None:
    """One line for a rule's parameter given (``--q``) that the detector's rule does not read: another
    rule's (``fpr``), or the rule's own when its value is written in the rule (``percentile:99``).
    ``of``: whose rule it is, for the message (" of RUN")."""
    from ..errors import UsageError
    from ..estimators.thresholds import unread_rule_params

    rule = est.threshold_rule()
    given = [name for name in RULE_OPTIONS if getattr(args, name, None) is not None]
    for name, why in unread_rule_params(est, given).items():
        value, option = getattr(args, name), option_name(name)
        if why == "unread":
            raise UsageError(
                f"{option} does not apply to the threshold rule {rule.name!r}{of}; "
                f"add --threshold {RULE_OPTIONS[name]}, or drop {option}"
            )
        if why == "carried":
            raise UsageError(
                f"{option} {value:g} does not apply to the threshold rule {est.threshold!r}{of}, "
                f"which carries its own value; give --threshold {rule.name}:{value:g}, or drop "
                f"{option}"
            )


def refuse_unread_at_training(family: str, args: argparse.Namespace, params: dict) -> None:
    """``aekit train``: :func:`refuse_unread_rule_options` on the detector the run will hold (the
    recipe's defaults < ``--preset`` < the options), before any data is read; with ``--resume`` the
    run's recorded rule applies, which the given options cannot change."""
    if getattr(args, "resume", False) or first_given(args, RULE_OPTIONS) is None:
        return
    from ..recipes import get_recipe

    est = get_recipe(family).build({**params, "preset": getattr(args, "preset", None)})
    refuse_unread_rule_options(args, est)


def cmd_score_series(args: argparse.Namespace) -> int:
    """``aekit score RUN --input SERIES --output scores.csv [--ranges ranges.csv]`` for a series run."""

    from .. import load
    from .._outputs import refuse_existing, same_place
    from ..errors import UsageError
    from ..estimators.persistence import read_config
    from ..recipes.series import score_file

    refuse_options(args, TABLE_SCORE_OPTIONS, "a series run (its steps are read by --time-column)")
    config = read_config(args.run)
    est = load(args.run)
    outputs = {"--output": args.output, "--ranges": getattr(args, "ranges", None)}
    if outputs["--ranges"] and same_place(args.output, outputs["--ranges"]):
        # compared as places, not strings: ./s.csv is s.csv, and the ranges would replace the steps
        raise UsageError(f"--output and --ranges are both {args.output}; give two files")
    written = []
    for option, out in outputs.items():
        if not out:
            continue
        if not out.lower().endswith((".csv", ".tsv")):
            raise UsageError(f"cannot write {out}: expected a .csv or .tsv file")
        written.append(
            str(refuse_existing(out, args.overwrite, inputs=[args.input], option=option))
        )
    apply_threshold_options(args, est)
    spec = series_spec(args, config, args.input)
    steps, ranges = score_file(
        est,
        args.input,
        written[0],
        ranges_path=written[1] if len(written) > 1 else None,
        spec=spec,
        channels=bool(getattr(args, "channels", None)),
    )
    counted = f"{ranges} range{'' if ranges == 1 else 's'}"
    where = f"; {counted} to {args.ranges}" if getattr(args, "ranges", None) else ""
    print(
        f"wrote {steps} step scores to {args.output} (window {est.window_}, threshold {est.threshold_:.6g}, "
        f"{counted} anomalous){where}"
    )
    return 0
