"""write_output: round trips through read_path, refusal without --overwrite, nothing half-written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aekit.data import Data, read_path, write_output
from aekit.errors import UsageError

RNG = np.random.default_rng(1)


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_npy_round_trip(tmp_path):
    x = RNG.random((4, 3)).astype(np.float32)
    write_output(tmp_path / "out.npy", x)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), x)
    assert _siblings(tmp_path / "out.npy") == ["out.npy"]


def test_csv_round_trip_with_header_and_ids(tmp_path):
    (tmp_path / "in.csv").write_text("id,a,b\nr1,1,2\nr2,3,4\n")
    like = read_path(tmp_path / "in.csv", id_column="id")
    x = RNG.random((2, 2)).astype(np.float32)
    write_output(tmp_path / "out.csv", x, like=like)
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == "id,a,b"
    back = read_path(tmp_path / "out.csv", id_column="id")
    np.testing.assert_array_equal(back.x, x)
    assert back.ids.tolist() == ["r1", "r2"] and back.feature_names == ["a", "b"]


def test_csv_of_latents_has_no_input_header(tmp_path):
    like = Data(x=np.zeros((2, 3), np.float32), feature_names=["a", "b", "c"])
    write_output(tmp_path / "z.tsv", np.ones((2, 2)), like=like)
    assert (tmp_path / "z.tsv").read_text() == "1\t1\n1\t1\n"


def test_image_folder_round_trip(tmp_path):
    for name in ("a.png", "sub/b.png", "c.bmp"):
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(RNG.integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(
            tmp_path / "in" / name
        )
    like = read_path(tmp_path / "in")
    out = write_output(tmp_path / "out", like.x, like=like)
    back = read_path(out)
    assert back.names == like.names and back.image_mode == "RGB"
    np.testing.assert_array_equal(back.x, like.x)
    assert Image.open(out / "c.bmp").format == "BMP"
    assert _siblings(out) == ["in", "out"]


def test_images_are_clipped_and_grayscale_kept(tmp_path):
    x = np.array([[[[-1.0, 0.5, 2.0]]]], dtype=np.float32)
    write_output(tmp_path / "out", x)
    image = Image.open(tmp_path / "out" / "000000.png")
    assert image.mode == "L" and np.asarray(image).tolist() == [[0, 128, 255]]


def test_single_image(tmp_path):
    write_output(tmp_path / "one.png", np.ones((1, 3, 2, 2)))
    assert read_path(tmp_path / "one.png").x.shape == (1, 3, 2, 2)


@pytest.mark.parametrize("name", ["out.npy", "out.csv", "out"])
def test_refuses_existing_output(tmp_path, name):
    target = tmp_path / name
    if name == "out":
        write_output(target, np.zeros((2, 1, 2, 2)))  # an earlier output folder of aekit's
    else:
        target.write_bytes(b"old")
    with pytest.raises(UsageError) as err:
        write_output(target, np.ones((1, 1, 2, 2)))
    assert str(err.value) == f"{target} exists; pass --overwrite to replace it"
    write_output(target, np.ones((1, 1, 2, 2)), overwrite=True)
    if name == "out":
        assert sorted(p.name for p in target.iterdir()) == [".aekit-manifest.json", "000000.png"]
    assert _siblings(target) == [name]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_aekit_did_not_make_is_never_replaced(tmp_path, overwrite):
    """Issue 28: 'reconstruct --output DIR --overwrite' deleted the user's keep.txt in DIR."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not an aekit output folder.*keep.txt"):
        write_output(target, np.ones((1, 1, 2, 2)), overwrite=overwrite)
    assert [p.name for p in target.iterdir()] == ["keep.txt"] and _siblings(target) == ["out"]


def test_overwrite_keeps_the_users_files_in_an_output_folder(tmp_path):
    target = write_output(tmp_path / "out", np.zeros((2, 1, 2, 2)))
    (target / "notes.txt").write_text("mine")
    write_output(target, np.ones((1, 1, 2, 2)), overwrite=True)
    assert sorted(p.name for p in target.iterdir()) == [
        ".aekit-manifest.json",
        "000000.png",
        "notes.txt",
    ]
    assert (target / "notes.txt").read_text() == "mine"


def test_a_symlinked_output_folder_is_followed_not_replaced(tmp_path):
    real = write_output(tmp_path / "real", np.zeros((2, 1, 2, 2)))
    (tmp_path / "link").symlink_to(real)
    write_output(tmp_path / "link", np.ones((1, 1, 2, 2)), overwrite=True)
    assert (tmp_path / "link").is_symlink() and sorted(p.name for p in real.iterdir()) == [
        ".aekit-manifest.json",
        "000000.png",
    ]


@pytest.mark.parametrize("name", ["out.npy", "out.csv", "out.png"])
def test_a_symlinked_output_file_is_replaced_not_written_through(tmp_path, name):
    (tmp_path / "theirs").write_bytes(b"the user's file")
    (tmp_path / name).symlink_to(tmp_path / "theirs")
    with pytest.raises(UsageError, match="exists"):
        write_output(tmp_path / name, np.ones((1, 1, 2, 2)))
    write_output(tmp_path / name, np.ones((1, 1, 2, 2)), overwrite=True)
    assert not (tmp_path / name).is_symlink() and (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "theirs").read_bytes() == b"the user's file"


def test_empty_folder_is_not_refused(tmp_path):
    (tmp_path / "out").mkdir()
    write_output(tmp_path / "out", np.ones((2, 1, 2, 2)))
    assert len(list((tmp_path / "out").glob("*.png"))) == 2


def test_failed_folder_write_leaves_old_output(tmp_path, monkeypatch):
    old = write_output(tmp_path / "out", np.zeros((1, 1, 2, 2)))
    (old / "keep.png").write_bytes(b"old")  # the user's, kept
    calls = []

    def failing_save(self, fp, *args, **kwargs):
        calls.append(fp)
        if len(calls) == 2:
            raise OSError("disk full")
        return original(self, fp, *args, **kwargs)

    original = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        write_output(old, np.ones((3, 1, 2, 2)), overwrite=True)
    assert _siblings(old) == ["out"] and (old / "keep.png").read_bytes() == b"old"
    assert (old / "000000.png").is_file() and not (old / "000001.png").exists()
    with pytest.raises(OSError):
        calls.clear()
        write_output(tmp_path / "new", np.ones((3, 1, 2, 2)))
    assert _siblings(old) == ["out"]


def test_failed_file_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError):
        write_output(tmp_path / "out.npy", np.ones((2, 2)))
    assert list(tmp_path.iterdir()) == []


def test_unsupported_output(tmp_path):
    with pytest.raises(UsageError, match="unsupported extension '.xlsx'"):
        write_output(tmp_path / "out.xlsx", np.ones((2, 2)))


def test_tables_keep_identity_ids_by_their_own_name_file_names_and_labels(tmp_path):
    (tmp_path / "in.csv").write_text("patient_id,a,b\nP1,1,2\nP2,3,4\n")
    like = read_path(tmp_path / "in.csv", id_column="patient_id")
    assert like.id_name == "patient_id"
    write_output(tmp_path / "z.csv", np.ones((2, 2)), like=like, columns=["z1", "z2"])
    assert (tmp_path / "z.csv").read_text().splitlines() == ["patient_id,z1,z2", "P1,1,1", "P2,1,1"]
    images = Data(
        x=np.zeros((2, 1, 2, 2), np.float32),
        names=["cat/a.png", "dog/b.png"],
        y=np.array(["cat", "dog"]),
    )
    write_output(tmp_path / "zi.csv", np.zeros((2, 1)), like=images, columns=["z1"], labels=True)
    assert (tmp_path / "zi.csv").read_text().splitlines() == [
        "file,label,z1",
        "cat/a.png,cat,0",
        "dog/b.png,dog,0",
    ]


def test_class_sub_folders_are_labels(tmp_path):
    from aekit.data.images import folder_labels

    for label in ("3", "7"):
        (tmp_path / "d" / label).mkdir(parents=True)
        Image.fromarray(np.zeros((4, 4), np.uint8), "L").save(tmp_path / "d" / label / "a.png")
    assert read_path(tmp_path / "d").y.tolist() == [3, 7]
    assert (
        folder_labels(["a.png", "b.png"]) is None and folder_labels(["x/a.png", "x/b.png"]) is None
    )


def test_vectors_to_a_folder_or_an_image_file_name_the_files_that_hold_them(tmp_path):
    """Probe 52 sh 7: `aekit encode --output zdir` said "cannot write an array of shape (64,) as
    an image", not what to give instead."""
    z = np.zeros((5, 64), np.float32)
    for name in ("zdir", "z.png"):
        with pytest.raises(
            UsageError, match=r"vectors of shape \(64,\); give a .npy, .csv or .tsv"
        ):
            write_output(tmp_path / name, z)
    assert write_output(tmp_path / "z.csv", z).is_file()


def test_csv_of_a_table_without_header_with_its_id_reads_back(tmp_path):
    """A table without a header read with id column 0: the header was ``0,0,1,...`` (two '0's,
    read as a sample); now every column is named by its position, the id's ``0`` first."""
    (tmp_path / "in.csv").write_text("r1,1,2,3\nr2,4,5,6\n")
    like = read_path(tmp_path / "in.csv", id_column=0)
    x = RNG.random((2, 3)).astype(np.float32)
    write_output(tmp_path / "out.csv", x, like=like)
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == "0,1,2,3"
    back = read_path(tmp_path / "out.csv", id_column=0)
    np.testing.assert_array_equal(back.x, x)
    assert back.ids.tolist() == ["r1", "r2"]


def test_an_id_not_first_in_a_table_without_header_is_said_where_it_went(tmp_path, caplog):
    """--id-column 1 of a table without a header: the id is written first, as column 0 (said), and
    a label column keeps its name."""
    (tmp_path / "in.csv").write_text("0.5,r1,2,3\n4.5,r2,5,6\n")
    like = read_path(tmp_path / "in.csv", id_column=1)
    like.y = np.array([0, 1])
    x = RNG.random((2, 3)).astype(np.float32)
    caplog.clear()
    write_output(tmp_path / "out.csv", x, like=like, labels=True)
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == "0,label,2,3,4"
    assert "read it back with --id-column 0" in caplog.text
    back = read_path(tmp_path / "out.csv", id_column=0, label_column="label")
    assert back.ids.tolist() == ["r1", "r2"] and back.y.tolist() == [0, 1]
    np.testing.assert_array_equal(back.x, x)


def test_an_id_named_as_an_added_column_is_refused_before_writing(tmp_path):
    like = Data(x=np.zeros((2, 3), np.float32), ids=np.array(["a", "b"]), id_name="z1")
    with pytest.raises(UsageError, match="the id column 'z1'.*give another --id-column"):
        write_output(tmp_path / "z.csv", np.ones((2, 2)), like=like, columns=["z1", "z2"])
    assert not (tmp_path / "z.csv").exists()


def test_jpeg_outputs_are_written_at_high_quality(tmp_path):
    """Pillow's default (quality 75, colour halved) moved pixels by up to 13/255."""
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    img = np.stack([np.sin(9 * xx) * 0.4 + 0.5, yy, (xx * yy) % 0.3 * 3]).astype(np.float32)
    x = np.clip(img, 0, 1)[
        None
    ]  # colour edges: quality 75 is off by 0.029 on average, 0.48 at most
    write_output(tmp_path / "out.jpg", x)
    back = np.asarray(Image.open(tmp_path / "out.jpg"), np.float32).transpose(2, 0, 1) / 255
    assert np.abs(back - x[0]).mean() < 0.015 and np.abs(back - x[0]).max() < 0.2
