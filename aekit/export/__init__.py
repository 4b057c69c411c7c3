"""Export trained models to run without PyTorch: ONNX graphs with the weights inside.

:func:`export_onnx` writes one part of a fitted estimator (or of a run folder) as a single
``.onnx`` file with a dynamic batch axis; :func:`verify_onnx` runs it with onnxruntime and
compares with the estimator's own outputs. Both need ``pip install 'aekit[onnx]'``.

Examples
--------
>>> from aekit.export import export_onnx, verify_onnx      # doctest: +SKIP
>>> export_onnx("runs/anomaly", "detector.onnx")             # doctest: +SKIP
>>> verify_onnx("detector.onnx", "runs/anomaly")             # doctest: +SKIP
2.9802322e-08
"""

from .._lazy import lazy_names

# Estimator -> the parts it exports; the first is the default. Kept here, free of torch, so that
# the command line can list them without importing torch.
PARTS: dict[str, tuple[str, ...]] = {
    "Autoencoder": ("autoencoder", "encoder", "decoder"),
    "Denoiser": ("denoiser", "encoder", "decoder"),
    "AnomalyDetector": ("detector", "autoencoder"),
    "VAE": ("decoder", "encoder", "autoencoder"),
    "ImageAnomalyDetector": ("detector",),
}

# Imported on first use: the exporter needs torch.
_LAZY = {
    "export_onnx": "aekit.export.onnx",
    "verify_onnx": "aekit.export.verify",
    "checked_sizes": "aekit.export.verify",
}

__all__ = ["PARTS", *_LAZY]

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
