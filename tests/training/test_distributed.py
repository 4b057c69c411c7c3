"""Distributed training: torchrun + DDP (gloo on the CPU) follows the 1-process trajectory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from aekit.cli.cmd_train import _without_nproc
from aekit.training import distributed
from aekit.training.loop import _shard

from ..cli.helpers import REPO, assert_one_line_error, cli_here, run_cli

ARGS = [
    "--latent-dim",
    "4",
    "--epochs",
    "3",
    "--batch-size",
    "30",
    "--device",
    "cpu",
    "--no-figures",
    "--quiet",
    "--seed",
    "3",
]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("ddp") / "X.npy"
    rng = np.random.default_rng(0)
    # 406 rows -> 325 for training: a short last batch (325 = 10 * 30 + 25) that the shards must pad.
    np.save(path, rng.random((406, 12), dtype=np.float32))
    return path


def _weights(run):
    return load_file(str(run / "model.safetensors"))


def _max_diff(a, b):
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def test_shards_cover_the_global_batch():
    batch = torch.arange(10)
    shards = [_shard(batch, r, 3) for r in range(3)]
    assert [len(s) for s in shards] == [4, 4, 4]  # padded to a multiple of the world size
    assert set(torch.cat(shards).tolist()) == set(range(10))
    assert torch.equal(_shard(batch, 0, 1), batch)
    assert [len(_shard(torch.arange(1), r, 4)) for r in range(4)] == [1, 1, 1, 1]


def test_alone_everything_is_one_process(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    assert (distributed.world_size(), distributed.rank(), distributed.is_main_process()) == (
        1,
        0,
        True,
    )
    assert distributed.init(torch.device("cpu")) is False
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    assert (distributed.world_size(), distributed.rank(), distributed.is_main_process()) == (
        4,
        2,
        False,
    )


def test_cluster_launcher_environment(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLURM_PROCID", "1")
    monkeypatch.setenv("SLURM_NTASKS", "2")
    # SLURM alone is not enough: MASTER_ADDR says where to meet
    assert distributed.world_size() == 1
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    assert (distributed.world_size(), distributed.rank()) == (2, 1)


def test_nproc_is_dropped_from_the_children_command_line():
    assert _without_nproc(["train", "basic", "--nproc", "2", "--epochs", "1"]) == [
        "train",
        "basic",
        "--epochs",
        "1",
    ]
    assert _without_nproc(["train", "basic", "--nproc=2"]) == ["train", "basic"]


def test_two_processes_match_one_with_the_same_global_batch_and_resume_from_the_checkpoint(
    table, tmp_path
):
    """Two workers train 1 epoch, then resume to 3: the same weights as 3 epochs in one process (one test, two
    launches: each torchrun start costs seconds). A constant schedule, so 1 epoch + 2 more is 3 at once."""
    constant = ["--schedule", "constant"]
    one, two = tmp_path / "one", tmp_path / "two"
    # one process: this one
    cli_here("train", "basic", "--data", table, "--out", one, *ARGS, *constant)
    proc = run_cli(
        "train",
        "basic",
        "--data",
        table,
        "--out",
        two,
        "--nproc",
        "2",
        *ARGS,
        *constant,
        "--epochs",
        "1",
    )
    # rank 0 reports alone
    assert "run folder" in proc.stdout and proc.stdout.count("run folder") == 1
    assert len((two / "history.csv").read_text().splitlines()) == 2
    resumed = run_cli(
        "-v",  # the log of one process: each epoch was logged once per process (probe 58)
        "train",
        "basic",
        "--data",
        table,
        "--out",
        two,
        "--nproc",
        "2",
        "--resume",
        "--epochs",
        "3",
        "--quiet",
        "--no-figures",
    )

    assert resumed.stderr.count("epoch 3/3") == 1, resumed.stderr
    assert _max_diff(_weights(one), _weights(two)) < 1e-5
    m1, m2 = (json.loads((r / "metrics.json").read_text()) for r in (one, two))
    assert m2["val_mse"] == pytest.approx(m1["val_mse"], rel=1e-4)
    h1, h2 = ((r / "history.csv").read_text().splitlines() for r in (one, two))
    assert len(h1) == len(h2) == 4
    # Only rank 0 wrote: one run folder, with exactly what a 1-process run writes.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]
    assert sorted(p.name for p in two.rglob("*")) == sorted(p.name for p in one.rglob("*"))


def test_a_failing_distributed_run_says_so_once(table, tmp_path):
    proc = run_cli(
        "train",
        "basic",
        "--data",
        tmp_path / "missing.npy",
        "--out",
        tmp_path / "r",
        "--nproc",
        "2",
        check=None,
    )
    assert_one_line_error(proc, 2, "missing.npy")
    assert not (tmp_path / "r").exists()


def test_a_distributed_process_exits_after_its_exit_handlers_and_output(tmp_path):
    """exit_process skips the C++ teardown (it can abort under gloo) but not Python's handlers."""
    marker = tmp_path / "handler-ran"
    code = (
        "import atexit, pathlib, sys; from aekit.training import distributed\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes')\n"
        "sys.stdout.write('buffered, not yet flushed')\n"
        "distributed.exit_process(3)\n"
        "print('never here')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    assert proc.stdout == "buffered, not yet flushed"
    assert marker.read_text() == "yes"


@pytest.mark.parametrize(
    "env, bad",
    [
        ({"WORLD_SIZE": "abc"}, "WORLD_SIZE='abc'"),
        ({"WORLD_SIZE": "2", "RANK": "x", "MASTER_ADDR": "127.0.0.1"}, "RANK='x'"),
        # F9: rank 1 said nothing (only rank 0 reports, and there is none); torch's own error for
        # a missing MASTER_PORT was an internal error; aekit's own variable by hand: a silent 137
        ({"RANK": "1", "WORLD_SIZE": "2"}, "MASTER_ADDR is not set"),
        (
            {"SLURM_PROCID": "3", "SLURM_NTASKS": "4", "MASTER_ADDR": "127.0.0.1"},
            "MASTER_PORT is not set",
        ),
        ({"AEKIT_LAUNCHER_PID": "1", "WORLD_SIZE": "2"}, "AEKIT_LAUNCHER_PID=1"),
    ],
)
def test_a_malformed_launch_environment_is_one_line(table, tmp_path, env, bad):
    proc = run_cli(
        "train",
        "basic",
        "--data",
        table,
        "--out",
        tmp_path / "r",
        "--epochs",
        "1",
        "--quiet",
        check=None,
        env=env,
    )
    assert_one_line_error(proc, 2, bad)
    assert not (tmp_path / "r").exists()


def test_a_malformed_launch_environment_is_said_before_the_data_are_read(tmp_path):
    """Stop 64: the launch environment was read when the process group was joined, after the data
    were read and the network built (and a rank other than 0 then waited 5 s for a rank 0 that
    was never there); now first, so a missing data file is not what is said."""
    env = {"RANK": "1", "WORLD_SIZE": "2"}
    proc = run_cli("train", "basic", "--data", tmp_path / "none.csv", check=None, env=env)
    assert_one_line_error(proc, 2, "MASTER_ADDR is not set")


def test_local_world_size_is_checked_where_a_launch_reads_it(monkeypatch):
    """Probe 58 locked F8: a malformed LOCAL_WORLD_SIZE was an internal error (ValueError) of the
    memory check; alone (review 2) a stray one, even empty, is not this run's and trained before."""
    from aekit.errors import UsageError
    from aekit.training import distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    for stray in ("", "abc"):
        monkeypatch.setenv("LOCAL_WORLD_SIZE", stray)
        assert distributed.local_world_size() == 1
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(UsageError, match="LOCAL_WORLD_SIZE='abc'"):
        distributed.local_world_size()


def test_a_launcher_pid_beyond_any_pid_is_one_line(table, tmp_path):
    # review 2 of probe 58: os.kill's OverflowError escaped as a traceback
    env = {"AEKIT_LAUNCHER_PID": "99999999999999999999", "WORLD_SIZE": "2"}
    proc = run_cli("train", "basic", "--data", table, "--out", tmp_path / "r", check=None, env=env)
    assert proc.returncode == 137 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "has ended" in proc.stderr


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux)."""
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            kids += [int(k) for k in f.read().split()]
    return kids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def _launch_and_wait_for_a_checkpoint(table, run, *extra):
    argv = [
        "train",
        "basic",
        "--data",
        table,
        "--out",
        run,
        "--nproc",
        "2",
        *ARGS,
        "--epochs",
        "10000",
        *extra,
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "aekit", *map(str, argv)],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    latest = run.parent / f".{run.name}.partial" / "checkpoint" / "latest.json"

    def epoch() -> int:
        try:
            return json.loads(latest.read_text())["epoch"]
        except (OSError, ValueError, KeyError):
            return 0

    start, deadline = epoch(), time.time() + 180
    # a new checkpoint: training
    while epoch() <= start and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    workers = _children(proc.pid) if proc.poll() is None else []
    if epoch() <= start or len(workers) != 2:
        _stop(proc, workers)
        pytest.fail(f"no new checkpoint from 2 workers: {workers} {proc.communicate()}")
    return proc, workers


def _stop(proc: subprocess.Popen | None, workers: list[int]) -> None:
    """Kill what a failed test may have left running (only processes still alive)."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    for pid in workers:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's"
)
def test_a_stopped_distributed_run_says_so_once_and_leaves_no_worker(table, tmp_path):
    """SIGTERM to the launcher: one line, exit 143, the workers gone. SIGKILL to the launcher: the workers die too."""
    run = tmp_path / "r"
    proc, workers = _launch_and_wait_for_a_checkpoint(table, run)
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert err.strip().splitlines() == ["aekit: interrupted; resume with --resume"], err
        assert not any(_alive(w) for w in workers)
        assert (
            not run.exists() and (tmp_path / ".r.partial" / "checkpoint" / "latest.json").exists()
        )
    finally:
        _stop(proc, workers)

    proc, workers = _launch_and_wait_for_a_checkpoint(table, run, "--resume")
    try:
        os.kill(proc.pid, signal.SIGKILL)  # no chance to stop its workers: they must die with it
        proc.wait()
        deadline = time.time() + 30
        while any(_alive(w) for w in workers) and time.time() < deadline:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "a worker outlived its launcher"
    finally:
        _stop(None, workers)


def _listening(port: int) -> bool:
    """Whether a process listens on 127.0.0.1:``port`` (it cannot be bound), touching no server."""
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def test_a_rank_waiting_for_the_others_stops_on_sigterm(table, tmp_path):
    """verify2 V1 (stop 58): RANK=0 WORLD_SIZE=2 launched alone waited in torch's C++ join, where
    Python's signal handlers never ran: SIGTERM and Ctrl-C ignored for 30 minutes. Now one line and
    128 + SIGTERM at once, and nothing written."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0",
           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}  # fmt: skip
    cmd = [sys.executable, "-m", "aekit", "train", "anomaly", "--data", str(table),
           "--out", str(tmp_path / "r"), *ARGS]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not _listening(port) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None and _listening(port), "rank 0 never listened for the others"
        time.sleep(0.5)  # inside the join's wait
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err
    assert not (tmp_path / "r").exists()


def test_a_master_port_in_use_is_one_line(table, tmp_path):
    """verify 59: rank 0 given a MASTER_PORT another program listens on said "internal error:
    DistNetworkError: The server socket has failed to listen ... EADDRINUSE"; now one line naming
    the port."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": str(port)}  # fmt: skip
        proc = run_cli(
            "train", "anomaly", "--data", table, "--out", tmp_path / "r", *ARGS, check=None,
            env=env,
        )  # fmt: skip
    assert_one_line_error(proc, 2, f"MASTER_PORT {port} is in use")
    assert not (tmp_path / "r").exists()
