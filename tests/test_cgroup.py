"""The cgroup limits of this process's own cgroup (a batch job's), read from a fake /proc and /sys."""

from __future__ import annotations

import pytest

from aekit import _cgroup, _memory
from aekit.data import sizing
from aekit.training import threads

GiB = 1 << 30


def _tree(tmp_path, monkeypatch, membership: str, files: dict[str, str]):
    proc = tmp_path / "cgroup"
    proc.write_text(membership)
    mount = tmp_path / "sys"
    for name, text in files.items():
        (mount / name).parent.mkdir(parents=True, exist_ok=True)
        (mount / name).write_text(text)
    monkeypatch.setattr(_cgroup, "PROC_CGROUP", str(proc))
    monkeypatch.setattr(_cgroup, "MOUNT", str(mount))


V1 = "4:memory:/job_7/step_0\n3:cpu,cpuacct:/job_7/step_0\n1:name=systemd:/\n0::/\n"


def test_a_v1_jobs_own_cpu_quota_and_memory_limit_are_seen(tmp_path, monkeypatch):
    """A SLURM-like job (0.5 CPU, 2 GiB) without a cgroup namespace got 2 cores and a memory cap
    of a quarter of the host's: only the root cgroup's files were read."""
    _tree(tmp_path, monkeypatch, V1, {
        "cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n",
        "cpu/job_7/step_0/cpu.cfs_quota_us": "50000\n",
        "cpu/job_7/step_0/cpu.cfs_period_us": "100000\n",
        "memory/memory.limit_in_bytes": "9223372036854771712\n",
        "memory/job_7/memory.limit_in_bytes": f"{2 * GiB}\n",  # set on the job, not the step
        "memory/job_7/memory.usage_in_bytes": f"{GiB // 2}\n",
    })  # fmt: skip
    monkeypatch.delenv("AEKIT_MEMORY_CAP", raising=False)
    assert threads._cgroup_quota() == 0.5
    assert threads.machine_cores() == 1
    assert sizing._physical_memory() == 2 * GiB
    assert sizing.default_memory_cap() == GiB // 2
    assert _memory._cgroup_room() == GiB + GiB // 2


def test_a_v2_cgroups_own_limits_and_the_tightest_parent(tmp_path, monkeypatch):
    _tree(tmp_path, monkeypatch, "0::/user.slice/job.scope\n", {
        "user.slice/cpu.max": "300000 100000\n",
        "user.slice/job.scope/cpu.max": "max 100000\n",
        "user.slice/job.scope/memory.max": f"{3 * GiB}\n",
        "user.slice/job.scope/memory.current": f"{GiB}\n",
    })  # fmt: skip
    assert threads._cgroup_quota() == 3.0
    assert sizing._physical_memory() == 3 * GiB
    assert _memory._cgroup_room() == 2 * GiB


@pytest.mark.parametrize("membership", ["0::/\n", "", "0::/../../elsewhere\n"])
def test_a_containers_root_cgroup_is_still_read(tmp_path, monkeypatch, membership):
    _tree(tmp_path, monkeypatch, membership, {"cpu.max": "150000 100000\n", "memory.max": "max\n"})
    assert threads._cgroup_quota() == 1.5
    assert _memory._cgroup_room() is None


def test_no_limits_anywhere(tmp_path, monkeypatch):
    _tree(tmp_path, monkeypatch, V1, {"cpu/cpu.cfs_quota_us": "-1\n"})
    assert threads._cgroup_quota() is None
    assert _memory._cgroup_room() is None
