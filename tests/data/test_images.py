"""Image files as aekit reads them: the defect masks of ``aekit evaluate --masks``, the files of a
folder, transparency, and the lines for files that cannot be read."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from aekit.data import read_path
from aekit.data.images import common_crop, image_files, mask_file, read_image, read_mask
from aekit.errors import DataError


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


def _png16(path, a: np.ndarray) -> None:
    """A 16-bit PNG of ``a`` ((H, W, 3) RGB, (H, W) gray) as annotation tools write one (Pillow
    writes no 16-bit colour PNG)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    h, w = a.shape[:2]
    raw = b"".join(b"\x00" + a[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2 if a.ndim == 3 else 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def test_a_jpeg_mask_is_its_pixels_of_at_least_half_its_largest_value(tmp_path):
    """probe 67 #1: a JPEG's ringing and chroma bleed counted as defects: a red-on-black JPEG mask
    of 100 painted pixels read 1004 of 1024 as defective. An exact mask is read as before."""
    painted = np.zeros((32, 32), bool)
    painted[10:20, 12:22] = True
    red = np.zeros((32, 32, 3), np.uint8)
    red[painted, 0] = 255
    Image.fromarray(red).save(tmp_path / "red.jpg")
    Image.fromarray(painted.astype(np.uint8) * 255).save(tmp_path / "gray.jpg", quality=90)
    assert (read_mask(tmp_path / "red.jpg", "a.png", (32, 32)) == painted).all()
    graded = []
    for name in ("red.jpg", "gray.jpg"):
        assert (read_mask(tmp_path / name, "a.png", (32, 32), graded=graded) == painted).all()
    assert graded == [tmp_path / "red.jpg", tmp_path / "gray.jpg"]
    Image.fromarray(painted.astype(np.uint8)).save(tmp_path / "exact.png")  # 0 and 1
    assert (read_mask(tmp_path / "exact.png", "a.png", (32, 32), graded=graded) == painted).all()
    assert len(graded) == 2  # an exact mask has no intermediate values to tell of


def test_a_16_bit_rgb_mask_of_0_and_1_is_read_at_its_depth(tmp_path):
    """probe 67 #4: Pillow opens a 48-bit PNG at its top byte: a mask of 0 and 1 read empty."""
    defect = _defect().astype(np.uint16)
    _png16(tmp_path / "m48.png", np.stack([defect, defect, defect], -1))
    assert (read_mask(tmp_path / "m48.png", "a.png", (4, 6)) == _defect()).all()
    values = np.stack([defect * 300, defect * 65535, defect], -1)  # low bytes and high alike
    _png16(tmp_path / "v48.png", values)
    assert (read_mask(tmp_path / "v48.png", "a.png", (4, 6)) == _defect()).all()


def test_a_mask_with_an_extension_in_mixed_case_is_found(tmp_path):
    """probe 67 #3: the images are read with any case of their extension, the masks were looked
    for as .png and .PNG alone: a mask b3.Png was never found and its image counted good."""
    (tmp_path / "sub").mkdir()
    Image.fromarray(_defect().astype(np.uint8)).save(tmp_path / "sub" / "b3.Png", format="PNG")
    Image.fromarray(_defect().astype(np.uint8)).save(tmp_path / "c_mask.Jpeg", format="JPEG")
    assert mask_file(tmp_path, "sub/b3.jpg") == tmp_path / "sub" / "b3.Png"
    assert mask_file(tmp_path, "c.png") == tmp_path / "c_mask.Jpeg"
    assert mask_file(tmp_path, "d.png") is None and mask_file(tmp_path, "nowhere/d.png") is None


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


def test_an_image_with_transparent_pixels_is_read_over_black_and_noted(tmp_path, caplog):
    """probe 67 #5: alpha was dropped, so a transparent pixel was read as the colour it stores,
    which no viewer shows: two PNGs that look the same scored 0.58 and 110. An opaque image with
    an alpha channel is read as before."""
    rgb = np.random.default_rng(0).integers(0, 256, (4, 6, 3)).astype(np.uint8)
    alpha = np.full((4, 6, 1), 255, np.uint8)
    Image.fromarray(np.concatenate([rgb, alpha], -1), "RGBA").save(tmp_path / "a_opaque.png")
    alpha[:, :3] = 0
    alpha[0, 3] = 128
    Image.fromarray(np.concatenate([rgb, alpha], -1), "RGBA").save(tmp_path / "b_cut.png")
    hidden = rgb.copy()
    hidden[:, :3] = 0
    Image.fromarray(np.concatenate([hidden, alpha], -1), "RGBA").save(tmp_path / "c_black.png")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        x = read_path(tmp_path).x
    assert (np.round(x[0] * 255).transpose(1, 2, 0) == rgb).all()
    assert (x[1] == x[2]).all() and not x[1][:, :, :3].any()
    assert np.allclose(x[1][:, 0, 3] * 255, np.round(rgb[0, 3].astype(int) * 128 / 255))
    assert "2 of the 3 images have transparent pixels (such as b_cut.png)" in caplog.text
    gray = np.stack([np.full((4, 6), 200, np.uint8), np.full((4, 6), 0, np.uint8)], -1)
    Image.fromarray(gray, "LA").save(tmp_path / "la.png")
    assert not read_image(tmp_path / "la.png").any()  # LA: its gray over black, too


def test_a_thin_image_among_images_of_other_sizes_is_refused_naming_it(tmp_path):
    """probe 67 #7: a 5000x1 image among 32x32 ones cut them all to one row, and the detector
    then refused "X holds images of 1x32 pixels", naming no file, height first."""
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((1, 50), np.uint8)).save(tmp_path / "z_wide.png")
    with pytest.raises(DataError, match=r"z_wide.png is 50x1 pixels; expected at least 2"):
        common_crop(image_files(tmp_path), tmp_path)


def test_an_oversized_image_and_an_unreadable_tiff_are_said_as_such(tmp_path, monkeypatch):
    """probe 67 #9: "expected PNG, JPEG, BMP, TIFF or WebP" for a PNG too large to decode, and for
    a TIFF of a kind Pillow cannot read (floating-point RGB): the kind the user gave."""
    from PIL import Image as PILImage

    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(DataError, match=r"big.png is too large to read \(.*\); resize it") as e:
        read_image(tmp_path / "big.png")
    assert "expected PNG" not in str(e.value)
    (tmp_path / "f.tif").write_bytes(
        b"II*\x00" + bytes(200)
    )  # a TIFF header, then no kind Pillow knows
    with pytest.raises(DataError, match=r"f.tif is a TIFF of a kind that cannot be read"):
        read_image(tmp_path / "f.tif")
    (tmp_path / "t.png").write_text("not an image")
    with pytest.raises(DataError, match=r"t.png is not a readable image .*expected PNG, JPEG"):
        read_image(tmp_path / "t.png")


def test_a_label_map_mask_counts_every_class_as_a_defect(tmp_path):
    """Review 67: the rule for lossy masks (half the largest value) dropped a label map's low
    classes (0 background; 1, 2 and 3 three kinds of defect)."""
    from PIL import Image

    from aekit.data.images import read_mask

    labels = np.zeros((16, 16), np.uint8)
    labels[2:4, 2:4], labels[6:8, 6:8], labels[10:12, 10:12] = 1, 2, 3
    Image.fromarray(labels).save(tmp_path / "m.png")
    graded = []
    mask = read_mask(tmp_path / "m.png", "m", (16, 16), graded=graded)
    assert mask.sum() == 12 and graded == []
