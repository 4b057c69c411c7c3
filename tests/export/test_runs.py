"""The metadata an exported run folder carries: its family and the image size it resizes to."""

from __future__ import annotations

import json

import numpy as np
import pytest

import aekit

pytest.importorskip("onnx")
pytest.importorskip("onnxscript")


def test_a_run_trained_resized_names_the_image_size_its_graph_takes(tmp_path):
    """probe 56 surfaces #4: nothing in the graph said the run resizes images to 6x4 first."""
    import onnx

    from aekit.export import export_onnx

    images = np.random.default_rng(2).random((8, 1, 6, 4), dtype=np.float32)
    aekit.Denoiser(channels=(2, 2), epochs=1, device="cpu", threads=1).fit(images).save(
        tmp_path / "d"
    )
    config = json.loads((tmp_path / "d" / "config.json").read_text())
    config["data"] = {"image_size": [6, 4]}  # as aekit train --image-size 4x6 records it
    (tmp_path / "d" / "config.json").write_text(json.dumps(config))
    export_onnx(tmp_path / "d", tmp_path / "d.onnx")
    meta = {p.key: json.loads(p.value) for p in onnx.load(tmp_path / "d.onnx").metadata_props}
    assert meta["image_size"] == [6, 4]
