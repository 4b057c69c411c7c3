"""Training on several processes with PyTorch's own engine: torch.distributed + DistributedDataParallel.

Processes are started by ``torchrun`` (``aekit train ... --nproc N`` calls it for you, see
:func:`launch`) or by a cluster launcher that sets the same environment: ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT`` (SLURM's ``SLURM_PROCID``,
``SLURM_NTASKS`` and ``SLURM_LOCALID`` are read when those are missing). Without that
environment everything here answers "one process" and the loop runs as usual.

The process group is created lazily, on the first :func:`init` (the training loop calls it),
with NCCL for CUDA tensors and gloo for CPU tensors.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from ..errors import RunFailure, UsageError

logger = logging.getLogger(__name__)

LAUNCHER_ENV = "AEKIT_LAUNCHER_PID"  # set by launch() for its workers: the pid they die with
_STOP_SIGNALS = (2, 15, 1)  # SIGINT, SIGTERM, SIGHUP: a stopped run, not a failed one


class LaunchError(UsageError):
    """The launch environment itself is wrong (a malformed WORLD_SIZE, no MASTER_ADDR): every process
    says so, as there may be no rank 0 to (a stale RANK=1 WORLD_SIZE=2 in the shell)."""


_SLURM = {"RANK": "SLURM_PROCID", "WORLD_SIZE": "SLURM_NTASKS", "LOCAL_RANK": "SLURM_LOCALID"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None and name in _SLURM and "MASTER_ADDR" in os.environ:
        # srun without torchrun, with MASTER_ADDR set by the user
        value = os.environ.get(_SLURM[name])
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise LaunchError(f"environment variable {name}={value!r} is not a whole number") from None


def world_size() -> int:
    """Number of training processes (1 when not launched by torchrun or a cluster launcher)."""
    return max(1, _env_int("WORLD_SIZE", 1))


def rank() -> int:
    """This process's rank, 0..world_size()-1 (0 when alone)."""
    return _env_int("RANK", 0) if world_size() > 1 else 0


def local_rank() -> int:
    """This process's index on its machine; it picks the GPU."""
    return _env_int("LOCAL_RANK", 0) if world_size() > 1 else 0


def local_world_size() -> int:
    """Number of training processes on this machine (torchrun's LOCAL_WORLD_SIZE)."""
    if world_size() == 1:  # alone: a stray LOCAL_WORLD_SIZE (even empty) is not this run's
        return 1
    return max(1, _env_int("LOCAL_WORLD_SIZE", world_size()))


def is_main_process() -> bool:
    """True on the one process that writes files and reports (rank 0)."""
    return rank() == 0


def check_environment() -> None:
    """The launch environment read whole, before any data or torch loads: a malformed
    ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` or ``LOCAL_WORLD_SIZE``, or a rendezvous without its
    address or port, is one :class:`LaunchError` at once (:func:`init` found them only after the
    data were read and the network built)."""
    if world_size() > 1:
        rank(), local_rank(), local_world_size()
        _check_rendezvous()


def init(device) -> bool:
    """Join the process group when launched as several processes; return whether distributed.

    ``device`` is the training device: CUDA tensors use NCCL, CPU tensors gloo.
    """
    if world_size() == 1:
        return False
    import torch.distributed as dist

    if not dist.is_available():  # pragma: no cover - builds without distributed support
        raise RunFailure("this PyTorch build has no torch.distributed; train with one process")
    if not dist.is_initialized():
        os.environ.setdefault("RANK", str(rank()))
        os.environ.setdefault("WORLD_SIZE", str(world_size()))
        os.environ.setdefault("LOCAL_RANK", str(local_rank()))
        _check_rendezvous()
        backend = "nccl" if getattr(device, "type", str(device)) == "cuda" else "gloo"
        _join(backend)
        # A group left open at exit can abort the process ("terminate called ..."); we opened it, we close it.
        atexit.register(_destroy)
        logger.info("rank %d/%d joined the %s process group", rank(), world_size(), backend)
    return True


def _join(backend: str, say_after: float = 10.0) -> None:
    """``init_process_group`` on a helper thread, waited for in slices of half a second.

    torch's join waits in C++ for every other process (up to its 30-minute timeout), and Python's
    signal handlers run only between bytecodes: a rank launched alone (``RANK=0 WORLD_SIZE=2``, a
    node not up yet) ignored Ctrl-C and SIGTERM until then. Waited for here, the main thread
    takes them and unwinds as on any stop (the helper thread dies with the process). A wait of
    more than ``say_after`` seconds is said once: which processes it waits for, and where.
    """
    import torch.distributed as dist

    done, failed = threading.Event(), []

    def join() -> None:
        try:
            dist.init_process_group(backend=backend)
        except BaseException as exc:  # raised again on the main thread, as if called there
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=join, name="aekit-join", daemon=True).start()
    waited = 0.0
    while not done.wait(0.5):
        waited += 0.5
        if waited == say_after:
            logger.warning(
                "rank %d: waiting for the other %d of %d processes to join at %s:%s (stop: Ctrl-C)",
                rank(), world_size() - 1, world_size(), os.environ["MASTER_ADDR"],
                os.environ["MASTER_PORT"],
            )  # fmt: skip
    if failed:
        if "EADDRINUSE" in str(failed[0]):  # torch's DistNetworkError: an internal error to the CLI
            raise LaunchError(
                f"MASTER_PORT {os.environ['MASTER_PORT']} is in use on this machine (another "
                f"training, or another program); give a free port, or launch with aekit train "
                f"... --nproc N, which picks one"
            ) from None
        raise failed[0]


def _check_rendezvous() -> None:
    """torch's env:// rendezvous needs MASTER_ADDR and a MASTER_PORT (else an error of its own)."""
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if name not in os.environ:
            raise LaunchError(
                f"WORLD_SIZE > 1 but {name} is not set; launch with torchrun "
                "or aekit train ... --nproc N"
            )
    _env_int("MASTER_PORT", 0)


def _destroy() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor):
    """Sum ``tensor`` over all processes in place (a no-op alone)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier() -> None:
    """Wait until every process gets here (a no-op alone)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def wait_for_main() -> None:
    """On a process other than rank 0: wait for rank 0 to reach its matching :func:`barrier`."""
    try:
        barrier()
    except RuntimeError:  # rank 0 failed and left the group; it reports why
        raise RunFailure("another process of this distributed run failed") from None


def finish() -> None:
    """Wait for every process, then close the process group (a no-op alone).

    Rank 0 still writes the run folder after training. Were the others to exit first, torchrun
    would stop rank 0 half-way, and a process leaving a group its peers still use can abort.
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        except RuntimeError:  # a peer failed and left the group; it reports why
            raise RunFailure("another process of this distributed run failed") from None
        dist.destroy_process_group()


def exit_process(code: int) -> NoReturn:
    """End a process of a distributed run with ``code``, skipping the C++ runtime's teardown.

    Even after :func:`finish` closed the group, a gloo thread can still be joinable when the
    C++ runtime destroys its statics at exit, and ``std::terminate`` then aborts the process
    ("terminate called without an active exception"): 4 runs in 30 on a loaded 2-core machine,
    which torchrun reports as a failed run. By now every file is written and closed, so run
    Python's exit handlers (they remove temporary spill files), flush, and leave at once.
    """
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


@contextlib.contextmanager
def main_process_first(device):
    """Run the block on rank 0 first and on the other ranks after it (a no-op alone).

    For work that writes shared files, such as downloading a dataset: two processes writing
    the same ``.part`` file would corrupt it. If rank 0 fails, torchrun stops the others.
    """
    if not init(device):
        yield
        return
    if not is_main_process():
        try:
            barrier()  # wait for rank 0 to finish the block
        except RuntimeError:  # rank 0 failed and left the group; it reports why
            raise RunFailure("another process of this distributed run failed") from None
    yield
    if is_main_process():
        barrier()  # let the others in


def launch(argv: Sequence[str], nproc: int) -> int:
    """Run ``python -m aekit *argv`` as ``nproc`` processes on this machine under torchrun.

    Returns the exit code of the failed process (its error line is printed by rank 0), or 0.
    For several machines run ``torchrun --nnodes ... -m aekit ...`` yourself.
    """
    if world_size() > 1:
        raise UsageError(
            "--nproc was given inside a distributed launch; drop --nproc under torchrun"
        )
    # Each process gets an equal share of the cores it may use (torchrun would set 1 and warn about
    # it); each then picks its threads within that share (aekit.training.threads).
    from .threads import machine_cores

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, machine_cores() // nproc)))
    # the workers die with this process, and leave reporting to it
    os.environ[LAUNCHER_ENV] = str(os.getpid())
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    from ..errors import Interrupted

    # The children report; torchrun's chatter is noise. Its modules' loggers set their own levels, so each is quieted.
    noisy = ("torch.distributed.elastic", "torch.distributed.run", "torch.distributed.launcher")
    for name in [*noisy, *(n for n in logging.root.manager.loggerDict if n.startswith(noisy))]:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    args = get_args_parser().parse_args(
        [
            "--standalone",
            f"--nproc-per-node={nproc}",
            "--max-restarts=0",
            "--module",
            "aekit",
            *argv,
        ]
    )
    try:
        run(args)  # what the torchrun command does, in this process
    # torchrun stopped the workers with the same signal; we report it
    except SignalException as exc:
        raise Interrupted(int(exc.sigval)) from None
    except ChildFailedError as exc:
        # Rank 0's code first: the others may fail only because rank 0 left (exit 1) or be stopped.
        failures = [exc.failures[r] for r in sorted(exc.failures)]  # keyed by global rank
        code = next((f.exitcode for f in failures if f.exitcode and f.exitcode > 0), 1)
        # the first process was stopped by a signal sent to it alone
        if code - 128 in _STOP_SIGNALS:
            raise Interrupted(code - 128) from None
        return code
    return 0


def max_processes(device) -> tuple[int, str]:
    """How many training processes this machine can run on ``device`` (a torch.device), and why: one per
    GPU, else one per CPU core."""
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        n = torch.cuda.device_count()
        return n, f"{n} GPU{'s' if n != 1 else ''}"
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return n, f"{n} CPU core{'s' if n != 1 else ''} available to this process"
