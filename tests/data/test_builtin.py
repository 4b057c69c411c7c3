"""The built-in datasets against the real files in ../shared/datasets (no network)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from aekit.data import (
    DATASETS,
    ECG5000,
    MNIST,
    BinarizedMNIST,
    FashionMNIST,
    ecg5000_classic_split,
    get_dataset,
    load_builtin,
)
from aekit.data.download import verify
from aekit.errors import UsageError

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize("split,n", [("train", 60000), ("test", 10000)])
def test_image_datasets_shapes(shared_env, name, split, n):
    data = load_builtin(name, split)
    assert data.x.shape == (n, 1, 28, 28) and data.x.dtype == np.float32
    assert data.x.min() == 0.0 and data.x.max() == 1.0
    assert (
        data.y.shape == (n,)
        and data.y.dtype == np.int64
        and set(np.unique(data.y)) == set(range(10))
    )
    assert data.image_mode == "L"


def test_mnist_label_counts_match_provenance(shared_env):
    assert np.bincount(MNIST(split="train").targets).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(MNIST(split="test").targets).tolist() == MNIST_TEST_COUNTS


def test_binarized_mnist_thresholds_at_half(shared_root):
    raw = MNIST(root=shared_root, split="test")
    data = BinarizedMNIST(root=shared_root, split="test").to_data()
    assert set(np.unique(data.x)) == {0.0, 1.0}
    np.testing.assert_array_equal(data.x[:, 0], (raw.data / 255.0 > 0.5).astype(np.float32))


def test_ecg5000_ucr_split(shared_env):
    train, test = load_builtin("ecg5000", "train"), load_builtin("ecg5000", "test")
    assert (
        train.x.shape == (500, 140) and test.x.shape == (4500, 140) and train.x.dtype == np.float32
    )
    assert set(np.unique(np.concatenate([train.y, test.y]))) == {1, 2, 3, 4, 5}
    assert (train.y == 1).sum() + (test.y == 1).sum() == 2919


def test_ecg5000_classic_split(shared_root):
    from sklearn.model_selection import train_test_split

    train, test = ecg5000_classic_split(root=shared_root)
    assert train.x.shape == (4000, 140) and test.x.shape == (1000, 140)
    assert train.y.sum() + test.y.sum() == 2919 and set(np.unique(train.y)) == {0, 1}
    # The classic recipe, by hand.
    a, b = ECG5000(shared_root, "train"), ECG5000(shared_root, "test")
    data, labels = np.concatenate([a.data, b.data]), np.concatenate([a.targets, b.targets]) == 1
    x_train, _, y_train, _ = train_test_split(data, labels, test_size=0.2, random_state=21)
    np.testing.assert_array_equal(train.x, x_train.astype(np.float32))
    np.testing.assert_array_equal(train.y, y_train.astype(np.int64))


def test_ecg_csv_layout(tmp_path, shared_root):
    """With only the tutorial's ecg.csv, the classic split uses its rows and 1/0 labels."""
    a, b = ECG5000(shared_root, "train"), ECG5000(shared_root, "test")
    data = np.concatenate([a.data, b.data])[:4998]
    labels = (np.concatenate([a.targets, b.targets]) == 1)[:4998].astype(float)
    (tmp_path / "ecg5000").mkdir()
    np.savetxt(
        tmp_path / "ecg5000" / "ecg.csv", np.column_stack([data, labels]), delimiter=",", fmt="%.9g"
    )
    train, test = ecg5000_classic_split(root=tmp_path)
    assert len(train) == 3998 and len(test) == 1000 and train.y.dtype == np.int64
    assert train.y.sum() + test.y.sum() == labels.sum()
    with pytest.raises(UsageError, match="ecg.csv"):
        ECG5000(tmp_path, "train")


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST, ECG5000])
def test_checksums_verify(shared_root, cls):
    for resource in cls.resources:
        assert verify(
            shared_root
            / cls.folder
            / (resource.filename + ("" if resource.filename.endswith(".gz") else ".gz")),
            resource,
        )


def _snapshot(root):
    return sorted((str(p), p.stat().st_mtime_ns) for p in root.rglob("*"))


@pytest.mark.parametrize("name", list(DATASETS))
def test_download_is_a_no_op_when_present(shared_root, no_network, name):
    before = _snapshot(shared_root)
    assert get_dataset(name).download(shared_root) == shared_root / get_dataset(name).folder
    assert _snapshot(shared_root) == before
    get_dataset(name)(root=shared_root, split="test", download=True)  # also via the constructor


def test_uncompressed_files_are_read(tmp_path, shared_root):
    import gzip

    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(
            gzip.decompress((shared_root / "mnist" / f"{name}.gz").read_bytes())
        )
    data = load_builtin("mnist", "test", root=tmp_path)
    assert data.x.shape == (10000, 1, 28, 28)
    for resource in MNIST.resources[2:]:
        assert verify(folder / resource.filename[:-3], resource)


def test_missing_dataset_message(tmp_path):
    with pytest.raises(UsageError) as err:
        MNIST(root=tmp_path)
    assert str(err.value) == (
        f"dataset mnist not found in {tmp_path / 'mnist'}; run 'aekit datasets download mnist' "
        "or pass --data-dir / set AEKIT_DATA"
    )


def test_bad_split_and_unknown_name(shared_root):
    with pytest.raises(UsageError, match="train, test"):
        MNIST(root=shared_root, split="valid")
    with pytest.raises(
        UsageError, match="unknown dataset 'cifar'; expected one of: mnist, fashion-mnist"
    ):
        get_dataset("cifar")


def test_corrupt_idx_is_a_run_failure(tmp_path):
    from aekit.errors import RunFailure

    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x09\x03garbage")
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01")
    with pytest.raises(RunFailure, match="magic number") as err:
        MNIST(root=tmp_path, split="test")
    assert "\n" not in str(err.value)
    (folder / "t10k-images-idx3-ubyte").write_bytes(
        b"\x00\x00\x08\x03" + b"\x00\x00\x00\x02" * 3 + b"\x01"
    )
    with pytest.raises(RunFailure, match="truncated"):
        MNIST(root=tmp_path, split="test")


def test_registry_metadata():
    assert list(DATASETS) == ["mnist", "fashion-mnist", "binarized-mnist", "ecg5000"]
    for cls in DATASETS.values():
        assert cls.description and "\n" not in cls.description and cls.shape
        assert all(r.urls and len(r.sha256) == 64 for r in cls.resources)
    assert (
        MNIST.resources[0].urls[0]
        == "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    )


def test_data_root_precedence(tmp_path, monkeypatch):
    from aekit.data import data_root

    monkeypatch.setenv("AEKIT_DATA", str(tmp_path / "env"))
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("AEKIT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("sys.platform", "linux")
    if os.name != "nt":
        assert data_root() == tmp_path / "cache" / "aekit"


@pytest.mark.skipif(os.name == "nt", reason="the cache folder is under LOCALAPPDATA there")
def test_a_relative_xdg_cache_home_is_ignored_for_the_home_cache(tmp_path, monkeypatch):
    """Probe 62 env #6: XDG_CACHE_HOME=rel made the data root rel/aekit in the working folder; the
    XDG spec has a relative path ignored."""
    from aekit.data import data_root

    monkeypatch.delenv("AEKIT_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "rel")
    monkeypatch.setattr("sys.platform", "linux")
    assert data_root() == tmp_path / "home" / ".cache" / "aekit"


@pytest.mark.skipif(os.name == "nt", reason="the cache folder is under LOCALAPPDATA there")
def test_a_failed_download_removes_only_the_empty_folders_it_made(tmp_path, monkeypatch):
    """Probe 62 env #6: a failed download left ROOT/<dataset> (and the root) behind, empty."""
    import dataclasses

    from aekit.errors import RunFailure

    kept = tmp_path / "kept"  # there before: stays, as does what another folder of it holds
    (kept / "other").mkdir(parents=True)
    root = kept / "cache" / "aekit"
    unreachable = [dataclasses.replace(r, urls=()) for r in ECG5000.resources]
    monkeypatch.setattr(ECG5000, "resources", unreachable)
    with pytest.raises(RunFailure, match="could not download"):
        ECG5000.download(root)
    assert sorted(p.name for p in kept.iterdir()) == ["other"]


def test_a_data_root_that_is_a_file_is_one_line_naming_its_source(tmp_path, monkeypatch):
    """Probe 52 sh 4: `--data-dir rows.csv` or AEKIT_DATA=rows.csv: "not a directory:
    rows.csv/ecg5000", exit 1, the root's source not named."""
    from aekit.data import data_root
    from aekit.errors import UsageError

    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n")
    with pytest.raises(UsageError, match=r"rows.csv \(--data-dir\) is a file; expected a folder"):
        data_root(rows)
    monkeypatch.setenv("AEKIT_DATA", str(rows))
    with pytest.raises(UsageError, match=r"rows.csv \(AEKIT_DATA\) is a file"):
        data_root()


@pytest.mark.skipif(os.name == "nt", reason="the cache folder is under LOCALAPPDATA there")
def test_a_cache_folder_that_cannot_be_made_says_how_to_put_the_data_elsewhere(
    tmp_path, monkeypatch
):
    """Probe 58 locked F13: with HOME unset (nobody's /nonexistent) or XDG_CACHE_HOME unusable a
    built-in dataset said "permission denied: /nonexistent/.cache", not that it was the data
    cache nor how to move it (--data-dir, AEKIT_DATA)."""
    from aekit.errors import WriteFailure

    blocked = tmp_path / "a file"  # a folder cannot be made under it, also as root
    blocked.write_text("")
    monkeypatch.delenv("AEKIT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked / "cache"))
    monkeypatch.setattr("sys.platform", "linux")
    for make in (ECG5000.download, lambda: ECG5000(download=True)):
        with pytest.raises(WriteFailure) as err:
            make()
        line = str(err.value)
        assert "\n" not in line and str(blocked / "cache" / "aekit" / "ecg5000") in line
        assert "cache folder" in line and "--data-dir" in line and "AEKIT_DATA" in line
        assert not list(tmp_path.iterdir())[1:]


def test_a_failed_data_dir_is_said_as_the_data_dir_whatever_aekit_data_holds(tmp_path, monkeypatch):
    # review 2 of probe 58: with AEKIT_DATA a file, a --data-dir that could not be made was said to
    # be AEKIT_DATA's fault ("the data root ... (AEKIT_DATA) is a file")
    from aekit.data.root import data_origin

    (tmp_path / "a file").write_text("")
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path / "a file"))
    assert data_origin(tmp_path / "elsewhere") == "--data-dir"
    monkeypatch.delenv("AEKIT_DATA")
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr("pathlib.Path.home", lambda: (_ for _ in ()).throw(RuntimeError("no home")))
    assert data_origin(tmp_path / "elsewhere") == "--data-dir"
