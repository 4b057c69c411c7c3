"""Training from a .npy larger than the memory cap: peak memory and speed, streamed vs in memory.

    python benchmarks/bench_stream.py [--rows 1000000] [--cap 128M] [--epochs 1]

Writes N ECG-sized rows (140 float32 values) to a .npy in chunks, then trains the anomaly
detector with ``aekit train anomaly``'s defaults on it in a fresh process three ways and reads
each process's peak resident memory: aekit streaming past ``--memory-cap``, aekit with the file loaded into memory
(``--no-stream``), and a plain PyTorch loop over ``np.load(mmap_mode="r")`` batches (the usual
way to train from a memory-mapped file, whose touched pages stay resident).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C  # noqa: F401  (sets sys.path)
import numpy as np
from numpy.lib.format import open_memmap

PLAIN = r"""
import sys, time, numpy as np, torch
from torch import nn
X = np.load(sys.argv[1], mmap_mode="r")
n, d = X.shape
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(),
                      nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, d), nn.Sigmoid())
opt = torch.optim.Adam(model.parameters(), 1e-3)
lo, hi = 0.0, 1.0  # known range of the synthetic data (aekit learns it chunk by chunk)
t = time.perf_counter()
for epoch in range(int(sys.argv[2])):
    for idx in np.array_split(np.random.permutation(n), n // 512):
        xb = torch.from_numpy((X[np.sort(idx)] - lo) / (hi - lo)).float()
        opt.zero_grad()
        loss = nn.functional.l1_loss(model(xb), xb)
        loss.backward()
        opt.step()
print("seconds", (time.perf_counter() - t) / int(sys.argv[2]))
"""


def peak(cmd: list[str]) -> tuple[float, float, str]:
    """(peak RSS in MB, wall seconds, stdout) of ``cmd`` run in a fresh child of a fresh process."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stderr.write(p.stderr[-2000:]) if p.returncode else None; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - t); "
        "print(p.stdout)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True
    )
    first, _, rest = out.stdout.partition("\n")
    mb, wall = map(float, first.split())
    return mb, wall, rest


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--cap", default="128M")
    p.add_argument("--epochs", type=int, default=1)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.npy"
        X = open_memmap(path, mode="w+", dtype=np.float32, shape=(args.rows, 140))
        rng = np.random.default_rng(0)
        for i in range(0, args.rows, 100_000):
            X[i : i + 100_000] = rng.random((min(100_000, args.rows - i), 140), dtype=np.float32)
        X.flush()
        del X
        size_mb = path.stat().st_size / 2**20
        aekit = [
            sys.executable,
            "-m",
            "aekit",
            "train",
            "anomaly",
            "--data",
            str(path),
            "--epochs",
            str(args.epochs),
            "--no-figures",
            "--quiet",
            "--device",
            "cpu",
        ]
        rows = []
        t0 = time.perf_counter()
        for name, extra in (
            (f"aekit --memory-cap {args.cap} (streamed)", ["--memory-cap", args.cap]),
            ("aekit --no-stream (in memory)", ["--no-stream"]),
        ):
            mb, wall, out = peak([*aekit, *extra, "--out", str(Path(tmp) / name.split()[1])])
            metrics = dict(kv.split("=") for kv in out.split("\n")[1].split())
            rows.append((name, mb, float(metrics["train_seconds"]) / args.epochs, wall))
        mb, wall, out = peak([sys.executable, "-c", PLAIN, str(path), str(args.epochs)])
        rows.append(("plain loop over np.load(mmap_mode='r')", mb, float(out.split()[1]), wall))
        print(
            f"file: {args.rows:,} rows x 140 float32 = {size_mb:.0f} MB; anomaly defaults, batch 512, "
            f"{args.epochs} epoch(s); 80% of rows train (aekit)"
        )
        print(f"{'':44s} {'peak RSS MB':>12s} {'s/epoch':>9s} {'rows/s':>10s} {'wall s':>8s}")
        for name, mb, sec, wall in rows:
            n_train = args.rows * (0.8 if name.startswith("aekit") else 1.0)
            print(f"{name:44s} {mb:12.0f} {sec:9.2f} {n_train / sec:10.0f} {wall:8.1f}")
        print(
            f"(total {time.perf_counter() - t0:.0f} s; ru_maxrss counts the file pages a process touched)"
        )


if __name__ == "__main__":
    main()
