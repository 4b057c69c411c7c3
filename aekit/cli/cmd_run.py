"""Commands on a finished run of any family: ``evaluate``, ``encode``, ``reconstruct``, ``plot``.

Each reads the run's recorded data spec: the built-in data from ``--data-dir`` or the root the run
was trained with, the user's data from its recorded path, and only the held-out split.
"""

from __future__ import annotations

import argparse
import math

from .options import (
    add_data_options,
    add_run_options,
    read_for_model,
    recorded_spec,
    refuse_changed_data,
    run_inputs,
    run_spec,
)
from .progress import set_verbose
from .widths import check_width


def register(subparsers) -> None:
    ev = subparsers.add_parser(
        "evaluate",
        help="held-out figures of a run (the keys of metrics.json)",
        description="Compute a run's held-out figures again (on its held-out split), or on "
        "another file with --data. A series run trained with --train-steps N: the whole series, "
        "the N training steps included (the UCR archive's convention), which score 0 or nearly "
        "under the neighbours method (each training window is its own nearest reference).",
    )
    add_run_options(ev, overwrite=False)
    add_data_options(ev, builtin=False)
    ev.add_argument(
        "--data",
        metavar="PATH",
        help="evaluate on this file (an image run: a folder of images, labelled by class "
        "sub-folders good/ and others, or by --masks) instead of the run's held-out data",
    )
    ev.add_argument(
        "--normal-label",
        metavar="VALUE",
        help="anomaly detection: the label of normal rows (an image run: the class sub-folder of "
        "the good images, default good; the others are defective)",
    )
    ev.add_argument(
        "--output", metavar="FILE", help="write the figures as JSON here (default: print them)"
    )
    ev.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    from .cmd_series import add_series_data_options

    add_series_data_options(ev.add_argument_group("a series run ('aekit train series')"))
    ev.add_argument(
        "--baselines",
        action="store_true",
        help="anomaly detection: also fit scikit-learn's kNN distance, IsolationForest and LOF on the "
        "run's normal training rows and print their ROC-AUC and PR-AUC beside the detector's "
        "(--output: under 'baselines')",
    )
    ev.set_defaults(func=cmd_evaluate)

    # the codes are vectors: a folder of images is reconstruct's output alone
    table_output = ".npy, .csv/.tsv (each sample's id or file name first, then a header)"
    for name, helptext, func, output_help in (
        (
            "encode",
            "samples to latent vectors (CSV: with ids or file names, and a header)",
            cmd_encode,
            table_output,
        ),
        (
            "reconstruct",
            "samples through the autoencoder and back",
            cmd_reconstruct,
            f"{table_output}, or a folder for images",
        ),
    ):
        c = subparsers.add_parser(name, help=helptext)
        add_run_options(c)
        c.add_argument(
            "--input",
            metavar="PATH",
            help=".npy, .npz, .csv/.tsv or a folder of images (default: the run's held-out data)",
        )
        c.add_argument(
            "--output",
            required=True,
            metavar="PATH",
            help=output_help,
        )
        add_data_options(c, builtin=False)
        c.set_defaults(func=func)

    pl = subparsers.add_parser("plot", help="draw a run's figures again (from its held-out data)")
    add_run_options(
        pl,
        overwrite=False,
        run_help="a run folder ('aekit train --out'); a model saved with est.save() records no "
        "data to draw from",
    )
    pl.set_defaults(func=cmd_plot)


def _load(args: argparse.Namespace):
    """(estimator, recipe, config) of ``args.run``, with progress on stderr unless ``--quiet``."""
    from ..recipes import load_run

    est, recipe, config = load_run(args.run)
    set_verbose(est, args)
    return est, recipe, config


def _input(args: argparse.Namespace, est, recipe, config):
    """--input read with the model's columns, or else the run's held-out data."""
    if args.input is not None:
        return read_for_model(args, est, config)
    refuse_changed_data(args, config, "give the samples with --input FILE")
    return recipe.load_eval_data(run_spec(args, config), int(config.get("seed", 0)))


def _evaluate_spec(args: argparse.Namespace, config: dict):
    """How ``aekit evaluate`` reads the data: a series run's options are checked against the run
    (:func:`aekit.cli.cmd_series.series_spec`); the others do not take the series' options."""
    from .cmd_series import SERIES_SCORE_OPTIONS, refuse_options, series_spec

    if config.get("estimator") == "SeriesDetector":
        refuse_options(args, ("normal_label",), "a series run (its labels are 0 or 1)")
        return series_spec(args, config, args.data)
    refuse_options(args, SERIES_SCORE_OPTIONS, "which is not a series run")
    if config.get("estimator") != "AnomalyDetector":
        family = config.get("family", config.get("estimator"))
        refuse_options(
            args, ("normal_label",), f"a {family} run (it names the normal rows of an anomaly run)"
        )
    elif args.data is None:
        _refuse_other_normal_label(args, config)
    return run_spec(args, config, path=args.data)


def _refuse_other_normal_label(args: argparse.Namespace, config: dict) -> None:
    """On the run's own held-out split, a normal label other than the run's can only swap its
    classes (the rows it trained on counted as anomalies), and another label column reads a
    feature as labels: one line each, as a series run refuses another label column on its own
    data."""
    from ..errors import UsageError

    data = config.get("data") or {}
    column, read = getattr(args, "label_column", None), data.get("label_column")
    # an index may name the same column as the recorded name: only two names are compared
    names = column is not None and read is not None and not str(column).lstrip("-").isdigit()
    if names and str(column) != str(read):
        raise UsageError(  # a feature column read as labels (labels fix, left by its fixer)
            f"--label-column {column} contradicts {args.run}, trained with --label-column {read}: "
            f"on its own held-out split the labels are that column's; drop --label-column, or give "
            f"--data with the file whose labels it names"
        )
    recorded, given = data.get("normal_label"), args.normal_label
    if given is None or recorded is None or _same_label(given, recorded):
        return
    raise UsageError(
        f"--normal-label {given} contradicts {args.run}, trained with --normal-label {recorded}: on "
        f"its own held-out split it would count its normal rows as anomalies; give --normal-label "
        f"{recorded} or drop it"
    )


def _same_label(a, b) -> bool:
    """Whether two normal labels name the same value, as the data's labels are matched (0 is 0.0)."""
    from ..recipes.anomaly import labels_match

    return bool(labels_match([a], b)[0])


def _check_normal_label(args: argparse.Namespace, spec) -> None:
    """``--normal-label`` with a table of no label column (none given, none recorded) would be
    ignored: one line instead."""
    from ..errors import UsageError
    from .options import input_format

    given = args.normal_label is not None and args.data is not None
    if given and spec.label_column is None and input_format(args.data) == "table":
        raise UsageError(
            f"--normal-label is a value of the label column, and {args.data} is read with none: "
            f"give --label-column COL with it"
        )


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .._outputs import refuse_existing
    from .cmd_series import refuse_options
    from .streams import require_stdout

    if not args.output:  # before the work: its figures would go nowhere
        require_stdout("evaluate's result (without --output)", "; pass --output FILE")
    est, recipe, config = _load(args)
    out = (
        refuse_existing(args.output, args.overwrite, inputs=run_inputs(args.data, config))
        if args.output
        else None
    )
    if args.data is None:  # the run's held-out split, read again from its recorded data
        # --baselines fits on the run's training rows, whatever else is given
        baselines = "--baselines" if getattr(args, "baselines", False) else None
        refuse_changed_data(
            args, config, "evaluate on a file given explicitly with --data FILE", baselines
        )
    if config.get("estimator") == "ImageAnomalyDetector":  # the anomaly family's image row
        from .cmd_images import evaluate_images

        return _report(args, out, evaluate_images(args, est, recipe, config))
    refuse_options(args, ("masks",), "which is not an image run")
    if config.get("estimator") == "SeriesDetector":  # as aekit score refuses them
        from .cmd_series import TABLE_SCORE_OPTIONS

        refuse_options(args, TABLE_SCORE_OPTIONS, "a series run")
    seed = int(config.get("seed", 0))
    spec = _evaluate_spec(args, config)
    _check_normal_label(args, spec)

    def data():
        read = recipe.load_eval_data(spec, seed, path=args.data)
        if args.normal_label is not None and read.y is None:  # it would be ignored
            from ..errors import UsageError

            raise UsageError(
                f"--normal-label is a label of normal rows, and {args.data or args.run} is read "
                f"with no labels (a .npy has none; an .npz needs a y or labels array); drop it"
            )
        # a table and a model that both name their columns: the model's are taken by name (as
        # score and calibrate read them; one missing is named then), the others beside them
        # (score's own, a label) ignored, never counted against the model's width
        named = getattr(est, "feature_names_in_", None) is not None
        by_name = named and read.feature_names is not None
        if args.data is not None and not by_name:
            # named, not scikit-learn's "X has 7 features"
            check_width(read.x, est, args.data, names=read.feature_names)
        return read

    figures = {}
    if args.baselines:  # the table on stdout; with --output, in the JSON too
        # no --data: the held-out split, read with the training rows
        table = recipe.compare_baselines(
            est, recorded_spec(args, config), seed, data() if args.data else None
        )
        print(table)
        figures["baselines"] = table.to_dict()
    if args.output or not args.baselines:  # --baselines alone printed its table: that is all
        return _report(args, out, {**recipe.evaluate(est, data()), **figures})
    return 0


def _report(args: argparse.Namespace, out, figures: dict) -> int:
    """The figures as JSON: into --output, else on stdout."""
    import json

    from .. import _io

    figures = _finite(figures)
    if out is None:
        print(json.dumps(figures, indent=2, allow_nan=False))
    else:
        _io.write_json(out, figures)
        print(f"wrote {args.output}")
    return 0


def _finite(figures: dict) -> dict:
    """``figures`` with each figure that is not a finite number (a mean of infinite scores) as None,
    named in one note: JSON has no Infinity or NaN, on stdout as in --output."""
    from .._io import finite_figures
    from .._notes import note

    figures, left = finite_figures(figures)
    if left:
        note(f"written as null, not finite numbers: {', '.join(left)}")
    return figures


def cmd_encode(args: argparse.Namespace) -> int:
    from .._outputs import refuse_existing
    from ..data import write_output
    from ..errors import UsageError
    from ..estimators.validation import check_finite_codes

    est, recipe, config = _load(args)
    if not hasattr(est, "inverse_transform"):  # only latent-variable models map samples to vectors
        raise UsageError(
            f"{args.run} is a run of the {config.get('family', type(est).__name__)} family, without a latent space "
            f"to encode to; use a basic, stacked or vae run"
        )
    # vectors: a file
    refuse_existing(args.output, args.overwrite, inputs=run_inputs(args.input, config))
    data = _input(args, est, recipe, config)
    z = est.transform(data.x)
    # a code that is not a finite number (inputs far off the training range) named by its row
    check_finite_codes(z, data.names if data.names is not None else data.ids, "--input")
    size, shape = math.prod(z.shape[1:]), "x".join(str(d) for d in z.shape[1:])
    if z.ndim > 2 and not str(args.output).lower().endswith((".npy", ".npz")):
        z = z.reshape(len(z), size)  # a table has a column per number of the code: z1..zN
    write_output(
        args.output,
        z,
        like=data,
        overwrite=args.overwrite,
        labels=True,
        columns=[f"z{i + 1}" for i in range(size)],
    )
    code = (
        ""
        if z.ndim == 2 and "x" not in shape
        else f" ({shape} codes{', flattened' * (z.ndim == 2)})"
    )
    print(f"wrote {len(z)} latent vectors of size {size}{code} to {args.output}")
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from .._outputs import refuse_existing
    from ..data import write_output

    est, recipe, config = _load(args)
    if not hasattr(est, "reconstruct"):  # a series or image run: no rows to give back
        from ..errors import UsageError

        if hasattr(est, "anomaly_maps"):
            raise UsageError(
                f"{args.run} is an image run, which gives each image a score and a map, not a "
                f"reconstruction; write the maps with 'aekit score {args.run} --input IMAGES "
                f"--output scores.csv --maps DIR'"
            )
        raise UsageError(
            f"{args.run} is a series run, which reconstructs no samples; score its steps with "
            f"'aekit score {args.run} --input SERIES --output FILE'"
        )
    inputs = run_inputs(args.input, config)
    refuse_existing(args.output, args.overwrite, inputs=inputs, kind="auto")
    data = _input(args, est, recipe, config)
    x_hat = est.reconstruct(data.x)
    write_output(args.output, x_hat, like=data, overwrite=args.overwrite)
    print(f"wrote {len(x_hat)} reconstruction{'s' * (len(x_hat) != 1)} to {args.output}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import UsageError
    from ..estimators.persistence import version
    from ..recipes.folder import updating

    since = version(args.run)  # the version read: its figures go into it, or none
    est, recipe, config = _load(args)
    if "data" not in config:  # a model saved by est.save(): the family's own dataset is not its
        raise UsageError(
            f"{args.run} is a model saved with est.save(), which records no data to draw its "
            f"figures from; draw them in Python with aekit.plots, or train a run ('aekit train "
            f"FAMILY --data FILE --out RUN'), whose figures 'aekit plot' draws again"
        )
    # the figures show the run's own held-out split: no other file makes them
    fix = f"get metrics (no figures) on a file given explicitly: 'aekit evaluate {args.run} --data FILE'"
    refuse_changed_data(args, config, fix)
    data = recipe.load_eval_data(run_spec(args, config), int(config.get("seed", 0)))
    with updating(args.run, since) as work:  # the run changes whole, as every output does
        drawn = [p.relative_to(work) for p in recipe.figures(est, data, work / "figures")]
    for path in drawn:
        print(Path(args.run) / path)
    return 0
