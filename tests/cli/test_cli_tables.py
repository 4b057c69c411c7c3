"""A CSV export as users have it (issue 33): every table family trains from it with no cleaning."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from .helpers import assert_one_line_error, cli_here

FAMILIES = ("basic", "stacked", "anomaly")


def write_export(path, n=120, seed=0):
    """A users table: an id, a date, text, empty cells, a typo'd entry; nine numeric columns of rank 3."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)) @ rng.standard_normal((3, 9)) + 0.1 * rng.standard_normal(
        (n, 9)
    )
    names = [
        "age",
        "income",
        "children",
        "visits",
        "minutes",
        "buys",
        "returns",
        "tickets",
        "score",
    ]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "signup", "plan", *names])
        for i in range(n):
            cells = [f"{v:.3f}" for v in x[i]]
            if i % 9 == 4:
                cells[2] = ""  # an empty cell
            if i == 7:
                cells[0] = "4O"  # a typo
            w.writerow([f"U{i:04d}", f"2023-{1 + i % 12:02d}-0{1 + i % 9}", "abc"[i % 3], *cells])
    return path


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return write_export(tmp_path_factory.mktemp("tables") / "users.csv")


@pytest.mark.parametrize("family", FAMILIES)
def test_every_table_family_trains_on_the_export(export, tmp_path, family):
    run = tmp_path / family
    proc = cli_here(
        "train", family, "--data", export, "--id-column", "user_id", "--epochs", "2",
        "--no-figures", "--out", run,
    )  # fmt: skip
    notes = [ln for ln in proc.stderr.splitlines() if ln.startswith("aekit: note:")]
    assert (
        len([n for n in notes if "left out 2 columns" in n and "signup" in n and "plan" in n]) == 1
    )
    assert any("'4O'" in n for n in notes) and any(
        "filled with the training rows' medians" in n for n in notes
    )
    assert "Traceback" not in proc.stderr
    data = json.loads((run / "config.json").read_text())["data"]
    assert set(data["fill_values"]) == {"age", "income", "children", "visits", "minutes", "buys",
                                        "returns", "tickets", "score"}  # fmt: skip
    out = tmp_path / "out.csv"
    if family == "anomaly":
        cli_here("score", run, "--input", export, "--output", out)
    else:
        cli_here("encode", run, "--input", export, "--output", out)
    with open(out) as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "user_id" and rows[1][0] == "U0000" and len(rows) == 121
    assert all(v not in ("nan", "") for r in rows[1:] for v in r)
    if family == "basic":  # the default code is narrower than the 9 columns
        assert sum(h.startswith("z") for h in rows[0]) < 9
    # a feature column named as the labels or the ids was read as a feature all the same
    command = "score" if family == "anomaly" else "encode"
    for option in ("--label-column", "--id-column"):
        proc = cli_here(command, run, "--input", export, "--output", tmp_path / "x.csv",
                        option, "income", check=None)  # fmt: skip
        assert_one_line_error(proc, 2, f"{option} income contradicts", "feature columns")


def test_fill_none_refuses_with_a_count(export, tmp_path):
    proc = cli_here(
        "train", "basic", "--data", export, "--id-column", "user_id", "--fill", "none",
        "--epochs", "1", "--out", tmp_path / "r", check=2,
    )  # fmt: skip
    assert "14 of 120 rows have missing values, in 2 columns (age: 1, children: 13)" in proc.stderr
    assert "--fill median" in proc.stderr


def test_a_run_that_fills_none_refuses_missing_values_naming_the_column(tmp_path):
    """score of a --fill none run on a table with an empty cell: one line naming the file and the
    column, with advice that works (score has no --fill median: the run is trained again); it said
    "Input X contains NaN (... index (3, 1))", and an .npy with NaN was an internal BufferError."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 3)).astype(np.float32)
    np.savetxt(tmp_path / "t.csv", x, delimiter=",", header="a,b,c", comments="")
    cli_here("train", "anomaly", "--data", tmp_path / "t.csv", "--fill", "none", "--epochs", "1",
             "--no-figures", "--out", tmp_path / "r", "--quiet")  # fmt: skip
    x[3, 1] = np.nan
    np.savetxt(tmp_path / "n.csv", x, delimiter=",", header="a,b,c", comments="")
    np.save(tmp_path / "n.npy", x)
    score = ("score", tmp_path / "r", "--output", tmp_path / "s.csv", "--input")
    proc = cli_here(*score, tmp_path / "n.csv", check=None)
    assert_one_line_error(proc, 2, "n.csv: column 'b'", "data row 4", "train with --fill median")
    assert_one_line_error(cli_here(*score, tmp_path / "n.npy", check=None), 2, "n.npy", "row 3")
    proc = cli_here("evaluate", tmp_path / "r", "--data", tmp_path / "n.csv", check=None)
    assert_one_line_error(proc, 2, "n.csv: 1 of 60 rows", "(b: 1)", "train with --fill median")


def test_categorical_and_columns(export, tmp_path):
    run = tmp_path / "r"
    cli_here(
        "train", "basic", "--data", export, "--id-column", "user_id", "--categorical", "plan,signup",
        "--drop-columns", "income", "--fill", "zero", "--epochs", "1", "--no-figures", "--out", run,
    )  # fmt: skip
    state = json.loads((run / "config.json").read_text())
    names = state["state"]["feature_names"]
    assert names[:4] == ["signup", "plan=a", "plan=b", "plan=c"] and "income" not in names
    assert state["data"]["fill_values"]["children"] == 0.0
    cli_here("reconstruct", run, "--input", export, "--output", tmp_path / "rec.csv")
    with open(tmp_path / "rec.csv") as f:
        header = next(csv.reader(f))
    assert header[:3] == ["user_id", "signup", "plan=a"]


def test_the_fills_the_parser_offers_are_the_data_layers():
    from aekit.cli.options import TABLE_FILLS
    from aekit.data.missing import FILLS

    assert TABLE_FILLS == FILLS
