"""Options that say how to read the user's own data, given where no such data is read: one line."""

from __future__ import annotations

import numpy as np
import pytest

from aekit.cli.main import main


def _refused(argv, capsys, *needles) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    for needle in needles:
        assert needle in err[0], err


@pytest.mark.parametrize(
    "option",
    [["--columns", "a"], ["--validation-split", "0.5"], ["--npz-key", "x"], ["--stream"],
     ["--id-column", "id"], ["--image-size", "8x8"]],
)  # fmt: skip
def test_own_data_options_with_a_built_in_dataset_are_refused(tmp_path, capsys, option):
    argv = ["train", "basic", "--dataset", "ecg5000", "--out", str(tmp_path / "r"), *option]
    _refused(argv, capsys, f"{option[0]} describes your own data (--data)")
    assert not (tmp_path / "r").exists()


def test_no_latent_with_a_latent_size_is_refused(tmp_path, capsys):
    np.savetxt(tmp_path / "s.csv", np.sin(np.arange(400) / 5), header="v", comments="")
    argv = ["train", "series", "--data", str(tmp_path / "s.csv"), "--out", str(tmp_path / "r")]
    _refused([*argv, "--no-latent", "--latent-dim", "4"], capsys, "--no-latent leaves no code")
    assert not (tmp_path / "r").exists()


def test_calibrate_refuses_reading_options_without_data(tmp_path, capsys):
    rows = np.random.default_rng(0).normal(size=(80, 4))
    np.savetxt(tmp_path / "t.csv", rows, delimiter=",", header="a,b,c,d", comments="")
    run = str(tmp_path / "r")
    argv = ["train", "anomaly", "--data", str(tmp_path / "t.csv"), "--out", run]
    assert main([*argv, "--epochs", "1", "--quiet", "--no-figures"]) == 0
    before = (tmp_path / "r" / "config.json").read_bytes()
    for option in (["--label-column", "label"], ["--normal-label", "0"]):
        _refused(["calibrate", run, *option], capsys, f"{option[0]} says how to read --data")
    assert (tmp_path / "r" / "config.json").read_bytes() == before


def test_a_family_without_a_built_in_dataset_still_says_it_needs_data(tmp_path, capsys):
    argv = ["train", "series", "--train-steps", "100", "--out", str(tmp_path / "r")]
    _refused(argv, capsys, "aekit train series needs --data")


def test_ecg5000s_tutorial_split_refuses_another_normal_class(tmp_path, capsys, shared_data):
    # its split keeps "class 1" and "not class 1" only: --normal-label 2 was recorded, then ignored
    argv = ["train", "anomaly", "--dataset", "ecg5000", "--data-dir", str(shared_data)]
    _refused([*argv, "--normal-label", "2", "--out", str(tmp_path / "r")], capsys, "class 1 normal")
    assert not (tmp_path / "r").exists()


def test_a_parameters_range_error_names_the_option_typed(tmp_path, capsys):
    np.savetxt(tmp_path / "t.csv", np.ones((20, 3)), delimiter=",", header="a,b,c", comments="")
    argv = ["train", "anomaly", "--data", str(tmp_path / "t.csv"), "--out", str(tmp_path / "r")]
    _refused([*argv, "--validation-fraction", "-1"], capsys, "--validation-fraction must be")


def test_a_tables_fill_with_an_array_or_images_is_refused(tmp_path, capsys):
    """Probe 67 cli #5: --fill mean with a .npy (or .npz, or images) was ignored, exit 0, yet
    recorded in config.json; a series' --fill linear fills a .npy's gaps, and is taken."""
    rows = np.random.default_rng(0).random((40, 3)).astype(np.float32)
    np.save(tmp_path / "t.npy", rows)
    (tmp_path / "imgs").mkdir()
    for data, kind in (("t.npy", "a .npy array"), ("imgs", "image files")):
        argv = ["train", "basic", "--data", str(tmp_path / data), "--fill", "mean",
                "--out", str(tmp_path / "r")]  # fmt: skip
        _refused(argv, capsys, f"--fill does not apply to {tmp_path / data}, {kind}", "drop it")
    assert not (tmp_path / "r").exists()
    rows[5, 1] = np.nan
    np.save(tmp_path / "t.npy", rows)
    argv = ["train", "series", "--data", str(tmp_path / "t.npy"), "--fill", "linear",
            "--window", "8", "--out", str(tmp_path / "s"), "--no-figures", "--quiet"]  # fmt: skip
    assert main(argv) == 0


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_a_memory_cap_beside_stream_or_no_stream_is_refused(tmp_path, capsys, stream):
    """Probe 67 cli #10: --memory-cap decides when to stream, and --stream/--no-stream decide it
    instead: the cap was recorded in config.json and did nothing."""
    np.save(tmp_path / "t.npy", np.zeros((20, 3), np.float32))
    argv = ["train", "basic", "--data", str(tmp_path / "t.npy"), stream, "--memory-cap", "1K",
            "--out", str(tmp_path / "r")]  # fmt: skip
    _refused(argv, capsys, f"--memory-cap decides when to stream; {stream} decides already")
    assert not (tmp_path / "r").exists()
