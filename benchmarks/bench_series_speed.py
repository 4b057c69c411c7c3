"""The series detector's fit and scoring speed (issue 31): the grouped search against every reference.

    python benchmarks/bench_series_speed.py                  # quiet
    python benchmarks/bench_series_speed.py --busy 2         # beside two CPU-bound processes
    python benchmarks/bench_series_speed.py --cli 2000000    # and `aekit score` on 2M steps

On the issue's series (a 20,000-step training stretch of a generated sine of period 50 with noise,
window 50) and on the ECG-beat series (300 normal beats to train on, 200 beats to score): ``fit``'s
seconds, then ``score_samples`` on the steps after the training stretch twice in this process: through
the grouped search (the default, :class:`aekit.estimators.series.index.ClusterIndex`) and comparing every
reference in one product per chunk (what it replaced), with the largest difference between the two
scorings. ``--cli N`` adds ``aekit score`` on N generated steps in a fresh process (import, load,
reading the ``.npy`` and writing ``scores.csv`` included). Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from bench_contention import Neighbours, loadavg
from bench_series import long_series

import aekit
import aekit.estimators.series.neighbors as neighbors_module


def sine(n: int) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    x = np.sin(2 * np.pi * t / 50) + 0.1 * np.random.default_rng(0).standard_normal(n)
    x[n - n // 4 : n - n // 4 + 20] += 2.0  # one anomaly, so there is something to find
    return x.astype(np.float32)[:, None]


def series(name: str, steps: int):
    if name == "sine":
        x = sine(20_000 + steps)
        return x[:20_000], x[20_000:]
    from aekit.data.labelled_series import ecg_beat_series

    train, test, _ = ecg_beat_series(0, 300, 200, 8)
    return train, test


def _score(det, test) -> tuple[np.ndarray, float]:
    det.score_samples(test[:2000])  # the index is built once per loaded detector: not timed here
    t0 = time.perf_counter()
    scores = det.score_samples(test)
    return scores, time.perf_counter() - t0


def measure(name: str, steps: int) -> None:
    train, test = series(name, steps)
    t0 = time.perf_counter()
    det = aekit.SeriesDetector(device="cpu").fit(train)
    fit = time.perf_counter() - t0
    refs = len(det.neighbors_.references_)
    grouped, seconds = _score(det, test)
    indexed_at = neighbors_module.INDEXED
    neighbors_module.INDEXED = 1 << 62  # every reference, one product per chunk
    det.neighbors_._index = None
    try:
        every, every_seconds = _score(det, test)
    finally:
        neighbors_module.INDEXED = indexed_at
    diff = float(np.max(np.abs(grouped - every)))
    print(
        f"{name:5s} {len(train):>7,d} {refs:>7,d} {det.window_:>6d} {fit:6.2f} "
        f"{len(test):>8,d} {len(test) / seconds:>11,.0f} {len(test) / every_seconds:>11,.0f} "
        f"{diff:10.1e}",
        flush=True,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--busy", type=int, default=0, help="CPU-bound processes beside the runs")
    p.add_argument("--steps", type=int, default=200_000, help="sine steps scored in Python")
    p.add_argument("--cli", type=int, default=0, help="also `aekit score` on this many steps")
    args = p.parse_args()
    import torch

    print(f"torch {torch.__version__}, {os.cpu_count()} cores, {args.busy} busy processes beside")
    with Neighbours(args.busy):
        print(f"load average at the start: {loadavg()}")
        print(
            f"{'series':5s} {'train':>7s} {'refs':>7s} {'window':>6s} {'fit s':>6s} {'scored':>8s} "
            f"{'grouped/s':>11s} {'every/s':>11s} {'max diff':>10s}"
        )
        for name in ("sine", "ecg"):
            measure(name, args.steps)
        if args.cli:
            long_series(args.cli, 1, None)
        print(f"load average at the end: {loadavg()}")


if __name__ == "__main__":
    main()
