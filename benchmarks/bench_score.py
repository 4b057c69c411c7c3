"""`aekit score` at scale: throughput and peak memory on 100,000 and 1,000,000 ECG-sized rows.

    python benchmarks/bench_score.py [--rows 100000,1000000]

Trains the ECG5000 recipe once (seconds), writes CSVs of N rows x 140 values (ECG5000 beats
repeated with a little noise), then times `aekit score` in a fresh process for each N and reads
that process's peak resident memory. Memory should stay roughly flat as N grows, because the
table is read, scored and written in chunks.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C  # noqa: F401  (sets AEKIT_DATA and sys.path)
import numpy as np


def write_csv(path: Path, rows: int, beats: np.ndarray, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write(",".join(f"v{i}" for i in range(beats.shape[1])) + "\n")
        for start in range(0, rows, 50_000):
            n = min(50_000, rows - start)
            chunk = beats[rng.integers(0, len(beats), n)] + 0.01 * rng.standard_normal(
                (n, beats.shape[1])
            )
            np.savetxt(f, chunk, fmt="%.4f", delimiter=",")


def run_score(run: Path, csv: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one `aekit score` process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aekit",
            "score",
            str(run),
            "--input",
            str(csv),
            "--output",
            str(out),
            "--overwrite",
        ],
        stdout=subprocess.DEVNULL,
    )
    # this child's own peak, not the largest child's so far
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"aekit score failed with exit code {proc.returncode}")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", default="100000,1000000")
    args = p.parse_args()
    from aekit.data import ecg5000_classic_split

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = tmp / "run"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "aekit",
                "train",
                "anomaly",
                "--dataset",
                "ecg5000",
                "--out",
                str(run),
                "--no-figures",
                "--quiet",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        train, _ = ecg5000_classic_split()
        # The run was trained on the built-in dataset (no column names): score by position.
        print(f"{'rows':>10s} {'csv MB':>8s} {'seconds':>8s} {'rows/s':>10s} {'peak RSS MB':>12s}")
        for rows in (int(r) for r in args.rows.split(",")):
            csv = tmp / f"rows{rows}.csv"
            write_csv(csv, rows, train.x)
            seconds, peak = run_score(run, csv, tmp / "scores.csv")
            with open(tmp / "scores.csv") as f:
                n_out = sum(1 for _ in f) - 1
            assert n_out == rows, (n_out, rows)
            print(
                f"{rows:10d} {csv.stat().st_size / 2**20:8.0f} {seconds:8.1f} {rows / seconds:10.0f} {peak:12.0f}",
                flush=True,
            )
            csv.unlink()


if __name__ == "__main__":
    main()
