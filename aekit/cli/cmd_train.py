"""``aekit train FAMILY``: one subcommand per family, each with the shared options and its own."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .helptext import family_defaults, fill_when_printed
from .options import COMMON_PARAMS, add_train_options, data_spec, network_params


def register(subparsers, family_modules: Sequence[Any]) -> None:
    """``aekit train FAMILY`` for every family that ``family_modules`` declare in ``TRAIN_OPTIONS``."""
    train = subparsers.add_parser("train", help="train a model family into a run folder")
    fams = train.add_subparsers(dest="family", metavar="FAMILY", parser_class=type(train))
    # A family's options may come from several modules (one per registry row: the anomaly family's
    # tables and images); the first one's help, NOT_APPLICABLE and train_params are the family's.
    parts: dict[str, list] = {}
    for mod in family_modules:
        for family, add_options in mod.TRAIN_OPTIONS.items():
            parts.setdefault(family, []).append((mod, add_options))
    for family, adders in parts.items():
        mod = adders[0][0]
        fp = fams.add_parser(
            family,
            help=getattr(mod, "HELP", {}).get(family),
            description=getattr(mod, "HELP", {}).get(family),
        )
        add_train_options(fp, skip=getattr(mod, "NOT_APPLICABLE", {}).get(family, ()))
        _family_data_help(fp, getattr(mod, "DATA_HELP", {}).get(family))
        _hide(fp, getattr(mod, "HIDDEN", {}).get(family, ()))
        for _, add_options in adders:
            add_options(fp)
        fp.set_defaults(func=cmd_train, family_module=mod)
        # each family's own defaults, looked up on --help
        fill_when_printed(fp, family_defaults(family))


def _family_data_help(parser: argparse.ArgumentParser, text: str | None) -> None:
    """A family's own words for ``--data`` (the series detector reads no .npz, no image folder)."""
    for action in parser._actions if text else ():
        if action.dest == "data":
            action.help = text


def _hide(parser: argparse.ArgumentParser, options: Sequence[str]) -> None:
    """Leave a family's ``HIDDEN`` options out of its ``--help``: they are still parsed, so that
    the recipe's refusal can say what to use instead."""
    for action in parser._actions:
        if set(action.option_strings) & set(options):
            action.help = argparse.SUPPRESS


def train_params(args: argparse.Namespace) -> dict[str, Any]:
    """Estimator parameters from the command line; the recipe adds its defaults and resolves the preset."""
    params: dict[str, Any] = {} if args.preset is None else {"preset": args.preset}
    params.update(
        {
            p: getattr(args, a)
            for a, p in COMMON_PARAMS.items()
            if getattr(args, a, None) is not None
        }
    )
    params.update(args.family_module.train_params(args.family, args))
    params.update(network_params(args))  # --encoder/--decoder or --network: the user's own network
    if getattr(args, "out", None) is not None:
        from ..models.custom import refuse_files_in_output

        refuse_files_in_output(params, Path(args.out))  # before training, not after it
    return params


def _without_nproc(argv: Sequence[str]) -> list[str]:
    """The command line minus ``--nproc N`` / ``--nproc=N`` (what each torchrun process runs)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            out.append(a)
    return out


def run_folder(args: argparse.Namespace) -> str | None:
    """The run folder ``train`` writes: ``--out``, else ``runs/FAMILY`` (None: neither known)."""
    family = getattr(args, "family", None)
    return getattr(args, "out", None) or (f"runs/{family}" if family else None)


def cmd_train(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..training import distributed
    from .progress import takes_verbose, verbose_for

    params = train_params(args)  # the options checked once, before any training process starts
    if args.nproc is not None and args.nproc > 1:
        from ..training.device import resolve_device

        most, why = distributed.max_processes(resolve_device(args.device or "auto"))
        if args.nproc > most:
            raise UsageError(
                f"--nproc {args.nproc}: this machine can run at most {most} training processes "
                f"({why}); pass --nproc {most} or fewer"
            )
        return distributed.launch(_without_nproc(args.argv), args.nproc)
    if args.out is not None and not args.out.strip():
        raise UsageError("--out is empty; give the run folder to write, e.g. --out runs/basic")
    distributed.check_environment()  # a malformed launch: one line before the data are read
    if not args.no_figures and importlib.util.find_spec("matplotlib") is None:
        raise UsageError(  # else said after the training, its run left unfinished
            "the run's figures need matplotlib, which is not installed: pip install matplotlib, "
            "or pass --no-figures"
        )
    # Progress on stderr through the estimator's verbose: the epochs, and the long evaluation after them
    # (a VAE's log-likelihood takes minutes). Under torchrun rank 0 reports.
    if takes_verbose(args.family):
        params["verbose"] = verbose_for(args) if distributed.is_main_process() else 0
    out = run_folder(args)
    if args.tensorboard:
        from ..training.tensorboard import require_tensorboard

        require_tensorboard()  # a missing package is one line before any data is read
    tracking = _mlflow_log(args)  # a missing package is one line before any data is read
    from ..recipes import train_run  # torch and scikit-learn: seconds to load

    est, metrics = train_run(
        args.family,
        params,
        data_spec(args),
        out,
        overwrite=args.overwrite,
        resume=args.resume,
        figures=not args.no_figures,
        tensorboard=args.tensorboard,
        mlflow=tracking,
    )
    if not distributed.is_main_process():
        return 0
    print(f"run folder: {out}")
    if tracking is not None:
        print(f"MLflow run: {tracking.run_id}")
    print(" ".join(f"{k}={_fmt(v)}" for k, v in metrics.items() if not isinstance(v, (list, dict))))
    # a result that is not useful says so (also in metrics.json)
    for warning in metrics.get("warnings", []):
        sys.stderr.write(f"aekit: warning: {warning}\n")
    return 0


def _mlflow_log(args: argparse.Namespace):
    """The MLflow log that --mlflow (or an --mlflow-* option) asks for, else None."""
    if args.mlflow is None and args.mlflow_experiment is None and args.mlflow_run_name is None:
        return None
    from ..training.mlflow import MLflowLog

    return MLflowLog(
        args.mlflow or None, args.mlflow_experiment, args.mlflow_run_name, end_after_fit=False
    )


def _fmt(v: Any) -> str:
    if v is None:  # a figure that is not finite, null in metrics.json (a note said which)
        return "null"
    return f"{v:.6g}" if isinstance(v, float) else str(v)
