"""How much memory there is, and a one-line refusal of what cannot fit in it.

Commands estimate what their arguments will allocate (model parameters and activations,
output arrays, decoded images: :mod:`aekit.training.memory`) and call :func:`check_fits`
before allocating, so that a size far beyond the machine is one clear line rather than a
MemoryError traceback or the kernel's OOM killer.

The limit is the smallest of: the memory the kernel says is available (``MemAvailable``,
which counts reclaimable caches), what the process's cgroup still allows, and the address-space
limit (``ulimit -v``). Estimates are lower bounds, so a refusal means the command would fail.
"""

from __future__ import annotations

import os

from . import _cgroup
from ._limits import soft_limit
from .errors import TooLarge


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def _meminfo(key: str) -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """What this process's cgroup (v2, else v1; its own and its parents') still allows, if one sets
    a limit."""
    rooms = [
        max(0, cap - used)
        for cap, usage in _cgroup.memory_limits()
        if (used := _cgroup.read_int(usage)) is not None
    ]
    return min(rooms) if rooms else None


def available_bytes() -> int:
    """Bytes this process can still allocate, as far as the system tells (a generous figure)."""
    candidates = []
    avail = _meminfo("MemAvailable")
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # pragma: no cover - no sysconf (Windows)
            avail = None
    if avail is not None:
        candidates.append(avail)
    room = _cgroup_room()
    if room is not None:
        candidates.append(room)
    soft = soft_limit("RLIMIT_AS")
    if soft is not None and soft > 0:
        candidates.append(soft)
    return min(candidates) if candidates else 1 << 62


def check_fits(
    need: int, what: str, fix: str, *, limit: int | None = None, where: str = "memory"
) -> None:
    """Raise a one-line :class:`~aekit.errors.TooLarge` if ``need`` bytes exceed ``limit``
    (default: :func:`available_bytes`). ``what`` names the request, ``fix`` says what to change."""
    limit = available_bytes() if limit is None else limit
    if need > limit:
        raise TooLarge(
            f"{what} needs about {format_bytes(need)} of {where}, more than the {format_bytes(limit)} "
            f"available; {fix}"
        )
