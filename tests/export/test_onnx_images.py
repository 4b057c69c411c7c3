"""ONNX export of the ImageAnomalyDetector: the score, label, p-value and map of each image in the
graph, any batch, height and width; onnxruntime within 1e-4 of PyTorch (the issue's bar)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
onnx = pytest.importorskip("onnx")

import aekit  # noqa: E402
from aekit.export import export_onnx, verify_onnx  # noqa: E402

TOL = 1e-4


@pytest.mark.parametrize("method", ["features", "pixels", "ssim"])
def test_image_detector_graph_matches_pytorch(method, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((12, 1, 16, 16), dtype=np.float32)
    det = aekit.ImageAnomalyDetector(method=method, bank_size=128, epochs=1, threads=1).fit(X)
    path = export_onnx(det, tmp_path / "det.onnx")
    for shape in [(3, 1, 16, 16), (1, 1, 21, 13)]:  # other batch sizes, heights and widths
        x = rng.random(shape, dtype=np.float32)
        x[0, 0, 3:7, 3:7] = 0.0  # a defect, so that the label and p-value vary
        assert verify_onnx(path, det, x) < TOL
    meta = {p.key: json.loads(p.value) for p in onnx.load(path).metadata_props}
    assert meta["estimator"] == "ImageAnomalyDetector"
    assert meta["outputs"]["map"] == ["batch", "height", "width"]
    assert meta["pixel_threshold"] == pytest.approx(det.pixel_threshold_)


def test_image_detector_graph_holds_on_sizes_other_than_traced(tmp_path):
    """A map smoothed over a radius (12 px) larger than small images and smaller than large ones:
    no branch on the size may be frozen into the graph at the size it was traced at."""
    rng = np.random.default_rng(1)
    det = aekit.ImageAnomalyDetector(bank_size=64, smoothing=4.0).fit(
        rng.random((8, 1, 10, 10), dtype=np.float32)
    )
    path = export_onnx(det, tmp_path / "det.onnx")
    assert verify_onnx(path, det) < TOL  # its own sizes: traced, larger, smaller, tiny
    for shape in [(2, 1, 40, 31), (1, 1, 3, 4), (1, 1, 2, 2)]:
        assert verify_onnx(path, det, rng.random(shape, dtype=np.float32)) < TOL
