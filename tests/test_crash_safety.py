"""Issue 10: SIGKILL a real training process at several points; the run being built (``.RUN.partial``
beside RUN) must always hold a loadable checkpoint (latest.json names a complete safetensors file),
every final-named file must be complete, RUN must not appear before the run is complete, and
``--resume`` must finish the run. (Kill-after-epoch-3 exact resume: tests/cli/test_cli.py; every fault
during every operation: tests/test_faults.py.)"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import numpy as np

from .badinput import check_run_folder, cli, proc_cli


def _wait_for(pred, proc, deadline: float) -> bool:
    while time.time() < deadline and proc.poll() is None:
        if pred():
            return True
        time.sleep(0.001)
    return False


def _temp_file_in(folder):
    def seen() -> bool:
        try:
            return any(
                e.name.startswith(".") and e.name.endswith(".tmp") for e in os.scandir(folder)
            )
        except FileNotFoundError:
            return False

    return seen


def _epoch(work):
    try:
        return json.loads((work / "checkpoint" / "latest.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


EPOCHS = 12  # enough that three kills (the last after up to 3 s) all land before the run ends


def test_sigkill_mid_epoch_during_checkpoint_write_and_at_random_then_resume(tmp_path):
    rng = random.Random(0)
    X = np.random.default_rng(0).random((400, 512)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    run, work = tmp_path / "run", tmp_path / ".run.partial"
    # ~2M parameters: each checkpoint (weights + Adam moments) is ~25 MB, so its write takes a while.
    args = [
        "train",
        "stacked",
        "--data",
        tmp_path / "x.npy",
        "--hidden",
        "2048",
        "--latent-dim",
        "8",
        "--epochs",
        str(EPOCHS),
        "--batch-size",
        "100",
        "--no-figures",
        "--quiet",
        "--out",
        run,
        "--resume",
    ]
    caught_in_write = 0
    for point in ("checkpoint-write", "mid-epoch", "random"):
        proc = proc_cli(*args)
        deadline = time.time() + 60
        start_epoch = _epoch(work)
        if point == "checkpoint-write":
            hit = _wait_for(_temp_file_in(work / "checkpoint"), proc, deadline)
            caught_in_write += hit
        elif point == "mid-epoch":
            _wait_for(lambda start=start_epoch: _epoch(work) > start, proc, deadline)
            time.sleep(rng.uniform(0.02, 0.3))
        else:
            time.sleep(rng.uniform(0.3, 3.0))  # during start-up, data loading or training
        assert proc.poll() is None, f"training finished before the {point} kill; make it longer"
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert not run.exists()  # a run appears only once complete
        # hidden *.tmp may remain after SIGKILL; every final name is complete
        check_run_folder(work)
        code, _, err = cli("evaluate", run)
        assert code == 1 and "interrupted" in err and "--resume" in err, err
    assert caught_in_write >= 1, "never caught a checkpoint write in progress"

    code, out, err = cli(*args)  # in-process: resume to the end
    assert code == 0, err
    check_run_folder(run, allow_tmp=False)  # resuming cleared the dead writer's temp files
    hist = (run / "history.csv").read_text().strip().splitlines()
    assert len(hist) == 1 + EPOCHS
    assert json.loads((run / "metrics.json").read_text())["epochs"] == EPOCHS
    assert json.loads((run / "config.json").read_text())["status"] == "done"
    import aekit

    assert aekit.load(run, device="cpu").transform(X[:3]).shape == (3, 8)
