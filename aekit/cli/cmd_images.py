"""The anomaly family on a folder of images: ``aekit train anomaly --data FOLDER`` trains the image
detector (:mod:`aekit.recipes.images`); ``aekit score``, ``evaluate`` and ``calibrate`` on its runs.

This module adds its options to the anomaly family's commands (a group each, named for the image
runs), and the anomaly commands hand an image run to its handlers here. An option of one kind of
run given to the other is refused in one line.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..estimators import params as P
from .helptext import fill_when_printed, show
from .options import first_given, option_name, refuse_processes, threshold_arg
from .types import int_list, non_negative_float, number, positive_int

TABLE = P.IMAGE_DETECTOR  # the detector's parameters: the options' choices come from it
ESTIMATOR = "ImageAnomalyDetector"
# aekit.recipes.images.MAP_FORMATS, named again here: the parser imports no recipe
MAP_FORMATS = ("png", "npy")
GROUP = "a folder of images (--data FOLDER trains the image detector: a score and a map per image)"
RUN_GROUP = "an image run ('aekit train anomaly --data FOLDER')"

# option dest -> the detector's parameter
_PARAMS = {
    "method": "method",
    "bank_size": "bank_size",
    "pixel_patch": "patch",
    "smoothing": "smoothing",
    "channels": "channels",
    "kernel_size": "kernel_size",
    "pixel_threshold": "pixel_threshold",
    "calibration_fraction": "calibration_fraction",
    "threshold": "threshold",
}
# the table detector's training options that the image detector's ssim method trains with too
_SHARED = ("epochs", "batch_size", "lr")
# `aekit train anomaly` options that only the image detector reads, and those it does not read
IMAGE_ONLY = ("patch", "patches", *(d for d in _PARAMS if d != "threshold"))
NOT_FOR_IMAGES = (
    *("label_column", "id_column", "npz_key", "columns", "drop_columns", "categorical", "fill"),
    *("architecture", "hidden", "members", "activation", "output_activation", "init", "scaler"),
    *("error", "density", "neighbors", "input_density", "loss", "validation_fraction"),
    *("input_neighbors", "k", "q", "contamination"),
    *("latent_dim", "schedule", "precision", "patience", "stream", "memory_cap", "preset"),
    *("encoder", "decoder", "encoder_args", "decoder_args", "network"),
)
IMAGE_SCORE_OPTIONS = ("maps", "maps_format", "overlay")
# a threshold rule's parameter, which an image run takes written in the rule
_RULE_PARAMS = {"k": "mean_std:K", "q": "percentile:Q", "contamination": "contamination:F"}


def patch_arg(text: str) -> int:
    """A crop side: a whole number >= 2."""
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected a crop side of at least 2 pixels, got {value}")
    return value


def odd_arg(text: str) -> int:
    """An odd whole number >= 1 (a patch centred on its pixel)."""
    value = positive_int(text)
    if value % 2 == 0:
        raise argparse.ArgumentTypeError(
            f"expected an odd side (centred on its pixel), got {value}"
        )
    return value


def _options(p: argparse.ArgumentParser) -> None:
    """The image detector's options of ``aekit train anomaly``, in a group of their own."""
    g = p.add_argument_group(GROUP)
    g.add_argument(
        "--patch",
        type=patch_arg,
        metavar="SIZE",
        help="train on random SIZE x SIZE crops of each image (seeded): large images at their own "
        "scale; a whole image's score is then higher than a crop's: calibrate the run on whole "
        "good images ('aekit calibrate RUN --data GOOD')",
    )
    g.add_argument(
        "--patches",
        type=positive_int,
        metavar="N",
        help="--patch: crops per image (default: enough to cover the largest image 4 times, at "
        "most 1024 crops in all)",
    )
    g.add_argument(
        "--method",
        choices=P.choices(TABLE, "method"),
        help="features: each pixel's distance to the nearest normal pixel in a bank of texture "
        "statistics (no network); pixels: the same on raw pixel patches; ssim: a conv autoencoder "
        "scored by 1 - SSIM (trains with --epochs, --batch-size, --lr)",
    )
    g.add_argument(
        "--bank-size",
        type=positive_int,
        metavar="N",
        help="normal pixel features kept (features, pixels)",
    )
    g.add_argument(
        "--pixel-patch", type=odd_arg, metavar="K", help="pixels: the raw patch's side (odd)"
    )
    g.add_argument(
        "--smoothing",
        type=non_negative_float,
        metavar="SIGMA",
        help="the map's Gaussian, in pixels",
    )
    g.add_argument("--channels", type=int_list, metavar="C1,C2", help="ssim: conv widths")
    g.add_argument("--kernel-size", type=positive_int, metavar="K", help="ssim: conv kernel size")
    g.add_argument(
        "--pixel-threshold",
        type=threshold_arg(P.choices(TABLE, "pixel_threshold")),
        metavar="RULE",
        help="the rule on the calibration images' pixels that draws a defect's contour on the "
        "maps (as --threshold)",
    )
    g.add_argument(
        "--calibration-fraction",
        type=number,
        metavar="F",
        help="share of the good training images held out to calibrate both thresholds",
    )
    fill_when_printed(p, _image_defaults)


def _image_defaults(parser: argparse.ArgumentParser) -> None:
    """Append the image detector's defaults to its options' help, when the help is printed."""
    from ..estimators.anomaly import AnomalyDetector
    from ..estimators.images import ImageAnomalyDetector

    params = ImageAnomalyDetector().get_params(deep=False)
    table = AnomalyDetector().get_params(deep=False)
    for action in parser._actions:
        param = _PARAMS.get(action.dest)
        if param is not None and action.help is not None and "default" not in action.help:
            action.help += f" (default: {show(params[param])})"
        elif action.dest in _SHARED and action.help is not None:
            # the table detector's default, filled first (helptext.family_defaults): the ssim
            # method's own beside it where it differs (a batch of 16 images, of 32 rows)
            mine, theirs = show(params[action.dest]), show(table[action.dest])
            if mine != theirs:
                said = f"(default: {theirs})"
                action.help = action.help.replace(said, f"{said[:-1]}; a folder of images: {mine})")


TRAIN_OPTIONS = {"anomaly": _options}


def image_run(args: argparse.Namespace) -> bool:
    """Whether ``aekit train`` was given a folder of images (the family's image row)."""
    from ..recipes.base import image_folder

    return image_folder(getattr(args, "data", None))


def refuse_given(args: argparse.Namespace, dests, why: str) -> None:
    """One line for the first option of ``dests`` given (a value other than None or False)."""
    from ..errors import UsageError

    dest = first_given(args, dests)
    if dest is None:
        return
    if dest in _RULE_PARAMS:  # the image detector takes the rule's value in the rule
        raise UsageError(
            f"{option_name(dest)} {why}: write it in the rule, --threshold {_RULE_PARAMS[dest]}"
        )
    raise UsageError(f"{option_name(dest)} {why}; drop it")


def train_params(args: argparse.Namespace) -> dict[str, Any]:
    """The image detector's parameters from ``aekit train anomaly --data FOLDER``."""
    from ..estimators.images import ImageAnomalyDetector

    refuse_given(args, NOT_FOR_IMAGES, "does not apply to a folder of images (the image detector)")
    params = {p: getattr(args, a) for a, p in _PARAMS.items() if getattr(args, a, None) is not None}
    method = params.get("method") or ImageAnomalyDetector().get_params()["method"]
    _check_method_options(args, method)
    if method != "ssim":  # a bank of normal pixels
        refuse_processes(args, method, "its bank of normal pixels", "ssim")
    return params


# options that only some methods read: the others would take them, record them and change nothing
_METHOD_OPTIONS = {
    "bank_size": ("features", "pixels"),
    "pixel_patch": ("pixels",),
    **dict.fromkeys(("channels", "kernel_size", "epochs", "batch_size", "lr"), ("ssim",)),
    "tensorboard": ("ssim",),  # the training's curves: the bank methods train none
}


def _check_method_options(args: argparse.Namespace, method: str) -> None:
    """One line for an option the chosen method does not read, and for ``--patches`` alone."""
    from ..errors import UsageError

    dest = first_given(args, [d for d, readers in _METHOD_OPTIONS.items() if method not in readers])
    if dest is not None:
        readers = " and ".join(repr(m) for m in _METHOD_OPTIONS[dest])
        raise UsageError(
            f"{option_name(dest)} does not apply to method {method!r} (only to {readers}); drop it"
        )
    if getattr(args, "patches", None) is not None and getattr(args, "patch", None) is None:
        raise UsageError("--patches N needs --patch SIZE, the side of the crops it cuts; add it")


def register(subparsers) -> None:
    """The image runs' options of ``aekit score``, ``evaluate`` and ``calibrate`` (registered before)."""
    s = subparsers.choices["score"].add_argument_group(RUN_GROUP)
    s.add_argument(
        "--maps",
        metavar="DIR",
        help="also write each image's anomaly map to DIR, under the image's relative name: an "
        "8-bit grayscale PNG where 0-255 is the map from 0 to twice the pixel threshold (128: the "
        "threshold), or --maps-format npy; an anomaly run trained on image arrays writes one "
        ".npy file of the maps instead, (n, H, W) in the input's order",
    )
    s.add_argument(
        "--maps-format",
        choices=MAP_FORMATS,
        help="png (default) or npy: the map's float values as computed (at each image's own size)",
    )
    s.add_argument(
        "--overlay",
        metavar="DIR",
        help="also write each image with its map over it, a colour scale and the pixel threshold's "
        "contour (cyan), as a PNG under the image's relative name",
    )
    e = subparsers.choices["evaluate"].add_argument_group(RUN_GROUP)
    e.add_argument(
        "--masks",
        metavar="DIR",
        help="defect masks under the images' relative names (any image format; non-zero = defect; "
        "MVTec AD's NAME_mask.png too); an image without one is good: adds pixel ROC-AUC and PRO",
    )
    c = subparsers.choices["calibrate"].add_argument_group(RUN_GROUP)
    c.add_argument(
        "--pixel-threshold",
        type=threshold_arg(P.choices(TABLE, "pixel_threshold")),
        metavar="RULE",
        help="a new rule for the maps' contour, computed on the pixels of the good images of --data",
    )


# ---- the handlers -------------------------------------------------------------------------------


def _refuse_table_options(args: argparse.Namespace) -> None:
    refuse_given(
        args,
        ("label_column", "id_column", "npz_key", "time_column", "fill", "ranges", "channels"),
        f"does not apply to {args.run}, an image run",
    )
    refuse_given(args, tuple(_RULE_PARAMS), f"does not apply to {args.run}, an image run")


def _check_paths(args: argparse.Namespace) -> dict[str, Any]:
    """The outputs of ``aekit score`` on an image run, checked before anything is read."""
    from pathlib import Path

    from .._outputs import refuse_existing
    from ..errors import UsageError

    if not args.output.lower().endswith((".csv", ".tsv")):
        raise UsageError(f"cannot write {args.output}: expected a .csv or .tsv file")
    given = {"maps": args.maps, "overlay": args.overlay}
    paths = [Path(p).resolve() for p in (args.output, *given.values()) if p]
    for i, a in enumerate(paths):
        if any(a == b or a in b.parents or b in a.parents for b in paths[i + 1 :]):
            raise UsageError(
                "--output, --maps and --overlay must be three places, none inside another"
            )
    out = {"output": refuse_existing(args.output, args.overwrite, inputs=[args.input])}
    for name, path in given.items():
        if path:
            out[name] = refuse_existing(
                path, args.overwrite, inputs=[args.input], kind="output", option=f"--{name}"
            )
    return out


def _check_input(path: str) -> None:
    from pathlib import Path

    from ..data.checks import check_exists
    from ..data.images import IMAGE_EXTENSIONS
    from ..errors import UsageError

    p = Path(path)
    check_exists(path)
    if not p.is_dir() and p.suffix.lower() not in IMAGE_EXTENSIONS:
        raise UsageError(
            f"{path} is not an image; an image run scores a folder of images or an image file "
            f"({', '.join(IMAGE_EXTENSIONS)})"
        )


def cmd_score_images(args: argparse.Namespace, est, config: dict) -> int:
    """``aekit score RUN --input IMAGES --output scores.csv [--maps DIR] [--overlay DIR]``."""
    from ..errors import UsageError
    from ..recipes.images import ImageOutputs, score_images
    from .options import recorded_image_size

    _refuse_table_options(args)
    if args.maps_format is not None and not args.maps:
        raise UsageError("--maps-format needs --maps DIR: the folder the maps are written to")
    _check_input(args.input)
    paths = _check_paths(args)
    # the progress is a pass over the images (score_images), not the detector's over each batch
    est.set_params(verbose=0)
    if args.threshold is not None:
        est.set_params(threshold=args.threshold)
        est.check_params()
    size = args.image_size or recorded_image_size(config)  # read a batch at a time: any number
    note_sizes(args.run, args.image_size, config, args.input)
    outputs = ImageOutputs(paths.get("maps"), args.maps_format or "png", paths.get("overlay"))
    counts = score_images(
        est, args.input, paths["output"], outputs, image_size=size, verbose=0 if args.quiet else 1
    )
    print(
        f"wrote {counts['images']} score{'s' if counts['images'] != 1 else ''} to {args.output} "
        f"(threshold {est.threshold_:.6g}; "
        f"{counts['flagged']} flagged)"
    )
    for name, what in (("maps", "maps"), ("overlay", "overlays")):
        if paths.get(name):
            print(f"wrote {counts['images']} {what} to {getattr(args, name)}")
    if args.maps and (args.maps_format or "png") == "png":
        t = est.pixel_threshold_
        print(f"map PNGs: 0-255 = map values 0-{2 * t:.6g} (the pixel threshold {t:.6g} = 128)")
    return 0


def note_sizes(run: str, given, config: dict, path: str | None) -> None:
    """Notes on the size images are scored at: ``--image-size`` other than the run's (its scores
    and thresholds hold at the size it was trained and calibrated at: 70 at 160x120 was 105 at
    320x240), and inputs of another shape than the run's training images (read where they still
    are), which resizing stretches unlike them."""
    from pathlib import Path

    from .._notes import note
    from ..data.images import median_aspect, note_stretched
    from .options import recorded_image_size

    recorded = recorded_image_size(config)
    if given is not None and tuple(given) != recorded:
        trained = "their own sizes" if recorded is None else f"{recorded[1]}x{recorded[0]}"
        note(
            f"--image-size {given[1]}x{given[0]}: {run} was trained and calibrated on images at "
            f"{trained}; at another size its scores are on another scale, and its threshold and "
            f"p-values do not hold (drop --image-size to score at the run's size)"
        )
    trained_on = (config.get("data") or {}).get(
        "data"
    )  # the training images' shape, if still there
    trained = median_aspect(Path(trained_on)) if trained_on else None
    if path is not None and (given or recorded) is not None and trained is not None:
        note_stretched(Path(path), trained, given or recorded, run)


def evaluate_images(args: argparse.Namespace, est, recipe, config: dict) -> dict[str, Any]:
    """The figures of ``aekit evaluate`` on an image run: on --data (or the run's held-out images),
    with the pixel figures when --masks are given."""
    from .options import run_spec

    _refuse_table_options(args)
    if args.baselines:
        recipe.compare_baselines(est, None, 0)  # says in one line why not
    if args.data is not None:
        _check_input(args.data)
        note_sizes(args.run, args.image_size, config, args.data)
    spec = run_spec(args, config, path=args.data)
    if args.masks is not None:
        return recipe.evaluate_masks(est, spec, args.data, args.masks)
    return recipe.evaluate(est, recipe.load_eval_data(spec, int(config.get("seed", 0)), args.data))


def cmd_calibrate_images(args: argparse.Namespace, recipe, config: dict) -> int:
    """``aekit calibrate RUN [--threshold RULE] [--pixel-threshold RULE] [--data GOOD_IMAGES]``."""
    from ..recipes.calibrate import calibrate_run
    from .options import recorded_spec

    _refuse_table_options(args)
    normal = None
    if args.data is not None:
        _check_input(args.data)
        channels = config["state"]["input_shape"][0]  # the run's: 1 (grayscale) or 3 (RGB)
        normal = recipe.read_good(recorded_spec(args, config), args.data, channels)
    rule = {p: getattr(args, p) for p in ("threshold", "pixel_threshold")}
    given = {p: v for p, v in rule.items() if v is not None}
    est = calibrate_run(args.run, normal=normal, source=args.data, **given)
    print(
        f"{args.run}: threshold {est.threshold!s} = {est.threshold_:.6g}, pixel threshold "
        f"{est.pixel_threshold!s} = {est.pixel_threshold_:.6g} (calibration: "
        f"{len(est.calibration_scores_)} good images); weights unchanged"
    )
    return 0
