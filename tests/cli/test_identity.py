"""Outputs keep identity: ids under their own column name, file names, headers; runs remember their
columns and id column; class sub-folders are labels; --image-size is WIDTHxHEIGHT."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from aekit.cli.main import main


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two classes of 8x8 grayscale images in class sub-folders."""
    d = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (d / "imgs" / label).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8), "L").save(
                d / "imgs" / label / f"{i}.png"
            )
    return d


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)) * [1, 100, 1000]
    with open(d / "t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "a", "b", "c", "diagnosis"])
        w.writerows([[f"P{i}", *row, "B" if i % 4 else "M"] for i, row in enumerate(x)])
    return d


def test_encode_of_an_image_folder_writes_file_names_labels_and_a_header(folder):
    run = folder / "run"
    assert (
        main(
            [
                "train",
                "basic",
                "--data",
                str(folder / "imgs"),
                "--epochs",
                "1",
                "--latent-dim",
                "2",
                "--quiet",
                "--no-figures",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert (
        main(
            ["encode", str(run), "--input", str(folder / "imgs"), "--output", str(folder / "z.csv")]
        )
        == 0
    )
    rows = _rows(folder / "z.csv")
    assert rows[0] == ["file", "label", "z1", "z2"]
    assert [r[0] for r in rows[1:3]] == ["cat/0.png", "cat/1.png"] and rows[-1][:2] == [
        "dog/5.png",
        "dog",
    ]
    # without --input: the run's held-out images, still named
    assert main(["encode", str(run), "--output", str(folder / "zh.csv")]) == 0
    held = _rows(folder / "zh.csv")
    assert held[0][:2] == ["file", "label"] and len(held) - 1 == 3  # 20% of 12


def test_a_table_run_keeps_its_id_column_and_picks_columns_by_name(table):
    run = table / "basic"
    assert (
        main(
            [
                "train",
                "basic",
                "--data",
                str(table / "t.csv"),
                "--label-column",
                "diagnosis",
                "--id-column",
                "patient_id",
                "--epochs",
                "1",
                "--latent-dim",
                "2",
                "--quiet",
                "--no-figures",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    # reconstruct uses the run's id column and writes it under its own name, before the features by name
    assert (
        main(
            [
                "reconstruct",
                str(run),
                "--input",
                str(table / "t.csv"),
                "--output",
                str(table / "r.csv"),
            ]
        )
        == 0
    )
    rows = _rows(table / "r.csv")
    assert rows[0] == ["patient_id", "a", "b", "c"] and rows[1][0] == "P0"
    # raw units (column c ~ 1000)
    assert abs(np.array(rows[1:], dtype=object)[:, 3].astype(float)).mean() > 10
    # a new file with the columns reordered and one extra: taken by name; the extra ignored
    with open(table / "new.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["site", "c", "patient_id", "b", "a"])
        w.writerows([["x", r[3], r[0], r[2], r[1]] for r in _rows(table / "t.csv")[1:]])
    assert (
        main(
            [
                "encode",
                str(run),
                "--input",
                str(table / "new.csv"),
                "--output",
                str(table / "z.csv"),
            ]
        )
        == 0
    )
    z = _rows(table / "z.csv")
    assert z[0] == ["patient_id", "z1", "z2"]
    assert (
        main(
            ["encode", str(run), "--input", str(table / "t.csv"), "--output", str(table / "z0.csv")]
        )
        == 0
    )
    np.testing.assert_allclose(
        np.array([r[1:] for r in z[1:]], float),
        np.array([r[1:] for r in _rows(table / "z0.csv")[1:]], float),
        rtol=1e-5,
        atol=1e-6,
    )


def test_missing_columns_are_named(table, capsys):
    run = table / "basic"
    if not run.exists():
        pytest.skip("needs the run of the test above")
    with open(table / "short.csv", "w", newline="") as f:
        csv.writer(f).writerows([["patient_id", "a"], ["P0", "1.0"]])
    assert (
        main(
            [
                "encode",
                str(run),
                "--input",
                str(table / "short.csv"),
                "--output",
                str(table / "s.csv"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "lacks the model's columns 'b', 'c'" in err and len(err.strip().splitlines()) == 1


def test_score_keeps_the_id_column_under_its_own_name(table):
    run = table / "anomaly"
    assert (
        main(
            [
                "train",
                "anomaly",
                "--data",
                str(table / "t.csv"),
                "--label-column",
                "diagnosis",
                "--normal-label",
                "B",
                "--id-column",
                "patient_id",
                "--epochs",
                "1",
                "--quiet",
                "--no-figures",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "score",
                str(run),
                "--input",
                str(table / "t.csv"),
                "--output",
                str(table / "s.csv"),
                "--id-column",
                "patient_id",
                "--label-column",
                "diagnosis",
            ]
        )
        == 0
    )
    rows = _rows(table / "s.csv")
    assert rows[0] == ["patient_id", "score", "is_anomaly", "p_value"] and rows[1][0] == "P0"
    # the run remembers its id column: without --id-column too
    assert (
        main(
            ["score", str(run), "--input", str(table / "t.csv"), "--output", str(table / "s2.csv")]
        )
        == 0
    )
    assert _rows(table / "s2.csv")[0][0] == "patient_id"


def test_a_parquet_input_keeps_the_runs_id_column(table):
    """The run's recorded id column applies to a Parquet input as to a CSV (its schema's names)."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    runs = [table / "basic", table / "anomaly"]
    if not all(r.exists() for r in runs):
        pytest.skip("needs the runs of the tests above")
    pd.read_csv(table / "t.csv").to_parquet(table / "t.parquet")
    for command, run, first in (("encode", runs[0], "z1"), ("score", runs[1], "score")):
        out = table / f"pq_{command}.csv"
        assert (
            main([command, str(run), "--input", str(table / "t.parquet"), "--output", str(out)])
            == 0
        )
        rows = _rows(out)
        assert rows[0][:2] == ["patient_id", first] and rows[1][0] == "P0" and rows[-1][0] == "P59"


def test_image_size_is_width_by_height(folder, tmp_path):
    from aekit.cli.types import image_size

    assert image_size("45x37") == (37, 45) and image_size("28") == (
        28,
        28,
    )  # (height, width) inside
    run = folder / "den"
    assert (
        main(
            [
                "train",
                "denoise",
                "--data",
                str(folder / "imgs"),
                "--image-size",
                "12x6",
                "--epochs",
                "1",
                "--quiet",
                "--no-figures",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "denoise",
                str(run),
                "--input",
                str(folder / "imgs"),
                "--output",
                str(tmp_path / "out"),
                "--image-size",
                "12x6",
            ]
        )
        == 0
    )
    # the model ran at 12x6; each output comes back at its input's own size (Pillow: width, height)
    src = next((folder / "imgs" / "cat").glob("0.*"))
    assert Image.open(tmp_path / "out" / "cat" / "0.png").size == Image.open(src).size


def test_score_writes_the_user_id_column_under_its_own_name(tmp_path):
    """``aekit score`` on a table: the id column (given, or the one the run recorded) is written
    under its own name, wherever it sits in the input; a table without it gets no id column."""
    from .helpers import cli_here

    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 3))
    with open(tmp_path / "t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "user_id", "b", "c"])
        w.writerows([[row[0], f"U{i}", row[1], row[2]] for i, row in enumerate(x)])
    with open(tmp_path / "no_id.csv", "w", newline="") as f:
        csv.writer(f).writerows([["c", "b", "a"], *x[:5, ::-1]])
    run = tmp_path / "run"
    train = ["train", "anomaly", "--data", tmp_path / "t.csv", "--id-column", "user_id"]
    cli_here(*train, "--epochs", "1", "--quiet", "--no-figures", "--out", run)

    score = ["score", run, "--input", tmp_path / "t.csv", "--quiet", "--output"]
    cli_here(*score, tmp_path / "given.csv", "--id-column", "user_id")
    cli_here(*score, tmp_path / "recorded.tsv")  # the run's id column, found in the input
    given = _rows(tmp_path / "given.csv")
    with open(tmp_path / "recorded.tsv", newline="") as f:
        recorded = list(csv.reader(f, delimiter="\t"))
    for rows in (given, recorded):
        assert rows[0] == ["user_id", "score", "is_anomaly", "p_value"] and rows[1][0] == "U0"
        assert [r[0] for r in rows[1:]] == [f"U{i}" for i in range(80)]
    assert [r[1:] for r in recorded] == [r[1:] for r in given]

    cli_here("score", run, "--input", tmp_path / "no_id.csv", "--output", tmp_path / "n.csv")
    assert _rows(tmp_path / "n.csv")[0] == ["score", "is_anomaly", "p_value"]


def test_an_id_column_given_by_index_is_recorded_by_name_and_carried(tmp_path):
    """``--id-column 0`` (an index, as documented) is recorded as the header's name, so a later
    ``aekit score`` carries the ids; an input without the run's id column says so in a note."""
    from .helpers import cli_here

    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 3))
    with open(tmp_path / "t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["wid", "a", "b", "c"])
        w.writerows([[f"W{i}", *row] for i, row in enumerate(x)])
    with open(tmp_path / "no_id.csv", "w", newline="") as f:
        csv.writer(f).writerows([["a", "b", "c"], *x[:5]])
    run = tmp_path / "run"
    train = ["train", "anomaly", "--data", tmp_path / "t.csv", "--id-column", "0"]
    cli_here(*train, "--epochs", "1", "--quiet", "--no-figures", "--out", run)
    import json

    assert json.loads((run / "config.json").read_text())["data"]["id_column"] == "wid"
    cli_here("score", run, "--input", tmp_path / "t.csv", "--output", tmp_path / "s.csv")
    rows = _rows(tmp_path / "s.csv")
    assert rows[0][0] == "wid" and [r[0] for r in rows[1:4]] == ["W0", "W1", "W2"]

    out = tmp_path / "n.csv"
    done = cli_here("score", run, "--input", tmp_path / "no_id.csv", "--output", out)
    assert "has no column 'wid', the run's id column" in done.stderr
