"""``aekit train denoise`` and ``aekit denoise RUN --input ... --output ...``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..estimators import params as P
from .options import recorded_image_size, refuse_other_size
from .progress import set_verbose
from .types import IMAGE_SIZE_HELP, image_size, int_list, positive_int


def noise_spec(text: str) -> str:
    """argparse type: a noise spec such as 'gaussian:0.2' or 'gaussian:0.2+masking:0.1', normalised."""
    from ..errors import UsageError
    from ..estimators.noise import parse_noise

    try:
        return parse_noise(text).spec
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--noise",
        type=noise_spec,
        action="append",
        metavar="SPEC",
        help="training noise: gaussian:FACTOR, masking:P or saltpepper:P; repeat the option or join "
        "with '+' to combine, applied in order",
    )
    g.add_argument(
        "--channels",
        type=int_list,
        metavar="C1,C2",
        help="encoder conv widths, each halving the image; the decoder mirrors them",
    )
    g.add_argument("--kernel-size", type=positive_int, metavar="K", help="conv kernel size")
    g.add_argument("--init", choices=P.choices(P.DENOISER, "init"), help="weight initialisation")


TRAIN_OPTIONS = {"denoise": _options}
# A conv model's code is a feature map sized by --channels: --latent-dim is not offered, but still
# parsed, so that the recipe refuses it in one line naming --channels.
HIDDEN = {"denoise": ("--latent-dim",)}
HELP = {
    "denoise": "convolutional denoising autoencoder for images of any size, grayscale or RGB "
    "(Fashion-MNIST recipe)"
}


def train_params(family: str, args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.noise:
        params["noise"] = "+".join(args.noise)
    names = {"channels": "channels", "kernel_size": "kernel_size", "init": "init"}
    params.update(
        {p: getattr(args, a) for a, p in names.items() if getattr(args, a, None) is not None}
    )
    return params


def register(subparsers) -> None:
    """``aekit denoise RUN --input PATH --output PATH``."""
    c = subparsers.add_parser(
        "denoise",
        help="denoise images with a trained denoise run",
        description="Denoise a folder of images (written with the same names and sizes, as "
        "8-bit grayscale or RGB as the run was trained: an alpha channel or a 16-bit depth is not "
        "kept), one image file, or a .npy array of (n, C, H, W) or (n, H, W) images in [0, 1].",
    )
    c.add_argument(
        "run", metavar="RUN", help="a run folder from 'aekit train denoise' (or a saved Denoiser)"
    )
    c.add_argument(
        "--input",
        required=True,
        metavar="PATH",
        help="a folder of images, an image, or a .npy/.npz file",
    )
    c.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help="a folder for images, an image file, or .npy",
    )
    c.add_argument("--npz-key", metavar="KEY", help="the array to use in a .npz file")
    c.add_argument(
        "--image-size",
        type=image_size,
        metavar="WxH",
        help=IMAGE_SIZE_HELP + " for the model (default: the size the run was trained at, if it "
        "resized; else each image at its own size); outputs go back to each input's size",
    )
    c.add_argument(
        "--keep-model-size",
        action="store_true",
        help="write outputs (images or a .npy) at the size the model saw (--image-size) rather than "
        "each input's own",
    )
    c.add_argument("--overwrite", action="store_true", help="replace an existing output")
    c.add_argument("--quiet", action="store_true", help="no progress on stderr")
    c.set_defaults(func=cmd_denoise)


def cmd_denoise(args: argparse.Namespace) -> int:
    from .._outputs import refuse_existing
    from ..data import read_path, write_output
    from ..errors import UsageError
    from ..estimators.persistence import load
    from ..training.memory import check_images_fit

    est = load(args.run)
    if type(est).__name__ != "Denoiser":
        raise UsageError(
            f"{args.run} holds the estimator {type(est).__name__}, not a Denoiser; train one with "
            f"'aekit train denoise'"
        )
    set_verbose(est, args)
    refuse_existing(args.output, args.overwrite, inputs=[args.input], kind="auto")
    size = args.image_size or recorded_image_size(_config(args.run))
    check_images_fit(args.input, size)  # before any image is decoded
    if Path(args.input).is_dir() and Path(args.output).suffix == "":
        data, denoised = _denoise_groups(est, args.input, size)  # any sizes, each at its own
    else:
        data = read_path(args.input, npz_key=args.npz_key, image_size=size)
        _check_images(est, data, args.input)
        denoised = est.transform(data.x)
    if args.keep_model_size:
        data.sizes = None
    if Path(args.output).suffix.lower() == ".npy":
        denoised = _npy_output(denoised, data, args)
    write_output(args.output, denoised, like=data, overwrite=args.overwrite)
    print(
        f"wrote {len(denoised)} denoised image{'s' if len(denoised) != 1 else ''} to {args.output}"
    )
    return 0


def _npy_output(denoised, data, args: argparse.Namespace):
    """The denoised images for a ``.npy``: back at the inputs' own size, as image outputs are
    (unless --keep-model-size); inputs of several sizes, which one array cannot hold at their own,
    at the model's size (as before outputs went back), with a note; an ``(n, H, W)`` input gets
    ``(n, H, W)`` back."""
    import numpy as np

    from .._notes import note
    from ..data import resize_images

    if data.sizes is not None:
        sizes = sorted(set(map(tuple, data.sizes)))
        if len(sizes) == 1:
            denoised = resize_images(np.asarray(denoised), sizes[0])
        else:
            note(
                f"{args.input}: images of {len(sizes)} sizes go into one .npy at the model's size "
                f"(--keep-model-size); a folder output keeps each image's own size"
            )
    if Path(args.input).suffix.lower() == ".npy" and np.load(args.input, mmap_mode="r").ndim == 3:
        denoised = denoised[:, 0]  # (n, H, W) in -> (n, H, W) out
    return denoised


def _config(run: str) -> dict:
    from ..estimators.persistence import read_config

    return read_config(run)


def _check_images(est, data, source) -> None:
    """A table given to a denoiser of images: one line."""
    from ..errors import UsageError
    from ..recipes.images import check_mode

    # (C, H, W); H == 1: a model of rows (the Python API's one-row images)
    shape = tuple(est.input_shape_)
    check_mode(shape[0], data.image_mode, source)
    if len(data.x.shape) == 2 and shape[1] != 1:
        raise UsageError(
            f"{source} holds a table (rows of {data.x.shape[1]} values); this run denoises "
            f"{'x'.join(map(str, shape))} images: give an image folder or an .npy of images"
        )
    _check_size(est, data, source)


def _check_size(est, data, source) -> None:
    """A denoiser of the user's own network takes images of its training size: another, one line
    naming the file (the estimator's own line can only say "X")."""
    if getattr(est, "encoder", None) is None or len(data.x.shape) < 3:
        return
    refuse_other_size(est.input_shape_[1:], data.x, source, "your network was")


def _denoise_groups(est, folder: str, size):
    """A folder of images of any sizes, denoised a group of one size at a time: (the images' Data
    in name order, the denoised images in that order)."""
    import dataclasses
    from pathlib import Path

    import numpy as np

    from ..data.readers import read_image_groups
    from ..recipes.images import check_mode

    groups = read_image_groups(folder, size)
    names, images, sizes = [], [], []
    for data in groups:  # a group's images share a size and a mode: name its first if wrong
        check_mode(est.input_shape_[0], data.image_mode, Path(folder) / data.names[0])
        _check_size(est, data, Path(folder) / data.names[0])
        names += data.names
        images += list(est.transform(data.x))
        sizes += data.sizes or [tuple(img.shape[1:]) for img in data.x]
    order = np.argsort(names, kind="stable")  # back to the folder's order
    first = groups[0]
    like = dataclasses.replace(
        first,
        x=np.zeros((len(names), 0), np.float32),
        y=None,
        ids=None,
        names=[names[i] for i in order],
        sizes=[sizes[i] for i in order],
    )
    return like, [images[i] for i in order]
