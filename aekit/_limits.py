"""The process's resource limits (``ulimit``), read where the system has them (not on Windows)."""

from __future__ import annotations


def soft_limit(name: str) -> int | None:
    """The soft limit ``name`` (``"RLIMIT_FSIZE"``, ``"RLIMIT_NOFILE"``, ...): None where it is
    unlimited, or unknown (no ``resource`` module, or no such limit on this system).

    Examples
    --------
    >>> soft_limit("RLIMIT_NOFILE") is None or soft_limit("RLIMIT_NOFILE") > 0
    True
    """
    try:
        import resource
    except ImportError:  # Windows
        return None
    try:
        soft = resource.getrlimit(getattr(resource, name))[0]
    except (AttributeError, OSError, ValueError):  # not a limit of this system
        return None
    return None if soft == resource.RLIM_INFINITY else soft
