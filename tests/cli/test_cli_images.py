"""``aekit train anomaly --data FOLDER``, ``score --maps/--overlay``, ``evaluate --masks`` and
``calibrate`` on an image run, on generated defects written as PNG files.

The images are crops of a noisy grating (aekit.data.defects) with labelled defects; the test folder
holds class sub-folders (good/ and one per defect kind) and a masks/ folder under the same names.
A map that ignored where the defect is (the masks given to the wrong images) fails the pixel bar.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aekit

from .helpers import assert_one_line_error, cli_here, grating_defects, write_png

BANK = "2048"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """good/ (60 training crops), test/ (good/ and a sub-folder per defect), masks/, and a run."""
    root = tmp_path_factory.mktemp("images")
    ds = grating_defects(root, 192, n_train=60, n_good=10, n_per_defect=2)
    names = []
    for i, (image, mask, kind) in enumerate(zip(ds.test, ds.masks, ds.kinds)):
        names.append(f"{kind}/{i:03d}.png")
        write_png(image, root / "test" / names[-1])
        if mask.any():
            write_png(mask[None].astype(np.float32), root / "masks" / names[-1])
    code = cli_here(
        "train", "anomaly", "--data", root / "good", "--bank-size", BANK, "--threads", "1",
        "--out", root / "run", "--quiet",
    )  # fmt: skip
    assert "run folder" in code.stdout
    return root, names, ds


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )


def test_a_folder_trains_the_image_detector_into_a_run(world):
    root, _, _ = world
    config = json.loads((root / "run" / "config.json").read_text())
    assert config["family"] == "anomaly" and config["estimator"] == "ImageAnomalyDetector"
    assert config["params"]["bank_size"] == int(BANK) and config["seed"] == 0
    assert {"aekit", "torch", "numpy", "scikit-learn"} <= set(config["versions"])
    metrics = json.loads((root / "run" / "metrics.json").read_text())
    assert metrics["n_images"] == 12 and 0 <= metrics["anomaly_rate"] <= 1  # 20% of 60 held out
    assert metrics["pixel_threshold"] > 0
    assert {"maps.png", "score_histogram.png"} <= set(_files(root / "run" / "figures"))
    assert type(aekit.load(root / "run")).__name__ == "ImageAnomalyDetector"


def test_score_maps_overlays_and_evaluate_with_masks(world, tmp_path):
    """The issue's test: a small image detector trained on generated data finds which images are
    defective and where (image and pixel ROC-AUC), and the maps carry the inputs' names."""
    root, names, ds = world
    out = tmp_path / "scores.csv"
    done = cli_here(
        "score", root / "run", "--input", root / "test", "--output", out,
        "--maps", tmp_path / "maps", "--overlay", tmp_path / "overlays", "--quiet",
    )  # fmt: skip
    assert "wrote 20 scores" in done.stdout and "128" in done.stdout
    rows = _rows(out)
    assert [r["file"] for r in rows] == sorted(names)
    assert list(rows[0]) == ["file", "score", "is_anomaly", "p_value"]
    assert _files(tmp_path / "maps") == sorted(names) == _files(tmp_path / "overlays")
    flagged = {r["file"]: int(r["is_anomaly"]) for r in rows}
    # The threshold is the highest of 12 calibration scores: with exchangeable good images, k of
    # the 10 good ones lie above it with chance C(10, k) / C(22, k) (3: 7.8%, 4: 2.9%, 5: 0.96%),
    # so a calibrated detector flags 5 or more in under 1% of draws
    assert sum(flagged[n] for n in names if n.startswith("good/")) <= 4
    assert sum(flagged[n] for n in names if not n.startswith("good/")) >= 6
    # a defect's pixels are brighter in its map PNG than the rest
    inside, outside = [], []
    for name, mask in zip(names, ds.masks):
        if mask.any():
            m = np.asarray(Image.open(tmp_path / "maps" / name), dtype=float)
            inside.append(m[mask].mean())
            outside.append(m[~mask].mean())
    assert np.mean(np.greater(inside, outside)) >= 0.8
    overlay = Image.open(tmp_path / "overlays" / names[0])
    assert overlay.mode == "RGB" and overlay.size[1] >= 32 * 3  # enlarged, with a colour scale

    metrics = tmp_path / "metrics.json"
    cli_here(
        "evaluate", root / "run", "--data", root / "test", "--masks", root / "masks",
        "--output", metrics,
    )  # fmt: skip
    figures = json.loads(metrics.read_text())
    assert figures["image_roc_auc"] >= 0.85 and figures["image_pr_auc"] >= 0.85
    assert figures["pixel_roc_auc"] >= 0.9 and figures["pro"] >= 0.6
    assert figures["n_images"] == 20 and figures["n_defective"] == 10 and figures["n_masks"] == 10


def test_masks_given_to_the_wrong_images_fail_the_pixel_bar(world, tmp_path):
    """The pixel figures can fail: each defect's mask saved under another defective image's name."""
    root, names, ds = world
    defective = [(n, m) for n, m in zip(names, ds.masks) if m.any()]
    for (name, _), (_, mask) in zip(defective, defective[3:] + defective[:3]):
        write_png(mask[None].astype(np.float32), tmp_path / "masks" / name)
    done = cli_here(
        "evaluate", root / "run", "--data", root / "test", "--masks", tmp_path / "masks"
    )
    figures = json.loads(done.stdout)
    assert figures["pixel_roc_auc"] < 0.9 and figures["pro"] < 0.6


def test_masks_inside_the_images_folder_are_not_scored_as_images(world, tmp_path):
    """Switcher probe 58 #6, #12: anomalib's Folder layout (good/, defects, mask/ inside the same
    root) read its masks as a class of defective images (pixel ROC-AUC 0.995 -> 0.66); sub-folders
    without good/ are labelled by the masks, not "all images taken as good"."""
    root, names, _ = world
    folder = tmp_path / "folder"
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes((root / "test" / name).read_bytes())
        if (root / "masks" / name).exists():  # masks of another mode than the images' (review)
            (folder / "mask" / name).parent.mkdir(parents=True, exist_ok=True)
            Image.open(root / "masks" / name).convert("RGB").save(folder / "mask" / name)
    done = cli_here("evaluate", root / "run", "--data", folder, "--masks", folder / "mask")
    inside = json.loads(done.stdout)
    apart = json.loads(
        cli_here(
            "evaluate", root / "run", "--data", root / "test", "--masks", root / "masks"
        ).stdout
    )
    assert inside == apart and inside["n_images"] == 20
    assert "its 10 mask image(s) are not scored" in done.stderr
    for name in names:  # VisA's layout: Normal/ and Anomaly/, no good/
        kind = "Normal" if name.startswith("good/") else "Anomaly"
        target = tmp_path / "visa" / kind / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((root / "test" / name).read_bytes())
        if (root / "masks" / name).exists():  # its masks under its own names (VisA's layout)
            mask = tmp_path / "visa_mask" / kind / Path(name).name
            mask.parent.mkdir(parents=True, exist_ok=True)
            mask.write_bytes((root / "masks" / name).read_bytes())
    done = cli_here(
        "evaluate", root / "run", "--data", tmp_path / "visa", "--masks", tmp_path / "visa_mask"
    )
    assert "labelled by the masks" in done.stderr and "taken as good" not in done.stderr
    assert json.loads(done.stdout)["n_masks"] == 10


def test_evaluate_with_class_sub_folders_alone_gives_the_image_figures(world):
    root, _, _ = world
    figures = json.loads(cli_here("evaluate", root / "run", "--data", root / "test").stdout)
    assert figures["image_roc_auc"] >= 0.85 and "pixel_roc_auc" not in figures
    assert figures["n_defective"] == 10
    # without --data: the run's held-out good images
    held = json.loads(cli_here("evaluate", root / "run").stdout)
    assert held["n_images"] == 12 and "anomaly_rate" in held


def test_npy_maps_are_the_detector_s_maps(world, tmp_path):
    root, names, ds = world
    cli_here(
        "score", root / "run", "--input", root / "test", "--output", tmp_path / "s.tsv",
        "--maps", tmp_path / "maps", "--maps-format", "npy", "--quiet",
    )  # fmt: skip
    assert _files(tmp_path / "maps") == sorted(n.replace(".png", ".npy") for n in names)
    det = aekit.load(root / "run")
    image = np.asarray(Image.open(root / "test" / names[-1]), np.float32)[None, None] / 255
    np.testing.assert_allclose(
        np.load(tmp_path / "maps" / names[-1].replace(".png", ".npy")),
        det.anomaly_maps(image)[0],
        rtol=1e-5,
        atol=1e-5,
    )
    assert "\t" in (tmp_path / "s.tsv").read_text().splitlines()[0]


def test_outputs_are_never_clobbered_and_your_files_are_kept(world, tmp_path):
    root, _, _ = world
    args = ["score", root / "run", "--input", root / "test", "--output", tmp_path / "s.csv"]
    cli_here(*args, "--maps", tmp_path / "maps", "--quiet")
    before = (tmp_path / "s.csv").read_bytes()
    again = cli_here(*args, "--maps", tmp_path / "maps", check=None)
    assert_one_line_error(again, 2, "--overwrite")
    (tmp_path / "maps" / "notes.txt").write_text("mine")
    cli_here(*args, "--maps", tmp_path / "maps", "--overwrite", "--quiet")
    assert (tmp_path / "maps" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "s.csv").read_bytes() == before
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "photo.png").write_bytes(b"x")
    refused = cli_here(*args, "--overlay", mine, "--overwrite", check=None)
    assert_one_line_error(refused, 2, "--overlay", "photo.png")
    assert (mine / "photo.png").read_bytes() == b"x"
    inside = cli_here(*args, "--maps", root / "test" / "maps", "--overwrite", check=None)
    assert_one_line_error(inside, 2, "--maps", "inside the input")


def test_images_of_any_size_get_maps_of_their_own_size(world, tmp_path):
    root, _, _ = world
    rng = np.random.default_rng(1)
    for name, (h, w) in (("a.png", (40, 50)), ("b/c.jpg", (70, 30))):
        write_png(rng.random((1, h, w)), tmp_path / "in" / name)
    for resize in ((), ("--image-size", "24x20")):
        out = tmp_path / f"out{len(resize)}"
        cli_here(
            "score", root / "run", "--input", tmp_path / "in", "--output", out / "s.csv",
            "--maps", out / "maps", "--overlay", out / "ov", *resize, "--quiet",
        )  # fmt: skip
        assert Image.open(out / "maps" / "a.png").size == (50, 40)
        assert Image.open(out / "maps" / "b" / "c.png").size == (30, 70)
        assert [r["file"] for r in _rows(out / "s.csv")] == ["a.png", "b/c.jpg"]


def test_another_size_than_the_run_s_and_stretched_inputs_are_noted_once(world, tmp_path):
    """probe 60 inspect #5 and #6: --image-size other than the run's scored on another scale (70
    at 160x120 was 105 at 320x240), and portrait photos squashed into a landscape size scored 1.3
    to 1.7 times landscape ones, both with no word."""
    root, _, _ = world
    rng = np.random.default_rng(2)
    for name, (h, w) in (
        ("wide0.png", (20, 40)),
        ("wide1.png", (20, 40)),
        ("square.png", (30, 30)),
    ):
        write_png(rng.random((1, h, w)), tmp_path / "in" / name)
    args = ("score", root / "run", "--input", tmp_path / "in", "--quiet")
    done = cli_here(*args, "--output", tmp_path / "s.csv", "--image-size", "32x32")
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert "--image-size 32x32" in lines[0] and "at their own sizes" in lines[0]
    assert "another scale" in lines[0]
    assert (
        "2 of the 3 images" in lines[1] and "32x32" in lines[1] and "wide0.png, 40x20" in lines[1]
    )
    # review 60: the training images' shape (square crops) is the reference, not the size's
    wide = cli_here(*args, "--output", tmp_path / "t.csv", "--image-size", "40x20")
    assert "2 of the 3 images" in wide.stderr and "trained on" in wide.stderr
    one = cli_here("score", root / "run", "--input", tmp_path / "in" / "wide0.png", "--quiet",
                   "--output", tmp_path / "w.csv", "--image-size", "32x32")  # fmt: skip
    assert "1 of the 1 images" in one.stderr and "it is stretched" in one.stderr
    square = ("score", root / "run", "--input", root / "good", "--quiet", "--image-size", "40x20")
    assert "stretched" not in cli_here(*square, "--output", tmp_path / "v.csv").stderr
    own = cli_here(*args, "--output", tmp_path / "u.csv")  # at their own sizes: nothing stretched
    assert "note" not in own.stderr


def test_calibrate_keeps_the_weights_and_changes_the_calibration(world, tmp_path):
    root, _, _ = world
    run = tmp_path / "run"
    cli_here(
        "train", "anomaly", "--data", root / "good", "--bank-size", "256", "--threads", "1",
        "--out", run, "--quiet", "--no-figures",
    )  # fmt: skip
    weights = hashlib.sha256((run / "model.safetensors").read_bytes()).hexdigest()
    refused = cli_here("calibrate", run, "--pixel-threshold", "fpr:0.01", check=None)
    assert_one_line_error(refused, 2, "pixel threshold", "--data")
    done = cli_here(
        "calibrate", run, "--data", root / "test", "--threshold", "fpr:0.1",
        "--pixel-threshold", "fpr:0.01",
    )  # fmt: skip
    assert "10 good images" in done.stdout  # test/good/ alone: the defective sub-folders are not
    assert hashlib.sha256((run / "model.safetensors").read_bytes()).hexdigest() == weights
    det = aekit.load(run)
    assert len(det.calibration_scores_) == 10 and det.pixel_threshold == "fpr:0.01"
    assert det.threshold == "fpr:0.1"


def test_patches_train_on_crops_and_record_them(world, tmp_path):
    root, _, _ = world
    run = tmp_path / "run"
    cli_here(
        "train", "anomaly", "--data", root / "good", "--patch", "16", "--patches", "3",
        "--bank-size", "256", "--threads", "1", "--out", run, "--quiet", "--no-figures",
    )  # fmt: skip
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["patch"] == 16 and config["data"]["patches"] == 3
    assert list(aekit.load(run).input_shape_) == [1, 16, 16]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_images"] == round(0.2 * 60 * 3)  # the held-out crops
    too_big = cli_here(
        "train", "anomaly", "--data", root / "good", "--patch", "40", "--out", tmp_path / "r2",
        check=None,
    )  # fmt: skip
    assert_one_line_error(too_big, 2, "--patch 40", "32x32")


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["--hidden", "8"], ["--hidden", "folder of images"]),
        (["--k", "2"], ["--k", "--threshold mean_std"]),
        (["--latent-dim", "4"], ["--latent-dim", "folder of images"]),
        (["--method", "draem"], ["--method", "invalid choice"]),
        # a bank trains no network to split; the options are checked before any process starts
        (["--nproc", "2"], ["--nproc 2", "method 'features'", "--method ssim"]),
        (["--nproc", "2", "--hidden", "8"], ["--hidden", "folder of images"]),
        # options another method reads: taken, recorded in the run and ignored, before
        (["--epochs", "3"], ["--epochs", "method 'features'", "only to 'ssim'"]),
        (["--lr", "0.1"], ["--lr", "method 'features'"]),
        (["--channels", "8,8"], ["--channels", "method 'features'"]),
        (["--pixel-patch", "5"], ["--pixel-patch", "only to 'pixels'"]),
        # the training's curves: a bank trains none (no folder was written, without a word)
        (["--tensorboard"], ["--tensorboard", "method 'features'", "only to 'ssim'"]),
        (["--method", "ssim", "--bank-size", "9"], ["--bank-size", "method 'ssim'"]),
        (["--patches", "3"], ["--patches N needs --patch SIZE"]),
    ],
)
def test_table_options_on_a_folder_are_one_line(world, tmp_path, argv, needles):
    root, _, _ = world
    proc = cli_here(
        "train", "anomaly", "--data", root / "good", "--out", tmp_path / "r", *argv, check=None
    )
    assert_one_line_error(proc, 2, *needles)
    assert not (tmp_path / "r").exists()


def test_image_options_on_a_table_or_a_table_run_are_one_line(world, tmp_path):
    root, _, _ = world
    table = tmp_path / "t.csv"
    np.savetxt(table, np.random.default_rng(0).random((40, 5)), delimiter=",")
    proc = cli_here("train", "anomaly", "--data", table, "--patch", "8", check=None)
    assert_one_line_error(proc, 2, "--patch", "folder of images")
    aekit.AnomalyDetector(epochs=1, members=1, density=0).fit(
        np.random.default_rng(0).random((60, 5))
    ).save(tmp_path / "tab")
    score = cli_here(
        "score", tmp_path / "tab", "--input", table, "--output", tmp_path / "s.csv",
        "--maps", tmp_path / "m", check=None,
    )  # fmt: skip
    assert_one_line_error(score, 2, "--maps", "not an image run")
    masks = cli_here("evaluate", tmp_path / "tab", "--masks", root / "masks", check=None)
    assert_one_line_error(masks, 2, "--masks", "not an image run")
    csv_in = cli_here(
        "score", root / "run", "--input", table, "--output", tmp_path / "s.csv", check=None
    )
    assert_one_line_error(csv_in, 2, "t.csv", "not an image")


def test_commands_that_do_not_apply_to_an_image_run_say_so_in_one_line(world, tmp_path):
    root, _, _ = world
    dask = cli_here(
        "score", root / "run", "--input", root / "test", "--output", tmp_path / "s",
        "--dask", "tcp://127.0.0.1:1", check=None,
    )  # fmt: skip
    assert_one_line_error(dask, 2, "--dask", "image run", "without --dask")
    rec = cli_here(
        "reconstruct", root / "run", "--input", root / "test", "--output", tmp_path / "r.npy",
        check=None,
    )  # fmt: skip
    assert_one_line_error(rec, 2, "image run", "--maps")
    assert not (tmp_path / "s").exists() and not (tmp_path / "r.npy").exists()


def test_colour_images_for_a_grayscale_run_name_the_file(world, tmp_path):
    """The detector's own line named its argument, X ("X has 3 channels"), not the file."""
    root, _, _ = world
    colour = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    (tmp_path / "in" / "good").mkdir(parents=True)
    Image.fromarray(colour, "RGB").save(tmp_path / "in" / "good" / "c.png")
    score = cli_here(
        "score", root / "run", "--input", tmp_path / "in" / "good" / "c.png",
        "--output", tmp_path / "s.csv", check=None,
    )  # fmt: skip
    assert_one_line_error(score, 2, "c.png is read as colour (RGB)", "trained on grayscale")
    evaluate = cli_here("evaluate", root / "run", "--data", tmp_path / "in", check=None)
    assert_one_line_error(evaluate, 2, "read as colour (RGB)", "trained on grayscale")
    calibrate = cli_here("calibrate", root / "run", "--data", tmp_path / "in", check=None)
    assert_one_line_error(calibrate, 2, "in is read as colour (RGB)", "trained on grayscale")
    assert not (tmp_path / "s.csv").exists()


def test_help_lists_the_image_options_where_they_apply(capsys):
    from aekit.cli.main import main

    shown = {}
    for argv in (["train", "anomaly"], ["train", "basic"], ["score"], ["evaluate"], ["encode"]):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        shown[argv[-1]] = " ".join(capsys.readouterr().out.split())
    assert "--patch SIZE" in shown["anomaly"] and "--bank-size N" in shown["anomaly"]
    assert "(default: 16384)" in shown["anomaly"] and "(default: fpr:0.005)" in shown["anomaly"]
    assert "--patch" not in shown["basic"] and "--bank-size" not in shown["basic"]
    assert "--maps DIR" in shown["score"] and "--overlay DIR" in shown["score"]
    assert "--masks DIR" in shown["evaluate"] and "--masks" not in shown["encode"]


def test_the_parser_names_the_map_formats_the_recipe_writes():
    """The CLI repeats the formats so that parsing imports no recipe: the two lists must agree."""
    from aekit.cli import cmd_images
    from aekit.recipes import images

    assert cmd_images.MAP_FORMATS == images.MAP_FORMATS


def test_files_of_other_tools_in_an_image_folder(world, tmp_path):
    # .jfif (Windows' JPEGs), TIFF; a name not UTF-8 (a Windows zip unpacked here: an internal
    # error in train and score); a NAS's thumbnails (trained on, every image cut to their size);
    # other files named in one note
    import os

    rng = np.random.default_rng(0)
    folder = tmp_path / "mixed"
    for name in ("a.png", "b.jfif", "c.tif", "@eaDir/a.png/thumb.jpg"):
        side = 8 if "@eaDir" in name else 24
        write_png(rng.random((1, side, side), dtype=np.float32), folder / "x.png")
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        fmt = {".jfif": "JPEG", ".tif": "TIFF", ".jpg": "JPEG"}.get(Path(name).suffix, "PNG")
        Image.open(folder / "x.png").save(folder / name, format=fmt)
    write_png(rng.random((1, 24, 24), dtype=np.float32), folder / "x.png")
    os.rename(folder / "x.png", os.path.join(os.fsencode(folder), b"r\xe9sum\xe9.png"))
    (folder / "notes.txt").write_text("taken on Monday")
    code = cli_here(
        "train", "anomaly", "--data", folder, "--bank-size", "64", "--threads", "1",
        "--out", tmp_path / "run", "--quiet", "--no-figures",
    )  # fmt: skip
    assert code.returncode == 0, code.stderr
    assert code.stderr.count("left out 1 file that is not a PNG, JPEG") == 1
    assert "sizes" not in code.stderr  # no thumbnail of 8x8 among the 24x24 images
    code = cli_here("score", tmp_path / "run", "--input", folder, "--output", tmp_path / "s.csv")
    assert code.returncode == 0, code.stderr
    names = [line.split(b",")[0] for line in (tmp_path / "s.csv").read_bytes().splitlines()]
    assert names == [b"file", b"a.png", b"b.jfif", b"c.tif", b"r\xe9sum\xe9.png"]
