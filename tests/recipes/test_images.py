"""The image anomaly recipe: the family's image row chosen by the data, class sub-folders, masks,
and the names of the maps."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image

from aekit.data import Data
from aekit.errors import DataError, UsageError
from aekit.recipes import DataSpec, get_recipe, load_run, train_run
from aekit.recipes.anomaly import AnomalyRecipe
from aekit.recipes.images import (
    ImageAnomalyRecipe,
    good_labels,
    map_scale,
    output_names,
    read_masks,
)


def _png(path, a):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(a, np.uint8), "L").save(path)


def test_the_data_picks_the_family_s_row_and_a_run_its_recorded_one(tmp_path):
    (tmp_path / "images").mkdir()
    assert isinstance(get_recipe("anomaly"), AnomalyRecipe)
    assert isinstance(get_recipe("anomaly", data=tmp_path / "images"), ImageAnomalyRecipe)
    assert isinstance(get_recipe("anomaly", data=tmp_path / "t.csv"), AnomalyRecipe)
    assert isinstance(get_recipe("anomaly", estimator="ImageAnomalyDetector"), ImageAnomalyRecipe)
    assert type(get_recipe("denoise", data=tmp_path / "images")).__name__ == "DenoiseRecipe"


def test_train_run_on_a_folder_and_load_run_back(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(12):
        _png(tmp_path / "good" / f"{i}.png", 100 + 40 * rng.random((16, 16)))
    spec = DataSpec(data=str(tmp_path / "good"))
    est, metrics = train_run(
        "anomaly", {"bank_size": 64, "threads": 1}, spec, tmp_path / "run", figures=False
    )
    assert type(est).__name__ == "ImageAnomalyDetector" and metrics["n_images"] == 3
    loaded, recipe, config = load_run(tmp_path / "run")
    assert isinstance(recipe, ImageAnomalyRecipe) and config["estimator"] == "ImageAnomalyDetector"
    assert loaded.calibration_ == {"images": 1} and map_scale(loaded) == 2 * loaded.pixel_threshold_
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"]["patch"] is None


def test_a_table_detector_s_parameter_is_one_line():
    with pytest.raises(UsageError, match="hidden does not apply to a folder of images"):
        ImageAnomalyRecipe().build({"hidden": (8,)})


def test_class_sub_folders_good_and_the_others():
    data = Data(x=np.zeros((4, 1, 2, 2), np.float32), y=np.array(["good", "cut", "good", "hole"]))
    assert good_labels(data).y.tolist() == [0, 1, 0, 1]
    assert good_labels(data, "cut").y.tolist() == [1, 0, 1, 1]
    with pytest.raises(
        UsageError, match="--normal-label ok: .* its sub-folders are cut, good, hole"
    ):
        good_labels(data, "ok")
    dated = Data(x=data.x, y=np.array(["2023", "2024", "2023", "2024"]))
    assert good_labels(dated).y is None  # sub-folders that only sort the images
    plain = Data(x=data.x, source="imgs")
    assert good_labels(plain).y is None
    with pytest.raises(UsageError, match="no class sub-folders"):
        good_labels(plain, "good")


def test_one_class_sub_folder_is_noted_and_named(caplog):
    """Probe 61 labels #4: a test folder holding scratch/ alone was read as unlabelled without a
    word (two sub-folders without good/ get a note), and --normal-label good said it "has no
    class sub-folders"."""
    x = np.zeros((2, 1, 2, 2), np.float32)
    one = Data(x=x, names=["scratch/0.png", "scratch/1.png"], source="imgs")
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        assert good_labels(one).y is None
    assert "imgs: sub-folder scratch, none named 'good': all images taken as good" in caplog.text
    with pytest.raises(
        UsageError, match="no class sub-folder of that name; its one sub-folder is scratch"
    ):
        good_labels(one, "good")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        assert good_labels(one, "scratch").y is None  # named the good ones: all good
        assert good_labels(Data(x=x, names=["good/0.png", "good/1.png"])).y is None
    assert not caplog.text


def test_a_normal_label_in_another_unicode_form_than_its_folder_is_said_so():
    """probe 59 locale M4: --normal-label qualité (NFC) beside a folder qualité from a Mac (NFD):
    "no class sub-folder of that name; its sub-folders are defaut, qualité", printed alike."""
    data = Data(x=np.zeros((2, 1, 2, 2), np.float32), y=np.array(["qualite\u0301", "defaut"]))
    with pytest.raises(UsageError, match=r"given 'qualit\\xe9', found 'qualite\\u0301'"):
        good_labels(data, "qualit\u00e9")


def test_an_image_beside_the_class_sub_folders_is_refused_not_trained_on_as_good(tmp_path):
    """One stray image at the top made the sub-folders no classes: defect/ was trained as good."""
    for name in ("good/a.png", "good/b.png", "defect/c.png", "stray.png"):
        (tmp_path / "imgs" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((8, 8), 99, np.uint8)).save(tmp_path / "imgs" / name)
    data = DataSpec(data=str(tmp_path / "imgs"))
    with pytest.raises(UsageError, match=r"class sub-folders \(defect/, good/\) and 1 image"):
        train_run("anomaly", {"bank_size": 8}, data, tmp_path / "run")
    with pytest.raises(UsageError, match="1 lie at its top"):
        good_labels(Data(x=np.zeros((4, 1, 8, 8)), names=["a/1", "b/2", "c/3", "4"]), "ok")
    assert not (tmp_path / "run").exists()


def test_masks_by_name_mvtec_s_too_and_a_missing_one_is_good(tmp_path):
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:4] = 255
    _png(tmp_path / "masks" / "cut" / "a.png", mask)
    _png(tmp_path / "masks" / "cut" / "b_mask.png", mask[::-1])
    names = ["cut/a.jpg", "cut/b.png", "good/c.png"]
    data = Data(x=np.zeros((3, 1, 4, 6), np.float32), names=names)
    masks, found = read_masks(data, tmp_path / "masks")
    assert found == 2 and masks[0].sum() == 4 and masks[1].sum() == 4 and not masks[2].any()
    assert masks[0][1:3, 2:4].all() and masks[1][1:3, 2:4].all()
    resized = Data(x=np.zeros((3, 1, 8, 12), np.float32), names=names, sizes=[(4, 6)] * 3)
    assert read_masks(resized, tmp_path / "masks")[0][0].sum() == 16  # nearest, at the model's size
    wrong = Data(x=np.zeros((3, 1, 5, 6), np.float32), names=names)
    with pytest.raises(DataError, match="own size"):
        read_masks(wrong, tmp_path / "masks")


def test_masks_that_match_no_image_are_refused_and_a_defective_one_without_is_noted(
    tmp_path, caplog
):
    """probe 60 inspect #2: --masks ground_truth/crack/ for ground_truth/ matched no image and gave
    null pixel figures with exit 0; a defective-labelled image without a mask was silently good."""
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:4] = 255
    _png(tmp_path / "gt" / "cut" / "a_mask.png", mask)
    names = ["cut/a.png", "cut/b.png", "good/c.png"]
    data = Data(x=np.zeros((3, 1, 4, 6), np.float32), y=np.array([1, 1, 0]), names=names)
    with pytest.raises(UsageError, match="no mask for any of the 3 images") as refused:
        read_masks(data, tmp_path / "gt" / "cut")
    assert str(tmp_path / "gt" / "cut" / "cut" / "a_mask.png") in str(refused.value)
    assert "\n" not in str(refused.value)
    flat = Data(x=np.zeros((2, 1, 4, 6), np.float32), names=["s.png", "g.png"])
    with pytest.raises(UsageError, match="no mask for any of the 2 images.*all good, drop --masks"):
        read_masks(flat, tmp_path / "gt")  # the masks are the only labels: none is no figure
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        masks, found = read_masks(data, tmp_path / "gt")
    assert found == 1 and masks[0].sum() == 4
    assert "1 of the 2 defective-labelled images have no mask (cut/b.png)" in caplog.text
    caplog.clear()
    good = Data(x=np.zeros((1, 1, 4, 6), np.float32), y=np.array([0]), names=["good/c.png"])
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        assert read_masks(good, tmp_path / "gt")[1] == 0  # good images need no mask: no word
    assert caplog.text == ""


@pytest.mark.parametrize(
    ("values", "mode"),
    [(1, "I;16"), (255, "I;16"), (1, "L"), ((0, 0, 1), "RGB")],
)
def test_a_mask_s_non_zero_pixels_at_its_own_depth(values, mode, tmp_path):
    """A 16-bit mask of 0 and 1 (as numpy and annotation tools write them) read at 8 bits was
    empty; a faint colour read as gray was too."""
    shape = (4, 6, 3) if mode == "RGB" else (4, 6)
    dtype = np.uint16 if mode == "I;16" else np.uint8
    mask = np.zeros(shape, dtype)
    mask[1:3, 2:4] = values
    (tmp_path / "masks").mkdir()
    Image.fromarray(mask).save(tmp_path / "masks" / "a.png")
    data = Data(x=np.zeros((1, 1, 4, 6), np.float32), names=["a.png"])
    masks, found = read_masks(data, tmp_path / "masks")
    assert found == 1 and masks[0].sum() == 4 and masks[0][1:3, 2:4].all()


def test_output_names_keep_the_folders_and_refuse_a_clash():
    assert output_names(["a.jpg", "x/b.bmp", "c.d.png"], ".npy", "--maps") == [
        "a.npy",
        "x/b.npy",
        "c.d.npy",
    ]
    with pytest.raises(UsageError, match="a.png and a.jpg would both write a.png"):
        output_names(["a.png", "a.jpg"], ".png", "--overlay")


def test_the_scores_table_reads_back_equal(tmp_path):
    """p_value was written with 6 digits (0.961938 for 0.96193772): now repr, as the table runs'."""
    from types import SimpleNamespace

    from aekit.estimators.thresholds import p_values
    from aekit.recipes.images import _write_scores

    rng = np.random.default_rng(0)
    est = SimpleNamespace(threshold_=0.9, calibration_scores_=np.sort(rng.random(287, np.float32)))
    scores = rng.random(40, np.float32)
    _write_scores(tmp_path / "s.csv", est, [f"{i}.png" for i in range(40)], scores)
    rows = [line.split(",") for line in (tmp_path / "s.csv").read_text().splitlines()[1:]]
    np.testing.assert_array_equal(np.array([r[1] for r in rows], np.float32), scores)
    np.testing.assert_array_equal(
        np.array([r[3] for r in rows], float), p_values(est.calibration_scores_, scores)
    )


@pytest.mark.parametrize("lr", [1000.0, 1e-3])
def test_an_ssim_network_wrecked_by_its_learning_rate_is_warned_of(tmp_path, lr):
    """probe 60 training 6: at --lr 1000 the ssim network's loss rose to 1 (a constant output),
    and the run was kept and calibrated with "warnings": []. It now says so, as the basic,
    stacked and denoise recipes do (quality.lr_too_high); at the default rate it stays quiet."""
    rng = np.random.default_rng(0)
    for i in range(24):
        _png(tmp_path / "good" / f"{i:02d}.png", 255 * rng.random((16, 16)))
    spec = DataSpec(data=str(tmp_path / "good"))
    params = {"method": "ssim", "epochs": 3, "lr": lr, "threads": 1}
    _, metrics = train_run("anomaly", params, spec, tmp_path / "run", figures=False)
    wrecked = [w for w in metrics["warnings"] if "the ssim network trained badly" in w]
    assert len(wrecked) == (lr > 1), metrics["warnings"]
    if lr > 1:
        assert "lower the learning rate (--lr 1000 is far above" in wrecked[0]


def test_a_mask_that_matches_no_image_is_refused_where_the_masks_are_the_labels(tmp_path, caplog):
    """probe 67 #3: one misnamed mask was dropped without a word: with no class sub-folders its
    image was counted good (n_defective 5 of 6); with them, the mask itself was never named."""
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:4] = 255
    _png(tmp_path / "gt" / "a.png", mask)
    _png(tmp_path / "gt" / "b_defect.png", mask)  # b's, misnamed
    flat = Data(x=np.zeros((3, 1, 4, 6), np.float32), names=["a.png", "b.png", "c.png"])
    with pytest.raises(UsageError, match=r"masks that match no image \(b_defect.png\)") as refused:
        read_masks(flat, tmp_path / "gt")
    assert "\n" not in str(refused.value)
    labelled = Data(x=np.zeros((3, 1, 4, 6), np.float32), y=np.array([1, 1, 0]), names=flat.names)
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        assert read_masks(labelled, tmp_path / "gt")[1] == 1
    assert (
        "have no mask (b.png); their pixels are all taken as good; masks that match no image: "
        "b_defect.png" in caplog.text
    )


def test_masks_of_intermediate_values_are_noted_with_the_first(tmp_path, caplog):
    """probe 67 #1: JPEG masks changed PRO from 0.973 to 0.708 without a word."""
    mask = np.zeros((32, 32), np.uint8)
    mask[10:20, 12:22] = 255
    (tmp_path / "gt").mkdir()
    Image.fromarray(mask).save(tmp_path / "gt" / "a.jpg", quality=90)
    _png(tmp_path / "gt" / "b.png", mask)
    data = Data(x=np.zeros((2, 1, 32, 32), np.float32), names=["a.png", "b.png"])
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        masks, found = read_masks(data, tmp_path / "gt")
    assert found == 2 and masks.sum(axis=(1, 2)).tolist() == [100, 100]
    assert "1 of the 2 masks hold values between 0 and their largest (such as" in caplog.text
    assert "a.jpg" in caplog.text


def test_a_thin_image_is_refused_naming_the_file_width_first(tmp_path):
    """probe 67 #7: "X holds images of 1x5000 pixels": the estimator's argument, height first, no
    file named (train and calibrate; score said the folder)."""
    _png(tmp_path / "thin" / "wide.png", np.zeros((1, 50)))
    with pytest.raises(DataError, match=r"^\S*thin/wide.png is 50x1 pixels; expected at least 2"):
        ImageAnomalyRecipe().read(DataSpec(data=str(tmp_path / "thin")))
    with pytest.raises(DataError, match=r"^\S*thin/wide.png is 50x1 pixels"):
        ImageAnomalyRecipe().read(DataSpec(), str(tmp_path / "thin" / "wide.png"))


def test_patches_of_images_of_two_modes_name_a_file_of_each(tmp_path):
    """probe 67 #8: with --patch the line said the modes (L, RGB) alone, without the files."""
    _png(tmp_path / "mixed" / "a.png", np.zeros((20, 20)))
    (tmp_path / "mixed" / "z.png").parent.mkdir(exist_ok=True)
    Image.fromarray(np.zeros((24, 24, 3), np.uint8)).save(tmp_path / "mixed" / "z.png")
    spec = DataSpec(data=str(tmp_path / "mixed"), patch=8)
    with pytest.raises(DataError, match=r"different modes: a.png is L, z.png is RGB; expected"):
        ImageAnomalyRecipe().load_data(spec, 0)
