"""Commands on a finished run of any family: ``evaluate``, ``encode``, ``reconstruct``, ``plot``."""

from __future__ import annotations

import argparse

from .options import add_data_options, read_for_model


def register(subparsers) -> None:
    ev = subparsers.add_parser("evaluate", help="held-out figures of a run (the keys of metrics.json)")
    ev.add_argument("run", metavar="RUN")
    add_data_options(ev, builtin=False)
    ev.add_argument("--data", metavar="PATH", help="evaluate on this file instead of the run's held-out data")
    ev.add_argument("--normal-label", metavar="VALUE", help="anomaly detection: the label of normal rows")
    ev.add_argument("--output", metavar="FILE", help="write the figures as JSON here (default: print them)")
    ev.add_argument("--overwrite", action="store_true")
    ev.set_defaults(func=cmd_evaluate)

    for name, helptext, func in (("encode", "samples to latent vectors", cmd_encode),
                                 ("reconstruct", "samples through the autoencoder and back", cmd_reconstruct)):
        c = subparsers.add_parser(name, help=helptext)
        c.add_argument("run", metavar="RUN")
        c.add_argument("--input", required=True, metavar="PATH", help=".npy, .npz, .csv/.tsv or a folder of images")
        c.add_argument("--output", required=True, metavar="PATH", help=".npy, .csv, or a folder for images")
        add_data_options(c, builtin=False)
        c.add_argument("--overwrite", action="store_true")
        c.set_defaults(func=func)

    pl = subparsers.add_parser("plot", help="draw a run's figures again")
    pl.add_argument("run", metavar="RUN")
    pl.set_defaults(func=cmd_plot)


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from .. import _io
    from .._io import refuse_existing
    from ..recipes import DataSpec, load_run

    est, recipe, config = load_run(args.run)
    if args.output:
        refuse_existing(args.output, args.overwrite, inputs=[args.data])
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


def cmd_encode(args: argparse.Namespace) -> int:
    from .._io import refuse_existing
    from ..data import write_output
    from ..errors import UsageError
    from ..recipes import load_run

    est, _, config = load_run(args.run)
    if not hasattr(est, "inverse_transform"):  # only latent-variable models map samples to vectors
        raise UsageError(f"{args.run} is a {config.get('family', type(est).__name__)} run without a latent space "
                         f"to encode to; use a basic, stacked or vae run")
    refuse_existing(args.output, args.overwrite, inputs=[args.input])
    data = read_for_model(args, est)
    z = est.transform(data.x)
    write_output(args.output, z, overwrite=args.overwrite)
    print(f"wrote {len(z)} latent vectors of size {z.shape[1]} to {args.output}")
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    from .._io import refuse_existing
    from ..data import write_output
    from ..recipes import load_run

    est, _, _ = load_run(args.run)
    refuse_existing(args.output, args.overwrite, inputs=[args.input])
    data = read_for_model(args, est)
    x_hat = est.reconstruct(data.x)
    write_output(args.output, x_hat, like=data, overwrite=args.overwrite)
    print(f"wrote {len(x_hat)} reconstructions to {args.output}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..recipes import DataSpec, load_run

    est, recipe, config = load_run(args.run)
    data = recipe.load_eval_data(DataSpec.from_json(config.get("data", {})), int(config.get("seed", 0)))
    for path in recipe.figures(est, data, Path(args.run) / "figures"):
        print(path)
    return 0
