"""``aekit``: train, evaluate and use autoencoders from the command line.

Exit codes: 0 success; 2 bad usage or bad input; 1 failure at run time. Errors are
one line on stderr (the traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Any, Sequence

from .. import __version__

# One module per family; each has TRAIN_OPTIONS, train_params(family, args), register(subparsers).
FAMILY_MODULES = ("cmd_autoencoder", "cmd_denoise", "cmd_anomaly", "cmd_vae")
# Modules of commands that belong to no one family; each has register(subparsers).
COMMAND_MODULES = ("cmd_export",)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2."""

    def error(self, message: str):  # argparse prints usage + message over several lines by default
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def fraction(text: str) -> float:
    value = positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text}")
    return value


def memory_size(text: str) -> int:
    """'2G' -> 2 * 1024 ** 3 bytes."""
    from ..data import parse_size
    from ..errors import UsageError

    try:
        return parse_size(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def int_list(text: str) -> tuple[int, ...]:
    """'256,128' -> (256, 128); '' -> ()."""
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas such as 256,128, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected widths >= 1, got {text!r}")
    return values


def image_size(text: str) -> tuple[int, int]:
    """'28' -> (28, 28); '32x48' (height x width) -> (32, 48)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SIZE or HEIGHTxWIDTH such as 28 or 32x48, got {text!r}") from None
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < 1:
        raise argparse.ArgumentTypeError(f"expected SIZE or HEIGHTxWIDTH such as 28 or 32x48, got {text!r}")
    return size


def add_data_options(p: argparse.ArgumentParser, *, builtin: bool = True) -> None:
    """Options that say where data comes from and how to read the user's files."""
    g = p.add_argument_group("data")
    if builtin:
        src = g.add_mutually_exclusive_group()
        src.add_argument("--dataset", metavar="NAME", help="a built-in dataset (see 'aekit datasets list')")
        src.add_argument("--data", metavar="PATH", help="your own data: .npy, .npz, .csv, .tsv or a folder of images")
        g.add_argument("--data-dir", metavar="DIR", help="root of the built-in datasets (default: $AEKIT_DATA, "
                                                       "then the user cache folder)")
    g.add_argument("--npz-key", metavar="KEY", help="the array to use in a .npz file")
    g.add_argument("--label-column", metavar="COL", help="CSV column (name or index) holding labels")
    g.add_argument("--id-column", metavar="COL", help="CSV column (name or index) carried through as an id")
    g.add_argument("--image-size", type=image_size, metavar="HxW", help="resize images to this size")


def add_train_options(p: argparse.ArgumentParser) -> None:
    """Options every ``aekit train FAMILY`` takes. None means: the recipe's own default."""
    add_data_options(p)
    p.add_argument("--validation-split", type=fraction, metavar="F",
                   help="fraction of your own data held out for validation (default 0.2)")
    g = p.add_argument_group("data larger than memory")
    g.add_argument("--stream", action="store_true", default=None, help="read --data from disk batch by batch "
                   "(.npy memory-mapped; CSV, Parquet and image folders converted to .npy first)")
    g.add_argument("--no-stream", action="store_false", dest="stream", help="always load --data into memory")
    g.add_argument("--memory-cap", type=memory_size, metavar="SIZE", help="stream --data when reading it would "
                   "take more memory than this, e.g. 2G (default: $AEKIT_MEMORY_CAP, else 1/4 of the memory)")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=non_negative_int, metavar="N")
    t.add_argument("--batch-size", type=positive_int, metavar="N")
    t.add_argument("--lr", type=positive_float, metavar="LR", help="Adam's learning rate")
    t.add_argument("--latent-dim", type=positive_int, metavar="N")
    t.add_argument("--schedule", choices=("constant", "onecycle"), help="learning-rate schedule")
    t.add_argument("--patience", type=positive_int, metavar="N", help="early stopping after N epochs without "
                                                                    "validation improvement")
    t.add_argument("--preset", metavar="NAME", help="a named set of settings of the family (e.g. fast)")
    t.add_argument("--seed", type=non_negative_int, metavar="N")
    t.add_argument("--device", metavar="DEV", help="auto (default: CUDA, then MPS, then CPU), cpu, cuda, mps")
    t.add_argument("--precision", choices=("fp32", "bf16"), help="bf16: bfloat16 autocast in training (for "
                   "GPUs; weights stay fp32)")
    t.add_argument("--nproc", type=positive_int, metavar="N", help="train with N processes on this machine "
                   "(torchrun + DistributedDataParallel; one per GPU, or gloo on the CPU); --batch-size stays "
                   "the global batch")
    r = p.add_argument_group("run folder")
    r.add_argument("--out", metavar="RUN", help="run folder to write (default runs/FAMILY)")
    r.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    r.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    r.add_argument("--no-figures", action="store_true", help="skip drawing figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


COMMON_PARAMS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "latent_dim": "latent_dim",
                 "schedule": "schedule", "precision": "precision", "patience": "patience", "seed": "seed",
                 "device": "device"}


def _family_modules():
    return [importlib.import_module(f"{__package__}.{name}") for name in FAMILY_MODULES]


def build_parser() -> Parser:
    parser = Parser(prog="aekit", description="Autoencoders for real work: train, encode, denoise, "
                                              "detect anomalies and generate, on built-in data or your own.")
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    modules = _family_modules()
    train = sub.add_parser("train", help="train a model family into a run folder")
    fams = train.add_subparsers(dest="family", metavar="FAMILY", parser_class=Parser)
    for mod in modules:
        for family, add_options in mod.TRAIN_OPTIONS.items():
            fp = fams.add_parser(family, help=getattr(mod, "HELP", {}).get(family))
            add_train_options(fp)
            add_options(fp)
            fp.set_defaults(func=cmd_train, family_module=mod)

    ev = sub.add_parser("evaluate", help="held-out figures of a run (the keys of metrics.json)")
    ev.add_argument("run", metavar="RUN")
    add_data_options(ev, builtin=False)
    ev.add_argument("--data", metavar="PATH", help="evaluate on this file instead of the run's held-out data")
    ev.add_argument("--normal-label", metavar="VALUE", help="anomaly detection: the label of normal rows")
    ev.add_argument("--output", metavar="FILE", help="write the figures as JSON here (default: print them)")
    ev.add_argument("--overwrite", action="store_true")
    ev.set_defaults(func=cmd_evaluate)

    for name, helptext, func in (("encode", "samples to latent vectors", cmd_encode),
                                 ("reconstruct", "samples through the autoencoder and back", cmd_reconstruct)):
        c = sub.add_parser(name, help=helptext)
        c.add_argument("run", metavar="RUN")
        c.add_argument("--input", required=True, metavar="PATH", help=".npy, .npz, .csv/.tsv or a folder of images")
        c.add_argument("--output", required=True, metavar="PATH", help=".npy, .csv, or a folder for images")
        add_data_options(c, builtin=False)
        c.add_argument("--overwrite", action="store_true")
        c.set_defaults(func=func)

    pl = sub.add_parser("plot", help="draw a run's figures again")
    pl.add_argument("run", metavar="RUN")
    pl.set_defaults(func=cmd_plot)

    ds = sub.add_parser("datasets", help="list or download the built-in datasets")
    dsub = ds.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    dsub.add_parser("list", help="the built-in datasets").set_defaults(func=cmd_datasets_list)
    dl = dsub.add_parser("download", help="download (or verify) a built-in dataset")
    dl.add_argument("name", metavar="NAME")
    dl.add_argument("--data-dir", metavar="DIR")
    dl.set_defaults(func=cmd_datasets_download)

    for mod in modules:
        mod.register(sub)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(sub)
    return parser


# ---- command handlers: parse -> call the library -> report ---------------------------------------

def data_spec(args: argparse.Namespace):
    from ..tasks.recipes import DataSpec

    spec = DataSpec(dataset=getattr(args, "dataset", None), data=getattr(args, "data", None),
                    data_dir=getattr(args, "data_dir", None), npz_key=args.npz_key, label_column=args.label_column,
                    normal_label=getattr(args, "normal_label", None), id_column=args.id_column,
                    image_size=args.image_size)
    if getattr(args, "validation_split", None) is not None:
        spec.validation_split = args.validation_split
    spec.stream, spec.memory_cap = getattr(args, "stream", None), getattr(args, "memory_cap", None)
    return spec


def train_params(args: argparse.Namespace) -> dict[str, Any]:
    """Estimator parameters from the command line; the recipe adds its defaults and resolves the preset."""
    params: dict[str, Any] = {} if args.preset is None else {"preset": args.preset}
    params.update({p: getattr(args, a) for a, p in COMMON_PARAMS.items() if getattr(args, a, None) is not None})
    params.update(args.family_module.train_params(args.family, args))
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


def cmd_train(args: argparse.Namespace) -> int:
    from ..tasks.recipes import get_recipe, train_run
    from ..training import distributed
    from .progress import progress_callbacks

    if args.nproc is not None and args.nproc > 1:
        return distributed.launch(_without_nproc(args.argv), args.nproc)
    params = train_params(args)
    out = args.out or f"runs/{args.family}"
    epochs = get_recipe(args.family).build(params).epochs  # with the recipe's defaults and preset
    callbacks = progress_callbacks(epochs, args.quiet)
    if not distributed.is_main_process():
        callbacks = []  # rank 0 reports
    est, metrics = train_run(args.family, params, data_spec(args), out, overwrite=args.overwrite,
                             resume=args.resume, callbacks=callbacks, figures=not args.no_figures)
    if not distributed.is_main_process():
        return 0
    print(f"run folder: {out}")
    print(" ".join(f"{k}={_fmt(v)}" for k, v in metrics.items() if not isinstance(v, (list, dict))))
    return 0


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _load_run(path: str):
    from ..tasks.recipes import load_run

    return load_run(path)


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from .. import _io
    from .._io import refuse_existing
    from ..tasks.recipes import DataSpec

    est, recipe, config = _load_run(args.run)
    if args.output:
        refuse_existing(args.output, args.overwrite)
    spec = DataSpec.from_json(config.get("data", {}))
    for opt in ("npz_key", "label_column", "id_column", "image_size", "normal_label"):
        if getattr(args, opt, None) is not None:
            setattr(spec, opt, getattr(args, opt))
    data = recipe.load_eval_data(spec, int(config.get("seed", 0)), path=args.data)
    metrics = recipe.evaluate(est, data)
    if args.output:
        _io.write_json(args.output, metrics)
        print(f"wrote {args.output}")
    else:
        print(json.dumps(metrics, indent=2))
    return 0


def read_for_model(args: argparse.Namespace, est):
    """Read --input with the feature columns the model was trained on (by name, when it knows them)."""
    from ..data import read_path

    names = getattr(est, "feature_names_in_", None)
    return read_path(args.input, npz_key=args.npz_key, label_column=args.label_column, id_column=args.id_column,
                     columns=list(names) if names is not None else None, image_size=args.image_size)


def cmd_encode(args: argparse.Namespace) -> int:
    from ..data import write_output
    from .._io import refuse_existing

    from ..errors import UsageError

    est, _, config = _load_run(args.run)
    if not hasattr(est, "inverse_transform"):  # only latent-variable models map samples to vectors
        raise UsageError(f"{args.run} is a {config.get('family', type(est).__name__)} run without a latent space "
                         f"to encode to; use a basic, stacked or vae run")
    refuse_existing(args.output, args.overwrite)
    data = read_for_model(args, est)
    z = est.transform(data.x)
    write_output(args.output, z, overwrite=args.overwrite)
    print(f"wrote {len(z)} latent vectors of size {z.shape[1]} to {args.output}")
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from ..data import write_output
    from .._io import refuse_existing

    est, _, _ = _load_run(args.run)
    refuse_existing(args.output, args.overwrite)
    data = read_for_model(args, est)
    x_hat = est.reconstruct(data.x)
    write_output(args.output, x_hat, like=data, overwrite=args.overwrite)
    print(f"wrote {len(x_hat)} reconstructions to {args.output}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..tasks.recipes import DataSpec

    est, recipe, config = _load_run(args.run)
    data = recipe.load_eval_data(DataSpec.from_json(config.get("data", {})), int(config.get("seed", 0)))
    for path in recipe.figures(est, data, Path(args.run) / "figures"):
        print(path)
    return 0


def cmd_datasets_list(args: argparse.Namespace) -> int:
    from ..data import DATASETS, data_root

    print(f"data root: {data_root()}")
    for name, cls in DATASETS.items():
        print(f"{name:16s} {cls.description}")
    return 0


def cmd_datasets_download(args: argparse.Namespace) -> int:
    from ..data import data_root, get_dataset

    cls = get_dataset(args.name)
    folder = cls.download(root=args.data_dir)
    print(f"{args.name}: verified in {folder or data_root(args.data_dir)}")
    return 0


# ---- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if getattr(args, "func", None) is None:
        parser.print_help() if args.command is None else parser.parse_args([*(argv or sys.argv[1:]), "--help"])
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.debug:  # library warnings would break the one-line error contract
        import warnings

        warnings.simplefilter("ignore")
    from ..training import distributed

    code = _run(args)
    if _alone():
        return code
    if code and not _reports():
        # Under torchrun, let rank 0 (which reports the cause) exit first, so that torchrun
        # passes on its exit code rather than that of a process that failed because rank 0 left.
        import time

        time.sleep(PEER_GRACE_SECONDS)
    distributed.exit_process(code)  # a process of a distributed run: see why there


PEER_GRACE_SECONDS = 5.0


def _alone() -> bool:
    """Whether this is the only process (also when the launch environment is unreadable)."""
    from ..errors import UsageError
    from ..training.distributed import world_size

    try:
        return world_size() == 1
    except UsageError:  # a malformed WORLD_SIZE: the command failed on it and said so
        return True


def _reports() -> bool:
    """Whether this process reports errors: under torchrun only rank 0 does."""
    from ..errors import UsageError
    from ..training.distributed import is_main_process

    try:
        return is_main_process()
    except UsageError:  # a malformed RANK or WORLD_SIZE: every process says so
        return True


def _run(args: argparse.Namespace) -> int:
    """Run the command; turn every failure into one stderr line and an exit code."""
    from ..errors import AekitError, one_line

    try:
        return int(args.func(args) or 0)
    except AekitError as exc:
        if args.debug:
            raise
        if _reports():  # under torchrun every process fails alike; one of them says so
            sys.stderr.write(f"aekit: error: {one_line(exc)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("aekit: interrupted\n")
        return 130
    except OSError as exc:  # disk full, permission denied, ...
        if args.debug:
            raise
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        sys.stderr.write(f"aekit: error:{where} {one_line(exc.strerror or exc)}\n")
        return 1
    except Exception as exc:  # a bug: still one line, and the way to see more
        if args.debug:
            raise
        # Under torchrun a process whose peer failed sees a RuntimeError from the collective; the
        # failed peer reports the cause.
        if _reports() or not isinstance(exc, RuntimeError):
            sys.stderr.write(f"aekit: internal error: {type(exc).__name__}: {one_line(exc)} "
                             f"(rerun with --debug for the traceback)\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
