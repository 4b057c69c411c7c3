"""Options that several subcommands share, and what they turn into: a DataSpec, the data for a model."""

from __future__ import annotations

import argparse
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..estimators import params as P
from .types import (
    IMAGE_SIZE_HELP,
    epochs_arg,
    fraction,
    image_size,
    memory_size,
    name_list,
    non_negative_float,
    number,
    or_auto,
    positive_float,
    positive_int,
    seed_arg,
)
from .widths import check_width

# `aekit train` options every family takes -> the estimator parameter of the same meaning.
COMMON_PARAMS = {
    "epochs": "epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "latent_dim": "latent_dim",
    "schedule": "schedule",
    "precision": "precision",
    "patience": "patience",
    "seed": "seed",
    "device": "device",
    "threads": "threads",
}
# The built-in datasets (aekit.data.DATASETS, named here so that building the parser imports nothing heavy;
# tests/cli/test_help.py checks that the two agree).
DATASET_NAMES = ("mnist", "fashion-mnist", "binarized-mnist", "ecg5000")
# What fills a table's missing cells (aekit.data.missing.FILLS; named here so that building the parser
# imports nothing heavy; tests/cli/test_cli_tables.py checks that the two agree).
TABLE_FILLS = ("median", "mean", "zero", "none")
RUN_HELP = "a run folder written by 'aekit train' (or a model saved with est.save())"


class _Only:
    """An argument group that leaves out the options named in ``skip`` (a family's ``--help`` lists
    only what applies to it; the parser's value of a left-out option is None)."""

    def __init__(self, group: Any, skip: Collection[str]):
        self.group, self.skip = group, skip

    def add_argument(self, *names: str, **kw: Any) -> Any:
        if names[0] in self.skip:
            return None
        return self.group.add_argument(*names, **kw)


def add_data_options(
    p: argparse.ArgumentParser, *, builtin: bool = True, skip: Collection[str] = ()
) -> None:
    """Options that say where data comes from and how to read the user's files (less ``skip``)."""
    g = _Only(p.add_argument_group("data"), skip)
    if builtin:
        src = _Only(g.group.add_mutually_exclusive_group(), skip)
        src.add_argument(
            "--dataset",
            metavar="NAME",
            help=f"a built-in dataset: {', '.join(DATASET_NAMES)} "
            f"(default: the family's recipe; see 'aekit datasets list')",
        )
        src.add_argument(
            "--data",
            metavar="PATH",
            help="your own data: .npy, .npz, .csv, .tsv or a folder of images "
            "(class sub-folders are labels)",
        )
        g.add_argument(
            "--data-dir",
            metavar="DIR",
            help="root of the built-in datasets (default: $AEKIT_DATA, then the user cache folder)",
        )
    g.add_argument("--npz-key", metavar="KEY", help="the array to use in a .npz file")
    g.add_argument(
        "--label-column", metavar="COL", help="CSV column (name or index) holding labels"
    )
    g.add_argument(
        "--id-column", metavar="COL", help="CSV column (name or index) carried through as an id"
    )
    g.add_argument("--image-size", type=image_size, metavar="WxH", help=IMAGE_SIZE_HELP)


def add_table_options(p: argparse.ArgumentParser) -> None:
    """How ``aekit train`` reads a table's columns: which ones, which text to encode, what fills gaps
    (the table families; recorded with the run and applied by every command on it)."""
    g = p.add_argument_group("tables")
    g.add_argument(
        "--columns",
        type=name_list,
        metavar="A,B",
        help="the feature columns (default: every column of numbers; text columns are left out, "
        "with one line naming them)",
    )
    g.add_argument(
        "--drop-columns", type=name_list, metavar="A,B", help="columns to leave out of the features"
    )
    g.add_argument(
        "--categorical",
        type=name_list,
        metavar="A,B",
        help="text columns to encode: dates as days since 1970-01-01, other text one-hot (a column "
        "per value, at most 50)",
    )
    g.add_argument(
        "--fill",
        choices=TABLE_FILLS,
        help="what fills empty cells (and NA, typos in a number column), learned from the training "
        "rows and applied by every command: median (default), mean, zero, or none (refuse them)",
    )


def add_run_options(
    p: argparse.ArgumentParser,
    *,
    run_help: str = RUN_HELP,
    data_dir: bool = True,
    overwrite: bool = True,
) -> None:
    """What every command on a finished run takes: RUN, --data-dir (built-in data), --overwrite, --quiet."""
    p.add_argument("run", metavar="RUN", help=run_help)
    if data_dir:
        p.add_argument(
            "--data-dir",
            metavar="DIR",
            help="root of the built-in datasets (default: the root the run "
            "was trained with, then $AEKIT_DATA, then the user cache)",
        )
    if overwrite:
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def add_train_options(p: argparse.ArgumentParser, skip: Collection[str] = ()) -> None:
    """Options every ``aekit train FAMILY`` takes, less those in ``skip`` (options that do not apply
    to the family). None means: the recipe's own default (shown by --help)."""
    add_data_options(p, skip=skip)
    _Only(p, skip).add_argument(
        "--validation-split",
        type=fraction,
        metavar="F",
        help="fraction of your own data held out for validation (default 0.2)",
    )
    if "--stream" not in skip:
        _add_stream_options(p)
    p.set_defaults(**{name.lstrip("-").replace("-", "_"): None for name in skip})
    t = p.add_argument_group("training")
    t.add_argument(
        "--epochs",
        type=epochs_arg,
        metavar="N",
        help="passes over the data, or 'auto': as many as give "
        "the family's budget of optimizer steps on the data at hand",
    )
    t.add_argument(
        "--batch-size", type=positive_int, metavar="N", help="samples per optimizer step"
    )
    t.add_argument("--lr", type=positive_float, metavar="LR", help="Adam's (peak) learning rate")
    t.add_argument(
        "--latent-dim",
        type=or_auto(positive_int),
        metavar="N",
        help="size of the code vector (auto: sized from the data, where the family does)",
    )
    t.add_argument(
        "--schedule",
        choices=P.SCHEDULES,
        help="learning-rate schedule: constant, or onecycle (warm up to --lr, then cosine decay)",
    )
    t.add_argument(
        "--patience",
        type=positive_int,
        metavar="N",
        help="early stopping after N epochs without "
        "validation improvement (the best epoch is kept)",
    )
    _Only(t, skip).add_argument(
        "--preset",
        metavar="NAME",
        help="a named set of the family's settings, under the options given",
    )
    t.add_argument(
        "--seed",
        type=seed_arg,
        metavar="N",
        help="seeds the weights, the split and every random draw (a whole number below 2**32)",
    )
    t.add_argument(
        "--device", metavar="DEV", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps"
    )
    t.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="CPU threads inside each op (default: "
        "aekit's choice from the model's work per step and the cores free now; recorded in config.json)",
    )
    t.add_argument(
        "--precision",
        choices=P.PRECISIONS,
        help="bf16: bfloat16 autocast in training (for GPUs; weights stay fp32)",
    )
    t.add_argument(
        "--nproc",
        type=positive_int,
        metavar="N",
        help="train with N processes on this machine "
        "(torchrun + DistributedDataParallel; one per GPU, or gloo on the CPU); --batch-size stays "
        "the global batch",
    )
    add_network_options(p)
    r = p.add_argument_group("run folder")
    r.add_argument("--out", metavar="RUN", help="run folder to write (default runs/FAMILY)")
    r.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last checkpoint (none there yet: start it)",
    )
    r.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    r.add_argument("--no-figures", action="store_true", help="skip drawing figures")
    r.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write TensorBoard logs to RUN/tensorboard "
        "(losses, learning rate, images, latent projector); needs pip install 'aekit[tensorboard]'",
    )
    m = p.add_argument_group("MLflow (needs pip install 'aekit[mlflow]')")
    m.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        metavar="URI",
        help="also track the run in MLflow: parameters, per-epoch losses, held-out metrics, the run "
        "folder with its figures, and an MLflow model; URI default $MLFLOW_TRACKING_URI",
    )
    m.add_argument(
        "--mlflow-experiment", metavar="NAME", help="the MLflow experiment (made when missing)"
    )
    m.add_argument("--mlflow-run-name", metavar="NAME", help="the MLflow run's name")
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (by default a bar on a terminal, else one line per epoch)",
    )


def _add_stream_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data larger than memory")
    g.add_argument(
        "--stream",
        action="store_true",
        default=None,
        help="read --data from disk batch by batch "
        "(.npy memory-mapped; CSV, Parquet and image folders converted to .npy first)",
    )
    g.add_argument(
        "--no-stream", action="store_false", dest="stream", help="always load --data into memory"
    )
    g.add_argument(
        "--memory-cap",
        type=memory_size,
        metavar="SIZE",
        help="stream --data when reading it would "
        "take more memory than this, e.g. 2G (default: $AEKIT_MEMORY_CAP, else 1/4 of the memory)",
    )


NETWORK_HELP = (
    "MODULE:NAME of a torch.nn.Module class: an importable module "
    "(mypkg.nets:Encoder) or a file (path/to/nets.py:Encoder); see docs/guide/networks.md"
)


def add_network_options(p: argparse.ArgumentParser) -> None:
    """--encoder/--decoder (with their JSON arguments) or --network FILE.json: the user's own network."""
    g = p.add_argument_group(
        "your own network (in place of the family's; the run imports this code again when it is loaded)"
    )
    g.add_argument("--encoder", metavar="MODULE:NAME", help=f"the encoder: {NETWORK_HELP}")
    g.add_argument("--decoder", metavar="MODULE:NAME", help="the decoder, as --encoder")
    g.add_argument(
        "--encoder-args",
        metavar="JSON",
        help="the encoder's constructor arguments, a JSON object such as '{\"channels\": 64}'",
    )
    g.add_argument(
        "--decoder-args",
        metavar="JSON",
        help="the decoder's constructor arguments, as --encoder-args",
    )
    g.add_argument(
        "--network",
        metavar="FILE.json",
        help='both at once: {"encoder": {"network": "MODULE:NAME", "args": {...}}, "decoder": {...}} '
        "(files named relative to FILE.json's folder)",
    )


def network_params(args: argparse.Namespace) -> dict[str, Any]:
    """``encoder`` and ``decoder`` specs from the network options (none given: {})."""
    from ..errors import UsageError

    given = {n: getattr(args, n, None) for n in ("encoder", "decoder")}
    extra = {n: getattr(args, f"{n}_args", None) for n in ("encoder", "decoder")}
    if getattr(args, "network", None) is not None:
        if any(given.values()) or any(v is not None for v in extra.values()):
            raise UsageError(
                "--network FILE.json names both networks; drop --encoder, --decoder and their --*-args"
            )
        specs = _network_file(args.network)
        where = {n: f"--network {args.network}: {n}" for n in specs}
    else:
        for n in ("encoder", "decoder"):
            if extra[n] is not None and given[n] is None:
                raise UsageError(f"--{n}-args needs --{n} MODULE:NAME")
        if not any(given.values()):
            return {}
        if not all(given.values()):
            have, need = ("encoder", "decoder") if given["encoder"] else ("decoder", "encoder")
            raise UsageError(
                f"--{have} needs --{need} too: your own network is an encoder and a decoder"
            )
        specs = {
            n: {"network": given[n], "args": _json_object(extra[n], f"--{n}-args")} for n in given
        }
        where = {n: f"--{n}" for n in specs}
    from ..models.custom import named

    out = {n: named(spec["network"], spec["args"], where[n]) for n, spec in specs.items()}
    for n, spec in specs.items():
        _check_pin(spec.get("sha256"), out[n], where[n])
    return out


def _check_pin(pin: Any, spec: dict[str, Any], where: str) -> None:
    """A ``"sha256"`` a --network file pins for a network file: it must be that file's digest."""
    from ..errors import UsageError

    if pin is None:
        return
    if spec.get("sha256") is None:
        raise UsageError(
            f"{where}: 'sha256' pins a network file (path/to/nets.py:NAME), not a module"
        )
    if pin != spec["sha256"]:
        path = spec["network"].rpartition(":")[0]
        raise UsageError(
            f"{where}: {path} does not match the pinned 'sha256' (the file's is "
            f"{spec['sha256'][:12]}..., the pin {str(pin)[:12]}...); put back the pinned file, or "
            f"update the pin"
        )


def _json_object(text: str | None, where: str) -> dict[str, Any]:
    """A JSON object given on the command line ({} when none)."""
    import json

    from ..errors import UsageError

    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(
            f"{where}: not valid JSON ({exc}); expected an object such as '{{\"channels\": 64}}'"
        ) from None
    if not isinstance(value, dict):
        raise UsageError(f"{where}: expected a JSON object of constructor arguments, got {text!r}")
    return value


def _network_file(path: str) -> dict[str, dict[str, Any]]:
    """The two specs of a --network FILE.json; a file it names relative is relative to FILE.json's folder."""
    import json
    from pathlib import Path

    from ..errors import UsageError

    try:
        # utf-8-sig: Notepad and PowerShell 5 begin a saved file with a BOM, as a CSV is read
        value = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise UsageError(f"--network: cannot read {path} ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UsageError(f"--network: {path} is not valid JSON ({exc})") from None
    form = '{"encoder": {"network": "MODULE:NAME", "args": {...}}, "decoder": {...}}'
    if not isinstance(value, dict) or set(value) != {"encoder", "decoder"}:
        raise UsageError(f"--network: {path} must hold {form}")
    specs = {}
    for name, spec in value.items():
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("network"), str)
            or set(spec) - {"network", "args", "sha256"}
        ):
            raise UsageError(
                f"--network: {path}: {name} must be {{'network': 'MODULE:NAME', 'args': {{...}}}} "
                f"(and 'sha256' to pin a file), got {json.dumps(spec)[:200]}"
            )
        target = spec["network"]
        module, sep, attr = target.rpartition(":")
        if module.endswith(".py") and not Path(module).is_absolute():
            target = f"{Path(path).parent / module}{sep}{attr}"
        specs[name] = {
            "network": target,
            "args": _json_object(json.dumps(spec.get("args", {})), f"--network: {name}'s args"),
            "sha256": spec.get("sha256"),
        }
    return specs


# Options that describe the user's own --data; a built-in dataset is read as it ships, so given
# with --dataset (or the family's default) they would be recorded in config.json and do nothing
OWN_DATA_OPTIONS = (
    *("validation_split", "npz_key", "label_column", "id_column", "image_size", "columns"),
    *("drop_columns", "categorical", "fill", "time_column", "train_steps", "stream", "memory_cap"),
)


def data_spec(args: argparse.Namespace):
    """The :class:`~aekit.recipes.DataSpec` that the data options describe."""
    from ..errors import UsageError
    from ..recipes import DataSpec

    # (a --resume reads the run's recorded data, and says itself what cannot change; a family
    # with no built-in dataset, the series detector, says it needs --data)
    own = None if args.data or args.resume else first_given(args, OWN_DATA_OPTIONS)
    if own is not None and args.dataset is None:
        from ..recipes import get_recipe

        own = own if get_recipe(args.family).default_dataset else None
    if own is not None:
        raise UsageError(
            f"{option_name(own)} describes your own data (--data); a built-in dataset is read as "
            f"it ships: drop it, or train on --data PATH"
        )

    spec = DataSpec(
        dataset=getattr(args, "dataset", None),
        data=getattr(args, "data", None),
        data_dir=getattr(args, "data_dir", None),
        npz_key=args.npz_key,
        label_column=args.label_column,
        normal_label=getattr(args, "normal_label", None),
        id_column=args.id_column,
        image_size=args.image_size,
    )
    if getattr(args, "validation_split", None) is not None:
        spec.validation_split = args.validation_split
    # how to read it; a series' options (cmd_series), a table's (add_table_options), a folder of
    # images' crops (cmd_images)
    for a in ("stream", "memory_cap", "time_column", "fill", "train_steps", "columns"):
        setattr(spec, a, getattr(args, a, None))
    for a in ("drop_columns", "categorical", "patch", "patches"):
        setattr(spec, a, getattr(args, a, None))
    if spec.stream is not None and spec.memory_cap is not None:  # the cap would decide nothing
        raise UsageError(
            f"--memory-cap decides when to stream; --{'' if spec.stream else 'no-'}stream decides "
            f"already: drop one"
        )
    return spec


def recorded_spec(args: argparse.Namespace, config: dict):
    """The data spec a run recorded, as it was (the training data's too), read from ``--data-dir`` or
    the recorded root."""
    from ..recipes import DataSpec

    return DataSpec.from_json(config.get("data", {})).reading_from(getattr(args, "data_dir", None))


def run_inputs(given, config: dict) -> list:
    """What a command on a run reads, for "an output is never an input" (:func:`aekit._outputs.check_output`):
    the paths given (``--input``, ``--data``), else the data file or folder the run recorded, whose
    held-out split the command reads (None for a built-in dataset)."""
    if given:
        return list(given) if isinstance(given, (list, tuple)) else [given]
    return [(config.get("data") or {}).get("data")]


def refuse_changed_data(
    args: argparse.Namespace, config: dict, instead: str, needed_by: str | None = None
) -> None:
    """The run's recorded data file or folder, read again for its held-out split, unchanged since
    training (its recorded checksums); else one line: the split of other contents is other rows,
    and figures on them would pass for the run's own. ``instead``: what the user can do;
    ``needed_by``: an option that reads the run's data whatever else is given (``--baselines``)."""
    from pathlib import Path

    from ..errors import UsageError

    spec = recorded_spec(args, config)
    if spec.data is not None and not Path(spec.data).exists():
        where = f"recorded in {Path(args.run) / 'config.json'}"
        raise UsageError(
            f"{needed_by}: the run's training data {spec.data} is not there any more ({where}); "
            f"put it back"
            if needed_by
            else f"the run's data {spec.data} ({where}) is not there any more; put it back, or "
            f"{instead}"
        )
    if spec.changed():  # needed_by: another --data is no fix, it reads the training rows anyway
        raise UsageError(
            f"{needed_by + ': ' if needed_by else ''}the run's data {spec.data} has changed since "
            f"the run was trained (its checksum differs), so its held-out split is no longer the "
            f"run's; put the original back{'' if needed_by else f', or {instead}'}"
        )


def run_spec(args: argparse.Namespace, config: dict, path: str | None = None):
    """The data spec a run recorded, read again from ``--data-dir`` or the recorded root, with the
    reading options given on the command line. For another file ``path`` that is an array (.npy,
    .npz), the recorded table columns (time, label, id) do not apply: a run trained on a table
    reads arrays too (an .npz's labels with the run's normal label)."""
    from pathlib import Path

    spec = recorded_spec(args, config)
    if path is None and spec.data is not None:  # the run's own data: the options read it
        refuse_read_options_for(args, str(spec.data), "the run's data ")
    if path is not None and Path(path).suffix.lower() in (".npy", ".npz"):
        # the run's normal label stays: an .npz's y is read with it, as a table's label column is
        spec.time_column = spec.label_column = spec.id_column = None
    for opt in ("npz_key", "label_column", "id_column", "image_size", "normal_label"):
        if getattr(args, opt, None) is not None:
            setattr(spec, opt, getattr(args, opt))
    return spec


def recorded_column(config: dict | None, key: str, path: str):
    """The run's recorded ``key`` column (``"id_column"``, ``"label_column"``) when the table ``path``
    has it (by name; by index when neither has a header), else None."""
    recorded = ((config or {}).get("data") or {}).get(key)
    if recorded is None or input_format(path) != "table":
        return None
    from ..data.tables import table_columns

    names = table_columns(path)
    if names is None:  # no header: a run trained without one recorded an index, as here
        return recorded if str(recorded).lstrip("-").isdecimal() else None
    return recorded if recorded in names else None


def input_id_column(args: argparse.Namespace, config: dict | None = None):
    """The id column to read ``--input`` with: ``--id-column``, else the run's recorded id column
    when the input table has it (:func:`recorded_column`), else None (a table without it: a note)."""
    if args.id_column is not None:
        return args.id_column
    found = recorded_column(config, "id_column", args.input)
    recorded = ((config or {}).get("data") or {}).get("id_column")
    if found is None and recorded is not None and input_format(args.input) == "table":
        from .._notes import note

        note(
            f"{args.input} has no column {recorded!r}, the run's id column: the outputs carry no "
            f"ids (name the id column with --id-column COL)"
        )
    return found


def input_label_column(args: argparse.Namespace, config: dict | None, path: str):
    """The label column to read ``path`` with: ``--label-column``, else the run's recorded one when
    the table has it (:func:`recorded_column`), else None."""
    if getattr(args, "label_column", None) is not None:
        return args.label_column
    return recorded_column(config, "label_column", path)


def read_for_model(args: argparse.Namespace, est, config: dict | None = None):
    """Read --input with the feature columns the model was trained on (by name, when it knows them), and
    its id column (:func:`input_id_column`)."""
    from ..data import read_path
    from ..training.memory import check_images_fit

    refuse_feature_roles(args, est)
    size = args.image_size or recorded_image_size(config)
    check_images_fit(args.input, size)  # before any image is decoded
    data = read_path(
        args.input,
        npz_key=args.npz_key,
        label_column=args.label_column,
        id_column=input_id_column(args, config),
        image_size=size,
        **table_options(est, config),
    )
    shape = getattr(est, "input_shape_", ())
    if getattr(data, "image_mode", None) is not None and len(shape) == 3:
        from ..recipes.images import check_mode

        check_mode(shape[0], data.image_mode, args.input)  # named: the model's line says only X
    check_width(data.x, est, args.input, names=data.feature_names)
    if data.x.ndim == 2:  # a table: its missing cells refused when the run fills none
        from ..data.missing import fill_missing

        fill_missing(data.x, None, data.feature_names, data.source, "none")
    return data


def refuse_other_size(want: Sequence[int], x, source: str, trained: str) -> None:
    """One line naming the file when images ``x`` (..., H, W) are not ``want`` = (H, W), the size
    the model takes (``trained``: whose training it was), with the ``--image-size`` that resizes
    them: the estimator's own line can only say "X"."""
    from ..errors import UsageError

    want, got = tuple(want), tuple(x.shape[-2:])  # (height, width)
    if got != want:  # said WIDTHxHEIGHT, as Pillow and --image-size say it
        raise UsageError(
            f"{source}: an image of {got[1]}x{got[0]}; {trained} trained on "
            f"{want[1]}x{want[0]} images: give images of that size (--image-size "
            f"{want[1]}x{want[0]} resizes them)"
        )


def refuse_processes(args: argparse.Namespace, method: str, what: str, instead: str) -> None:
    """One line for ``--nproc N`` (N > 1) given to a ``method`` that trains no network to split
    across processes (``what``: what it fits instead; ``instead``: the methods that train one)."""
    from ..errors import UsageError

    nproc = getattr(args, "nproc", None)
    if nproc is not None and nproc > 1:
        raise UsageError(
            f"--nproc {nproc} does not apply to method {method!r}: {what} trains no network to "
            f"split across processes; drop --nproc (or use --method {instead})"
        )


def refuse_feature_roles(args: argparse.Namespace, est) -> None:
    """One line for ``--label-column`` or ``--id-column`` naming one of the model's feature
    columns: the model reads its columns by name, so the option was silently ignored."""
    from ..errors import UsageError

    features = getattr(est, "feature_names_in_", None)
    names = [] if features is None else [str(n) for n in features]
    for dest in ("label_column", "id_column"):
        given = getattr(args, dest, None)
        if given is not None and str(given) in names:
            option = option_name(dest)
            raise UsageError(
                f"{option} {given} contradicts {args.run}: {given!r} is one of its feature columns "
                f"(it was trained on it); name another column, or drop {option}"
            )


def table_options(est, config: dict | None) -> dict:
    """How a run reads a table: the model's feature columns by name (when it knows them), the encoded
    ones and the values that fill missing cells, as recorded at training."""
    from ..estimators.outputs import preparation

    data = (config or {}).get("data") or {}
    names = getattr(est, "feature_names_in_", None)
    columns = list(names) if names is not None else data.get("columns")
    return dict(columns=columns, **preparation(config))


def recorded_image_size(config: dict | None):
    """The ``(height, width)`` a run's images were resized to at training (None: their own size)."""
    size = ((config or {}).get("data") or {}).get("image_size")
    return tuple(size) if size is not None else None


def threshold_arg(names: Sequence[str]):
    """An argparse type: one of the threshold rules ``names``, alone or as ``NAME:NUMBER``
    (``fpr:0.01``), or a number (a fixed threshold)."""

    def parse(text: str) -> str | float:
        name, sep, value = text.partition(":")
        if name in names:
            if sep:
                number(value)  # a bad number fails here, in argparse's one line
            return text
        try:
            return number(text)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"expected one of {', '.join(names)} (or NAME:NUMBER, e.g. fpr:0.01) or a number, "
                f"got {text!r}"
            ) from None

    return parse


def add_threshold_options(
    p: argparse.ArgumentParser, table: Mapping[str, Any], *, rule: str, k: float, q: float
) -> argparse._ArgumentGroup:
    """--threshold and the rules' parameters, their choices from the estimator's parameter table;
    ``rule`` is the help of --threshold, ``k`` and ``q`` the estimator's defaults."""
    g = p.add_argument_group("threshold")
    g.add_argument(
        "--threshold", type=threshold_arg(P.choices(table, "threshold")), metavar="RULE", help=rule
    )
    g.add_argument(
        "--k",
        type=non_negative_float,
        metavar="K",
        help=f"mean_std / mad: number of (robust) stds (default {k:g})",
    )
    g.add_argument("--q", type=number, metavar="Q", help=f"percentile: 0-100 (default {q:g})")
    g.add_argument(
        "--contamination",
        type=number,
        metavar="F",
        help="contamination: expected fraction in (0, 1)",
    )
    return g


def option_name(dest: str) -> str:
    """An option as it is typed: ``--npz-key`` for the dest ``npz_key``."""
    return "--" + dest.replace("_", "-")


def first_given(args: argparse.Namespace, dests) -> str | None:
    """The first of ``dests`` given on the command line (a value other than None or False; 0 is
    given: ``0 in (None, False)`` holds in Python, and ``--k 0`` went through unrefused)."""
    return next((d for d in dests if _given(getattr(args, d, None))), None)


def _given(value) -> bool:
    return value is not None and value is not False


# Reading options and the input formats they apply to; given for another format they would be
# ignored, so they are refused (what each does, for the message)
READ_OPTION_FORMATS = {
    "image_size": (("images",), "it resizes image files"),
    "npz_key": (("npz",), "it names an array of a .npz file"),
    "label_column": (("table",), "it names a column of a table"),
    "id_column": (("table",), "it names a column of a table"),
    "columns": (("table",), "it names columns of a table"),
    "drop_columns": (("table",), "it names columns of a table"),
    "categorical": (("table",), "it names columns of a table"),
    "fill": (("table",), "it fills a table's empty cells"),  # a series' (linear, ...) fills a .npy
}
_FORMATS = {
    "images": "image files",
    "table": "a table",
    "npy": "a .npy array",
    "npz": "a .npz file",
}


def input_format(path: str) -> str | None:
    """The format of an existing ``--input``/``--data`` path ("images", "table", "npy" or
    "npz"), else None (a path that is not there, a glob, another kind of file)."""
    from pathlib import Path

    from ..data.images import IMAGE_EXTENSIONS
    from ..data.tables import TABLE_EXTENSIONS

    p = Path(path)
    ext = p.suffix.lower()
    if p.is_dir() or ext in IMAGE_EXTENSIONS:
        return "images" if p.exists() else None
    if not p.is_file():
        return None
    if ext in (*TABLE_EXTENSIONS, ".parquet"):
        return "table"
    return {".npy": "npy", ".npz": "npz"}.get(ext)


def refuse_unused_read_options(args: argparse.Namespace) -> None:
    """One line for a reading option given with an ``--input`` or ``--data`` file (or each of
    ``interpolate``'s two) it does not apply to (``--image-size`` with a table, ``--npz-key`` with a
    .npy, ...), which it would otherwise ignore."""
    for where in ("input", "data"):
        given = getattr(args, where, None)
        for path in given if isinstance(given, list) else [given]:
            if isinstance(path, str):
                refuse_read_options_for(args, path, "")


def refuse_read_options_for(args: argparse.Namespace, path: str, whose: str) -> None:
    """One line for a reading option given that does not apply to the file or folder ``path``
    (``whose``: how the message names it, e.g. "the run's data ")."""
    from ..errors import UsageError

    kind = input_format(path)
    if kind is None:
        return
    for dest, (kinds, does) in READ_OPTION_FORMATS.items():
        given = getattr(args, dest, None)
        if given is not None and kind not in kinds and (dest != "fill" or given in TABLE_FILLS):
            raise UsageError(
                f"{option_name(dest)} does not apply to {whose}{path}, {_FORMATS[kind]} ({does}); "
                f"drop it"
            )
