"""Choosing the device: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

from ..errors import UsageError

DEVICES = ("cpu", "cuda", "mps")  # the device types aekit runs on


def resolve_device(name: str | None = "auto"):
    """Return a ``torch.device`` for ``name`` ("auto", "cpu", "cuda", "cuda:1", "mps").

    Under torchrun, "auto" and "cuda" mean this process's own GPU, ``cuda:LOCAL_RANK``.
    """
    import torch

    from . import distributed

    name = "auto" if name is None else str(name).lower()  # "" is no device: --device "$DEV" unset
    if name in ("auto", "cuda") and torch.cuda.is_available() and distributed.world_size() > 1:
        torch.cuda.set_device(distributed.local_rank())  # one GPU per process, picked by LOCAL_RANK
        return torch.device("cuda", distributed.local_rank())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    # torch parses more names than aekit runs on (meta, xla, hpu: internal errors after), and any
    # index ("cpu:99" trained on the CPU as if it named something)
    if device is None or device.type not in DEVICES or (device.type != "cuda" and device.index):
        raise UsageError(f"unknown device {name!r}; expected auto, cpu, cuda, cuda:N or mps")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            f"device {name!r} was asked for but CUDA is not available; use device='cpu' (--device cpu)"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError(
            f"device {name!r} was asked for but MPS is not available; use device='cpu' (--device cpu)"
        )
    return device
