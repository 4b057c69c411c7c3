"""Runs remember their data: the data root and checksums in config.json; evaluation reads the held-out split only."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from aekit.data import MNIST, Data
from aekit.errors import UsageError
from aekit.recipes import DataSpec, get_recipe


def test_a_builtin_run_records_the_root_it_read_and_the_files_checksums(tmp_path, monkeypatch):
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path / "root"))
    d = DataSpec(dataset="mnist").to_json()
    assert d["data_dir"] == str((tmp_path / "root").resolve())
    assert d["checksums"] == {r.filename: r.sha256 for r in MNIST.resources}
    given = DataSpec(dataset="mnist", data_dir=str(tmp_path / "x")).to_json()
    assert given["data_dir"] == str((tmp_path / "x").resolve())


def test_the_users_data_is_recorded_with_its_checksum(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(6, dtype=np.float32).reshape(3, 2))
    d = DataSpec(data=str(tmp_path / "x.npy")).to_json()
    assert d["checksums"] == {
        "x.npy": hashlib.sha256((tmp_path / "x.npy").read_bytes()).hexdigest()
    }
    assert d["data_dir"] is None
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(b"one")
    first = DataSpec(data=str(tmp_path / "imgs")).fingerprint()
    (tmp_path / "imgs" / "a.png").write_bytes(b"two")
    # a folder's digest covers its contents
    assert DataSpec(data=str(tmp_path / "imgs")).fingerprint() != first
    back = DataSpec.from_json(d)
    assert back.checksums == d["checksums"] and back.to_json()["checksums"] == d["checksums"]


def test_reading_again_prefers_data_dir_then_the_recorded_root_if_it_still_exists(tmp_path):
    spec = DataSpec.from_json(DataSpec(dataset="mnist", data_dir=str(tmp_path)).to_json())
    assert spec.reading_from().data_dir == str(tmp_path.resolve())
    assert spec.reading_from(str(tmp_path / "other")).data_dir == str(tmp_path / "other")
    gone = DataSpec.from_json(DataSpec(dataset="mnist", data_dir=str(tmp_path / "moved")).to_json())
    assert gone.reading_from().data_dir is None  # $AEKIT_DATA, then the user cache


def test_evaluation_reads_only_the_held_out_split(monkeypatch):
    import aekit.recipes.base as base

    splits = []

    def fake(name, split, root=None, download=True):
        splits.append(split)
        return Data(x=np.zeros((4, 1, 28, 28), np.float32), source=f"{name}:{split}")

    monkeypatch.setattr(base, "load_builtin", fake)
    for family in ("basic", "denoise", "vae"):
        get_recipe(family).load_eval_data(DataSpec(dataset="mnist"), 0)
    assert splits == ["test", "test", "test"]


def test_a_folder_changed_means_its_images_changed(tmp_path):
    """A notes file put beside the images changes no split: evaluate and plot go on; a run
    recorded when the digest covered every file of the folder is still recognised."""
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(b"one")
    (tmp_path / "imgs" / "notes.txt").write_text("taken on Monday")
    spec = DataSpec.from_json(DataSpec(data=str(tmp_path / "imgs")).to_json())
    legacy = DataSpec(data=spec.data, checksums=spec.fingerprint(every_file=True))
    assert spec.checksums != legacy.checksums  # the notes are in the old digest only
    (tmp_path / "imgs" / "more.txt").write_text("and Tuesday")
    assert not spec.changed()
    (tmp_path / "imgs" / "more.txt").unlink()
    assert not legacy.changed()
    (tmp_path / "imgs" / "b.png").write_bytes(b"two")
    assert spec.changed() and legacy.changed()


def test_columns_with_a_categorical_one_encode_it(tmp_path):
    """``--columns a,plan --categorical plan``: the text column among the chosen ones is encoded
    one-hot (it was read as a date and refused), the others are left out."""
    from aekit.recipes import DataSpec

    path = tmp_path / "t.csv"
    rows = [f"{i},{i * 0.5},{['basic', 'pro'][i % 2]},{i * 2}" for i in range(12)]
    path.write_text("a,b,plan,c\n" + "\n".join(rows) + "\n")
    data = DataSpec(data=str(path), columns=["a", "plan"], categorical=["plan"]).read_user()
    assert data.feature_names == ["a", "plan=basic", "plan=pro"]


def test_a_typo_in_columns_at_training_names_the_option_not_the_model(tmp_path):
    """probe 59 locale L5: --columns temperature (the table's is température) said "lacks the
    model's columns ... the model was trained on" before there was a model."""
    (tmp_path / "t.csv").write_text("id,température,b\nr1,1,2\nr2,3,4\n", encoding="utf-8")
    spec = DataSpec(data=str(tmp_path / "t.csv"), columns=["temperature", "b"])
    with pytest.raises(UsageError, match="^--columns 'temperature': .* has no column of that name"):
        spec.name_columns()
    DataSpec(data=str(tmp_path / "t.csv"), columns=["température", "b"]).name_columns()


def test_a_typo_in_columns_lists_an_unnamed_column_by_its_index(tmp_path):
    """review 1 F9: --columns on a pandas CSV with its index listed the columns as ", a, b"."""
    (tmp_path / "t.csv").write_text(",a,b\n0,1,2\n1,3,4\n")
    spec = DataSpec(data=str(tmp_path / "t.csv"), columns=["q"])
    with pytest.raises(UsageError, match=r"its columns are: \(unnamed column 0\), a, b;"):
        spec.name_columns()
