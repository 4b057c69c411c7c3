"""aekit.training.threads: the thread choice as a pure function, its application, and the CLI's wait policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from torch import nn

from aekit.training import threads as T

from ..cli.helpers import REPO, assert_one_line_error, run_cli


@pytest.mark.parametrize(
    "cores, busy, flops, expected",
    [
        (2, 0.0, 30e6, 1),  # the anomaly detector's step: too small to split
        (2, 0.0, 1e9, 2),  # the VAE's step on a quiet machine: both cores
        (2, 0.4, 1e9, 2),  # a passing blip does not take a core
        (2, 1.0, 1e9, 1),  # one core busy: one thread
        (2, 2.0, 1e9, 1),  # both busy: still one, never zero
        (16, 3.0, 1e12, 13),  # the free cores bound a large step
        (16, 0.0, 5 * T.MIN_FLOPS_PER_THREAD, 5),  # one thread per MIN_FLOPS_PER_THREAD
        (4, 1.0, None, 3),  # work unknown: the free cores alone
    ],
)
def test_choose_threads(cores, busy, flops, expected):
    assert T.choose_threads(cores, busy, flops) == expected


def test_choose_threads_needs_a_core():
    with pytest.raises(ValueError):
        T.choose_threads(0, 0.0, None)


def test_forward_flops_counts_linear_and_conv_layers_and_leaves_the_model_as_it_was():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 8 * 8, 10)
    )
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    flops = T.forward_flops(model, torch.zeros(1, 1, 8, 8))
    conv = 2 * (4 * 8 * 8) * 1 * 9  # each output element: 9 multiply-adds over 1 input channel
    linear = 2 * 10 * 256
    assert flops == conv + linear
    assert model.training and torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert T.forward_flops(model, torch.zeros(1, 3)) is None  # a forward that fails: unknown


def test_using_threads_applies_and_restores():
    before = torch.get_num_threads()
    other = 2 if before == 1 else 1
    with T.using_threads(T.resolve(other)) as choice:
        assert torch.get_num_threads() == other and choice.reason == f"threads={other}"
    assert torch.get_num_threads() == before


def test_omp_num_threads_caps_the_automatic_choice(monkeypatch):
    monkeypatch.setattr(T, "machine_cores", lambda: 8)
    monkeypatch.setattr(T, "busy_cores", lambda: 0.0)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert T.resolve(None, 1e12).intra_op == 3
    # one of 4 processes under torchrun: 2 of the 8 cores
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert T.resolve(None, 1e12).intra_op == 2


def test_use_short_spin_is_too_late_once_torch_is_imported(monkeypatch):
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    assert T.use_short_spin() is False and "GOMP_SPINCOUNT" not in os.environ


def test_the_recorded_wait_policy_says_what_the_runtime_was_told(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setenv("GOMP_SPINCOUNT", "10000")
    assert T.wait_policy() == "spin 10000"
    monkeypatch.setenv("OMP_WAIT_POLICY", "passive")  # the user's own policy wins
    assert T.wait_policy() == "PASSIVE"


SPY = """
import importlib.abc, json, os, sys
seen = {}
class Spy(importlib.abc.MetaPathFinder):  # notes the environment when torch is first imported
    def find_spec(self, name, path, target=None):
        if name == "torch" and not seen:
            seen.update({k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")})
sys.meta_path.insert(0, Spy())
from aekit.cli.main import main
code = main(["train", "anomaly", "--data", sys.argv[1], "--out", sys.argv[2]])
print(json.dumps({"code": code, "torch": "torch" in sys.modules, **seen}))
"""


@pytest.mark.parametrize("user", [None, "50000"])
def test_cli_sets_the_wait_policy_before_torch_is_imported(tmp_path, user):
    env = {k: v for k, v in os.environ.items() if k not in (*T.SHORT_SPIN, "OMP_WAIT_POLICY")}
    if user:
        env["GOMP_SPINCOUNT"] = user  # the user's own setting stays
    proc = subprocess.run(
        [sys.executable, "-c", SPY, str(tmp_path / "missing.csv"), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    # torch was imported, then the missing file was reported
    assert seen["torch"] and seen["code"] == 2
    assert seen["GOMP_SPINCOUNT"] == (user or "10000") and seen["KMP_BLOCKTIME"] == "0"
    # not PASSIVE: sleeping at once costs the conv models 30-60% when quiet
    assert seen["OMP_WAIT_POLICY"] is None


@pytest.mark.parametrize("value, needle", [("0", ">= 1"), ("two", "whole number")])
def test_threads_option_is_checked(tmp_path, value, needle):
    proc = run_cli("train", "anomaly", "--threads", value, "--out", tmp_path / "r", check=None)
    assert_one_line_error(proc, 2, "--threads", needle)
    assert not (tmp_path / "r").exists()


def test_config_records_the_threads(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "rows.npy", rng.random((64, 6)).astype(np.float32))
    run_cli(
        "train",
        "stacked",
        "--data",
        tmp_path / "rows.npy",
        "--hidden",
        "4",
        "--latent-dim",
        "2",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--out",
        tmp_path / "run",
        "--no-figures",
    )
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["params"]["threads"] == 1
    assert config["threads"]["intra_op"] == 1 and config["threads"]["reason"] == "threads=1"
    assert config["threads"]["wait_policy"] == "spin 10000"


def test_threads_param_is_checked_before_training():
    from aekit import AnomalyDetector
    from aekit.errors import UsageError

    with pytest.raises(UsageError, match="threads"):
        AnomalyDetector(threads=0, epochs=1).fit(np.zeros((8, 4), np.float32))


def test_a_tiny_model_trains_on_one_thread_whatever_the_machine():
    from aekit import AnomalyDetector

    before = torch.get_num_threads()
    det = AnomalyDetector(hidden=(4,), latent_dim=2, epochs=1).fit(
        np.random.default_rng(0).random((32, 6))
    )
    assert det.threads_["intra_op"] == 1 and det.threads_["reason"].startswith("auto:")
    assert torch.get_num_threads() == before


def test_a_resumed_run_keeps_the_threads_it_started_with(tmp_path):
    from aekit import AnomalyDetector

    X = np.random.default_rng(0).random((32, 6))
    first = AnomalyDetector(hidden=(4,), latent_dim=2, epochs=1).fit(X, checkpoint_dir=tmp_path)
    assert (
        json.loads((tmp_path / T.CHOICE_FILE).read_text())["intra_op"]
        == first.threads_["intra_op"]
        == 1
    )
    T.record(T.resolve(2), tmp_path)  # as if the run had started on two threads
    resumed = AnomalyDetector(hidden=(4,), latent_dim=2, epochs=2).fit(
        X, checkpoint_dir=tmp_path, resume=True
    )
    assert resumed.threads_["intra_op"] == 2 and resumed.threads_["reason"].startswith("resumed")


def test_more_threads_than_cores_is_said_once(caplog):
    import logging

    from aekit.training.threads import resolve

    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        resolve(100_003)  # far more than any machine here
        resolve(100_003)
    said = [r for r in caplog.records if "threads=100003 is more than" in r.getMessage()]
    assert len(said) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        resolve(1)
    assert not caplog.records


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="reads /proc/stat")
def test_a_reading_after_a_quiet_spell_does_not_wait(monkeypatch):
    # a service asked every 10 s waited 0.1 s for a fresh look at the cores on every request
    monkeypatch.setattr(T, "_busy_reading", None)
    monkeypatch.setattr(T, "_last_look", None)
    assert 0.0 <= T.busy_cores() <= T.machine_cores()  # the first look watches for BUSY_WINDOW

    def no_wait(seconds):
        raise AssertionError(f"slept {seconds} s")

    monkeypatch.setattr(T.time, "sleep", no_wait)
    for _ in range(3):
        monkeypatch.setattr(T, "_busy_reading", None)  # the cached reading gone stale
        start = T.time.monotonic()
        while T.time.monotonic() - start < 2 * T.BUSY_WINDOW:  # own work, not the others'
            sum(i * i for i in range(10_000))
        assert 0.0 <= T.busy_cores() <= T.machine_cores()


def test_the_inter_op_pool_is_left_to_the_user():
    # sized at aekit's first call, the user's own torch.set_num_interop_threads failed after it
    code = (
        "import numpy as np, torch, aekit\n"
        "X = np.random.default_rng(0).normal(size=(60, 4)).astype('float32')\n"
        "aekit.Autoencoder(epochs=1, verbose=0).fit(X).transform(X)\n"
        "torch.set_num_interop_threads(3)\n"
        "print(torch.get_num_interop_threads())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == "3", out.stderr[-500:]


def test_overlapping_calls_in_threads_leave_the_users_thread_count():
    # the second call saved the first's setting and, finishing last, restored it
    import threading

    import aekit

    X = np.random.default_rng(0).normal(size=(100, 6)).astype(np.float32)
    det = aekit.AnomalyDetector(epochs=1, verbose=0, threads=1).fit(X)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    go = {"A": threading.Event(), "B": threading.Event()}
    inside = {"A": threading.Event(), "B": threading.Event()}

    def hold(module, args):
        name = threading.current_thread().name
        if name in go:
            inside[name].set()
            go[name].wait(30)

    handle = det.model_.register_forward_pre_hook(hold)
    try:
        calls = {
            n: threading.Thread(target=det.decision_function, args=(X[:5],), name=n) for n in go
        }
        calls["A"].start()
        inside["A"].wait(30)
        calls["B"].start()
        inside["B"].wait(30)
        go["A"].set()
        calls["A"].join()
        go["B"].set()
        calls["B"].join()
        fresh = []  # what a new thread (a web server's worker) starts with
        t = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
        t.start()
        t.join()
        assert torch.get_num_threads() == 2 and fresh == [2]
    finally:
        handle.remove()
        torch.set_num_threads(before)


def test_threads_past_the_process_limit_are_one_line_before_the_pool_starts(monkeypatch):
    """Probe 58 locked F6: --threads 8 under ulimit -u 5: libgomp's "Thread creation failed" and
    exit 1, no aekit line, the staging folder left behind."""
    import torch

    from aekit.errors import UsageError

    monkeypatch.setattr(T, "process_room", lambda: (5, 2))
    monkeypatch.setattr(T, "_POOL", [1])  # no pool started so far
    monkeypatch.setattr(T, "_own_threads", lambda: 1)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 16)  # a setting, not threads (review 2)
    with pytest.raises(UsageError, match=r"threads=8 .*ulimit -u 5.* room for 2; give at most 3"):
        T.resolve(8)
    assert T.resolve(3).intra_op == 3
    # review 58: the pool of 3 checked, threads=3 again starts none (predict after fit, each
    # request of a server): not refused, and /proc not read again
    monkeypatch.setattr(T, "process_room", lambda: pytest.fail("no thread to start: no scan"))
    assert T.resolve(3).intra_op == 3 and T.resolve(2).intra_op == 2
    # verify 58: threads=2 where the process runs 2 already (a pool started) starts none: it
    # trained at 9fa0c7a under ulimit -u 5 and was refused after the last epoch
    monkeypatch.setattr(T, "_POOL", [1])
    monkeypatch.setattr(T, "_own_threads", lambda: 2)
    assert T.resolve(2).intra_op == 2
    assert T._user_tasks(os.getuid()) >= threading.active_count()


@pytest.mark.parametrize(
    "value, readable",
    [
        ("4", True), (" 2,1 ", True), ("+4", True), ("9223372036854775807", True),
        ("abc", False), ("0", False), ("4,", False), ("", False), ("4,0", False),
        # review 63 #3: past a C long, and digits or spaces other than ASCII, libgomp refuses
        ("9223372036854775808", False), ("1\u0663", False), ("4\u00a0", False),
    ],
)  # fmt: skip
def test_a_thread_count_is_dropped_where_libgomp_would_refuse_it(monkeypatch, value, readable):
    monkeypatch.delitem(sys.modules, "torch")  # as if torch were not loaded yet (put back after)
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert T.drop_unreadable_thread_count() == (None if readable else value)
    assert ("OMP_NUM_THREADS" in os.environ) == readable
