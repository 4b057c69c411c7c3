"""Scoring Parquet parts: one process against a Dask cluster of worker processes on this machine.

    python benchmarks/bench_dask.py [--rows 400000] [--parts 8] [--features 16] [--workers 2]

Trains an anomaly detector with aekit's defaults on a synthetic table (a few seconds), writes ROWS
rows in PARTS Parquet files, then scores them into Parquet parts twice, with the same code:

* 1 process: each part in turn in this process (aekit.dask.files.score_file, the model loaded once),
  the single-machine baseline;
* a LocalCluster of WORKERS processes (1 thread each) on 127.0.0.1: ``aekit.dask.score_files``, as
  ``aekit score RUN --input 'data/*.parquet' --output scores/ --dask ADDRESS`` runs it, twice: on
  fresh workers (the time includes their torch import and loading the model, once per worker) and
  again on the same workers; not the cluster's start.

It prints rows per second (wall clock) and rows per CPU second (the processes' own CPU time, which
the machine's other load does not change) for each, and each worker's peak memory. On a machine
shared with other work the wall-clock figures follow its load; rows per CPU second say what each
worker costs, and so how the cluster scales where each worker has a core of its own.
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import time
from pathlib import Path

import _common as C  # noqa: F401  (sets AEKIT_DATA and sys.path)
import numpy as np


def write_parts(folder: Path, rows: int, parts: int, features: int) -> None:
    import pandas as pd

    rng = np.random.default_rng(0)
    folder.mkdir()
    size = rows // parts
    for i in range(parts):
        x = rng.normal(size=(size, features)).astype(np.float32)
        df = pd.DataFrame(x, columns=[f"f{j}" for j in range(features)])
        df.insert(0, "id", np.arange(i * size, (i + 1) * size))
        df.to_parquet(folder / f"part-{i:03d}.parquet")


def train(root: Path, features: int) -> Path:
    import pandas as pd

    from aekit.cli.main import main

    x = np.random.default_rng(1).normal(size=(5000, features)).astype(np.float32)
    pd.DataFrame(x, columns=[f"f{j}" for j in range(features)]).to_csv(
        root / "train.csv", index=False
    )
    args = [
        "train",
        "anomaly",
        "--data",
        str(root / "train.csv"),
        "--epochs",
        "5",
        "--device",
        "cpu",
    ]
    if main([*args, "--out", str(root / "run"), "--quiet", "--no-figures"]) != 0:
        raise SystemExit("training failed")
    return root / "run"


def peak_mib() -> float:
    """This process's peak resident memory in MiB: VmHWM (getrusage's ru_maxrss survives exec, so a
    worker would report the size of the process that started it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def cpu_seconds() -> float:
    """User and system CPU time of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_process(run: Path, files: list[Path], out: Path) -> tuple[float, float]:
    """(seconds, CPU seconds) to score every part in this process (the model loaded before)."""
    from aekit.dask.files import score_file
    from aekit.dask.frames import estimator, ship

    shipped = ship(estimator(run, "scores", {}))
    out.mkdir()
    t0, c0 = time.perf_counter(), cpu_seconds()
    for f in files:
        score_file(str(f), str(out / f.name), shipped=shipped, id_column="id")
    return time.perf_counter() - t0, cpu_seconds() - c0


def on_cluster(run: Path, data: Path, out: Path, workers: int):
    """[(seconds, the workers' CPU seconds)] of score_files, first on fresh workers then again on the
    same workers, and each worker's peak RSS in MiB, on a fresh LocalCluster."""
    from distributed import Client, LocalCluster

    from aekit.dask import score_files

    timed = []
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        for attempt in ("cold", "warm"):
            c0 = sum(client.run(cpu_seconds).values())
            t0 = time.perf_counter()
            score_files(
                run,
                str(data / "*.parquet"),
                str(out / attempt),
                scheduler=cluster.scheduler_address,
            )
            seconds = time.perf_counter() - t0
            timed.append((seconds, sum(client.run(cpu_seconds).values()) - c0))
        peaks = client.run(peak_mib)
    return timed, list(peaks.values())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=400_000)
    p.add_argument("--parts", type=int, default=8)
    p.add_argument("--features", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        root = Path(tmp)
        run = train(root, args.features)
        write_parts(root / "data", args.rows, args.parts, args.features)
        files = sorted((root / "data").glob("*.parquet"))
        logging.getLogger("distributed").setLevel(logging.WARNING)  # the CLI's logging is on
        single = one_process(run, files, root / "single")
        timed, peaks = on_cluster(run, root / "data", root / "cluster", args.workers)
    n = args.rows
    print(f"{n:,} rows x {args.features} features in {args.parts} Parquet parts, default detector")
    print(f"{'':44s} {'seconds':>8s} {'rows/s':>9s} {'CPU s':>7s} {'rows/CPU s':>10s}")
    rows = [("1 process (model loaded before)", *single)]
    for label, (seconds, cpu) in zip(
        ("fresh workers (torch, model load)", "the same workers again"), timed
    ):
        rows.append((f"{args.workers} workers, {label}", seconds, cpu))
    for label, seconds, cpu in rows:
        print(f"{label:44s} {seconds:8.1f} {n / seconds:9,.0f} {cpu:7.1f} {n / cpu:10,.0f}")
    print(f"peak memory per worker: {', '.join(f'{m:.0f} MiB' for m in peaks)}")


if __name__ == "__main__":
    main()
