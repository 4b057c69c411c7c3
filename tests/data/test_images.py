"""Image files as aekit reads them: the defect masks of ``aekit evaluate --masks``, the files of a
folder, transparency, and the lines for files that cannot be read."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from aekit.data.images import image_files, read_mask


def _defect() -> np.ndarray:
    a = np.zeros((4, 6), bool)
    a[1:3, 2:4] = True
    return a


@pytest.mark.parametrize("colour, background", [(255, 255), (255, 0), (0, 255)])
def test_a_mask_with_an_alpha_channel_is_its_opaque_pixels_that_are_not_black(
    tmp_path, colour, background
):
    """probe 60 inspect #7: a white defect painted on a transparent layer (RGB white everywhere,
    alpha the defect) was read as all defect: the alpha was dropped."""
    x = np.full((4, 6, 4), background, np.uint8)
    x[_defect(), :3] = colour
    x[..., 3] = np.where(_defect(), 255, 0 if background else 255)
    Image.fromarray(x, "RGBA").save(tmp_path / "m.png")
    expected = _defect() if colour else np.zeros((4, 6), bool)  # black paint marks nothing
    assert (read_mask(tmp_path / "m.png", "a.png", (4, 6)) == expected).all()


def test_a_gray_mask_with_alpha_and_a_palette_one_with_transparency(tmp_path):
    la = np.stack([np.full((4, 6), 255, np.uint8), _defect().astype(np.uint8) * 255], -1)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    assert (read_mask(tmp_path / "la.png", "a.png", (4, 6)) == _defect()).all()
    p = Image.fromarray(_defect().astype(np.uint8), "P")
    p.putpalette([255, 255, 255, 255, 255, 255])  # both entries white, entry 0 transparent
    p.save(tmp_path / "p.png", transparency=0)
    assert (read_mask(tmp_path / "p.png", "a.png", (4, 6)) == _defect()).all()


def test_a_linked_sub_folder_is_read_and_a_link_to_a_folder_above_is_not(tmp_path, caplog):
    """probe 67 #2: rglob does not follow a linked folder: with good/ a link, the defective images
    alone were read, and trained on as good. A link to .. or in a loop must not walk forever, and
    a link that points nowhere is named with the other files."""
    for folder in ("elsewhere/good", "data/bad"):
        (tmp_path / folder).mkdir(parents=True)
        Image.fromarray(np.zeros((4, 6), np.uint8)).save(tmp_path / folder / "a.png")
    data = tmp_path / "data"
    (data / "good").symlink_to(tmp_path / "elsewhere" / "good", target_is_directory=True)
    (data / "bad" / "up").symlink_to(data, target_is_directory=True)
    (data / "bad" / "loop").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere" / "back").symlink_to(data, target_is_directory=True)
    (data / "again").symlink_to(data / "bad", target_is_directory=True)  # read as bad/ already
    (data / "broken").symlink_to(tmp_path / "nothing")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        files = image_files(data)
    names = [p.relative_to(data).as_posix() for p in files]
    assert names == ["bad/a.png", "good/a.png"]  # each image once: loop/ holds good/ again
    assert "left out 1 file that is not a PNG, JPEG, BMP, TIFF or WebP image: broken" in caplog.text
