"""Anomalies in a long series: aekit's default against PyOD 3's time-series detectors, in one run.

    python benchmarks/bench_series.py [--series ucr ecg] [--threads 2] [--lstmad-epochs 50]
    python benchmarks/bench_series.py --long 10000000 [--long-stride 1]   # memory and throughput of aekit score
    python benchmarks/bench_series.py --beats       # ECG5000 beats: AnomalyDetector dense vs architecture="conv1d"

Two series: the UCR anomaly archive's 135_UCR_Anomaly_InternalBleeding16 (train on its *_TRAIN
prefix, score the whole *_TEST series) and a long ECG built from ECG5000 beats (a normal-only
stretch of ``--ecg-train`` beats to train on; ``--ecg-test`` beats to score, ``--ecg-anomalies``
of them anomalous beats of classes 2-5 put at seeded positions). Every detector uses aekit's
window (the signal's period): PyOD's ``MatrixProfile`` (transductive: it scores the series it is
fitted on, so it is fitted on the test series), ``LSTMAD`` and ``TimeSeriesOD`` with ``IForest``,
at their defaults otherwise. Printed per series and detector: point ROC-AUC and PR-AUC, range F1
(each detector's own threshold; existence-based, see aekit.estimators.series.metrics), the UCR
score, and fit and score seconds. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C
import numpy as np
import torch

import aekit
from aekit.data import data_root, load_builtin
from aekit.data.series import read_series
from aekit.estimators.series.metrics import series_metrics

UCR = "tsad/135_UCR_Anomaly_InternalBleeding16_{}.csv"


def ucr_series():
    """(train, test, labels) of the shared UCR series."""

    def read(part: str):
        return read_series(
            data_root() / UCR.format(part), time_column="timestamp", label_column="is_anomaly"
        )

    train, test = read("TRAIN"), read("TEST")
    return train.x, test.x, test.y


def ecg_series(n_train: int, n_test: int, n_anomalies: int, seed: int = 0):
    """(train, test, labels): ECG5000 beats end to end; the test part has anomalous beats at seeded places."""
    parts = [load_builtin("ecg5000", split) for split in ("train", "test")]
    x = np.concatenate([p.x for p in parts])
    y = np.concatenate([p.y for p in parts])
    rng = np.random.default_rng(seed)
    normal = rng.permutation(np.flatnonzero(y == 1))
    anomalous = rng.permutation(np.flatnonzero(y != 1))
    beats = list(normal[n_train : n_train + n_test])
    places = np.sort(rng.choice(np.arange(5, n_test - 5), n_anomalies, replace=False))
    labels = np.zeros(n_test, np.int64)
    for place, beat in zip(places, anomalous[:n_anomalies]):
        beats[place], labels[place] = beat, 1
    steps = x.shape[1]
    return (x[normal[:n_train]].reshape(-1, 1), x[beats].reshape(-1, 1), np.repeat(labels, steps))


def run_aekit(train, test, y, device):
    det = aekit.SeriesDetector(device=str(device))
    t0 = time.perf_counter()
    det.fit(train)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = det.score_samples(test)
    score = time.perf_counter() - t0
    return det.window_, scores, scores > det.threshold_, fit, score


def run_pyod(name, window, train, test, lstmad_epochs):
    from pyod.models.ts_lstm import LSTMAD
    from pyod.models.ts_matrix_profile import MatrixProfile
    from pyod.models.ts_od import TimeSeriesOD

    t0 = time.perf_counter()
    if name == "MatrixProfile":  # transductive: fitted on the series it scores
        det = MatrixProfile(window_size=window).fit(test)
        fit = time.perf_counter() - t0
        return det.decision_scores_, det.labels_.astype(bool), fit, 0.0
    det = (
        LSTMAD(window_size=window, epochs=lstmad_epochs)
        if name == "LSTMAD"
        else TimeSeriesOD(detector="IForest", window_size=window)
    ).fit(train)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = det.decision_function(test)
    return scores, scores > det.threshold_, fit, time.perf_counter() - t0


def row(name, y, scores, flags, fit, score):
    threshold = 0.5  # flags are 0/1 already: a range is a run of flagged steps
    m = series_metrics(y, np.asarray(scores, np.float64), float("inf"))
    flagged = series_metrics(y, flags.astype(np.float64), threshold)
    return (
        f"{name:28s} {m['roc_auc']:8.4f} {m['pr_auc']:8.4f} {flagged['range_f1']:8.3f} {m['ucr_score']:4d} "
        f"{fit:8.1f} {score:8.1f}"
    )


def long_series(n: int, stride: int, threads: int | None) -> None:
    """Train on the first 20,000 steps of an ``n``-step generated series, then ``aekit score`` all of it
    in a fresh process: seconds, steps per second and that process's peak RSS."""
    with tempfile.TemporaryDirectory(prefix="aekit-long-") as tmp:
        t = np.arange(n, dtype=np.float64)
        x = np.sin(2 * np.pi * t / 50) + 0.1 * np.random.default_rng(0).standard_normal(n)
        x[n // 2 : n // 2 + 20] += 2.0  # one anomaly, so there is something to find
        np.save(Path(tmp) / "long.npy", x.astype(np.float32)[:, None])
        np.save(Path(tmp) / "train.npy", x[:20_000].astype(np.float32)[:, None])
        del t, x
        env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
        aekit_cli = [sys.executable, "-m", "aekit"]
        subprocess.run(
            [
                *aekit_cli,
                "train",
                "series",
                "--data",
                f"{tmp}/train.npy",
                "--stride",
                str(stride),
                "--out",
                f"{tmp}/run",
                "--quiet",
                "--no-figures",
                "--device",
                "cpu",
            ],
            check=True,
            env=env,
        )
        # The score process's own peak RSS: the wrapper's children are that one process only.
        wrapper = (
            "import resource, subprocess, sys, time; t0 = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True); "
            "print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                wrapper,
                *aekit_cli,
                "score",
                f"{tmp}/run",
                "--input",
                f"{tmp}/long.npy",
                "--output",
                f"{tmp}/scores.csv",
                "--ranges",
                f"{tmp}/ranges.csv",
            ],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
        print(out.stdout.strip().splitlines()[0])
        seconds, kb = out.stdout.strip().splitlines()[-1].split()
        size = os.path.getsize(f"{tmp}/scores.csv") / 2**20
        print(
            f"\naekit score, {n:,} steps x 1 channel (.npy), stride {stride}: {float(seconds):.1f} s, "
            f"{n / float(seconds):,.0f} steps/s, peak RSS {int(kb) / 1024:.0f} MB; scores.csv {size:.0f} MB"
        )


def beats(device, seeds=(0, 1, 2)) -> None:
    """AnomalyDetector's defaults on ECG5000 (classic split) with the dense network and with architecture="conv1d"
    (conv widths and code sized as the dense network's: 64, 32 and 8 for 140 steps)."""
    from aekit.data import ecg5000_classic_split

    train, test = ecg5000_classic_split()
    normal, y = train.x[train.y == 1], (test.y == 0).astype(int)
    print(
        f"\nECG5000 beats, classic split: {len(normal)} normal training beats, {len(test.y)} test beats"
    )
    print(f"{'network':34s} {'ROC-AUC':>16s} {'accuracy':>16s} {'train s':>8s}")
    for name, params in (("dense (the default)", {}), ("conv1d", {"architecture": "conv1d"})):
        roc, acc, secs = [], [], []
        for seed in seeds:
            det = aekit.AnomalyDetector(seed=seed, device=str(device), **params).fit(normal)
            m = det.evaluate(test.x, y)
            roc.append(m["roc_auc"])
            acc.append(m["accuracy"])
            secs.append(sum(r["seconds"] for r in det.history_))
        print(
            f"{name:34s} {np.mean(roc):8.4f}+-{np.std(roc):.4f} {np.mean(acc):8.4f}+-{np.std(acc):.4f} "
            f"{np.mean(secs):8.1f}",
            flush=True,
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", nargs="+", default=["ucr", "ecg"], choices=["ucr", "ecg"])
    p.add_argument(
        "--detectors", nargs="+", default=["aekit", "MatrixProfile", "LSTMAD", "TimeSeriesOD"]
    )
    p.add_argument("--ecg-train", type=int, default=300, help="normal beats to train on")
    p.add_argument("--ecg-test", type=int, default=200, help="beats to score")
    p.add_argument("--ecg-anomalies", type=int, default=8, help="anomalous beats among them")
    p.add_argument(
        "--lstmad-epochs", type=int, default=50, help="LSTMAD's epochs (PyOD's default: 50)"
    )
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--long",
        type=int,
        default=0,
        help="measure aekit score on a generated series of this many steps",
    )
    p.add_argument("--long-stride", type=int, default=1, help="--stride of that run")
    p.add_argument(
        "--beats", action="store_true", help="ECG5000 beats: the dense network against conv1d"
    )
    args = p.parse_args()
    if args.beats:
        if args.threads:
            torch.set_num_threads(args.threads)
        return beats(C.device_of(args.device))
    if args.long:
        return long_series(args.long, args.long_stride, args.threads)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = C.device_of(args.device)
    import pyod

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, pyod {pyod.__version__}, device {device}"
    )
    for which in args.series:
        train, test, y = (
            ucr_series()
            if which == "ucr"
            else ecg_series(args.ecg_train, args.ecg_test, args.ecg_anomalies)
        )
        print(
            f"\n{which}: train {len(train)} steps, test {len(test)} steps, {int(y.sum())} anomalous"
        )
        print(
            f"{'detector':28s} {'ROC-AUC':>8s} {'PR-AUC':>8s} {'rangeF1':>8s} {'UCR':>4s} {'fit s':>8s} {'score s':>8s}"
        )
        window, scores, flags, fit, score = run_aekit(train, test, y, device)
        if "aekit" in args.detectors:
            print(
                row(f"aekit SeriesDetector (W={window})", y, scores, flags, fit, score), flush=True
            )
        for name in args.detectors:
            if name != "aekit":
                print(
                    row(
                        f"pyod {name}", y, *run_pyod(name, window, train, test, args.lstmad_epochs)
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
