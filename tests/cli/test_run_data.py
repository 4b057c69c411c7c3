"""After a run trained with $AEKIT_DATA set (as `make demo` does), evaluate, plot and interpolate work
from a plain shell: the run recorded its data root. --data-dir still overrides it. The data file or
folder a run recorded is an input of the commands that read it: never their output."""

from __future__ import annotations

import json

import numpy as np

from aekit.cli.main import main


def test_commands_on_a_builtin_run_find_its_data_without_aekit_data(
    tmp_path, shared_data, monkeypatch, capsys
):
    run = tmp_path / "basic"
    monkeypatch.setenv("AEKIT_DATA", str(shared_data))
    assert (
        main(
            [
                "train",
                "basic",
                "--dataset",
                "mnist",
                "--epochs",
                "1",
                "--batch-size",
                "4096",
                "--latent-dim",
                "2",
                "--no-figures",
                "--quiet",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert json.loads((run / "config.json").read_text())["data"]["data_dir"] == str(
        shared_data.resolve()
    )

    import aekit
    from aekit.recipes import DataSpec

    two = np.zeros((2, 1, 28, 28), np.float32)
    two[1] = 1.0  # two images alike would be refused: nothing to learn
    vae = aekit.VAE(latent_dim=2, epochs=0, device="cpu").fit(two)
    vae.save(
        tmp_path / "vae",
        extra={"family": "vae", "seed": 0, "data": DataSpec(dataset="mnist").to_json()},
    )

    # a plain shell: no $AEKIT_DATA and an empty user cache, so the data is found only where the runs say
    monkeypatch.delenv("AEKIT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0 and "val_mse" in capsys.readouterr().out
    assert (
        main(["plot", str(run), "--quiet"]) == 0 and (run / "figures" / "latent_map.png").is_file()
    )
    assert (
        main(
            [
                "interpolate",
                str(tmp_path / "vae"),
                "--from",
                "0",
                "--to",
                "1",
                "--steps",
                "3",
                "--output",
                str(tmp_path / "i.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "i.npy").shape == (3, 1, 28, 28)
    capsys.readouterr()
    # --data-dir overrides the recorded root: an empty one is where it looks (and fails, offline)
    monkeypatch.setattr(
        "aekit.data.download.download_resource",
        lambda *a, **k: (_ for _ in ()).throw(OSError("offline")),
    )
    assert main(["evaluate", str(run), "--data-dir", str(tmp_path / "nowhere")]) != 0
    assert "nowhere" in capsys.readouterr().err


# ---- the run's recorded data is an input of every command that reads it --------------------------

COMMON = ["--epochs", "1", "--no-figures", "--quiet"]


def _trained(tmp_path, data, family="basic", *extra):
    from ..badinput import cli

    run = tmp_path / f"run-{family}"
    code, _, err = cli("train", family, "--data", data, *extra, *COMMON, "--out", run)
    assert code == 0, err
    return run


def test_no_input_never_overwrites_the_runs_data_file(tmp_path):
    """encode, reconstruct and evaluate with no --input read the run's data file: an --output
    that is that file is refused, as an explicit --input of it is, and the file is untouched."""
    from ..badinput import assert_one_line, cli, snapshot

    np.save(tmp_path / "rows.npy", np.random.default_rng(0).random((30, 4)).astype(np.float32))
    run = _trained(tmp_path, tmp_path / "rows.npy", "basic", "--latent-dim", "2")
    before = snapshot(tmp_path)
    for argv in (
        ["encode", run, "--output", tmp_path / "rows.npy", "--overwrite"],
        ["reconstruct", run, "--output", tmp_path / "rows.npy", "--overwrite"],
        ["evaluate", run, "--output", tmp_path / "rows.npy", "--overwrite"],
    ):
        code, _, err = cli(*argv)
        assert_one_line(code, err, 2, ["is the input", "rows.npy"])
        assert snapshot(tmp_path) == before, argv[0]


def test_no_input_never_replaces_an_output_folder_the_run_trained_on(tmp_path):
    """A run trained on an aekit output folder (denoised images): reconstructing with no --input into
    that folder with --overwrite is refused, and the images it holds stay."""
    from ..badinput import assert_one_line, cli, snapshot, write_images

    write_images(tmp_path / "imgs", 6)
    first = _trained(tmp_path, tmp_path / "imgs", "basic", "--latent-dim", "2")
    assert (
        cli("reconstruct", first, "--input", tmp_path / "imgs", "--output", tmp_path / "den")[0]
        == 0
    )
    run = tmp_path / "on-den"
    argv = ["basic", "--data", tmp_path / "den", "--latent-dim", "2", *COMMON, "--out", run]
    assert cli("train", *argv)[0] == 0
    before = snapshot(tmp_path / "den")
    code, _, err = cli("reconstruct", run, "--output", tmp_path / "den", "--overwrite")
    assert_one_line(code, err, 2, ["is the input"])
    assert snapshot(tmp_path / "den") == before and len(before) == 7  # 6 images and the manifest


def test_interpolate_between_test_images_never_overwrites_them(tmp_path):
    from ..badinput import assert_one_line, cli, snapshot

    np.save(
        tmp_path / "imgs.npy", np.random.default_rng(0).random((10, 1, 8, 8)).astype(np.float32)
    )
    run = _trained(tmp_path, tmp_path / "imgs.npy", "vae", "--latent-dim", "2", "--channels", "4,4")
    before = snapshot(tmp_path)
    argv = ["--from", "0", "--to", "1", "--steps", "3", "--output", tmp_path / "imgs.npy"]
    code, _, err = cli("interpolate", run, *argv, "--overwrite")
    assert_one_line(code, err, 2, ["is the input", "imgs.npy"])
    assert snapshot(tmp_path) == before


def test_evaluate_and_plot_refuse_a_data_file_changed_since_training(tmp_path):
    """With no --data they read the run's held-out split again from its data file: once the file's
    checksum differs from the one recorded, one line instead (--data FILE still evaluates it)."""
    from ..badinput import assert_one_line, cli

    rng = np.random.default_rng(0)
    np.save(tmp_path / "rows.npy", rng.random((30, 4)).astype(np.float32))
    run = _trained(tmp_path, tmp_path / "rows.npy", "basic", "--latent-dim", "2")
    assert cli("evaluate", run)[0] == 0
    np.save(tmp_path / "rows.npy", rng.random((30, 4)).astype(np.float32))
    for argv in (["evaluate", run], ["plot", run]):
        code, _, err = cli(*argv)
        assert_one_line(code, err, 2, ["rows.npy has changed since the run was trained", "--data"])
    for command in ("encode", "reconstruct"):  # their held-out split too, with no --input
        code, _, err = cli(command, run, "--output", tmp_path / f"{command}.npy")
        assert_one_line(code, err, 2, ["rows.npy has changed", "--input FILE"])
    assert cli("evaluate", run, "--data", tmp_path / "rows.npy")[0] == 0
    config = json.loads((run / "config.json").read_text())
    config["data"]["checksums"] = None  # a run that recorded none: read as it is
    (run / "config.json").write_text(json.dumps(config))
    assert cli("evaluate", run)[0] == 0


def test_reading_options_that_the_runs_own_data_has_no_use_for_are_refused(tmp_path):
    """Probe 51 ae 3 and 5: with no --input, --image-size, --npz-key, --label-column and --id-column
    were accepted and did nothing on a .npy run (so were they for interpolate's two --input .npy
    files), and --normal-label on a run that is not an anomaly detector."""
    from ..badinput import assert_one_line, cli

    imgs = tmp_path / "imgs.npy"
    np.save(imgs, np.random.default_rng(0).random((10, 1, 8, 8)).astype(np.float32))
    np.save(tmp_path / "a.npy", np.load(imgs)[0])
    run = _trained(tmp_path, imgs, "vae", "--latent-dim", "2", "--channels", "4,4")
    out = ["--output", tmp_path / "o.npy"]
    ends = ["--from", "0", "--to", "1", *out]
    two = ["--input", tmp_path / "a.npy", tmp_path / "a.npy", *out]
    for argv, option in (
        (["encode", run, *out, "--image-size", "4x4"], "--image-size"),
        (["reconstruct", run, *out, "--npz-key", "x"], "--npz-key"),
        (["evaluate", run, "--label-column", "3"], "--label-column"),
        (["interpolate", run, *ends, "--id-column", "2"], "--id-column"),
        (["interpolate", run, *two, "--image-size", "4x4"], "--image-size"),
    ):
        code, _, err = cli(*argv)
        assert_one_line(code, err, 2, [option, "does not apply to", ".npy array", "drop it"])
    code, _, err = cli("evaluate", run, "--normal-label", "0")
    assert_one_line(code, err, 2, ["--normal-label does not apply to", "a vae run", "drop it"])
    assert not (tmp_path / "o.npy").exists()


def test_a_moved_data_file_is_named_as_the_runs_recorded_data(tmp_path):
    """Probe 51 ae 9: "no such file or folder: .../moved.npy", not saying that it is the run's
    recorded data, nor that --data / --input gives another."""
    from ..badinput import assert_one_line, cli

    rows = tmp_path / "rows.npy"
    np.save(rows, np.random.default_rng(0).random((30, 4)).astype(np.float32))
    run = _trained(tmp_path, rows, "basic", "--latent-dim", "2")
    rows.rename(tmp_path / "elsewhere.npy")
    for argv, fix in (
        (["evaluate", run], "--data FILE"),
        (["encode", run, "--output", tmp_path / "z.csv"], "--input FILE"),
    ):
        code, _, err = cli(*argv)
        assert_one_line(code, err, 2, ["the run's data", "rows.npy", "config.json", fix])


def test_a_run_streamed_by_the_memory_cap_is_evaluated_as_it_was_read(
    tmp_path, monkeypatch, capsys
):
    """Probe 52 rep 4: AEKIT_MEMORY_CAP made the run stream (its figures on the first 10,000
    held-out rows) and config.json said stream null: evaluate without it read all 30,000."""
    data = tmp_path / "big.npy"
    np.save(data, np.random.default_rng(0).normal(size=(60_000, 8)).astype(np.float32))
    run = tmp_path / "run"
    monkeypatch.setenv("AEKIT_MEMORY_CAP", "1M")
    args = ["train", "anomaly", "--data", str(data), "--epochs", "1", "--threads", "1"]
    assert main([*args, "--out", str(run), "--quiet", "--no-figures"]) == 0
    monkeypatch.delenv("AEKIT_MEMORY_CAP")
    assert json.loads((run / "config.json").read_text())["data"]["stream"] is True
    trained = json.loads((run / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["n_samples"] == trained["n_samples"] == 10_000


def test_plot_refuses_a_saved_model_and_points_at_what_draws(tmp_path):
    """Probe 55 F8/F19: 'aekit plot' of a model saved with est.save() drew the family's built-in
    dataset (ECG5000) as if it were the model's; and its remedy for changed data was 'aekit
    evaluate --data', which draws nothing."""
    import aekit

    from ..badinput import assert_one_line, cli

    rng = np.random.default_rng(0)
    aekit.AnomalyDetector(epochs=1, threads=1).fit(rng.normal(size=(60, 5))).save(tmp_path / "m")
    code, _, err = cli("plot", tmp_path / "m")
    assert_one_line(code, err, 2, ["saved with est.save()", "records no data", "aekit.plots"])
    assert not (tmp_path / "m" / "figures").exists()
    np.save(tmp_path / "rows.npy", rng.random((30, 4)).astype(np.float32))
    run = _trained(tmp_path, tmp_path / "rows.npy", "basic", "--latent-dim", "2")
    np.save(tmp_path / "rows.npy", rng.random((30, 4)).astype(np.float32))
    code, _, err = cli("plot", run)
    assert_one_line(code, err, 2, ["has changed", "put the original back", "metrics (no figures)"])
