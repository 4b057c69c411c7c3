"""Images of any size (issue 33): a folder of mixed sizes denoised each at its own size, and every
command on a run trained with ``--image-size`` reusing it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from .helpers import cli_here

SIZES = [(20, 16), (28, 20), (12, 12)]  # (width, height), as Pillow gives them


def write_mixed(folder, n=12, mode="L"):
    """``n`` smooth images, cycling through three sizes."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    for i in range(n):
        w, h = SIZES[i % 3]
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.sin(xx / rng.uniform(1, 4)) * np.cos(yy / rng.uniform(1, 4)) * 0.4 + 0.5
        Image.fromarray((img * 255).astype(np.uint8), mode).save(folder / f"im{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("anysize")
    mixed = write_mixed(root / "mixed")
    same = root / "same"
    same.mkdir()
    for p in sorted(mixed.glob("*.png"))[::3]:  # the first size only
        Image.open(p).save(same / p.name)
    common = ["--epochs", "1", "--batch-size", "4", "--no-figures", "--quiet"]
    cli_here("train", "denoise", "--data", same, "--channels", "4,4", *common, "--out", root / "d")
    cli_here(
        "train", "denoise", "--data", mixed, "--image-size", "16x16", "--channels", "4,4",
        *common, "--out", root / "d16",
    )  # fmt: skip
    cli_here(
        "train", "basic", "--data", mixed, "--image-size", "8x8", "--latent-dim", "3", *common,
        "--out", root / "b8",
    )  # fmt: skip
    return root


def sizes(folder):
    return {p.name: Image.open(p).size for p in folder.glob("*.png")}


def test_denoise_writes_a_folder_of_three_sizes_each_at_its_own(world):
    out = world / "out"
    cli_here("denoise", world / "d", "--input", world / "mixed", "--output", out)
    assert sizes(out) == sizes(world / "mixed") and len(set(sizes(out).values())) == 3
    assert {Image.open(p).mode for p in out.glob("*.png")} == {"L"}


def test_a_run_trained_resized_resizes_by_itself_and_writes_back_at_each_size(world):
    out = world / "out16"
    cli_here("denoise", world / "d16", "--input", world / "mixed", "--output", out)
    assert sizes(out) == sizes(world / "mixed")
    kept = world / "kept16"
    cli_here(
        "denoise", world / "d16", "--input", world / "mixed", "--output", kept, "--keep-model-size"
    )
    assert set(sizes(kept).values()) == {(16, 16)}


def test_index_and_encode_reuse_the_runs_image_size(world):
    cli_here("index", world / "b8", "--input", world / "mixed", "--output", world / "ix")
    read = json.loads((world / "ix" / "index.json").read_text())["read"]
    assert read["image_size"] == [8, 8]
    cli_here("encode", world / "b8", "--input", world / "mixed", "--output", world / "z.csv")
    rec = world / "rec"
    cli_here("reconstruct", world / "b8", "--input", world / "mixed", "--output", rec)
    assert sizes(rec) == sizes(world / "mixed")  # written back at each input's size


def test_neighbour_figures_name_their_queries_across_pages(world):
    out = world / "nb.csv"
    proc = cli_here(
        "neighbors", world / "ix", "--query", world / "mixed", "-k", "2", "--output", out,
        "--figure-queries", "10",
    )  # fmt: skip
    assert (world / "nb.png").is_file() and (world / "nb-2.png").is_file()
    assert not (world / "nb-3.png").exists()
    assert "queries 1-10 of 12" in proc.stdout


def test_the_denoiser_trains_on_a_folder_of_mixed_sizes(world, tmp_path):
    proc = cli_here(
        "train", "denoise", "--data", world / "mixed", "--channels", "4,4", "--epochs", "1",
        "--batch-size", "4", "--no-figures", "--quiet", "--out", tmp_path / "r",
    )  # fmt: skip
    assert "images of 3 sizes" in proc.stderr and "central 12x12" in proc.stderr
    out = tmp_path / "out"
    cli_here("denoise", tmp_path / "r", "--input", world / "mixed", "--output", out)
    assert sizes(out) == sizes(world / "mixed")


def test_an_npy_of_images_is_resized_to_the_runs_size_as_files_are(world):
    # probe 56 surfaces #5: an array of 28x20 images was denoised at 28x20 by a run resized to 16x16
    same = sorted((world / "mixed").glob("*.png"))[1::3]  # the 28x20 ones
    x = np.stack([np.asarray(Image.open(p), np.float32) / 255 for p in same])
    np.save(world / "x.npy", x)
    out = world / "x_out.npy"
    cli_here("denoise", world / "d16", "--input", world / "x.npy", "--output", out)
    kept = world / "x_kept.npy"
    cli_here(
        "denoise", world / "d16", "--input", world / "x.npy", "--output", kept, "--keep-model-size"
    )
    assert np.load(out).shape == x.shape and np.load(kept).shape == (len(x), 16, 16)
    from aekit import load
    from aekit.data import resize_images

    at16 = load(world / "d16").transform(resize_images(x[:, None], (16, 16)))
    np.testing.assert_allclose(np.load(kept), at16[:, 0], atol=1e-6)


def test_an_npy_output_has_the_size_the_image_outputs_have(world, tmp_path):
    # probe 56 surfaces #5: PNGs in, --output x.npy gave the model's 16x16 (--keep-model-size a no-op)
    one = tmp_path / "one"
    one.mkdir()
    for p in sorted((world / "mixed").glob("*.png"))[1::3]:
        Image.open(p).save(one / p.name)
    cli_here("denoise", world / "d16", "--input", one, "--output", tmp_path / "o.npy")
    cli_here("denoise", world / "d16", "--input", one, "--output", tmp_path / "k.npy",
             "--keep-model-size")  # fmt: skip
    assert np.load(tmp_path / "o.npy").shape[2:] == (20, 28)
    assert np.load(tmp_path / "k.npy").shape[2:] == (16, 16)
    # several sizes cannot go back to their own in one array: the model's size, as before, said
    proc = cli_here("denoise", world / "d16", "--input", world / "mixed", "--output",
                    tmp_path / "m.npy")  # fmt: skip
    assert np.load(tmp_path / "m.npy").shape[2:] == (16, 16) and "--keep-model-size" in proc.stderr
