import argparse
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from aekit.cli.main import main

from ..badinput import one_torch_thread
from .helpers import REPO, assert_one_line_error, cli_here


def test_help_is_fast_and_does_not_import_torch():
    """The work of ``aekit --help`` (CPU seconds, so that a busy machine does not fail the test)."""
    code = (
        "import time,sys; t=time.process_time(); sys.argv=['aekit','--help'];\n"
        "from aekit.cli.main import main\ntry: main()\nexcept SystemExit: pass\n"
        "print(time.process_time()-t, 'torch' in sys.modules, 'matplotlib' in sys.modules, file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    seconds, torch_loaded, mpl_loaded = proc.stderr.split()
    assert torch_loaded == "False" and mpl_loaded == "False"
    assert float(seconds) < 0.5


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert "aekit" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["train", "nosuchfamily"], "invalid choice"),
        (["train", "basic", "--epochs", "-1"], "--epochs"),
        (["train", "basic", "--batch-size", "0"], "--batch-size"),
        (["train", "basic", "--latent-dim", "0"], "--latent-dim"),
        (["train", "basic", "--hidden", "a,b"], "--hidden"),
        (["train", "basic", "--dataset", "nope", "--out", "{tmp}/r"], "unknown dataset"),
        (["train", "basic", "--data", "{tmp}/missing.csv", "--out", "{tmp}/r"], "missing.csv"),
        (["train", "basic", "--data", "{tmp}/x.txt", "--out", "{tmp}/r"], "x.txt"),
        (["train", "basic", "--preset", "nope", "--out", "{tmp}/r"], "preset"),
        (["evaluate", "{tmp}/norun"], "norun"),
        (["datasets", "download", "nope"], "unknown dataset"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(tmp_path, argv, needle):
    """In this process; tests/test_bad_input_matrix.py runs a representative of each kind as a real process."""
    (tmp_path / "x.txt").write_text("1,2\n")
    proc = cli_here(*[a.format(tmp=tmp_path) for a in argv], check=None)
    assert_one_line_error(proc, 2, needle)
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    X = rng.random((300, 12)).astype(np.float32)
    with open(d / "rows.csv", "w") as f:
        f.write(",".join(f"f{i}" for i in range(12)) + ",label\n")
        for i, row in enumerate(X):
            f.write(",".join(f"{v:.5f}" for v in row) + f",{i % 3}\n")
    np.save(d / "rows.npy", X)
    return d


def test_train_encode_reconstruct_evaluate_plot_on_a_csv(tmp_path, table):
    run = tmp_path / "run"
    cli_here(
        "train",
        "stacked",
        "--data",
        table / "rows.csv",
        "--label-column",
        "label",
        "--hidden",
        "8",
        "--latent-dim",
        "3",
        "--epochs",
        "2",
        "--out",
        run,
    )
    for name in ("config.json", "model.safetensors", "history.csv", "metrics.json"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["family"] == "stacked" and config["seed"] == 0 and "torch" in config["versions"]
    # probe 52 rep 6: where it trained (params say "auto"; N processes give other weights)
    trained_on = config["trained_on"]
    assert trained_on["processes"] == 1 and trained_on["device"].split(":")[0] in (
        "cpu",
        "cuda",
        "mps",
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert (
        set(metrics) >= {"val_mse", "val_mae", "epochs", "train_seconds"} and metrics["epochs"] == 2
    )
    assert {p.name for p in (run / "figures").iterdir()} >= {
        "reconstructions.png",
        "loss.png",
        "latent_map.png",
    }

    cli_here(
        "encode",
        run,
        "--input",
        table / "rows.csv",
        "--label-column",
        "label",
        "--output",
        tmp_path / "z.npy",
    )
    assert np.load(tmp_path / "z.npy").shape == (300, 3)
    cli_here(
        "reconstruct",
        run,
        "--input",
        table / "rows.csv",
        "--label-column",
        "label",
        "--output",
        tmp_path / "r.csv",
    )
    lines = (tmp_path / "r.csv").read_text().strip().splitlines()
    # the input's header, then one row each
    assert len(lines) == 301 and lines[0].startswith("f0,f1")
    cli_here("reconstruct", run, "--input", table / "rows.npy", "--output", tmp_path / "r.npy")
    assert np.load(tmp_path / "r.npy").shape == (300, 12)
    cli_here("evaluate", run, "--output", tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text())["val_mse"] == pytest.approx(
        metrics["val_mse"]
    )
    proc = cli_here("evaluate", run, "--output", tmp_path / "m.json", check=None)  # exists: refused
    assert_one_line_error(proc, 2, "--overwrite")
    (run / "figures" / "loss.png").unlink()
    cli_here("plot", run)
    assert (run / "figures" / "loss.png").is_file()


def test_encode_and_reconstruct_a_folder_of_pngs(tmp_path):
    rng = np.random.default_rng(1)
    src = tmp_path / "imgs"
    (src / "sub").mkdir(parents=True)
    for i in range(40):
        arr = (rng.random((12, 10)) * 255).astype(np.uint8)
        Image.fromarray(arr, "L").save(src / ("sub" if i % 2 else "") / f"im{i:02d}.png")
    run = tmp_path / "run"
    cli_here("train", "basic", "--data", src, "--latent-dim", "4", "--epochs", "1", "--out", run)
    cli_here("encode", run, "--input", src, "--output", tmp_path / "z.npy")
    assert np.load(tmp_path / "z.npy").shape == (40, 4)
    cli_here("reconstruct", run, "--input", src, "--output", tmp_path / "out")
    written = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png")
    )
    assert written == sorted(p.relative_to(src).as_posix() for p in src.rglob("*.png"))
    with Image.open(tmp_path / "out" / "sub" / "im01.png") as im:
        assert im.size == (10, 12) and im.mode == "L"
    proc = cli_here("reconstruct", run, "--input", src, "--output", tmp_path / "out", check=None)
    assert_one_line_error(proc, 2, "--overwrite")


def test_existing_run_is_refused_untouched(tmp_path, table):
    run = tmp_path / "run"
    cli_here(
        "train",
        "basic",
        "--data",
        table / "rows.npy",
        "--epochs",
        "1",
        "--latent-dim",
        "2",
        "--out",
        run,
        "--no-figures",
    )
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    proc = cli_here(
        "train", "basic", "--data", table / "rows.npy", "--epochs", "1", "--out", run, check=None
    )
    assert_one_line_error(proc, 2, "--overwrite")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    cli_here(
        "train",
        "basic",
        "--data",
        table / "rows.npy",
        "--epochs",
        "2",
        "--latent-dim",
        "2",
        "--out",
        run,
        "--overwrite",
        "--no-figures",
    )
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 2


def test_model_given_the_wrong_number_of_features(tmp_path, table):
    run = tmp_path / "run"
    cli_here(
        "train",
        "basic",
        "--data",
        table / "rows.npy",
        "--epochs",
        "1",
        "--out",
        run,
        "--no-figures",
    )
    np.save(tmp_path / "bad.npy", np.zeros((4, 7), np.float32))
    proc = cli_here(
        "encode", run, "--input", tmp_path / "bad.npy", "--output", tmp_path / "z.npy", check=None
    )
    assert_one_line_error(proc, 2, "12", "7")
    assert not (tmp_path / "z.npy").exists()


def test_datasets_list_and_verify_offline(shared_data):
    proc = cli_here("datasets", "list")
    for name in ("mnist", "fashion-mnist", "ecg5000"):
        assert name in proc.stdout
    proc = cli_here("datasets", "download", "fashion-mnist", "--data-dir", shared_data)
    assert "verified" in proc.stdout


def _weights(run):
    from aekit.training.serialize import load_tensors

    return load_tensors(run / "model.safetensors")


def test_killed_training_resumes_to_the_uninterrupted_weights(tmp_path):
    """SIGKILL a real training process after a few epochs, --resume it, compare with an uninterrupted run."""
    X = np.random.default_rng(0).random((3000, 40)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    args = [
        "train",
        "stacked",
        "--data",
        tmp_path / "x.npy",
        "--hidden",
        "32",
        "--latent-dim",
        "4",
        "--epochs",
        "12",
        "--batch-size",
        "8",
        "--no-figures",
        "--quiet",
    ]
    env = {"OMP_NUM_THREADS": "1"}  # same thread count in every run, so floating point matches
    # the uninterrupted run and the resume in this process, on one thread as the killed one
    with one_torch_thread():
        cli_here(*args, "--out", tmp_path / "full")

    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aekit", *map(str, args), "--out", str(killed)],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # the run is built beside its folder
    latest = tmp_path / ".killed.partial" / "checkpoint" / "latest.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            if json.loads(latest.read_text())["epoch"] >= 3:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.005)
    assert proc.poll() is None, "training finished before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not killed.exists()  # it appears only once complete
    epoch = json.loads(latest.read_text())["epoch"]
    assert 3 <= epoch < 12

    with one_torch_thread():
        cli_here("train", "stacked", "--out", killed, "--resume", "--quiet")
    hist = (killed / "history.csv").read_text().strip().splitlines()
    assert len(hist) == 13  # header + 12 epochs, the first ones from before the kill
    full, resumed = _weights(tmp_path / "full"), _weights(killed)
    assert full.keys() == resumed.keys()
    for k in full:
        assert np.array_equal(full[k].numpy(), resumed[k].numpy()), k


def test_resume_with_more_epochs_trains_on(tmp_path, table):
    run = tmp_path / "run"
    cli_here(
        "train",
        "basic",
        "--data",
        table / "rows.npy",
        "--epochs",
        "2",
        "--latent-dim",
        "2",
        "--out",
        run,
        "--no-figures",
        "--quiet",
    )
    cli_here("train", "basic", "--out", run, "--resume", "--epochs", "4", "--no-figures", "--quiet")
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 4
    assert len((run / "history.csv").read_text().strip().splitlines()) == 5


def test_overwrite_with_data_the_model_cannot_take_keeps_the_old_run(tmp_path, table):
    run = tmp_path / "run"
    cli_here(
        "train",
        "basic",
        "--data",
        table / "rows.npy",
        "--epochs",
        "1",
        "--out",
        run,
        "--no-figures",
    )
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    proc = cli_here(
        "train", "denoise", "--data", table / "rows.csv", "--out", run, "--overwrite", check=None
    )
    assert_one_line_error(proc, 2, "images")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_notes_come_from_rank_0_only(monkeypatch, capsys):
    """Under torchrun every process reads the same data: one says what it noticed."""
    from aekit._notes import note
    from aekit.cli.main import _say_notes

    _say_notes(argparse.Namespace())
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")  # a launcher's whole environment: stop 64
    monkeypatch.setenv("MASTER_PORT", "29500")  # (without it every process says its line)
    for rank, said in (("1", False), ("0", True)):
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("RANK", rank)
        note("the column 'kind' holds labels")
        err = capsys.readouterr().err
        assert ("aekit: note: the column 'kind' holds labels" in err) == said, (rank, err)


@pytest.mark.parametrize(
    ("given", "option", "what"),
    [
        ("t.csv", ["--image-size", "8x8"], "a table"),
        ("t.csv", ["--npz-key", "x"], "a table"),
        ("x.npy", ["--label-column", "y"], "a .npy array"),
        ("x.npy", ["--image-size", "8x8"], "a .npy array"),
        ("x.npz", ["--id-column", "id"], "a .npz file"),
        ("x.npy", ["--columns", "a,b"], "a .npy array"),
        ("imgs", ["--categorical", "a"], "image files"),
        ("imgs", ["--npz-key", "x"], "image files"),
    ],
)
def test_a_reading_option_the_input_has_no_use_for_is_refused_not_ignored(
    tmp_path, given, option, what
):
    """``--image-size`` with a table, ``--npz-key`` with a .npy, ...: one line before any work."""
    x = np.random.default_rng(0).random((20, 4)).astype(np.float32)
    np.savetxt(tmp_path / "t.csv", x, delimiter=",", header="a,b,c,d", comments="")
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "x.npz", x=x)
    (tmp_path / "imgs").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "imgs" / "a.png")
    path = str(tmp_path / given)
    train = cli_here("train", "basic", "--data", path, "--out", tmp_path / "r", *option, check=None)
    assert_one_line_error(train, 2, option[0], what, "drop it")
    assert not (tmp_path / "r").exists()


def test_encoding_8_bit_pixels_with_a_run_of_a_png_folder_is_refused(tmp_path):
    """Probe 62 dtypes #2: a run trained on a PNG folder (read as [0, 1]) encoded the same images
    as a uint8 .npy (0..255) 255x off, with exit code 0."""
    pixels = (np.random.default_rng(0).random((24, 8, 8)) * 255).astype(np.uint8)
    (tmp_path / "pngs").mkdir()
    for i, image in enumerate(pixels):
        Image.fromarray(image, "L").save(tmp_path / "pngs" / f"{i:02d}.png")
    np.save(tmp_path / "u8.npy", pixels[:, None])
    run = tmp_path / "run"
    argv = ["--epochs", "1", "--latent-dim", "4", "--out", run, "--quiet", "--no-figures"]
    cli_here("train", "basic", "--data", tmp_path / "pngs", *argv)
    out = tmp_path / "z.npy"
    proc = cli_here("encode", run, "--input", tmp_path / "u8.npy", "--output", out, check=None)
    assert_one_line_error(proc, 2, f"{tmp_path / 'u8.npy'} has values in [0, 254]", "by 255")
    assert not out.exists()
