"""Issue 10: two ``aekit train --out SAME`` at once: one trains, the other refuses at once with one
line (the run folder's lock), a reader is told the run is still being written, and the finished run
is intact."""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np

from .badinput import assert_one_line, check_run_folder, cli, proc_cli, snapshot

EPOCHS = 4  # the winner is stopped (SIGSTOP) while it is checked, so its run need only outlast the loser's refusal


def test_two_trainings_into_one_folder(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((4000, 64)).astype(np.float32))
    run = tmp_path / "run"
    args = [
        "train",
        "stacked",
        "--data",
        tmp_path / "x.npy",
        "--hidden",
        "64",
        "--latent-dim",
        "4",
        "--epochs",
        EPOCHS,
        "--batch-size",
        "8",
        "--no-figures",
        "--quiet",
        "--out",
        run,
    ]
    procs = [proc_cli(*args), proc_cli(*args)]
    done: dict[int, tuple] = {}
    while len(done) < 1:  # wait for the first one to end: it must be the refusal
        for i, p in enumerate(procs):
            if p.poll() is not None and i not in done:
                done[i] = p.communicate()
        time.sleep(0.01)
    (loser,) = done
    winner = procs[1 - loser]
    assert winner.poll() is None, "both finished; the loser did not refuse at once"
    out, err = done[loser]
    line = assert_one_line(procs[loser].returncode, err, procs[loser].returncode)
    assert procs[loser].returncode in (1, 2), err
    assert "in use" in line or "already exists" in line, line

    # While the winner trains, even --overwrite must not touch its folder, and readers say it is training. The
    # winner is stopped (SIGSTOP) from its first checkpoint until these are checked: no race with its end, whatever
    # the load; a stopped process still holds its lock.
    while (
        not (tmp_path / ".run.partial" / "checkpoint" / "latest.json").exists()
        and winner.poll() is None
    ):
        time.sleep(0.005)
    # ended before its first checkpoint was seen (a crash, or a test process starved past its whole run)
    assert winner.poll() is None, winner.communicate()
    os.kill(winner.pid, signal.SIGSTOP)
    try:
        assert winner.poll() is None, "the winner finished before it was stopped; make it longer"
        code, _, err = cli(*args, "--overwrite")
        assert_one_line(code, err, 1, ["in use", "lock"])
        code, _, err = cli("evaluate", run)
        assert_one_line(code, err, 1, ["still being written", "wait"])
    finally:
        os.kill(winner.pid, signal.SIGCONT)

    out, err = winner.communicate(timeout=300)
    assert winner.returncode == 0, err
    check_run_folder(run, allow_tmp=False)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == EPOCHS
    assert len((run / "history.csv").read_text().strip().splitlines()) == 1 + EPOCHS
    import aekit

    assert aekit.load(run, device="cpu").transform(np.zeros((2, 64), np.float32)).shape == (2, 4)
    before = snapshot(run)  # and a third try afterwards is refused without --overwrite, untouched
    code, _, err = cli(*args)
    assert_one_line(code, err, 2, ["already exists", "--overwrite"])
    assert snapshot(run) == before
