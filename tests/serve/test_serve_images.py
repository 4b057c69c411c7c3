"""``aekit serve`` of an image run (``aekit train anomaly --data FOLDER``): a score, label and
p-value per image, and its map when asked, as ``aekit score --maps --maps-format npy`` writes them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aekit.models.imagescore import image_score

from ..badinput import cli
from ..cli.helpers import grating_defects, write_png
from .server import http_client, serving

pytest.importorskip("uvicorn")
TOL = 1e-6


def _read(path: Path) -> np.ndarray:
    """A PNG as the CLI reads it: (1, H, W) in [0, 1]."""
    return (np.asarray(Image.open(path), np.float32) / np.float32(255))[None]


def _ok(code_out_err) -> None:
    code, _, err = code_out_err
    assert code == 0, err


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A run trained on 40 good crops of a grating; 8 test crops (good and defective) scored by
    ``aekit score`` with their maps; a server serving the run as 'parts'."""
    root = tmp_path_factory.mktemp("serve_images")
    ds = grating_defects(root, 160, n_train=40, n_good=3, n_per_defect=1)
    for i, image in enumerate(ds.test):
        write_png(image, root / "test" / f"{i:03d}.png")
    run = root / "run"
    _ok(cli("train", "anomaly", "--data", root / "good", "--bank-size", "1024", "--threads", "1",
            "--out", run, "--quiet"))  # fmt: skip
    _ok(cli("score", run, "--input", root / "test", "--output", root / "scores.csv",
            "--maps", root / "maps", "--maps-format", "npy"))  # fmt: skip
    with open(root / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    images = np.stack([_read(root / "test" / r["file"]) for r in rows])  # (n, 1, 32, 32)
    with serving(f"parts={run}") as served, http_client() as client:
        yield {"root": root, "rows": rows, "images": images, "served": served, "client": client}


def _post(world, x: np.ndarray, **body):
    t = {"name": "input", "shape": list(x.shape), "datatype": "FP32", "data": x.ravel().tolist()}
    url = f"{world['served'].url}/v2/models/parts/infer"
    return world["client"].post(url, json={"inputs": [t], **body})


def _outputs(response) -> dict[str, np.ndarray]:
    assert response.status_code == 200, response.text
    return {
        o["name"]: np.asarray(o["data"]).reshape(o["shape"]) for o in response.json()["outputs"]
    }


def test_an_image_run_answers_as_aekit_score_writes(world):
    rows = world["rows"]
    out = _outputs(_post(world, world["images"]))
    assert set(out) == {"score", "label", "p_value"}  # the map only when asked
    np.testing.assert_allclose(out["score"], [float(r["score"]) for r in rows], rtol=TOL)
    assert out["label"].tolist() == [int(r["is_anomaly"]) for r in rows]
    np.testing.assert_allclose(out["p_value"], [float(r["p_value"]) for r in rows], atol=1e-6)
    assert 0 < out["label"].sum() < len(rows)  # good and defective crops told apart
    maps = _outputs(_post(world, world["images"], outputs=[{"name": "map"}]))["map"]
    for r, m in zip(rows, maps):
        saved = np.load(world["root"] / "maps" / Path(r["file"]).with_suffix(".npy"))
        np.testing.assert_allclose(m, saved, rtol=TOL, atol=TOL)


def test_any_image_size_one_size_per_map_and_bad_images_get_one_line(world):
    meta = world["client"].get(f"{world['served'].url}/v2/models/parts").json()
    assert meta["inputs"][0]["shape"] == [-1, 1, -1, -1]
    assert [o["name"] for o in meta["outputs"]] == ["score", "label", "p_value", "map"]
    crops = world["images"][:3, :, :24, :20]
    out = _outputs(_post(world, crops, outputs=[{"name": "map"}, {"name": "score"}]))
    assert out["map"].shape == (3, 24, 20)
    from_maps = image_score(torch.as_tensor(out["map"], dtype=torch.float32)).numpy()
    np.testing.assert_allclose(out["score"], from_maps, rtol=1e-5)  # the image score of its map
    for bad, words in (
        (np.repeat(world["images"][:2], 3, axis=1), "expects [-1, 1, -1, -1]"),
        (world["images"][:2] * 255, "[0, 1]"),
    ):
        r = _post(world, bad)
        assert r.status_code == 400 and words in r.text and "\n" not in r.text.strip(), r.text
    assert _post(world, world["images"][:1]).status_code == 200  # and it goes on serving
