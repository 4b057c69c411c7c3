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
    flops_per_sample: float | None = None  # a training step's work per sample: forward + backward

    @property
    def gflops(self) -> float:
        """Achieved GFLOP/s of training (the multiply-adds of the linear and conv layers)."""
        if not self.flops_per_sample or not self.sec_per_epoch:
            return float("nan")
        return self.flops_per_sample * self.n_train / self.sec_per_epoch / 1e9

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
    p.add_argument("--skip-peers", action="store_true", help="no Keras or pythae runs")
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


def training_flops(model: torch.nn.Module, sample: torch.Tensor) -> float | None:
    """A training step's floating-point work per sample: the forward's multiply-adds, times 3
    (the backward computes about twice the forward: the gradients of the inputs and the weights)."""
    from aekit.training.threads import forward_flops

    flops = forward_flops(model, sample[:1])
    return None if flops is None else 3 * flops


def cpu_peak_gflops() -> tuple[float | None, float]:
    """(theoretical, measured) fp32 GFLOP/s of this process's cores.

    Theoretical: cores x clock x SIMD lanes (16 with AVX-512, 8 with AVX2, 4 otherwise) x 2 FMA
    units x 2 (a fused multiply-add is two operations), the clock from /proc/cpuinfo (the nominal
    or current frequency; turbo and throttling move it). Measured: torch's fp32 matrix multiply of
    2048 x 2048 on every thread, the best of five: what a well-tiled kernel achieves here.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    theory = None
    try:
        info = Path("/proc/cpuinfo").read_text()
        mhz = max(
            float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")
        )
        flags = next(line for line in info.splitlines() if line.startswith("flags")).split()
        lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
        theory = cores * mhz / 1e3 * lanes * 2 * 2
    except (OSError, ValueError, StopIteration):
        pass
    a = torch.randn(2048, 2048)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t0)
    return theory, 2 * 2048**3 / best / 1e9


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
    head = f"{'':26s} {'epochs':>6s} {'s/epoch':>9s} {'samples/s':>11s} {'GFLOP/s':>8s} {mem:>12s} "
    print(head + " ".join(f"{k:>12s}" for k in keys))
    for r in results:
        print(
            f"{r.name:26s} {r.epochs:6d} {r.sec_per_epoch:9.3f} {r.samples_per_sec:11.0f} "
            f"{r.gflops:8.2f} {r.peak_mb:12.0f} "
            + " ".join(f"{r.quality.get(k, float('nan')):12.6g}" for k in keys)
        )
    if device.type == "cpu":
        theory, measured = cpu_peak_gflops()
        said = "unknown" if theory is None else f"{theory:.0f}"
        print(f"CPU peak fp32 GFLOP/s: theoretical {said} (cores x clock x SIMD lanes x 2 FMA x 2), "
              f"a 2048x2048 matmul reaches {measured:.0f}")  # fmt: skip
    if len(results) >= 2:
        a, b = results[-1], results[0]
        print(f"ratio {a.name} / {b.name}: s/epoch {a.sec_per_epoch / b.sec_per_epoch:.2f}x")
