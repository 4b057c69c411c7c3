import json
import os
import shutil

import numpy as np

from ..cli.helpers import cli_here


def _rows(tmp_path):
    r = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", r.normal(size=(200, 6)).astype(np.float32))
    np.save(tmp_path / "x2.npy", r.normal(size=(200, 6)).astype(np.float32) * 1.5)


def _train(tmp_path, run, data, *more):
    cli_here("train", "anomaly", "--data", tmp_path / data, "--epochs", "2", "--threads", "1",
             "--quiet", "--no-figures", "--out", run, *more)  # fmt: skip


def _replaced_with_its_folder_number_back(tmp_path, run):
    """A ``train --overwrite`` of other data ends, and the new run's folder gets the number of the
    folder read before (ext4 hands a removed folder's inode number to the next one made)."""
    aside = tmp_path / "aside"
    os.rename(run, aside)  # the version read keeps its inode here
    _train(tmp_path, run, "x2.npy", "--seed", "7", "--overwrite")
    for entry in list(aside.iterdir()):
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in list(run.iterdir()):
        os.rename(entry, aside / entry.name)
    run.rmdir()
    os.rename(aside, run)


def test_a_run_replaced_while_calibrate_read_it_is_refused_though_its_folder_number_came_back(
    tmp_path, monkeypatch
):
    """probe 59 races 1: 'replaced meanwhile' compared the run folder's inode number only, which
    ext4 reuses: the old training's config.json went in beside a newer training's weights."""
    import aekit.recipes.calibrate as C

    _rows(tmp_path)
    run = tmp_path / "run"
    _train(tmp_path, run, "x.npy")
    real = C.load_run

    def slow_read(path):  # another command ends while calibrate reads the run
        read = real(path)
        _replaced_with_its_folder_number_back(tmp_path, run)
        return read

    monkeypatch.setattr(C, "load_run", slow_read)
    proc = cli_here("calibrate", run, "--threshold", "fpr:0.3", check=1)
    assert "was replaced while this command read it" in proc.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["params"]["seed"] == 7 and "calibrated" not in config  # the new run, whole
