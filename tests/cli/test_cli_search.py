"""``aekit train --tensorboard``, ``aekit index`` and ``aekit neighbors`` end to end, on tiny data."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest

from .helpers import assert_one_line_error, cli_here


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 2-epoch basic run on 150 small images, with TensorBoard logs."""
    pytest.importorskip("tensorboard")
    folder = tmp_path_factory.mktemp("search")
    rng = np.random.default_rng(0)
    x = rng.random((150, 1, 12, 12), dtype=np.float32)
    x[:75, :, :6] *= 0.2  # two kinds of image: dark top or not
    np.save(folder / "x.npy", x)
    np.save(folder / "q.npy", x[[0, 100]])
    cli_here(
        "train",
        "basic",
        "--data",
        folder / "x.npy",
        "--epochs",
        "2",
        "--latent-dim",
        "4",
        "--quiet",
        "--tensorboard",
        "--out",
        folder / "run",
    )
    return folder


def test_train_tensorboard_leaves_logs_tensorboard_reads(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "run" / "tensorboard"), size_guidance={"images": 0})
    acc.Reload()
    assert {"loss/train", "loss/val", "learning_rate"} <= set(acc.Tags()["scalars"])
    assert "reconstructions" in acc.Tags()["images"]
    assert "sprite" in (run / "run" / "tensorboard" / "projector_config.pbtxt").read_text()


def test_index_then_neighbors(run):
    proc = cli_here(
        "index", run / "run", "--input", run / "x.npy", "--output", run / "ix", "--metric", "cosine"
    )
    assert "150 vectors of size 4" in proc.stdout
    assert json.loads((run / "ix" / "index.json").read_text())["metric"] == "cosine"
    cli_here(
        "neighbors", run / "ix", "--query", run / "q.npy", "-k", "5", "--output", run / "nb.csv"
    )
    rows = list(csv.DictReader((run / "nb.csv").open()))
    assert len(rows) == 10 and list(rows[0]) == ["query", "rank", "neighbor", "distance"]
    assert [r["neighbor"] for r in rows if r["rank"] == "1"] == [
        "0",
        "100",
    ]  # each query finds itself first
    assert float(rows[0]["distance"]) == pytest.approx(0, abs=1e-5)
    assert (run / "nb.png").read_bytes()[:4] == b"\x89PNG"
    proc = cli_here(
        "neighbors", run / "ix", "--query", run / "q.npy", "--output", run / "nb.csv", check=None
    )
    assert_one_line_error(proc, 2, "already exists")
    # more neighbours than the index holds: refused, as LatentIndex.kneighbors refuses it (they
    # were silently fewer), and following the advice works
    argv = ["neighbors", run / "ix", "--query", run / "q.npy", "--output", run / "k.csv"]
    proc = cli_here(*argv, "-k", "1000", check=None)
    assert_one_line_error(proc, 2, "-k 1000: the index", "holds 150 items", "(-k 150)")
    cli_here(*argv, "-k", "150")
    assert len((run / "k.csv").read_text().splitlines()) == 1 + 2 * 150


def test_bad_use_is_one_line(run, tmp_path):
    np.save(tmp_path / "wide.npy", np.zeros((3, 1, 12, 13), np.float32))
    cli_here("index", run / "run", "--input", run / "x.npy", "--output", tmp_path / "ix")
    proc = cli_here(
        "neighbors",
        tmp_path / "ix",
        "--query",
        tmp_path / "wide.npy",
        "--output",
        tmp_path / "n.csv",
        check=None,
    )
    assert_one_line_error(proc, 2, "sample shape")
    proc = cli_here(
        "neighbors", tmp_path, "--query", run / "q.npy", "--output", tmp_path / "n.csv", check=None
    )
    assert_one_line_error(proc, 2, "index.json")
    proc = cli_here(
        "index", run / "run", "--input", run / "x.npy", "--output", tmp_path / "ix", check=None
    )
    assert_one_line_error(proc, 2, "overwrite")


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """A 1-epoch basic run on a table with an id column, a categorical column and a missing cell."""
    folder = tmp_path_factory.mktemp("search_table")
    rng = np.random.default_rng(0)
    with open(folder / "t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["uid", "a", "b", "c", "plan"])
        for i, row in enumerate(rng.normal(size=(60, 3))):
            cells = [f"{v:.4f}" for v in row]
            if i == 5:
                cells[1] = ""  # filled with the run's recorded value
            w.writerow([f"u{i}", *cells, ("basic", "pro", "free")[i % 3]])
    cli_here(
        "train", "basic", "--data", folder / "t.csv", "--id-column", "uid", "--categorical",
        "plan", "--latent-dim", "2", "--epochs", "1", "--threads", "1", "--quiet", "--no-figures",
        "--out", folder / "run",
    )  # fmt: skip
    return folder


def test_index_and_neighbors_read_a_table_as_encode_does(table_run):
    """The run's one-hot columns, fill values and id column apply to index and neighbors too."""
    d = table_run
    cli_here("encode", d / "run", "--input", d / "t.csv", "--output", d / "z.csv")
    cli_here("index", d / "run", "--input", d / "t.csv", "--output", d / "ix")
    from aekit.estimators.neighbors import LatentIndex

    index = LatentIndex.load(d / "ix")
    encoded = list(csv.reader((d / "z.csv").open()))[1:]
    assert list(index.ids_) == [r[0] for r in encoded]  # the run's uid, not row numbers
    np.testing.assert_allclose(
        index.vectors_, np.array([r[1:] for r in encoded], float), rtol=1e-5, atol=1e-6
    )
    # a query with a missing cell: filled as encode fills it
    lines = (d / "t.csv").read_text().splitlines()
    (d / "q.csv").write_text("\n".join([lines[0], lines[6], lines[7]]) + "\n")
    cli_here("neighbors", d / "ix", "--query", d / "q.csv", "-k", "1", "--output", d / "nb.csv")
    rows = list(csv.DictReader((d / "nb.csv").open()))
    assert [(r["query"], r["neighbor"]) for r in rows] == [("u5", "u5"), ("u6", "u6")]


def test_figure_queries_without_a_figure_to_size_is_one_line(table_run, tmp_path):
    d = table_run
    cli_here("index", d / "run", "--input", d / "t.csv", "--output", tmp_path / "ix")
    lines = (d / "t.csv").read_text().splitlines()
    (tmp_path / "q.csv").write_text("\n".join(lines[:3]) + "\n")  # rows with no missing cell
    for extra, why in (([], "an index of vectors"), (["--no-figure"], "--no-figure")):
        proc = cli_here(
            "neighbors", tmp_path / "ix", "--query", tmp_path / "q.csv", "--output", tmp_path / "n.csv",
            "--figure-queries", "3", *extra, check=None,
        )  # fmt: skip
        assert_one_line_error(proc, 2, "--figure-queries sizes the figure", why)
    assert not (tmp_path / "n.csv").exists()
    # an index of vectors draws no page: a PNG of the output's name is the user's, not named
    # (review 66: "n.png: left from an earlier call ... remove them")
    (tmp_path / "n.png").write_bytes(b"\x89PNG the user's chart")
    argv = ["neighbors", tmp_path / "ix", "--query", tmp_path / "q.csv", "--output"]
    proc = cli_here(*argv, tmp_path / "n.csv", "-k", "2")
    assert "n.png" not in proc.stderr and (tmp_path / "n.png").exists()


def test_a_labelled_index_takes_queries_without_its_label_or_id_column(table_run, tmp_path):
    """Probe 56 docs 9: the label column an index is built with names its items' labels (the
    neighbours'); a query file without that column (or without the index's id column) was refused.
    One with them is read as before."""
    d = table_run
    lines = (d / "t.csv").read_text().splitlines()
    kinds = ["kind"] + [f"k{i % 2}" for i in range(1, len(lines))]
    items = [f"{a},{b}" for a, b in zip(lines, kinds)]
    (tmp_path / "items.csv").write_text("\n".join(items) + "\n")
    cli_here(
        "index", d / "run", "--input", tmp_path / "items.csv", "--label-column", "kind",
        "--id-column", "uid", "--output", tmp_path / "ix",
    )  # fmt: skip
    for name, rows, query in (
        ("q.csv", [lines[0], lines[7]], "u6"),  # no label column
        ("ql.csv", [items[0], items[7]], "u6"),  # the index's columns: as before
        ("qn.csv", [lines[0].split(",", 1)[1], lines[7].split(",", 1)[1]], "0"),  # no id either
    ):
        (tmp_path / name).write_text("\n".join(rows) + "\n")
        out = tmp_path / f"nb-{name}"
        cli_here(
            "neighbors", tmp_path / "ix", "--query", tmp_path / name, "-k", "1", "--output", out
        )
        found = [(r["query"], r["neighbor"], r["label"]) for r in csv.DictReader(out.open())]
        assert found == [(query, "u6", "k1")], name


def test_neighbors_writes_a_query_file_name_that_is_not_utf8_as_its_own_bytes(run, tmp_path):
    """probe 59 locale M1: the neighbors CSV was written in the locale's encoding, strictly: a
    query image named in Latin-1 bytes (r\\xe9sum\\xe9.png) was an internal error after the work."""
    from PIL import Image

    queries = tmp_path / "q"
    queries.mkdir()
    for name in (b"ok.png", b"r\xe9sum\xe9.png"):
        pixels = (np.load(run / "x.npy")[0, 0] * 255).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(os.fsencode(queries), name))
    ix, out = tmp_path / "ix", tmp_path / "nb.csv"
    cli_here("index", run / "run", "--input", run / "x.npy", "--output", ix)
    cli_here("neighbors", ix, "--query", queries, "-k", "1", "--output", out, "--no-figure")
    rows = out.read_bytes().splitlines()
    assert [r.split(b",")[0] for r in rows] == [b"query", b"ok.png", b"r\xe9sum\xe9.png"]


def test_a_table_index_with_stored_ids_answers_once_its_file_grew(table_run, tmp_path):
    """probe 60 search L1: a table indexed with its id column was refused once the CSV gained a row
    ("its answers would name the wrong items": they name stored ids), though it answered once the
    file was gone. It answers, with a note; a table named by row numbers is still refused."""
    d = table_run
    lines = (d / "t.csv").read_text().splitlines()
    items = tmp_path / "items.csv"
    items.write_text("\n".join(lines) + "\n")
    (tmp_path / "q.csv").write_text("\n".join(lines[:3]) + "\n")
    cli_here(
        "index", d / "run", "--input", items, "--id-column", "uid", "--output", tmp_path / "ix"
    )
    cli_here("index", d / "run", "--input", items, "--output", tmp_path / "rows")
    with items.open("a") as f:
        f.write("u60" + lines[1][lines[1].index(",") :] + "\n")
    argv = ["--query", tmp_path / "q.csv", "-k", "1", "--output"]
    proc = cli_here("neighbors", tmp_path / "ix", *argv, tmp_path / "n.csv")
    assert "aekit: note:" in proc.stderr and "answers are its items as indexed" in proc.stderr
    assert [r["neighbor"] for r in csv.DictReader((tmp_path / "n.csv").open())] == ["u0", "u1"]
    proc = cli_here("neighbors", tmp_path / "rows", *argv, tmp_path / "r.csv", check=None)
    assert_one_line_error(proc, 2, "would name the wrong items")


def test_codes_that_are_not_finite_name_their_row(table_run, tmp_path):
    """probe 60 search L2: encode wrote inf codes with exit 0, and neighbors blamed the query
    file's cell at the code's coordinates."""
    d = table_run
    cli_here("index", d / "run", "--input", d / "t.csv", "--output", tmp_path / "ix")
    huge = ",".join(["3e38"] * 3)
    (tmp_path / "big.csv").write_text(
        f"uid,a,b,c,plan\nok,0,0,0,pro\nbig,{huge},pro\nbig2,-{huge.replace(',', ',-')},free\n"
    )
    for argv in (
        ["encode", d / "run", "--input", tmp_path / "big.csv", "--output", tmp_path / "z.csv"],
        [
            "neighbors",
            tmp_path / "ix",
            "--query",
            tmp_path / "big.csv",
            "--output",
            tmp_path / "n.csv",
        ],
    ):
        proc = cli_here(*argv, check=None)
        assert_one_line_error(proc, 2, "the code of row", "(id 'big", "is not finite")
    assert not (tmp_path / "z.csv").exists()


def test_an_index_the_cli_cannot_use_says_why(table_run, tmp_path):
    """probe 60 search L8: an index saved from Python read as damaged (exit 1), and one whose run
    had moved said "no such run or model folder" without saying the path came from index.json."""
    import shutil

    from aekit.estimators.neighbors import LatentIndex

    d = table_run
    x = np.random.default_rng(0).random((5, 2), dtype=np.float32)
    LatentIndex().fit(x).save(tmp_path / "py")
    argv = ["--query", d / "t.csv", "--output", tmp_path / "n.csv"]
    proc = cli_here("neighbors", tmp_path / "py", *argv, check=None)
    assert_one_line_error(proc, 2, "saved from Python", "aekit index", "LatentIndex.load(")
    shutil.copytree(d / "run", tmp_path / "run")
    cli_here("index", tmp_path / "run", "--input", d / "t.csv", "--output", tmp_path / "ix")
    (tmp_path / "run").rename(tmp_path / "moved")
    proc = cli_here("neighbors", tmp_path / "ix", *argv, check=None)
    assert_one_line_error(proc, 2, f"the run {tmp_path / 'run'} that its index.json names")


def test_an_index_moved_with_its_run_finds_it_again(table_run, tmp_path):
    """stop 60's search fixer, left: an index names its run by an absolute path, so a project
    folder moved whole (run and index together) was refused as a run moved or deleted. The run is
    found where it lies from the index as before (its weights checked as ever), with a note."""
    import shutil

    d, project = table_run, tmp_path / "project"
    shutil.copytree(d / "run", project / "runs" / "basic")
    argv = ["--input", d / "t.csv", "--output", project / "ix"]
    cli_here("index", project / "runs" / "basic", *argv)
    project.rename(tmp_path / "elsewhere")
    query = ["--query", d / "t.csv", "-k", "1", "--output", tmp_path / "n.csv"]
    proc = cli_here("neighbors", tmp_path / "elsewhere" / "ix", *query)
    assert f"using {tmp_path / 'elsewhere' / 'runs' / 'basic'}" in proc.stderr
    rows = list(csv.DictReader((tmp_path / "n.csv").open()))
    assert rows[0]["query"] == rows[0]["neighbor"] == "u0"
    # opened through a link to it (review 1 F5: ".." was folded past the link)
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "ix").symlink_to(tmp_path / "elsewhere" / "ix")
    cli_here("neighbors", tmp_path / "links" / "ix", *query[:-1], tmp_path / "n2.csv")


def test_figure_queries_draws_that_many_and_stale_pages_are_named(run, monkeypatch):
    """Probe 66 pictures 5: --figure-queries 3 of 11 queries drew 8 ("queries 1-8 of 11") where it
    said 1-3; 8: an --overwrite drawing fewer pages (or --no-figure) left the earlier pages beside
    the new CSV without a word."""
    import aekit.plots

    drawn = []
    real = aekit.plots.plot_neighbors
    monkeypatch.setattr(
        aekit.plots, "plot_neighbors", lambda q, *a, **kw: (drawn.append(len(q)), real(q, *a, **kw))
    )
    x = np.load(run / "x.npy")
    np.save(run / "q11.npy", x[:11])
    cli_here("index", run / "run", "--input", run / "x.npy", "--output", run / "ix11")
    argv = ["neighbors", run / "ix11", "--query", run / "q11.npy", "-k", "2", "--output"]
    proc = cli_here(*argv, run / "fq.csv", "--figure-queries", "3")
    assert drawn == [3] and "queries 1-3 of 11" in proc.stdout
    drawn.clear()
    cli_here(*argv, run / "fq.csv", "--figure-queries", "9", "--overwrite")
    assert drawn == [8, 1] and (run / "fq-2.png").exists()
    proc = cli_here(*argv, run / "fq.csv", "--overwrite", "--figure-queries", "2")  # one page
    assert "fq-2.png: not written by this call (it drew 1 page); if it is an earlier" in proc.stderr
    proc = cli_here(*argv, run / "fq.csv", "--overwrite", "--no-figure")
    assert "fq.png" in proc.stderr and "fq-2.png" in proc.stderr and "drew no figure" in proc.stderr
    assert (run / "fq.png").exists() and (run / "fq-2.png").exists()  # said, never removed
