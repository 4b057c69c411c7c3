"""``aekit export``: a run as an ONNX file for serving without PyTorch."""

from __future__ import annotations

import argparse

from .types import positive_int

# Estimator -> the run families that make it (for the help text; the parts come from aekit.export.PARTS).
FAMILIES = {
    "Autoencoder": "basic/stacked",
    "Denoiser": "denoise",
    "AnomalyDetector": "anomaly",
    "VAE": "vae",
    "ImageAnomalyDetector": "anomaly on a folder of images",
}
CHECK_SAMPLES = 5  # random inputs run through onnxruntime and PyTorch after the export


def register(subparsers) -> None:
    """``aekit export RUN --format onnx --output model.onnx [--part PART] [--opset N] [--overwrite]``."""
    from ..export import PARTS  # free of torch: keeps 'aekit --help' fast

    parts = "; ".join(f"{FAMILIES[k]}: {', '.join(v)}" for k, v in PARTS.items())
    e = subparsers.add_parser(
        "export",
        help="export a run to ONNX (dynamic batch size; needs aekit[onnx])",
        description="Write one part of a trained run as a single .onnx file (weights inside, "
        "dynamic batch axis), then compare onnxruntime's outputs with PyTorch's on "
        "a few samples. Needs: pip install 'aekit[onnx]'.",
    )
    e.add_argument("run", metavar="RUN", help="a run folder of 'aekit train' (or a saved model)")
    e.add_argument(
        "--format", choices=("onnx",), default="onnx", help="the file format (default onnx)"
    )
    e.add_argument("--output", required=True, metavar="FILE", help="the .onnx file to write")
    e.add_argument(
        "--part",
        metavar="PART",
        help=f"what to export (default: the first of the family's) - {parts}",
    )
    e.add_argument(
        "--opset",
        type=positive_int,
        metavar="N",
        help="ONNX opset version (default: the exporter's)",
    )
    e.add_argument("--overwrite", action="store_true", help="replace an existing output")
    e.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (it shows none: taken as by every command on a run)",
    )
    e.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    import importlib.util

    from ..export import PARTS, checked_sizes, export_onnx, verify_onnx
    from ..export.runs import config_metadata
    from ..recipes import load_run

    est, _, config = load_run(args.run)
    path = export_onnx(
        est,
        args.output,
        args.part,
        opset=args.opset,
        overwrite=args.overwrite,
        # what export_onnx adds for a run's path: the family, and the size of an --image-size run
        metadata=config_metadata(config) or None,
    )
    part = args.part or PARTS[type(est).__name__][0]
    if importlib.util.find_spec("onnxruntime") is None:
        check = "not verified: onnxruntime is not installed"
    else:
        diff = verify_onnx(path, est, n=CHECK_SAMPLES)
        sizes = checked_sizes(est, part)  # a graph of any height and width: several
        check = (
            f"onnxruntime vs PyTorch max abs difference {diff:.3g} on {CHECK_SAMPLES} samples"
            + (f" of each of {sizes} image sizes" if sizes > 1 else "")
            + _on_own_images(path, est, config)
        )
    print(f"wrote {path} (part {part}; {check})")
    return 0


def _on_own_images(path, est, config: dict) -> str:
    """The check on the image detector's own training images, where they are still there: random
    images showed 1.5e-5 where photos reach 1e-3 (float32 distances to the bank)."""
    from ..export import verify_onnx
    from ..export.runs import run_images

    if type(est).__name__ != "ImageAnomalyDetector":
        return ""
    x = run_images(config, tuple(est.input_shape_), CHECK_SAMPLES)
    if x is None:
        return ""
    # the map and score: the calibration images among them score at the threshold and the
    # calibration scores, where float32's last digits flip a label or a p-value
    diff = verify_onnx(path, est, x, outputs=("map", "score"))
    share = diff / float(est.pixel_threshold_) if est.pixel_threshold_ > 0 else float("nan")
    return (
        f", {diff:.3g} on the maps and scores of {len(x)} of the run's training images "
        f"({share:.2g} of the pixel threshold)"
    )
