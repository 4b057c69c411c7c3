"""``aekit train FAMILY --encoder MODULE:NAME --decoder MODULE:NAME`` (or ``--network FILE.json``), and the
other commands on such a run (issue 34). The networks are tests/nets.py's, by module and by file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ..badinput import one_torch_thread
from .helpers import REPO, assert_one_line_error, cli_here

NETS = REPO / "tests" / "nets.py"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("byonet")
    rng = np.random.default_rng(0)
    np.save(d / "rows.npy", rng.random((200, 12), dtype=np.float32))
    np.save(d / "images.npy", (rng.random((120, 1, 8, 8)) > 0.5).astype(np.float32))
    shutil.copy(NETS, d / "mynets.py")
    spec = {
        "encoder": {"network": "mynets.py:GaussianEncoder", "args": {"hidden": 16}},
        "decoder": {"network": "mynets.py:MLPDecoder", "args": {"hidden": 16}},
    }
    (d / "vae.json").write_text(json.dumps(spec))
    pinned = {n: {**spec[n], "sha256": "00" * 32} for n in spec}
    (d / "pinned.json").write_text(json.dumps(pinned))
    (d / "typo.json").write_text(json.dumps({**spec, "decoder": {"network": "x:Y", "arsg": {}}}))
    return d


NETWORK = ["--encoder", "tests.nets:MLPEncoder", "--encoder-args", '{"latent_dim": 3}']
NETWORK += ["--decoder", "tests.nets:MLPDecoder", "--decoder-args", '{"hidden": 16}']


def test_train_with_an_importable_network_then_every_command(files, tmp_path):
    run = tmp_path / "run"
    common = ["--epochs", "2", "--no-figures", "--quiet", "--preset", "recipe"]
    # stacked: the recipe's hidden layers and latent_dim are the built-in network's, not applied
    cli_here("train", "stacked", "--data", files / "rows.npy", *NETWORK, "--out", run, *common)
    params = json.loads((run / "config.json").read_text())["params"]
    assert params["encoder"] == {"network": "tests.nets:MLPEncoder", "args": {"latent_dim": 3}}
    assert params["decoder"] == {"network": "tests.nets:MLPDecoder", "args": {"hidden": 16}}
    assert json.loads(cli_here("evaluate", run).stdout)["val_mse"] > 0
    rows = files / "rows.npy"
    cli_here("encode", run, "--input", rows, "--output", tmp_path / "z.npy")
    assert np.load(tmp_path / "z.npy").shape == (200, 3)
    cli_here("reconstruct", run, "--input", rows, "--output", tmp_path / "r.npy")
    assert np.load(tmp_path / "r.npy").shape == (200, 12)
    cli_here("index", run, "--input", rows, "--output", tmp_path / "idx")
    pytest.importorskip("onnxruntime")
    out = cli_here("export", run, "--output", tmp_path / "m.onnx").stdout
    assert "max abs difference" in out


def _train_conv(family: str, data, run) -> None:
    """One epoch of ``family`` with tests/nets.py's convolutional pair."""
    conv = ["--encoder", "tests.nets:ConvEncoder", "--decoder", "tests.nets:ConvDecoder"]
    cli_here("train", family, "--data", data, *conv, "--epochs", "1", "--out", run,
             "--no-figures", "--quiet")  # fmt: skip


def test_a_code_that_is_not_flat_is_encoded_to_a_table_and_indexed(files, tmp_path):
    run, images = tmp_path / "conv", files / "images.npy"
    _train_conv("basic", images, run)
    out = cli_here("encode", run, "--input", images, "--output", tmp_path / "z.csv").stdout
    assert "120 latent vectors of size 32 (2x4x4 codes, flattened)" in out
    lines = (tmp_path / "z.csv").read_text().splitlines()
    assert len(lines) == 121 and lines[0] == ",".join(f"z{i + 1}" for i in range(32))
    cli_here("encode", run, "--input", images, "--output", tmp_path / "z.npy")
    assert np.load(tmp_path / "z.npy").shape == (120, 2, 4, 4)
    out = cli_here("index", run, "--input", images, "--output", tmp_path / "idx").stdout
    assert "an index of 120 vectors of size 32" in out


def test_a_custom_denoiser_given_another_image_size_names_the_file(files, tmp_path):
    from PIL import Image

    run, folder = tmp_path / "den", tmp_path / "imgs"
    _train_conv("denoise", files / "images.npy", run)
    folder.mkdir()
    Image.new("L", (10, 10)).save(folder / "big.png")
    proc = cli_here("denoise", run, "--input", folder, "--output", tmp_path / "out", check=None)
    assert_one_line_error(proc, 2, "big.png: an image of 10x10; your network was trained on 8x8")
    # WIDTHxHEIGHT, as Pillow and --image-size say it (it said 6x12 for a 12 wide, 6 high image)
    (folder / "big.png").unlink()
    Image.new("L", (12, 6)).save(folder / "wide.png")
    proc = cli_here("denoise", run, "--input", folder, "--output", tmp_path / "out", check=None)
    assert_one_line_error(proc, 2, "wide.png: an image of 12x6;", "--image-size 8x8")


def test_a_run_the_command_line_cannot_rebuild_says_so(files, tmp_path):
    nets = tmp_path / "nets.py"
    shutil.copy(NETS, nets)
    run = tmp_path / "run"
    pair = ["--encoder", f"{nets}:MLPEncoder", "--decoder", f"{nets}:MLPDecoder"]
    cli_here(
        "train",
        "basic",
        "--data",
        files / "rows.npy",
        *pair,
        "--epochs",
        "1",
        "--out",
        run,
        "--no-figures",
        "--quiet",
    )
    nets.write_text(nets.read_text() + "\n# edited\n")
    proc = cli_here(
        "encode", run, "--input", files / "rows.npy", "--output", tmp_path / "z.npy", check=None
    )
    assert_one_line_error(
        proc, 2, "has changed since", "put back the file", "the aekit command cannot"
    )


def test_train_a_vae_from_a_network_file_then_sample(files, tmp_path):
    run = tmp_path / "vae"
    cli_here(
        "train", "vae", "--data", files / "images.npy", "--network", files / "vae.json",
        "--latent-dim", "2", "--iw-samples", "3", "--epochs", "2", "--out", run,
        "--no-figures", "--quiet",
    )  # fmt: skip
    params = json.loads((run / "config.json").read_text())["params"]
    assert params["encoder"]["network"] == f"{(files / 'mynets.py').resolve()}:GaussianEncoder"
    assert len(params["encoder"]["sha256"]) == 64 and params["iw_samples"] == 3
    cli_here("sample", run, "--n", "4", "--output", tmp_path / "s.npy")
    assert np.load(tmp_path / "s.npy").shape == (4, 1, 8, 8)


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--encoder", "tests.no_such_nets:E", "--decoder", "tests.nets:MLPDecoder"], "--encoder: cannot import"),
        (["--encoder", "tests.nets:MLPEncoder"], "--encoder needs --decoder"),
        (["--decoder-args", "{}"], "--decoder-args needs --decoder"),
        ([*NETWORK[:2], "--encoder-args", "{bad", *NETWORK[4:]], "--encoder-args: not valid JSON"),
        ([*NETWORK[:2], "--encoder-args", "[1]", *NETWORK[4:]], "expected a JSON object"),
        ([*NETWORK[:2], "--encoder-args", '{"widht": 3}', *NETWORK[4:]], "does not take these arguments"),
        (["--network", "{files}/missing.json"], "--network: cannot read"),
        (["--network", "{files}/vae.json", "--encoder", "tests.nets:MLPEncoder"], "drop --encoder"),
        (["--network", "{files}/pinned.json"], "does not match the pinned 'sha256'"),
        (["--network", "{files}/typo.json"], '"arsg": {}'),
        ([*NETWORK, "--hidden", "16,8"], "--hidden 16,8 sets the built-in network"),
        ([*NETWORK, "--latent-dim", "5"], "--latent-dim 5 is not passed to your encoder"),
    ],
)  # fmt: skip
def test_bad_network_options_are_one_line_and_write_nothing(files, tmp_path, extra, needle):
    argv = [a.replace("{files}", str(files)) for a in extra]
    proc = cli_here(
        "train", "stacked", "--data", files / "rows.npy", *argv, "--out", tmp_path / "r", check=None
    )
    assert_one_line_error(proc, 2, needle)
    assert not (tmp_path / "r").exists()


def test_a_decoder_of_the_wrong_shape_is_one_line(files, tmp_path):
    wrong = ["--encoder", "tests.nets:MLPEncoder", "--decoder", "tests.nets:ShortDecoder"]
    proc = cli_here(
        "train",
        "denoise",
        "--data",
        files / "images.npy",
        *wrong,
        "--out",
        tmp_path / "r",
        check=None,
    )
    assert_one_line_error(proc, 2, "the decoder returned (B, 1, 7, 7) for inputs of (B, 1, 8, 8)")
    assert not (tmp_path / "r").exists()


def _weights(run):
    from aekit.training.serialize import load_tensors

    return load_tensors(run / "model.safetensors")


def test_sigterm_then_resume_gives_the_uninterrupted_weights(files, tmp_path):
    """A real process with a network from a file, stopped by SIGTERM after a few epochs, then --resume."""
    X = np.random.default_rng(1).random((1500, 12)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    nets = f"{files / 'mynets.py'}"
    args = [
        "train", "basic", "--data", str(tmp_path / "x.npy"), "--encoder", f"{nets}:MLPEncoder",
        "--decoder", f"{nets}:MLPDecoder", "--decoder-args", '{"hidden": 16}', "--epochs", "10",
        "--batch-size", "8", "--no-figures", "--quiet",
    ]  # fmt: skip
    with one_torch_thread():
        cli_here(*args, "--out", tmp_path / "full")
    stopped = tmp_path / "stopped"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aekit", *args, "--out", str(stopped)],
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    latest = tmp_path / ".stopped.partial" / "checkpoint" / "latest.json"
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        try:
            if json.loads(latest.read_text())["epoch"] >= 2:
                os.kill(proc.pid, signal.SIGSTOP)  # no race with the end of training
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.005)
    assert proc.poll() is None, "training finished before it could be stopped; make it longer"
    os.kill(proc.pid, signal.SIGTERM)
    os.kill(proc.pid, signal.SIGCONT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines() == ["aekit: interrupted; resume with --resume"], err
    assert not stopped.exists()
    assert 2 <= json.loads(latest.read_text())["epoch"] < 10

    with one_torch_thread():
        cli_here("train", "basic", "--out", stopped, "--resume", "--quiet")
    assert len((stopped / "history.csv").read_text().strip().splitlines()) == 11
    full, resumed = _weights(tmp_path / "full"), _weights(stopped)
    assert full.keys() == resumed.keys() and any(k.startswith("model.encoder.") for k in full)
    for k in full:
        assert np.array_equal(full[k].numpy(), resumed[k].numpy()), k


def test_a_network_file_inside_the_run_folder_is_refused_before_training(files, tmp_path):
    # the run would train and save, then no command could load it (a run never brings its code)
    run = tmp_path / "r"
    run.mkdir()
    shutil.copy(NETS, run / "mynets.py")
    nets = [f"{run / 'mynets.py'}:{name}" for name in ("MLPEncoder", "MLPDecoder")]
    argv = ["train", "basic", "--data", files / "rows.npy", "--out", run, "--overwrite"]
    proc = cli_here(*argv, "--encoder", nets[0], "--decoder", nets[1], check=None)
    assert_one_line_error(proc, 2, "lies inside the run folder")
    assert sorted(p.name for p in run.iterdir()) == ["mynets.py"]


def test_a_network_file_saved_with_a_bom_is_read(files, tmp_path):
    """probe 59 locale L7: a --network file from Notepad or PowerShell 5 (UTF-8 with a BOM) was
    "not valid JSON (Unexpected UTF-8 BOM)"; CSVs are read with one."""
    from aekit.cli.options import _network_file

    shutil.copy(files / "mynets.py", tmp_path / "mynets.py")
    text = (files / "vae.json").read_text(encoding="utf-8")
    (tmp_path / "bom.json").write_text(text, encoding="utf-8-sig")
    specs = _network_file(str(tmp_path / "bom.json"))
    assert specs["encoder"]["network"].endswith("mynets.py:GaussianEncoder")
