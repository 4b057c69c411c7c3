"""``aekit train vae``, ``aekit sample`` and ``aekit interpolate``: the variational autoencoder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..estimators import params as P
from .options import (
    add_data_options,
    add_run_options,
    first_given,
    option_name,
    read_for_model,
    refuse_changed_data,
    refuse_other_size,
    run_inputs,
    run_spec,
)
from .progress import set_verbose
from .types import int_list, non_negative_float, non_negative_int, path_steps, positive_int


def _options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--beta", type=non_negative_float, metavar="B", help="weight of the KL term (1: the ELBO)"
    )
    g.add_argument(
        "--free-bits",
        type=non_negative_float,
        metavar="NATS",
        help="nats of KL per latent dimension training charges at least, so that the code "
        "cannot collapse (default 0.5; 0: the plain ELBO, as --preset recipe)",
    )
    g.add_argument(
        "--likelihood",
        choices=P.choices(P.VAE, "likelihood"),
        help="decoder distribution: bernoulli for binary images (--dataset mnist is then "
        "binarized at 0.5), gaussian for gray levels",
    )
    g.add_argument(
        "--kl",
        choices=P.choices(P.VAE, "kl"),
        help="KL estimate in training: closed form or the single-sample Monte Carlo estimate",
    )
    g.add_argument(
        "--iw-samples",
        type=positive_int,
        metavar="K",
        help="train on the importance-weighted bound with K samples of z per image (default 1: the ELBO)",
    )
    g.add_argument("--channels", type=int_list, metavar="C1,C2", help="encoder conv widths")
    g.add_argument("--init", choices=P.choices(P.VAE, "init"), help="weight initialisation")


TRAIN_OPTIONS = {"vae": _options}
HELP = {
    "vae": "convolutional variational autoencoder: generate and interpolate images (binarized MNIST recipe)"
}


def train_params(family: str, args: argparse.Namespace) -> dict[str, Any]:
    from ..errors import UsageError

    names = ("beta", "free_bits", "likelihood", "kl", "iw_samples", "channels", "init")
    params = {a: getattr(args, a) for a in names if getattr(args, a, None) is not None}
    unused = first_given(args, ("kl", "free_bits"))
    if params.get("iw_samples", 1) > 1 and unused is not None:
        # the importance-weighted bound has no KL term: the option would be recorded, unused
        raise UsageError(
            f"{option_name(unused)} does not apply with --iw-samples {params['iw_samples']}: the "
            f"importance-weighted bound has no KL term of its own; drop it (or --iw-samples)"
        )
    return params


def _write_images(
    images,
    output: str,
    overwrite: bool,
    *,
    strip: bool = False,
    title: str | None = None,
    inputs=(),
) -> None:
    """A .png figure (grid, or one row with ``strip``) or the raw (n, C, H, W) array as .npy."""
    from .. import plots
    from .._outputs import refuse_existing
    from ..data import write_output
    from ..errors import UsageError

    ext = Path(output).suffix.lower()
    if ext in plots.FIGURE_FORMATS and images.ndim == 2:  # a VAE fitted on rows in Python
        raise UsageError(
            f"cannot write {output}: this VAE makes rows of {images.shape[1]} values, not "
            f"images; write them to a .npy file"
        )
    written = refuse_existing(
        output, overwrite, inputs=inputs
    )  # a link to a file is replaced, not followed
    images = images[:, None] if images.ndim == 3 else images  # (n, H, W) fitted: gray images
    if ext in plots.FIGURE_FORMATS:
        (plots.plot_strip if strip else plots.plot_image_grid)(
            images, written, title=title, overwrite=True
        )
    elif ext == ".npy":
        write_output(output, images, overwrite=overwrite)
    else:
        kinds = ", ".join(plots.FIGURE_FORMATS)
        raise UsageError(f"cannot write {output}: expected a figure ({kinds}) or a .npy array")


def _load_vae(path: str):
    from ..errors import UsageError
    from ..recipes import load_run

    est, recipe, config = load_run(path)
    if type(est).__name__ != "VAE":
        raise UsageError(
            f"{path} holds the estimator {type(est).__name__}, not a VAE; train one with 'aekit train vae'"
        )
    return est, recipe, config


def cmd_sample(args: argparse.Namespace) -> int:
    est, _, _ = _load_vae(args.run)
    set_verbose(est, args)
    images = est.sample(args.n, seed=args.seed)
    _write_images(images, args.output, args.overwrite, title=f"{args.n} samples")
    print(f"wrote {len(images)} sample{'s' * (len(images) != 1)} to {args.output}")
    return 0


def _one_image(x, est):
    """``x`` as a batch of one when it is one image without the batch axis (an ``(H, W)`` .npy of a
    one-channel model, or ``(C, H, W)``): read as a table it would be H rows."""
    shape = tuple(getattr(est, "input_shape_", ()))
    if len(shape) != 3:
        return x
    # (C, H, W) of a C-channel model: the reader took its C planes for C one-channel images
    planes = shape[0] > 1 and x.shape == (shape[0], 1, *shape[1:])
    one = x.shape == shape or shape[0] == 1 and x.shape == shape[1:] or planes
    return x.reshape(1, *shape) if one else x


def _makes_rows(est) -> bool:
    """Whether ``est`` was fitted on rows (in Python): its network's one-row images (1, 1, d), or
    rows (d,) for the user's own networks."""
    shape = tuple(est.input_shape_)
    return len(shape) == 1 or len(shape) == 3 and shape[:2] == (1, 1)


def _one_row(path: str, est):
    """A .npy of one row (d,) for a VAE fitted on rows, as (1, d); None for anything else, read
    as usual: the readers take a stored array as samples, and refused (d,) as no table."""
    import numpy as np

    if not _makes_rows(est) or Path(path).suffix.lower() != ".npy":
        return None
    try:
        x = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None  # the readers' own line
    if x.ndim != 1 or x.dtype.kind not in "biuf":
        return None
    return np.asarray(x, np.float32)[None]  # (d,) -> (1, d)


def _read_end(args: argparse.Namespace, path: str, est, config):
    """One end of the strip from ``--input``: an image (of the model's size: else one line naming
    the file and the --image-size that fits), a .npy of one image, or of one row for rows."""
    row = _one_row(path, est)
    if row is not None:
        return row
    args_one = argparse.Namespace(**{**vars(args), "input": path})
    x = _one_image(read_for_model(args_one, est, config).x, est)
    if x.ndim == 4 and len(est.input_shape_) == 3 and not _makes_rows(est):
        refuse_other_size(est.input_shape_[1:], x, path, "the model was")
    return x


def cmd_interpolate(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..recipes.vae import binarize_for

    est, recipe, config = _load_vae(args.run)
    set_verbose(est, args)
    if args.input is not None:
        if args.from_ is not None or args.to is not None:
            raise UsageError(
                "give either --from I --to J (test-set indices) or --input A B (two images), not both"
            )
        ends = []
        for path in args.input:
            ends.append(_read_end(args, path, est, config))
            if len(ends[-1]) != 1:  # named: the model's line says x_a
                kind = "images" if ends[-1].ndim == 4 else "rows"
                raise UsageError(
                    f"--input {path} holds {len(ends[-1])} {kind}; give two files of one each "
                    f"(--input A B), or --from I --to J (indices into the run's test data)"
                )
        what = " -> ".join(Path(p).name for p in args.input)
    else:
        if args.from_ is None or args.to is None:
            raise UsageError(
                "give --from I --to J (indices into the run's test data) or --input A B (two images)"
            )
        refuse_changed_data(args, config, "give the two images with --input A B")
        data = binarize_for(
            est, recipe.load_eval_data(run_spec(args, config), int(config.get("seed", 0)))
        )
        for i in (args.from_, args.to):
            if not 0 <= i < len(data):
                raise UsageError(
                    f"index {i} is out of range: the run's test data has {len(data)} samples "
                    f"(0..{len(data) - 1})"
                )
        ends = [data.x[args.from_], data.x[args.to]]
        what = f"test image {args.from_} -> {args.to}"
    strip = est.interpolate(ends[0], ends[1], steps=args.steps, method=args.method)
    inputs = run_inputs(args.input, config)  # the run's data when no --input: never overwritten
    _write_images(strip, args.output, args.overwrite, strip=True, title=what, inputs=inputs)
    print(f"wrote {len(strip)} interpolation steps ({what}) to {args.output}")
    return 0


def register(subparsers) -> None:
    """``aekit sample`` and ``aekit interpolate``."""
    vae_run = "a run folder of 'aekit train vae' (or a saved VAE)"
    s = subparsers.add_parser("sample", help="generate images with a trained VAE")
    add_run_options(s, run_help=vae_run, data_dir=False)
    s.add_argument(
        "-n",
        "--n",
        type=positive_int,
        default=64,
        metavar="N",
        help="number of images (default 64)",
    )
    s.add_argument(
        "--output",
        required=True,
        metavar="FILE",
        help="a figure, a grid (.png, .pdf, .svg, ...) or .npy (n, C, H, W): pixel probabilities "
        "in [0, 1] (bernoulli), or the decoded means, which may stray outside [0, 1] (gaussian)",
    )
    s.add_argument(
        "--seed", type=non_negative_int, metavar="N", help="seed of z (default: the run's seed)"
    )
    s.set_defaults(func=cmd_sample)

    i = subparsers.add_parser(
        "interpolate", help="decode a straight (or spherical) path between two images' codes"
    )
    add_run_options(i, run_help=vae_run)
    i.add_argument(
        "--from",
        dest="from_",
        type=non_negative_int,
        metavar="I",
        help="index into the run's held-out data",
    )
    i.add_argument(
        "--to", type=non_negative_int, metavar="J", help="index into the run's held-out data"
    )
    i.add_argument(
        "--input",
        nargs=2,
        metavar=("A", "B"),
        help="two image files (or .npy of one image; of one row for a VAE fitted on rows) instead",
    )
    i.add_argument(
        "--steps",
        type=path_steps,
        default=10,
        metavar="N",
        help="images in the strip, both ends included (at least 2; default 10)",
    )
    i.add_argument(
        "--method",
        choices=("linear", "slerp"),
        default="linear",
        help="linear (a straight line) or slerp (spherical; keeps the norm of prior samples) "
        "(default linear)",
    )
    i.add_argument(
        "--output",
        required=True,
        metavar="FILE",
        help="a figure, one row (.png, .pdf, .svg, .jpg, ...) or .npy (steps, C, H, W)",
    )
    add_data_options(i, builtin=False)
    i.set_defaults(func=cmd_interpolate)
