"""The cgroup folders whose limits apply to this process (a container's, a batch job's).

A container with its own cgroup namespace sees its cgroup at the mount's root
(``/sys/fs/cgroup``); a batch job (SLURM, HTCondor) or a systemd slice does not: its limits are in
the folder that ``/proc/self/cgroup`` names, or in one of that folder's parents. Both cgroup v2
(the ``0::`` line, mounted at ``/sys/fs/cgroup`` or, on a hybrid system, ``/sys/fs/cgroup/unified``)
and v1 (one mount per controller, ``/sys/fs/cgroup/cpu``, ``/sys/fs/cgroup/memory``) are read.
"""

from __future__ import annotations

from pathlib import Path

PROC_CGROUP = "/proc/self/cgroup"
MOUNT = "/sys/fs/cgroup"


def folders(controller: str) -> list[Path]:
    """The folders to read ``controller``'s (``"cpu"``, ``"memory"``) limits in: this process's own
    cgroup and its parents (v2, then v1), then the mounts' roots; those that do not exist included
    (a file read there fails as a missing file does)."""
    root = Path(MOUNT)
    found: list[Path] = []
    for names, path in _membership():
        if names == "":  # v2: one hierarchy for every controller
            mounts = [root, root / "unified"]
        elif controller in names.split(","):
            mounts = [root / controller]
        else:
            continue
        for mount in mounts:
            found += _chain(mount, path)
    for folder in (root, root / controller):
        if folder not in found:
            found.append(folder)
    return found


def _membership() -> list[tuple[str, str]]:
    """(controllers, path) per line of /proc/self/cgroup: ``"4:memory:/job_1"`` -> ("memory", "/job_1")."""
    try:
        lines = Path(PROC_CGROUP).read_text().splitlines()
    except OSError:  # not Linux, or no /proc
        return []
    pairs = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            pairs.append((parts[1], parts[2]))
    return pairs


def _chain(mount: Path, path: str) -> list[Path]:
    """``mount/a/b``, ``mount/a`` for the path ``/a/b`` (the root is added last by the caller); none
    for a path outside this namespace's view (``/../x``)."""
    parts = [p for p in path.split("/") if p]
    if ".." in parts:
        return []
    return [mount.joinpath(*parts[:n]) for n in range(len(parts), 0, -1)]


# a memory limit and the usage beside it: cgroup v2's files, then v1's
MEMORY_FILES = (
    ("memory.max", "memory.current"),
    ("memory.limit_in_bytes", "memory.usage_in_bytes"),
)
NO_LIMIT = 1 << 60  # v1's "no limit" is a number near 2**63 ("max" in v2)


def memory_limits() -> list[tuple[int, Path]]:
    """(limit in bytes, the file of its usage) of each cgroup over this process that sets one:
    the memory cap of a table's rows (aekit.data.sizing) and the room a model may take
    (aekit._memory) read the same limits."""
    found = []
    for folder in folders("memory"):
        for limit, usage in MEMORY_FILES:
            cap = read_int(folder / limit)
            if cap is not None and cap < NO_LIMIT:
                found.append((cap, folder / usage))
                break
    return found


def read_int(path: Path) -> int | None:
    """A cgroup file's number; None for "max" (no limit) or a file that cannot be read."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdecimal() else None
