"""How many CPU threads torch trains with, and how they wait: speed that holds on a busy machine.

PyTorch splits each CPU op over intra-op threads (OpenMP) that meet at a barrier when the op
ends. A thread that arrives first spins there, burning its core, and on a machine where other
processes want the cores the thread it waits for may not be running at all, so that a small
model trains many times slower on 2 threads than on 1 (issue 22; the figures, from
benchmarks/bench_contention.py, are in docs/guide/scale.md). Two things keep that from happening:

* The wait policy: threads spin only briefly at the barrier before they sleep
  (``GOMP_SPINCOUNT=10000`` for GNU libgomp, which torch's Linux wheels use, instead of its
  default 300,000; ``KMP_BLOCKTIME=0`` for Intel's libiomp and LLVM's libomp). Sleeping at once
  (``OMP_WAIT_POLICY=PASSIVE``) slows the conv denoiser and the VAE on a quiet machine, since
  their next op arrives within microseconds, and a long spin is what costs beside CPU-bound
  processes; a short spin keeps most of both (docs/guide/scale.md). The OpenMP
  runtime reads these once, when torch is imported, so :func:`use_short_spin` must run before
  that: the CLI calls it first thing (it imports torch lazily). In Python, set them in the
  environment before ``import torch``; once torch is imported only the thread counts can still change.
* The thread count: :func:`choose_threads` gives one thread to small steps (a tiny dense model on
  a small batch gains nothing from a second thread, and its ops are too short to share) and, for
  larger steps, no more threads than the cores that are free now. ``threads=`` on an estimator
  (``--threads N`` on the command line) overrides it; ``OMP_NUM_THREADS``, when set, caps it.

The choice is made when training (or a batch of predictions) starts and applied for its duration
(:func:`using_threads`); the run's ``config.json`` records it, and a resumed run keeps it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import _cgroup
from .._limits import soft_limit
from ..errors import UsageError
from .identity import ID, THREADS, checkpoint_id, new_id
from .rng import borrowed_rng

logger = logging.getLogger(__name__)

# What the OpenMP runtimes read at start-up: spin briefly at barriers, then sleep.
SHORT_SPIN = {
    "GOMP_SPINCOUNT": "10000",  # GNU libgomp: spins before sleeping (default 300,000)
    "KMP_BLOCKTIME": "0",
}  # Intel libiomp / LLVM libomp: ms to spin before sleeping

# Floating-point operations of an optimizer step per thread it is worth: below this a step's ops
# are too short to share (most of them under torch's grain of 32,768 elements, so they run on one
# thread anyway) and a second thread only adds wake-ups and barriers. The recipes on either side:
# the basic autoencoder (~20 MFLOP a step) and the anomaly detector (~30 MFLOP) get one thread;
# the stacked autoencoder and the convolutional denoiser (~90 MFLOP) and the VAE (~1 GFLOP), which
# trained on 2 threads before, keep two when the cores are free. benchmarks/bench_contention.py
# measures both sides.
MIN_FLOPS_PER_THREAD = 40e6


@dataclasses.dataclass(frozen=True)
class ThreadChoice:
    """The threads a training used and why; recorded in the run's ``config.json``."""

    intra_op: int  # torch.set_num_threads: threads inside each op
    # torch.set_num_interop_threads: ops run side by side (fixed once torch has used it)
    inter_op: int
    reason: str  # "threads=N", or what the automatic choice saw
    wait_policy: str  # how the OpenMP runtime's threads wait, as its environment said at start-up

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def choose_threads(cores: int, busy: float, flops_per_step: float | None) -> int:
    """The intra-op threads for a training step: a pure function of what the machine offers.

    ``cores``: the cores this process may use (its affinity, cgroup quota and share under
    ``--nproc``). ``busy``: how many of them other processes keep busy now. ``flops_per_step``:
    the work of one step on a batch, forward and backward for training (None when unknown: the
    free cores decide alone).

    One thread per :data:`MIN_FLOPS_PER_THREAD` of work, at most the free cores, at least one.
    """
    if cores < 1:
        raise ValueError(f"cores must be >= 1, got {cores}")
    free = max(1, cores - math.floor(max(0.0, busy) + 0.5))  # a half-busy core counts as busy
    if flops_per_step is None:
        return free
    by_work = max(1, int(flops_per_step // MIN_FLOPS_PER_THREAD))
    return min(free, by_work)


# ---- what the machine offers ----------------------------------------------------------------------


def machine_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota (containers)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity call
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cores, math.ceil(quota)) if quota else cores)


def _cgroup_quota() -> float | None:
    """CPUs allowed by a cgroup v2 (``cpu.max``) or v1 (``cpu.cfs_quota_us``) quota, None when unlimited:
    the smallest of this process's own cgroup's and its parents' (a batch job's), a container's."""
    quotas = [q for q in map(_folder_quota, _cgroup.folders("cpu")) if q is not None]
    return min(quotas) if quotas else None


def _folder_quota(folder: Path) -> float | None:
    """The CPU quota set in one cgroup folder, None when none is (or none can be read)."""
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]  # v2: "50000 100000"
    except (OSError, ValueError):
        try:  # v1: two files
            quota = (folder / "cpu.cfs_quota_us").read_text().strip()
            period = (folder / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    try:
        return None if quota in ("max", "-1") else int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def process_share(cores: int) -> int:
    """This process's share of ``cores`` when it is one of several on the machine (torchrun's ``--nproc``)."""
    try:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    except ValueError:
        local = 1
    return max(1, cores // max(1, local))


BUSY_WINDOW = 0.1  # seconds over which busy_cores watches the cores (10 ticks of /proc/stat)
# seconds a reading stays good, so that back-to-back calls (predict after fit) pay once
BUSY_CACHE = 5.0
_busy_reading: tuple[float, float] | None = None  # (time.monotonic() when read, busy cores)
# the last look at /proc/stat: (time.monotonic(), per-core ticks, this process's CPU seconds); a
# later reading measures from it without waiting, while it is at most LOOK_KEPT seconds old
_last_look: tuple[float, dict, float] | None = None
LOOK_KEPT = 600.0


def busy_cores() -> float:
    """How many of this process's cores other processes keep busy now (0.0 .. its cores).

    Linux: the share of time each core this process may run on was not idle over the last
    :data:`BUSY_WINDOW` seconds (``/proc/stat``), summed; while it watches, this process sleeps,
    so what it sees is the others' use of exactly its cores. Under a cgroup quota smaller than
    the cores it may run on, the machine's busy share scaled to the quota. Elsewhere (or if
    ``/proc/stat`` cannot be read) the 1-minute load average, which lags by a minute.
    """
    global _busy_reading
    now = time.monotonic()
    if _busy_reading is not None and now - _busy_reading[0] < BUSY_CACHE:
        return _busy_reading[1]
    busy = _busy_since_last()
    if busy is None:
        busy = _busy_from_proc_stat()
    if busy is None:
        try:
            busy = min(float(machine_cores()), os.getloadavg()[0])
        except (AttributeError, OSError):  # Windows
            busy = 0.0
    _busy_reading = (time.monotonic(), busy)
    return busy


def _cpu_times() -> dict[int, tuple[int, int]]:
    """(busy, total) clock ticks of each core since boot, from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdecimal():
                name, *fields = line.split()
                ticks = [
                    int(x) for x in fields[:8]
                ]  # user nice system idle iowait irq softirq steal
                out[int(name[3:])] = (sum(ticks) - ticks[3] - ticks[4], sum(ticks))
    return out


def _busy_since_last() -> float | None:
    """The others' use of this process's cores since the last look (:data:`_last_look`), this
    process's own CPU time taken out, without waiting; None when there is no recent look.

    A call after :data:`BUSY_CACHE` seconds of quiet (a service asked every 10 s) waited
    :data:`BUSY_WINDOW` for a fresh look: 111 ms for an answer of 6.
    """
    global _last_look
    if _last_look is None or time.monotonic() - _last_look[0] > LOOK_KEPT:
        return None
    then, first, own_before = _last_look
    if time.monotonic() - then < BUSY_WINDOW:  # too few clock ticks since to measure: as then
        return None if _busy_reading is None else _busy_reading[1]
    try:
        now, second, own = time.monotonic(), _cpu_times(), time.process_time()
    except (OSError, ValueError, IndexError):
        return None
    _last_look = (now, second, own)
    busy = _shares(first, second)
    if busy is None:
        return None
    return max(0.0, busy - (own - own_before) / (now - then))


def _busy_from_proc_stat() -> float | None:
    global _last_look
    try:
        first = _cpu_times()
        time.sleep(BUSY_WINDOW)
        second = _cpu_times()
    except (AttributeError, OSError, ValueError, IndexError):
        return None
    _last_look = (time.monotonic(), second, time.process_time())
    return _shares(first, second)


def _shares(first: dict, second: dict) -> float | None:
    """Busy cores of this process's between two :func:`_cpu_times` readings."""
    try:
        mine = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    shares = []
    for cpu in mine:
        if cpu in first and cpu in second and second[cpu][1] > first[cpu][1]:
            shares.append((second[cpu][0] - first[cpu][0]) / (second[cpu][1] - first[cpu][1]))
    if not shares:
        return None
    cores = machine_cores()
    if cores < len(shares):  # a quota, not an affinity mask: the machine's busy share of our quota
        return sum(shares) / len(shares) * cores
    return sum(shares)


def env_cap() -> int | None:
    """``OMP_NUM_THREADS`` as a whole number >= 1, when set (an upper bound on the automatic choice)."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip().removeprefix("+")
    return int(value) if value.isascii() and value.isdigit() and int(value) >= 1 else None


# what the OpenMP runtime reads: whole numbers from 1 to a C long's largest, one per nesting
# level, separated by commas, in ASCII (libgomp refuses "1\u0663" and a no-break space)
_THREAD_COUNTS = re.compile(r"\s*\+?\d+\s*(?:,\s*\+?\d+\s*)*", re.ASCII)
_LONG_MAX = 2**63 - 1


def drop_unreadable_thread_count() -> str | None:
    """Take an ``OMP_NUM_THREADS`` the OpenMP runtime cannot read ("abc", "0", "") out of this
    process's environment before torch loads it, and return it: aekit ignores such a value
    (:func:`env_cap`), and libgomp would print "Invalid value for environment variable" on two
    lines of every command. None when it is readable, unset, or torch is loaded already."""
    value = os.environ.get("OMP_NUM_THREADS")
    if value is None or "torch" in sys.modules or _readable_counts(value):
        return None
    del os.environ["OMP_NUM_THREADS"]
    return value


# ---- the wait policy ------------------------------------------------------------------------------


def _readable_counts(value: str) -> bool:
    """Whether libgomp reads ``value`` as thread counts (:data:`_THREAD_COUNTS`, none too large)."""
    if not _THREAD_COUNTS.fullmatch(value):
        return False
    return all(1 <= int(v.strip().lstrip("+")) <= _LONG_MAX for v in value.split(","))


def use_short_spin() -> bool:
    """Make OpenMP threads spin only briefly at barriers, if torch is not imported yet.

    Sets :data:`SHORT_SPIN` in the environment, leaving values the user set alone (an
    ``OMP_WAIT_POLICY`` of the user's own wins over the spin count); returns whether it was in
    time (the OpenMP runtime reads them when torch loads it).
    """
    if "torch" in sys.modules:
        logger.debug("torch is already imported; the OpenMP wait policy stays as it started")
        return False
    for name, value in SHORT_SPIN.items():
        os.environ.setdefault(name, value)
    return True


def wait_policy() -> str:
    """How the OpenMP runtime's threads wait, as far as its environment at start-up tells: ``PASSIVE``,
    ``ACTIVE``, ``spin N`` (libgomp's spin count) or "" (the runtime's default: a long spin)."""
    policy = os.environ.get("OMP_WAIT_POLICY", "").upper()
    if policy:
        return policy
    spins = os.environ.get("GOMP_SPINCOUNT", "")
    return f"spin {spins}" if spins else ""


# ---- applying a choice ----------------------------------------------------------------------------


def resolve(threads: int | None, flops_per_step: float | None = None) -> ThreadChoice:
    """The threads to train with: ``threads`` when given, else :func:`choose_threads` on this machine."""
    if threads is not None:
        _check_process_limit(threads)
        _say_oversubscribed(threads)
        return ThreadChoice(
            intra_op=threads, inter_op=1, reason=f"threads={threads}", wait_policy=wait_policy()
        )
    cores = process_share(machine_cores())
    busy = busy_cores()
    n = choose_threads(cores, busy, flops_per_step)
    cap = env_cap()
    work = "unknown" if flops_per_step is None else f"{flops_per_step / 1e6:.0f} MFLOP"
    reason = f"auto: {cores} cores, {busy:.1f} busy, {work} a step"
    if cap is not None and cap < n:
        n, reason = cap, f"{reason}, OMP_NUM_THREADS={cap}"
    return ThreadChoice(intra_op=n, inter_op=1, reason=reason, wait_policy=wait_policy())


_SAID: set[int] = set()  # thread counts already named in a note (once a process)


def process_room() -> tuple[int, int] | None:
    """(``ulimit -u``, the threads this user may still start under it); None where it is unlimited,
    not known (no /proc) or not applied (root)."""
    soft = soft_limit("RLIMIT_NPROC")
    if soft is None or os.geteuid() == 0:
        return None
    used = _user_tasks(os.getuid())
    return None if used is None else (soft, max(0, soft - used))


def _user_tasks(uid: int) -> int | None:
    """The threads of all processes of ``uid`` (what RLIMIT_NPROC counts), None without /proc."""
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError, IndexError):  # gone meanwhile, or not readable
            continue
    return total


def _check_process_limit(threads: int) -> None:
    """One line before the thread pool starts: past ``ulimit -u`` libgomp exits the process with
    "Thread creation failed" and no word from aekit (its staging folder left behind)."""
    # torch's get_num_threads() is a setting, not threads started; this process's own threads
    # (a pool started already) are counted by the limit, and need not be started again
    pool = max(_POOL[0], _own_threads())
    if threads <= pool:  # checked already for a pool this size: no scan of /proc per predict
        return
    room = process_room()
    if room is not None and threads - pool > room[1]:
        raise UsageError(
            f"threads={threads} needs {threads - pool} more threads, but the process limit "
            f"(ulimit -u {room[0]}) leaves room for {room[1]}; give at most {room[1] + pool}, "
            "or raise ulimit -u"
        )
    _POOL[0] = threads


_POOL = [1]  # the largest thread pool checked against ulimit -u in this process (its threads run)


def _own_threads() -> int:
    """This process's threads (1 where /proc does not say)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return 1


def _say_oversubscribed(threads: int) -> None:
    """A note, once, for more threads than the cores this process may use: they wait on each other
    at every op (--threads 999 on 2 cores: a run about 60x slower)."""
    cores = process_share(machine_cores())
    if threads > cores and threads not in _SAID:
        from .._notes import note

        _SAID.add(threads)
        note(
            f"threads={threads} is more than the {cores} cores this process may use: the threads "
            f"wait on each other, which is slower; give at most {cores}, or leave it to aekit"
        )


# In a run's checkpoint folder: the threads it started with. A resumed run keeps them, because
# the thread count changes how sums are split and so the last bits of the weights: with the same
# count, a resumed run ends with the weights of an uninterrupted one.
CHOICE_FILE = THREADS


def recorded(checkpoint_dir: str | os.PathLike | None) -> ThreadChoice | None:
    """The choice a run recorded in its checkpoint folder, None if it has none (or an unreadable one)."""
    if checkpoint_dir is None:
        return None
    try:
        with open(os.path.join(checkpoint_dir, CHOICE_FILE)) as f:
            saved = json.load(f)
        n = int(saved["intra_op"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ThreadChoice(
        intra_op=max(1, n),
        inter_op=1,
        reason=f"resumed with the run's {n} (it chose: {saved.get('reason', '?')})",
        wait_policy=wait_policy(),
    )


def record(choice: ThreadChoice, checkpoint_dir: str | os.PathLike | None) -> None:
    """Write ``choice`` into the run's checkpoint folder (call it on the process that writes
    checkpoints), with the checkpoint's id: the first thing the run writes there, it tells the
    run's weights from the user's files before the first latest.json."""
    from .. import _io

    if checkpoint_dir is not None:
        os.makedirs(checkpoint_dir, exist_ok=True)
        body = {**choice.to_json(), ID: checkpoint_id(checkpoint_dir) or new_id()}
        _io.write_json(os.path.join(checkpoint_dir, CHOICE_FILE), body)


# The user's thread count, put back when the last of aekit's calls in any thread ends: each call
# saving and restoring its own, two overlapping calls in threads left aekit's count behind (the
# second saved the first's setting and restored it last; new threads then started with it)
_counting = threading.Lock()
_active = 0  # aekit's calls running now, in all threads
_users_count = 1
_calls = threading.local()


@contextlib.contextmanager
def using_threads(choice: ThreadChoice) -> Iterator[ThreadChoice]:
    """Run the block with ``choice``'s intra-op threads, restoring torch's setting after it; yield what applies.

    The inter-op pool (ops run side by side, which aekit's steps never do) is left as it is: torch
    sizes it once per process, and sizing it at aekit's first call made the user's own
    ``torch.set_num_interop_threads`` fail after it.
    """
    import torch

    global _active, _users_count
    stack = _calls.__dict__.setdefault("stack", [])  # this thread's calls, the innermost last
    with _counting:
        if _active == 0:
            _users_count = torch.get_num_threads()
        _active += 1
    stack.append(choice.intra_op)
    torch.set_num_threads(choice.intra_op)
    try:
        yield dataclasses.replace(choice, inter_op=torch.get_num_interop_threads())  # what it got
    finally:
        stack.pop()
        with _counting:
            _active -= 1
            if stack:  # back to the enclosing call's choice
                torch.set_num_threads(stack[-1])
            elif _active == 0:  # the last call of any thread: the user's own count back
                torch.set_num_threads(_users_count)


def forward_flops(model: Any, sample: Any) -> float | None:
    """Floating-point operations of ``model``'s forward pass on one sample (a backward pass is about twice that).

    Counts the multiply-adds of the linear and convolution layers (where the time goes) on a
    forward pass of ``sample`` (a batch of one) in eval mode, without gradients and on a lent
    RNG (:func:`~aekit.training.rng.borrowed_rng`), so the model, its statistics and the random
    streams are as before. (torch's own FlopCounterMode would do, but importing it takes
    seconds.) None when the model cannot be run that way.
    """
    import torch
    from torch import nn

    total = 0.0

    def count(module: nn.Module, inputs: tuple, output: Any) -> None:
        nonlocal total
        if isinstance(module, nn.Linear):
            total += 2.0 * output.numel() * module.in_features
        # each input element meets the kernel
        elif isinstance(module, nn.modules.conv._ConvTransposeNd):
            total += (
                2.0
                * inputs[0].numel()
                * module.out_channels
                / module.groups
                * math.prod(module.kernel_size)
            )
        elif isinstance(module, nn.modules.conv._ConvNd):  # each output element meets the kernel
            total += (
                2.0
                * output.numel()
                * module.in_channels
                / module.groups
                * math.prod(module.kernel_size)
            )

    hooks = [
        m.register_forward_hook(count)
        for m in model.modules()
        if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))
    ]
    was_training = model.training
    try:
        with borrowed_rng(), torch.no_grad():
            model.eval()
            model(sample)
    except (
        RuntimeError,
        TypeError,
        ValueError,
    ) as exc:  # an unusual forward: fall back to the free cores
        logger.debug(
            "could not count the FLOPs of a step (%s); choosing threads from the free cores", exc
        )
        return None
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return total
