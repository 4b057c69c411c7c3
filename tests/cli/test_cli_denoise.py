"""``aekit train denoise`` on the user's RGB images of any size, and ``aekit denoise``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from aekit.cli.main import main


def write_pngs(folder, n=24, size=(20, 24), mode="RGB"):
    """Smooth coloured blobs, saved as PNGs of height x width = size, some in a subfolder."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
    names = []
    for i in range(n):
        blob = np.exp(
            -((yy - rng.uniform(0, size[0])) ** 2 + (xx - rng.uniform(0, size[1])) ** 2) / 20.0
        )
        rgb = (blob[..., None] * rng.uniform(0.3, 1, 3) * 255).astype(np.uint8)
        name = f"sub/img{i:02d}.png" if i % 5 == 0 else f"img{i:02d}.png"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb if mode == "RGB" else rgb[..., 0], mode).save(folder / name)
        names.append(name)
    return sorted(names)


@pytest.fixture(scope="module")
def rgb_run(tmp_path_factory):
    """A run trained with `aekit train denoise --data DIR` on 20x24 RGB PNGs."""
    root = tmp_path_factory.mktemp("rgb")
    names = write_pngs(root / "images")
    code = main(
        [
            "train",
            "denoise",
            "--data",
            str(root / "images"),
            "--epochs",
            "2",
            "--batch-size",
            "8",
            "--noise",
            "masking:0.3",
            "--noise",
            "saltpepper:0.05",
            "--channels",
            "8,4",
            "--device",
            "cpu",
            "--out",
            str(root / "run"),
            "--quiet",
        ]
    )
    assert code == 0
    return root, names


def test_train_on_rgb_folder_writes_the_run(rgb_run):
    root, _ = rgb_run
    run = root / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["family"] == "denoise" and config["estimator"] == "Denoiser"
    assert config["params"]["noise"] == "masking:0.3+saltpepper:0.05"
    assert config["params"]["channels"] == [8, 4]
    assert config["state"]["input_shape"] == [3, 20, 24]
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"val_mse", "val_psnr", "noisy_psnr", "epochs", "train_seconds"} <= set(metrics)
    assert metrics["epochs"] == 2
    assert (run / "figures" / "denoised.png").is_file() and (run / "figures" / "loss.png").is_file()


def test_denoise_folder_keeps_names_sizes_and_modes(rgb_run, tmp_path, capsys):
    root, names = rgb_run
    out = tmp_path / "clean"
    assert (
        main(["denoise", str(root / "run"), "--input", str(root / "images"), "--output", str(out)])
        == 0
    )
    assert "wrote 24 denoised images" in capsys.readouterr().out
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == names
    for name in names:
        with Image.open(out / name) as im:
            assert im.mode == "RGB" and im.size == (24, 20)  # PIL: (width, height)
    # refuses to clobber, then replaces with --overwrite
    assert (
        main(["denoise", str(root / "run"), "--input", str(root / "images"), "--output", str(out)])
        == 2
    )
    assert "--overwrite" in capsys.readouterr().err
    assert (
        main(
            [
                "denoise",
                str(root / "run"),
                "--input",
                str(root / "images"),
                "--output",
                str(out),
                "--overwrite",
            ]
        )
        == 0
    )


def test_denoise_other_size_and_npy(rgb_run, tmp_path):
    root, _ = rgb_run
    # another size: the model is fully convolutional
    write_pngs(tmp_path / "big", n=3, size=(33, 17))
    assert (
        main(
            [
                "denoise",
                str(root / "run"),
                "--input",
                str(tmp_path / "big"),
                "--output",
                str(tmp_path / "big_out"),
            ]
        )
        == 0
    )
    with Image.open(tmp_path / "big_out" / "img01.png") as im:
        assert im.size == (17, 33) and im.mode == "RGB"
    x = np.random.default_rng(0).random((5, 3, 20, 24), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    assert (
        main(
            [
                "denoise",
                str(root / "run"),
                "--input",
                str(tmp_path / "x.npy"),
                "--output",
                str(tmp_path / "y.npy"),
            ]
        )
        == 0
    )
    y = np.load(tmp_path / "y.npy")
    assert y.shape == x.shape and y.dtype == np.float32 and y.min() >= 0 and y.max() <= 1


def test_grayscale_npy_without_channel_axis(tmp_path):
    x = np.random.default_rng(0).random((40, 12, 12), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    assert (
        main(
            [
                "train",
                "denoise",
                "--data",
                str(tmp_path / "x.npy"),
                "--epochs",
                "1",
                "--device",
                "cpu",
                "--noise",
                "gaussian:0.1+masking:0.1",
                "--out",
                str(tmp_path / "run"),
                "--quiet",
                "--no-figures",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "denoise",
                str(tmp_path / "run"),
                "--input",
                str(tmp_path / "x.npy"),
                "--output",
                str(tmp_path / "y.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "y.npy").shape == (40, 12, 12)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--noise", "blur:0.2"], "gaussian:FACTOR"),
        (["--noise", "masking:1.5"], "masking:P"),
        (["--channels", "16,x"], "commas"),
        (["--latent-dim", "8"], "--channels"),
    ],
)
def test_bad_options_are_one_line_exit_2(tmp_path, capsys, argv, words):
    try:  # argparse errors exit (SystemExit 2); library UsageErrors return 2
        code = main(
            [
                "train",
                "denoise",
                "--data",
                str(tmp_path / "none.npy"),
                "--out",
                str(tmp_path / "run"),
                *argv,
            ]
        )
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_images_outside_0_1_get_advice_the_command_can_follow(tmp_path, capsys):
    """Probe 56 advice #2/#3: ``train denoise`` on 8-bit images advised output_activation='linear',
    an option it does not have; a trained run was advised a training parameter."""
    images = np.random.default_rng(0).random((24, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "u8.npy", np.round(images * 254).astype(np.uint8))
    np.save(tmp_path / "signed.npy", images * 2 - 1)
    for name in ("u8.npy", "signed.npy"):
        argv = ["train", "denoise", "--data", str(tmp_path / name), "--epochs", "1"]
        assert main([*argv, "--out", str(tmp_path / f"run_{name}")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and name in err, err
        assert "output_activation" not in err and "--output-activation" not in err, err
        fix = "divide the 8-bit pixels by 255" if name == "u8.npy" else "scale them to [0, 1]"
        assert err.endswith(fix), err
    np.save(tmp_path / "clean.npy", images)
    argv = ["--data", str(tmp_path / "clean.npy"), "--epochs", "1", "--quiet"]
    assert main(["train", "denoise", *argv, "--out", str(tmp_path / "run")]) == 0
    out = str(tmp_path / "d.npy")
    assert (
        main(
            ["denoise", str(tmp_path / "run"), "--input", str(tmp_path / "u8.npy"), "--output", out]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "output_activation" not in err and err.strip().endswith("divide the 8-bit pixels by 255")
    assert f"error: {tmp_path / 'u8.npy'} has values in" in err  # verify 56: it said "X has values"
