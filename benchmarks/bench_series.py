"""Anomalies in a long series: aekit's default against PyOD 3's time-series detectors, in one run.

    python benchmarks/bench_series.py [--series ucr ecg] [--threads 2] [--lstmad-epochs 50]
    python benchmarks/bench_series.py --long 10000000 [--long-stride 1]   # memory and throughput of aekit score
    python benchmarks/bench_series.py --beats       # ECG5000 beats: AnomalyDetector dense vs architecture="conv1d"
    python benchmarks/bench_series.py --generators [--ecg-seeds 10] [--seeds 3] [--channels 1 4 8]
        [--peers ...]   # the labelled generators (aekit.data.labelled_series): aekit against the
                        # simple peers of series_peers.py (stumpy, TSB-AD's Sub-PCA and Sub-IForest,
                        # the nearest window; PyOD's three on request), ROC-AUC, PR-AUC, VUS-PR

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
from series_peers import PEERS, SIMPLE, TRANSDUCTIVE, pyod_detector, pyod_model

import aekit
from aekit.data import data_root
from aekit.data.labelled_series import KINDS, ecg_beat_series, synthetic_series
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
    return ecg_beat_series(seed, n_train, n_test, n_anomalies)


def generator_cases(args):
    """(name, seed, train, test, labels) of the ECG-beat series and the synthetic generator."""
    for seed in range(args.ecg_seeds):
        yield ("ecg", seed, *ecg_beat_series(seed))
    for kind in args.kinds:
        for channels in args.channels:
            for seed in range(args.seeds):
                yield (f"{kind} c={channels}", seed, *synthetic_series(kind, channels, seed))


GENERATOR_DETECTORS = {
    "aekit default": {},  # the nearest training window, in units of the distances there
    "aekit method=reconstruction": {"method": "reconstruction"},
    "aekit stride=1": {"stride": 1},
    "aekit stride=1 aggregate=max": {"stride": 1, "aggregate": "max"},
}


def _measure(y, run) -> tuple[dict, float, int]:
    """(figures, seconds, window) of one detector: ``run()`` gives (per-step scores, window)."""
    t0 = time.perf_counter()
    scores, window = run()
    seconds = time.perf_counter() - t0
    m = series_metrics(y, np.asarray(scores, np.float64), float("inf"), window=window)
    return m, seconds, window


def _aekit(train, test, device, params):
    def run():
        det = aekit.SeriesDetector(device=device, **params).fit(train)
        return det.score_samples(test), det.window_

    return run


def _peer(run, train, test, window):
    return lambda: (run(train, test, window), window)


def generators(args) -> None:
    """Point ROC-AUC, PR-AUC and VUS-PR of aekit's configurations and of the peers
    (:mod:`series_peers`) on the labelled generators, per seed and in the mean over seeds."""
    table: dict = {}
    for name, seed, train, test, y in generator_cases(args):
        window = None
        for label in args.aekit:
            m, seconds, window = _measure(
                y, _aekit(train, test, args.device, GENERATOR_DETECTORS[label])
            )
            _record(table, (name, label), seed, window, m, seconds)
        window = window or aekit.SeriesDetector().fit(train).window_
        for label in args.peers:
            peer = PEERS[label]
            if (
                label == "pyod LSTMAD"
            ):  # --lstmad-epochs: its 50 epochs over 42,000 ECG steps take hours
                peer = pyod_detector("LSTMAD", args.lstmad_epochs)
            m, seconds, _ = _measure(y, _peer(peer, train, test, window))
            _record(table, (name, label), seed, window, m, seconds)
    _summary(table)


def _record(table, key, seed, window, m, seconds) -> None:
    row = (m["roc_auc"], m["pr_auc"], m["vus_roc"], m["vus_pr"], seconds)
    table.setdefault(key, []).append(row)
    print(
        f"{key[0]:18s} seed {seed} {key[1]:28s} W={window:4d} ROC {row[0]:.3f} PR {row[1]:.3f} "
        f"VUS-ROC {row[2]:.3f} VUS-PR {row[3]:.3f} {seconds:6.1f}s",
        flush=True,
    )


def _summary(table) -> None:
    """The mean over seeds per series and detector; the best PR-AUC and VUS-PR of each series marked."""
    print(
        f"\n{'series':18s} {'detector':28s} {'ROC-AUC':>8s} {'PR-AUC':>8s} {'VUS-ROC':>8s} "
        f"{'VUS-PR':>8s} {'seconds':>8s} seeds"
    )
    means = {key: np.array(rows).mean(axis=0) for key, rows in table.items()}
    for series in dict.fromkeys(k[0] for k in table):
        keys = [k for k in table if k[0] == series]
        best_pr = max(means[k][1] for k in keys)
        best_vus = max(means[k][3] for k in keys)
        for k in keys:
            r = means[k]
            mark = ("*" if r[1] == best_pr else " ") + ("*" if r[3] == best_vus else " ")
            print(
                f"{series:18s} {k[1]:28s} {r[0]:8.3f} {r[1]:8.3f} {r[2]:8.3f} {r[3]:8.3f} "
                f"{r[4]:8.1f} {len(table[k])}{mark}"
            )


def add_generator_options(p) -> None:
    p.add_argument(
        "--generators",
        action="store_true",
        help="the labelled generators (ECG5000 beats, synthetic faults): aekit against the simple peers",
    )
    p.add_argument("--ecg-seeds", type=int, default=10, help="--generators: ECG-beat series")
    p.add_argument("--seeds", type=int, default=3, help="--generators: synthetic series per case")
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    p.add_argument("--channels", nargs="+", type=int, default=[1, 4, 8])
    p.add_argument(
        "--peers",
        nargs="*",
        default=SIMPLE,
        choices=list(PEERS),
        help="--generators: the peers beside aekit (default: the simple ones; none: aekit alone)",
    )
    p.add_argument(
        "--aekit",
        nargs="+",
        default=list(GENERATOR_DETECTORS),
        choices=list(GENERATOR_DETECTORS),
        help="--generators: aekit's configurations to run",
    )


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
    det = pyod_model(name, window, lstmad_epochs)
    t0 = time.perf_counter()
    if name in TRANSDUCTIVE:  # fitted on the series it scores
        det.fit(test)
        fit = time.perf_counter() - t0
        return det.decision_scores_, det.labels_.astype(bool), fit, 0.0
    det.fit(train)
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
    add_generator_options(p)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.generators:
        return generators(args)
    if args.beats:
        return beats(C.device_of(args.device))
    if args.long:
        return long_series(args.long, args.long_stride, args.threads)
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
