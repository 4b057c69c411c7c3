"""``aekit train vae``, ``aekit sample``, ``aekit interpolate`` (in-process through aekit.cli.main.main)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aekit.cli import cmd_train
from aekit.cli import main as cli
from aekit.errors import UsageError
from aekit.recipes import vae as vae_recipe


def _digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary 28x28 images with a filled square whose position depends on the label (0..3)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = np.zeros((n, 1, 28, 28), np.float32)
    for i, label in enumerate(y):
        r, c = divmod(int(label), 2)
        x[i, 0, 4 + 12 * r : 12 + 12 * r, 4 + 12 * c : 12 + 12 * c] = 1
    return x, y


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_vae")
    x, y = _digits(160)
    np.savez(root / "digits.npz", x=x, y=y)
    out = root / "run"
    mp = pytest.MonkeyPatch()
    mp.setattr(vae_recipe, "IW_IMAGES", 5)
    try:
        rc = cli.main(
            [
                "train",
                "vae",
                "--data",
                str(root / "digits.npz"),
                "--npz-key",
                "x",
                "--epochs",
                "1",
                "--latent-dim",
                "2",
                "--beta",
                "1.5",
                "--kl",
                "mc",
                "--lr",
                "0.001",
                "--device",
                "cpu",
                "--out",
                str(out),
                "--quiet",
            ]
        )
    finally:
        mp.undo()
    assert rc == 0
    return out


def test_train_writes_run(run):
    config = json.loads((run / "config.json").read_text())
    assert (
        config["estimator"] == "VAE"
        and config["params"]["beta"] == 1.5
        and config["params"]["kl"] == "mc"
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["k"] == 100 and metrics["n_iw"] == 5 and metrics["test_elbo"] < 0
    assert (run / "figures" / "manifold.png").is_file() and (
        run / "figures" / "samples.png"
    ).is_file()


def test_sample_png_and_npy(run, tmp_path, capsys):
    assert cli.main(["sample", str(run), "--n", "9", "--output", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    for name in ("a.npy", "b.npy"):
        assert (
            cli.main(
                ["sample", str(run), "--n", "6", "--seed", "4", "--output", str(tmp_path / name)]
            )
            == 0
        )
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (6, 1, 28, 28) and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    # exists, no --overwrite
    assert cli.main(["sample", str(run), "--output", str(tmp_path / "a.npy")]) == 2
    assert cli.main(["sample", str(run), "--output", str(tmp_path / "s.txt")]) == 2
    assert "error" in capsys.readouterr().err
    # the figure types aekit.plots writes (they were refused here: .png only)
    for name, magic in (("s.pdf", b"%PDF"), ("s.svg", b"<?xml"), ("s.jpg", b"\xff\xd8")):
        assert cli.main(["sample", str(run), "--n", "4", "--output", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_bytes().startswith(magic)


@pytest.mark.parametrize("seed", [2**63, 2**64, 10**30])
def test_sample_seed_outside_the_range_of_train_is_one_line(run, tmp_path, seed, capsys):
    """--seed takes [0, 2**63), as train and serve do: beyond, one line and exit 2, nothing written."""
    argv = [
        "sample",
        str(run),
        "--n",
        "2",
        "--seed",
        str(seed),
        "--output",
        str(tmp_path / "s.npy"),
    ]
    assert cli.main(argv) == 2 and not (tmp_path / "s.npy").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seed must be a whole number in [0, 2**63)" in err[0], err


def test_interpolate_indices_and_files(run, tmp_path):
    assert (
        cli.main(
            [
                "interpolate",
                str(run),
                "--from",
                "0",
                "--to",
                "3",
                "--steps",
                "5",
                "--output",
                str(tmp_path / "strip.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "strip.png").stat().st_size > 0
    assert (
        cli.main(
            [
                "interpolate",
                str(run),
                "--from",
                "0",
                "--to",
                "3",
                "--steps",
                "5",
                "--method",
                "slerp",
                "--output",
                str(tmp_path / "strip.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "strip.npy").shape == (5, 1, 28, 28)
    x, _ = _digits(2, seed=1)
    np.save(tmp_path / "a.npy", x[:1])
    np.save(tmp_path / "b.npy", x[1:])
    assert (
        cli.main(
            [
                "interpolate",
                str(run),
                "--input",
                str(tmp_path / "a.npy"),
                str(tmp_path / "b.npy"),
                "--output",
                str(tmp_path / "files.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "files.npy").shape == (10, 1, 28, 28)


@pytest.mark.parametrize(
    "argv",
    [
        ["--from", "0"],
        ["--from", "0", "--to", "100000"],
        ["--from", "0", "--to", "1", "--input", "a.png", "b.png"],
    ],
)
def test_interpolate_usage_errors(run, tmp_path, argv, capsys):
    assert cli.main(["interpolate", str(run), *argv, "--output", str(tmp_path / "x.png")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_interpolate_names_the_input_holding_more_than_one_image(run, tmp_path, capsys):
    """It said ``x_a: expected one image (C, H, W), got 4 images``: a Python name."""
    np.save(tmp_path / "four.npy", np.zeros((4, 1, 28, 28), np.float32))
    argv = [
        "interpolate",
        str(run),
        "--input",
        str(tmp_path / "four.npy"),
        str(tmp_path / "four.npy"),
    ]
    assert cli.main([*argv, "--output", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert f"--input {tmp_path / 'four.npy'} holds 4 images; give two files of one each" in err


def test_train_params_and_preset():
    parser = cli.build_parser()
    args = parser.parse_args(
        [
            "train",
            "vae",
            "--preset",
            "strong",
            "--beta",
            "2",
            "--likelihood",
            "gaussian",
            "--channels",
            "16,32",
        ]
    )
    from aekit.recipes import get_recipe

    # preset < explicit options
    params = get_recipe("vae").build(cmd_train.train_params(args)).get_params()
    assert params["latent_dim"] == 32 and params["batch_size"] == 128 and params["beta"] == 2.0
    assert params["likelihood"] == "gaussian" and params["channels"] == (16, 32)
    with pytest.raises(SystemExit) as e:
        parser.parse_args(["train", "vae", "--beta", "-1"])
    assert e.value.code == 2
    assert cli.main(["train", "vae", "--preset", "huge", "--epochs", "0"]) == 2
    # the importance-weighted bound has no KL term: --kl and --free-bits were recorded, unused
    for option in (["--kl", "mc"], ["--free-bits", "1"]):
        given = parser.parse_args(["train", "vae", "--iw-samples", "3", *option])
        with pytest.raises(UsageError, match=f"{option[0]} does not apply with --iw-samples 3"):
            cmd_train.train_params(given)


def test_one_sample_is_said_in_the_singular(run, tmp_path, capsys):
    """Probe 51 ae 9: "wrote 1 samples"."""
    capsys.readouterr()
    assert cli.main(["sample", str(run), "--n", "1", "--output", str(tmp_path / "s.npy")]) == 0
    assert "wrote 1 sample to" in capsys.readouterr().out


def test_interpolate_names_the_file_read_in_the_other_colour_mode(run, tmp_path, capsys):
    """Probe 51 ae 9: "X: the model was trained on sample shape (3, 12, 16), got (1, 12, 16)", where
    the other commands name the file and its mode."""
    from PIL import Image

    gray = np.zeros((28, 28), np.uint8)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    Image.fromarray(np.stack([gray] * 3, axis=-1)).save(tmp_path / "rgb.png")
    argv = [
        "interpolate",
        str(run),
        "--input",
        str(tmp_path / "gray.png"),
        str(tmp_path / "rgb.png"),
    ]
    capsys.readouterr()
    assert cli.main([*argv, "--output", str(tmp_path / "i.npy")]) == 2
    err = capsys.readouterr().err
    assert "rgb.png is read as colour (RGB), but the run was trained on grayscale" in err, err


def test_train_on_values_outside_0_1_names_the_option_of_the_command(tmp_path, capsys):
    """Probe 56 advice #4: the advice named likelihood='gaussian' (Python's) for 8-bit images too."""
    x = np.random.default_rng(0).random((24, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "u8.npy", np.round(x * 254).astype(np.uint8))
    np.save(tmp_path / "signed.npy", x * 2 - 1)
    for name, fix in (("u8.npy", "by 255"), ("signed.npy", "or use --likelihood gaussian")):
        argv = ["train", "vae", "--data", str(tmp_path / name), "--epochs", "1"]
        assert cli.main([*argv, "--out", str(tmp_path / f"run_{name}")]) == 2
        err = capsys.readouterr().err.strip()
        assert name in err and err.endswith(fix) and "likelihood=" not in err, err


def test_interpolate_takes_one_image_of_height_by_width(run, tmp_path):
    """help: '--input A B: .npy of one image'; an (H, W) array was read as 28 rows."""
    x, _ = _digits(2, seed=3)
    np.save(tmp_path / "a.npy", x[0, 0])  # (28, 28)
    np.save(tmp_path / "b.npy", x[1])  # (1, 28, 28)
    out = tmp_path / "strip.npy"
    argv = ["interpolate", str(run), "--input", str(tmp_path / "a.npy"), str(tmp_path / "b.npy")]
    assert cli.main([*argv, "--steps", "3", "--output", str(out)]) == 0
    assert np.load(out).shape == (3, 1, 28, 28)


def test_one_colour_image_is_a_batch_of_one_not_three_planes():
    """An RGB image saved (3, H, W): the reader gives (3, 1, H, W), its planes as three images."""
    from types import SimpleNamespace

    from aekit.cli.cmd_vae import _one_image

    rgb = SimpleNamespace(input_shape_=(3, 16, 16))
    planes = np.zeros((3, 1, 16, 16), np.float32)
    assert _one_image(planes, rgb).shape == (1, 3, 16, 16)
    gray = SimpleNamespace(input_shape_=(1, 16, 16))
    assert _one_image(planes, gray).shape == (3, 1, 16, 16)  # three grey images stay three


@pytest.fixture(scope="module")
def rows_run(tmp_path_factory):
    """A Gaussian VAE fitted on rows of 6 values in Python and saved, with two rows as .npy files."""
    import aekit

    root = tmp_path_factory.mktemp("rows_vae")
    x = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    aekit.VAE(likelihood="gaussian", epochs=1, channels=(4, 8), threads=1).fit(x).save(root / "m")
    np.save(root / "row0.npy", x[0])
    np.save(root / "row1.npy", x[1])
    return root


def test_a_vae_of_rows_makes_rows_and_takes_them(rows_run, tmp_path, capsys):
    """probe 60 generate 5: sample --output PNG of a rows VAE failed with the plot's "images must
    have shape (n, C, H, W)"; interpolate refused .npy files of one row each."""
    out = tmp_path / "s.png"
    assert cli.main(["sample", str(rows_run / "m"), "--n", "4", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("this VAE makes rows of 6 values, not images; write them to a .npy file")
    assert not out.exists()
    ends = [str(rows_run / "row0.npy"), str(rows_run / "row1.npy")]
    argv = ["interpolate", str(rows_run / "m"), "--input", *ends, "--steps", "3"]
    assert cli.main([*argv, "--output", str(tmp_path / "i.npy")]) == 0
    assert np.load(tmp_path / "i.npy").shape == (3, 6)


def test_a_vae_of_height_by_width_draws_its_samples(tmp_path):
    """probe 60 generate 3: a VAE fitted on (n, H, W) gives samples (n, H, W), drawn as gray images."""
    import aekit

    x = (np.random.default_rng(0).random((32, 12, 12)) > 0.5).astype(np.float32)
    aekit.VAE(epochs=1, channels=(4, 8), threads=1).fit(x).save(tmp_path / "m")
    assert (
        cli.main(["sample", str(tmp_path / "m"), "--n", "4", "--output", str(tmp_path / "s.png")])
        == 0
    )
    assert (tmp_path / "s.png").stat().st_size > 0


def test_interpolate_names_the_image_of_another_size(run, tmp_path, capsys):
    """probe 60 generate 5: "X: the model was trained on sample shape (1, 28, 28), got (1, 40, 48)",
    without the file or the --image-size that fits."""
    from PIL import Image

    Image.fromarray(np.zeros((40, 48), np.uint8)).save(tmp_path / "big.png")
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "fit.png")
    argv = [
        "interpolate",
        str(run),
        "--input",
        str(tmp_path / "big.png"),
        str(tmp_path / "fit.png"),
    ]
    capsys.readouterr()
    assert cli.main([*argv, "--output", str(tmp_path / "i.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{tmp_path / 'big.png'}: an image of 48x40" in err and "--image-size 28x28" in err, err
    assert cli.main([*argv, "--image-size", "28x28", "--output", str(tmp_path / "i.npy")]) == 0


def test_interpolate_steps_below_two_names_the_option(run, tmp_path, capsys):
    """probe 60 generate 5: --steps 1 was taken, then refused as "steps must be ... >= 2" (Python's)."""
    argv = ["interpolate", str(run), "--from", "0", "--to", "1", "--steps", "1"]
    with pytest.raises(SystemExit) as e:
        cli.main([*argv, "--output", str(tmp_path / "i.npy")])
    assert e.value.code == 2
    assert "argument --steps: expected a whole number >= 2, got 1" in capsys.readouterr().err
