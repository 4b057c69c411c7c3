"""Shared helpers of the benchmark scripts: timing, peak memory, and the side-by-side table.

Each script runs a plain PyTorch loop of a recipe and aekit's version of the same recipe in the
same process, then prints seconds per epoch, samples per second, peak memory and final quality,
and the ratio between them. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if "AEKIT_DATA" not in os.environ and (REPO.parent / "shared" / "datasets").is_dir():
    os.environ["AEKIT_DATA"] = str(REPO.parent / "shared" / "datasets")


@dataclass
class Result:
    name: str
    epochs: int
    n_train: int
    seconds: list[float] = field(default_factory=list)  # per epoch
    quality: dict[str, float] = field(default_factory=dict)
    peak_mb: float = 0.0

    @property
    def sec_per_epoch(self) -> float:
        return sum(self.seconds) / max(1, len(self.seconds))

    @property
    def samples_per_sec(self) -> float:
        return self.n_train / self.sec_per_epoch if self.sec_per_epoch else float("nan")


def parse_args(description: str, epochs: int, batch_size: int, **extra) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--skip-plain", action="store_true")
    for name, default in extra.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def device_of(name: str) -> torch.device:
    from aekit.training.device import resolve_device

    return resolve_device(name)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_mb(device: torch.device) -> float:
    """Peak GPU memory on CUDA, else the process's peak resident memory (MB)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() / 2**20
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class Timer:
    def __init__(self, device):
        self.device = device

    def __enter__(self):
        sync(self.device)
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        sync(self.device)
        self.seconds = time.perf_counter() - self.t0


def report(title: str, results: list[Result], device: torch.device) -> None:
    """Print the side-by-side table (and the ratio of the first to the last row)."""
    print(f"\n{title}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch "
        f"{torch.__version__}, threads {torch.get_num_threads()}, device {device}"
        + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else "")
    )
    keys = sorted({k for r in results for k in r.quality})
    mem = "peak GPU MB" if device.type == "cuda" else "peak RSS MB"
    head = f"{'':24s} {'epochs':>6s} {'s/epoch':>9s} {'samples/s':>11s} {mem:>12s} " + " ".join(
        f"{k:>12s}" for k in keys
    )
    print(head)
    for r in results:
        print(
            f"{r.name:24s} {r.epochs:6d} {r.sec_per_epoch:9.3f} {r.samples_per_sec:11.0f} {r.peak_mb:12.0f} "
            + " ".join(f"{r.quality.get(k, float('nan')):12.6g}" for k in keys)
        )
    if len(results) >= 2:
        a, b = results[-1], results[0]
        print(f"ratio {a.name} / {b.name}: s/epoch {a.sec_per_epoch / b.sec_per_epoch:.2f}x")
