"""Issue 28: nothing lost on every surface, the successes (the refusals are rows of the bad-input matrix).

Each test is one of the issue's examples: what aekit must do instead of losing the user's files,
answering wrongly with exit 0, or refusing what it should take.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from .badinput import cli, one_torch_thread, snapshot, write_images, write_table

COMMON = ["--epochs", "1", "--no-figures", "--quiet"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Images, a table, a series (CSV with a time column, and the same values as .npy); a basic run
    on the images and a series run on the CSV."""
    W = tmp_path_factory.mktemp("lost")
    write_images(W / "imgs", 12)
    rng = np.random.default_rng(0)
    write_table(W / "rows.csv", rng.random((40, 4)).astype(np.float32))
    t = np.arange(300)
    x = np.stack([np.sin(2 * np.pi * t / 20), np.cos(2 * np.pi * t / 20)], axis=1)
    x += 0.05 * rng.standard_normal(x.shape)
    lines = ["time,s1,s2,label"] + [f"t{i},{a:.5f},{b:.5f},0" for i, (a, b) in enumerate(x)]
    (W / "series.csv").write_text("\n".join(lines) + "\n")
    np.save(W / "series.npy", x.astype(np.float32))
    with one_torch_thread():
        assert _ok(
            "train", "basic", "--data", W / "imgs", "--latent-dim", "2", *COMMON, "--out", W / "run"
        )
        assert _ok(
            "train", "series", "--data", W / "series.csv", "--time-column", "time",
            "--label-column", "label", "--window", "20", "--method", "reconstruction",
            "--channels", "4,4", *COMMON, "--out", W / "series",
        )  # fmt: skip
    return W


def _ok(*argv) -> bool:
    code, _, err = cli(*argv)
    assert code == 0, err
    return True


def _copy_run(world, tmp_path, name="run") -> Path:
    shutil.copytree(world / name, tmp_path / name)
    return tmp_path / name


# ---- user files ------------------------------------------------------------------------------------------


def test_overwrite_of_a_run_keeps_the_users_notes(world, tmp_path):
    run = _copy_run(world, tmp_path)
    (run / "NOTES.txt").write_text("what I tried")
    (run / "figures").mkdir(exist_ok=True)
    (run / "figures" / "mine.png").write_bytes(b"my drawing")
    (run / "experiments").mkdir()  # an empty folder of the user's: kept too
    old = (run / "model.safetensors").read_bytes()
    argv = ["train", "basic", "--data", world / "imgs", "--latent-dim", "2", "--seed", "4"]
    assert _ok(*argv, *COMMON, "--out", run, "--overwrite")
    assert (run / "model.safetensors").read_bytes() != old  # replaced
    assert (run / "NOTES.txt").read_text() == "what I tried"  # kept
    assert (run / "figures" / "mine.png").read_bytes() == b"my drawing"
    assert (run / "experiments").is_dir()
    from aekit._manifest import ownership

    assert ownership(run).user_files == ["NOTES.txt", "figures/mine.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_symlinked_out_is_followed_never_replaced(world, tmp_path):
    run = _copy_run(world, tmp_path)
    (tmp_path / "link").symlink_to(run)
    old = (run / "model.safetensors").read_bytes()
    argv = ["train", "basic", "--data", world / "imgs", "--latent-dim", "2", "--seed", "5"]
    assert _ok(*argv, *COMMON, "--out", tmp_path / "link", "--overwrite")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "link").resolve() == run
    assert (run / "model.safetensors").read_bytes() != old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "run"]


def test_a_symlinked_output_file_is_replaced_never_written_through(world, tmp_path):
    """--overwrite of a link to a file replaces the link, as mv would: the file it points to is the
    user's (here a stand-in for their training data) and stays as it was."""
    (tmp_path / "real.npy").write_bytes(b"old")
    (tmp_path / "z.npy").symlink_to(tmp_path / "real.npy")
    argv = ["encode", world / "run", "--input", world / "imgs", "--output", tmp_path / "z.npy"]
    assert _ok(*argv, "--overwrite")
    assert not (tmp_path / "z.npy").is_symlink() and np.load(tmp_path / "z.npy").shape == (12, 2)
    assert (tmp_path / "real.npy").read_bytes() == b"old"


def test_a_symlink_to_no_file_yet_is_followed(world, tmp_path):
    """A link to a file that does not exist: the file it names is created, the link stays."""
    (tmp_path / "z.npy").symlink_to(tmp_path / "real.npy")
    assert _ok("encode", world / "run", "--input", world / "imgs", "--output", tmp_path / "z.npy")
    assert (tmp_path / "z.npy").is_symlink() and np.load(tmp_path / "real.npy").shape == (12, 2)


def test_resume_advises_no_overwrite_on_a_users_folder(world, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text('{"lr": 0.1}')
    (mine / "results.csv").write_text("a,b\n")
    code, _, err = cli(
        "train", "basic", "--data", world / "imgs", *COMMON, "--out", mine, "--resume"
    )
    assert code == 2 and "holds no aekit run" in err and "--overwrite" not in err, err
    code, _, err = cli(
        "train", "basic", "--data", world / "imgs", *COMMON, "--out", mine, "--overwrite"
    )
    assert code == 2 and "results.csv" in err
    assert sorted(p.name for p in mine.iterdir()) == ["config.json", "results.csv"]


def test_reconstruct_overwrite_keeps_a_file_the_user_added(world, tmp_path):
    out = tmp_path / "out"
    assert _ok("reconstruct", world / "run", "--input", world / "imgs", "--output", out)
    (out / "keep.txt").write_text("mine")
    assert _ok(
        "reconstruct", world / "run", "--input", world / "imgs", "--output", out, "--overwrite"
    )
    assert (out / "keep.txt").read_text() == "mine" and len(list(out.glob("*.png"))) == 12


def test_plot_redraws_a_run_whole_keeping_the_users_files(world, tmp_path):
    run = _copy_run(world, tmp_path)
    (run / "NOTES.txt").write_text("mine")
    assert _ok("plot", run)
    from aekit._manifest import changed_files, ownership

    assert (run / "figures" / "reconstructions.png").is_file()
    assert ownership(run).user_files == ["NOTES.txt"] and changed_files(run) == []


def test_a_run_of_an_older_aekit_without_a_manifest_is_still_a_run(world, tmp_path):
    run = _copy_run(world, tmp_path)
    (run / ".aekit-manifest.json").unlink()  # written before manifests
    assert _ok(
        "train",
        "basic",
        "--data",
        world / "imgs",
        "--latent-dim",
        "2",
        *COMMON,
        "--out",
        run,
        "--overwrite",
    )
    (run / ".aekit-manifest.json").unlink()
    (run / "thesis.tex").write_text(
        "mine"
    )  # not a run's file: the folder is no longer provably aekit's
    code, _, err = cli(
        "train", "basic", "--data", world / "imgs", *COMMON, "--out", run, "--overwrite"
    )
    assert code == 2 and "thesis.tex" in err and (run / "thesis.tex").read_text() == "mine"


def test_a_tampered_manifest_is_not_trusted(world, tmp_path):
    from aekit._manifest import ownership, read_manifest

    run = _copy_run(world, tmp_path)
    body = json.loads((run / ".aekit-manifest.json").read_text())
    body["files"]["thesis.tex"] = {
        "size": 1,
        "sha256": "0" * 64,
    }  # claims a file aekit did not write
    (run / ".aekit-manifest.json").write_text(json.dumps(body))
    (run / "thesis.tex").write_text("mine")
    assert read_manifest(run) is None and "thesis.tex" in ownership(run).user_files


# ---- indexes ----------------------------------------------------------------------------------------------


def test_an_index_answers_again_once_rebuilt_after_its_run_changed(world, tmp_path):
    run = _copy_run(world, tmp_path)
    assert _ok("index", run, "--input", world / "imgs", "--output", tmp_path / "idx")
    argv = ["train", "basic", "--data", world / "imgs", "--latent-dim", "2", "--seed", "9"]
    assert _ok(*argv, *COMMON, "--out", run, "--overwrite")
    query = [
        "neighbors",
        tmp_path / "idx",
        "--query",
        world / "imgs",
        "--output",
        tmp_path / "n.csv",
    ]
    code, _, err = cli(*query)
    assert code == 2 and "has changed since the index was built" in err
    assert _ok("index", run, "--input", world / "imgs", "--output", tmp_path / "idx", "--overwrite")
    assert _ok(*query, "-k", "1")
    rows = (tmp_path / "n.csv").read_text().splitlines()[1:]
    assert all(r.split(",")[0] == r.split(",")[2] for r in rows)  # each image finds itself


def test_the_figure_draws_the_items_the_csv_names_after_a_file_was_added(
    world, tmp_path, monkeypatch
):
    from PIL import Image

    items = tmp_path / "items"
    shutil.copytree(world / "imgs", items)
    assert _ok("index", world / "run", "--input", items, "--output", tmp_path / "idx")
    shutil.copy(items / "im05.png", items / "aa_first.png")  # sorts first: shifts every position
    drawn = {"neighbors": []}

    def capture(queries, neighbors, path, **kw):  # each page of the figure
        drawn["neighbors"].extend(np.asarray(neighbors))  # (queries, k, C, H, W)
        Path(path).write_bytes(b"png")
        return Path(path)

    monkeypatch.setattr("aekit.plots.plot_neighbors", capture)
    out = tmp_path / "nb.csv"
    assert _ok("neighbors", tmp_path / "idx", "--query", world / "imgs", "-k", "3", "--output", out)
    rows = [r.split(",") for r in out.read_text().splitlines()[1:]]
    drawn["neighbors"] = np.stack(drawn["neighbors"])
    for q in range(len(drawn["neighbors"])):
        for r in range(3):
            name = rows[q * 3 + r][2]
            with Image.open(items / name) as im:
                expected = np.asarray(im, np.float32) / 255
            np.testing.assert_allclose(drawn["neighbors"][q, r, 0], expected, atol=1e-6)


def test_a_failed_index_save_over_an_index_leaves_it_answering_as_before(tmp_path, monkeypatch):
    from aekit import _io
    from aekit.errors import WriteFailure
    from aekit.estimators.neighbors import LatentIndex

    rng = np.random.default_rng(0)
    first = LatentIndex().fit(
        rng.random((30, 4), dtype=np.float32), ids=[f"a{i}" for i in range(30)]
    )
    first.save(tmp_path / "idx")
    before = snapshot(tmp_path)
    queries = rng.random((5, 4), dtype=np.float32)
    answer = LatentIndex.load(tmp_path / "idx").kneighbors(queries, 3)
    real = _io.write_text

    def full(path, text):  # the vectors fit, index.json does not
        if Path(path).name == "index.json":
            raise _io.write_failure(OSError(errno.ENOSPC, "No space left on device"), path)
        return real(path, text)

    monkeypatch.setattr(_io, "write_text", full)
    second = LatentIndex().fit(
        rng.random((30, 4), dtype=np.float32), ids=[f"b{i}" for i in range(30)]
    )
    with pytest.raises(WriteFailure, match="no space left"):
        second.save(tmp_path / "idx", overwrite=True)
    assert snapshot(tmp_path) == before
    again = LatentIndex.load(tmp_path / "idx")
    assert again.ids_[0] == "a0"
    for a, b in zip(answer, again.kneighbors(queries, 3)):
        np.testing.assert_array_equal(a, b)


# ---- series -----------------------------------------------------------------------------------------------


def test_a_series_run_trained_on_a_csv_with_a_time_column_scores_and_evaluates_a_npy(
    world, tmp_path
):
    out = tmp_path / "s.csv"
    assert _ok("score", world / "series", "--input", world / "series.npy", "--output", out)
    lines = out.read_text().splitlines()
    assert lines[0] == "time,score,is_anomaly" and len(lines) == 301 and lines[1].startswith("0,")
    code, text, err = cli("evaluate", world / "series", "--data", world / "series.npy")
    assert code == 0 and json.loads(text)["n_steps"] == 300, err


def test_a_series_run_trained_on_a_npy_scores_and_evaluates_a_csv(world, tmp_path):
    """A .npy has no channel names: its run reads a table's channels by position (it refused any
    CSV: 'lacks the model's columns '0', '1'')."""
    values = [line.split(",")[1:3] for line in (world / "series.csv").read_text().splitlines()]
    (tmp_path / "v.csv").write_text("\n".join(",".join(v) for v in values) + "\n")
    argv = ["--window", "20", "--channels", "4,4", *COMMON, "--out", tmp_path / "r"]
    with one_torch_thread():
        assert _ok("train", "series", "--data", world / "series.npy", *argv)
    out = tmp_path / "s.csv"
    assert _ok("score", tmp_path / "r", "--input", tmp_path / "v.csv", "--output", out)
    assert len(out.read_text().splitlines()) == 301
    code, text, err = cli("evaluate", tmp_path / "r", "--data", tmp_path / "v.csv")
    assert code == 0 and json.loads(text)["n_steps"] == 300, err


def test_resume_with_quiet_added(world, tmp_path):
    run = _copy_run(world, tmp_path, "series")
    with one_torch_thread():
        code, _, err = cli("train", "series", "--out", run, "--resume", "--epochs", "2", "--quiet")
    assert code == 0, err
    assert len((run / "history.csv").read_text().splitlines()) == 3


def test_the_first_step_anomalous_is_never_answered_with_train_steps_0(world, tmp_path):
    text = (world / "series.csv").read_text().splitlines()
    text[1] = text[1][: text[1].rfind(",")] + ",1"  # step 0 labelled anomalous
    (tmp_path / "s.csv").write_text("\n".join(text) + "\n")
    argv = ["--time-column", "time", "--label-column", "label", "--window", "20"]
    code, _, err = cli(
        "train", "series", "--data", tmp_path / "s.csv", *argv, *COMMON, "--out", tmp_path / "r"
    )
    assert code == 2 and "step 0" in err and "--train-steps 0" not in err, err


def test_evaluate_with_every_step_normal_says_so(world):
    code, text, err = cli("evaluate", world / "series", "--data", world / "series.csv")
    assert code == 0, err
    assert "no step of series.csv is labelled anomalous" in json.loads(text)["warnings"][0]


def test_a_constant_channel_is_warned_with_a_fix(tmp_path):
    t = np.arange(300)
    rows = ["time,s1,flat"] + [f"{i},{np.sin(2 * np.pi * i / 20):.5f},7" for i in t]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    argv = ["--time-column", "time", "--window", "20", "--channels", "4,4"]
    code, _, err = cli(
        "train", "series", "--data", tmp_path / "s.csv", *argv, *COMMON, "--out", tmp_path / "r"
    )
    assert code == 0
    assert "warning: channel flat held one value" in err and "drop it" in err, err
