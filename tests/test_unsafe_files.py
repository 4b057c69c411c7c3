"""Issue 10: loading never runs code; archives and dataset files are checked before use.

(Basic pickle refusal in aekit.load: tests/estimators/test_persistence.py; '..'/absolute/oversized zip
members: tests/data/test_download.py. Here: the CLI commands, code-running payloads, and what is left.)
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import shutil
import sys
import zipfile

import numpy as np
import pytest

from .badinput import assert_one_line, cli, snapshot, write_table


class _Payload:
    """Unpickling this creates ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("unsafe")
    x = np.random.default_rng(0).random((40, 5)).astype(np.float32)
    write_table(d / "rows.csv", x)
    out = {}
    for fam in ("basic", "anomaly"):
        code, _, err = cli(
            "train",
            fam,
            "--data",
            d / "rows.csv",
            "--latent-dim",
            "2",
            "--epochs",
            "1",
            "--no-figures",
            "--quiet",
            "--out",
            d / fam,
        )
        if code == 0:
            out[fam] = d / fam
    if "basic" not in out:
        pytest.skip("basic training not available")
    return d, out


def _poisoned(runs, tmp_path, fam, payload: bytes):
    d, have = runs
    if fam not in have:
        pytest.skip(f"{fam} not available")
    run = tmp_path / "run"
    shutil.copytree(have[fam], run, ignore=shutil.ignore_patterns(".lock"))
    (run / "model.safetensors").write_bytes(payload)
    return d, run


def _torch_zip(marker) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save({"w": _Payload(marker)}, buf)
    return buf.getvalue()


COMMANDS = {
    "encode": (
        "basic",
        lambda d, r, t: ["encode", r, "--input", d / "rows.csv", "--output", t / "z.npy"],
    ),
    "evaluate": ("basic", lambda d, r, t: ["evaluate", r, "--output", t / "m.json"]),
    "reconstruct": (
        "basic",
        lambda d, r, t: ["reconstruct", r, "--input", d / "rows.csv", "--output", t / "r.csv"],
    ),
    "score": (
        "anomaly",
        lambda d, r, t: ["score", r, "--input", d / "rows.csv", "--output", t / "s.csv"],
    ),
}


@pytest.mark.parametrize("kind", ["pickle", "torch-save"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_cli_refuses_pickled_weights_without_running_them(runs, tmp_path, command, kind):
    marker = tmp_path / "PWNED"
    fam, make = COMMANDS[command]
    payload = pickle.dumps(_Payload(marker)) if kind == "pickle" else _torch_zip(marker)
    d, run = _poisoned(runs, tmp_path, fam, payload)
    before = snapshot(tmp_path)
    code, _, err = cli(*make(d, run, tmp_path))
    assert_one_line(code, err, 1, ["model.safetensors", "pickle", "safetensors"])
    assert not marker.exists(), "unpickling ran code"
    assert snapshot(tmp_path) == before  # no output written


def test_config_cannot_name_an_importable_class(runs, tmp_path, monkeypatch):
    """config.json's estimator comes from a fixed list: a module on sys.path is never imported."""
    import aekit
    from aekit.errors import RunFailure

    d, have = runs
    marker = tmp_path / "PWNED"
    (tmp_path / "evilmod.py").write_text(f"open({str(marker)!r}, 'w')\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    run = tmp_path / "run"
    shutil.copytree(have["basic"], run, ignore=shutil.ignore_patterns(".lock"))
    config = json.loads((run / "config.json").read_text())
    for name in ("evilmod.Evil", "evilmod:Evil", "Evil"):
        (run / "config.json").write_text(json.dumps({**config, "estimator": name}))
        with pytest.raises(RunFailure, match="unknown estimator"):
            aekit.load(run)
        code, _, err = cli("encode", run, "--input", d / "rows.csv", "--output", tmp_path / "z.npy")
        assert_one_line(code, err, 1, ["unknown estimator"])
    assert not marker.exists() and "evilmod" not in sys.modules


@pytest.mark.parametrize("ext", [".npy", ".npz"])
def test_input_arrays_holding_objects_are_never_unpickled(runs, tmp_path, ext):
    d, have = runs
    marker = tmp_path / "PWNED"
    arr = np.array([_Payload(marker), 1], dtype=object)
    path = tmp_path / f"evil{ext}"
    if ext == ".npy":
        np.save(path, arr, allow_pickle=True)
    else:
        np.savez(path, x=arr)
    code, _, err = cli("encode", have["basic"], "--input", path, "--output", tmp_path / "z.npy")
    assert_one_line(code, err, 2, [path.name, "never unpickles"])
    assert not marker.exists() and not (tmp_path / "z.npy").exists()


def test_checkpoint_cannot_point_outside_its_folder(runs, tmp_path):
    """latest.json names its weights by bare name: '../x' or an absolute path never leaves checkpoint/."""
    d, have = runs
    run = tmp_path / "run"
    shutil.copytree(have["basic"], run, ignore=shutil.ignore_patterns(".lock"))
    latest = run / "checkpoint" / "latest.json"
    state = json.loads(latest.read_text())
    for name in ("../model.safetensors", str(run / "model.safetensors")):
        for w in (run / "checkpoint").glob("*.safetensors"):
            w.unlink()
        latest.write_text(json.dumps({**state, "weights": name}))
        code, _, err = cli(
            "train", "basic", "--out", run, "--resume", "--epochs", "2", "--quiet", "--no-figures"
        )
        assert_one_line(code, err, 1, ["checkpoint", "model.safetensors", "not found"])


# ---- archives and downloads -----------------------------------------------------------------------------


def _zip_lying_about_size(data: bytes, claimed: int) -> bytes:
    """A zip whose headers declare ``claimed`` bytes for a member that holds ``len(data)``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big", data)
    raw = bytearray(buf.getvalue())
    local = raw.find(b"PK\x03\x04")
    raw[local + 22 : local + 26] = claimed.to_bytes(4, "little")
    central = raw.find(b"PK\x01\x02")
    raw[central + 24 : central + 28] = claimed.to_bytes(4, "little")
    return bytes(raw)


def test_zip_member_larger_than_declared_is_refused(tmp_path, monkeypatch):
    from aekit.data.download import Resource, download_resource
    from aekit.errors import RunFailure

    archive = _zip_lying_about_size(b"A" * 100_000, claimed=100)
    monkeypatch.setattr(
        "aekit.data.download._fetch", lambda url, dest, timeout: dest.write_bytes(archive)
    )
    resource = Resource(
        "big.bin", "0" * 64, 100, urls=("http://mirror.invalid/a.zip",), member="big"
    )
    with pytest.raises(RunFailure) as err:
        download_resource(resource, tmp_path / "data", backoff=0, max_member_bytes=1000)
    assert "\n" not in str(err.value) and "big" in str(err.value)
    # no archive, no part file, no member: not even the folder the download made for them
    assert not (tmp_path / "data").exists() and tmp_path.is_dir()


def test_tampered_dataset_copy_is_never_used(shared_data, tmp_path, monkeypatch):
    """A local copy that fails its checksum is re-fetched, not used; offline that is a one-line exit 1."""
    from aekit.data import FashionMNIST

    folder = tmp_path / FashionMNIST.folder
    folder.mkdir()
    for f in (shared_data / FashionMNIST.folder).iterdir():
        (folder / f.name).symlink_to(f)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # one label changed: same size, valid format, wrong checksum
    labels.unlink()
    labels.write_bytes(gzip.compress(bytes(raw)))
    fetched = []

    def offline(url, dest, timeout):
        fetched.append(url)
        raise OSError("network is unreachable")

    monkeypatch.setattr("aekit.data.download._fetch", offline)
    monkeypatch.setattr("aekit.data.download.time.sleep", lambda s: None)
    before = snapshot(tmp_path)
    code, _, err = cli("datasets", "download", "fashion-mnist", "--data-dir", tmp_path)
    assert_one_line(code, err, 1, ["t10k-labels-idx1-ubyte", "could not download"])
    assert fetched, "the tampered copy was accepted without a new download"
    code, _, err = cli(
        "train",
        "basic",
        "--dataset",
        "fashion-mnist",
        "--data-dir",
        tmp_path,
        "--epochs",
        "1",
        "--out",
        tmp_path / "run",
    )
    assert_one_line(code, err, 1, ["t10k-labels-idx1-ubyte"])
    assert snapshot(tmp_path) == before  # nothing trained, the copy left as it was
