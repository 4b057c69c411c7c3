"""Images read a batch of one size at a time, random crops of large images, mask files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aekit.data.images import crop_count, mask_file, random_patches
from aekit.data.readers import iter_image_batches
from aekit.errors import DataError


def _png(path, h, w, value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((h, w), value, np.uint8), "L").save(path)


def test_batches_of_one_size_labels_over_the_whole_folder(tmp_path):
    _png(tmp_path / "good" / "a.png", 4, 6)
    _png(tmp_path / "good" / "b.png", 5, 5)
    _png(tmp_path / "cut" / "c.png", 4, 6, 255)
    _png(tmp_path / "cut" / "d.png", 4, 6)
    batches = list(iter_image_batches(tmp_path, pixels=48))  # two 4x6 images a batch
    assert [b.names for b in batches] == [
        ["cut/c.png", "cut/d.png"],
        ["good/a.png"],
        ["good/b.png"],
    ]
    assert [b.y.tolist() for b in batches] == [["cut", "cut"], ["good"], ["good"]]
    assert batches[2].sizes == [(5, 5)] and batches[0].x[0].max() == 1.0
    resized = list(iter_image_batches(tmp_path, image_size=(3, 3)))
    assert len(resized) == 1 and resized[0].x.shape == (4, 1, 3, 3)
    assert resized[0].sizes[-1] == (5, 5)  # each image's own size, to write its outputs back at


def test_random_patches_are_seeded_and_cover_large_images():
    images = [np.arange(64, dtype=np.float32).reshape(1, 8, 8), np.ones((1, 6, 10), np.float32)]
    a = random_patches(images, ["a", "b"], 4, 3, seed=0)
    assert a.shape == (6, 1, 4, 4) and np.array_equal(
        a, random_patches(images, ["a", "b"], 4, 3, 0)
    )
    assert not np.array_equal(a, random_patches(images, ["a", "b"], 4, 3, seed=1))
    assert crop_count([(512, 512)], 64) == 256 and crop_count([(8, 8)] * 5000, 4) == 1
    with pytest.raises(DataError, match="b is 10x6 pixels, smaller than a --patch 7"):
        random_patches(images, ["a", "b"], 7, 1, seed=0)


def test_mask_files_by_name(tmp_path):
    _png(tmp_path / "x" / "a.png", 2, 2)
    _png(tmp_path / "x" / "b_mask.bmp", 2, 2)
    assert mask_file(tmp_path, "x/a.jpg") == tmp_path / "x" / "a.png"
    assert mask_file(tmp_path, "x/b.png") == tmp_path / "x" / "b_mask.bmp"
    assert mask_file(tmp_path, "x/c.png") is None
