"""Sparse input: a 200,000 x 5,000 SciPy CSR matrix (0.1% non-zeros) through fit and transform, peak memory.

    python benchmarks/bench_sparse.py [--rows 200000] [--cols 5000] [--density 0.001] [--epochs 1]
                                      [--estimator Autoencoder|AnomalyDetector] [--threads 2]

Each case runs in a fresh subprocess, so its peak resident memory (ru_maxrss) is its own: the
baseline (Python, torch, scikit-learn imported and the matrix built) and then fit + transform
(or fit + decision_function for the detector). The dense matrix would be rows x cols x 4 bytes
(4 GB at the defaults); aekit densifies one batch at a time (``aekit.data.sparse.SparseRows``).
The issue's bar: peak under 1 GB. The peer is scikit-learn's own way, densifying X first
(``X.toarray()``), whose size is printed rather than run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
import numpy as np, scipy.sparse as sp, torch
torch.set_num_threads({threads})
import aekit
# Built row by row: scipy.sparse.random draws its positions from all rows x cols cells at once
# (an 8 GB permutation at the defaults), which would be the peak measured, not aekit's.
rng = np.random.default_rng(0)
per_row = rng.binomial({cols}, {density}, size={rows})
indptr = np.concatenate([[0], np.cumsum(per_row)])
indices = rng.integers(0, {cols}, size=int(indptr[-1]))
X = sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=({rows}, {cols}))
X.sum_duplicates()  # one-hot-like features
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
if {run}:
    if {estimator!r} == "Autoencoder":
        est = aekit.Autoencoder(latent_dim=32, output_activation="linear", epochs={epochs}, batch_size=256,
                                device="cpu").fit(X)
        out = est.transform(X)
    else:
        est = aekit.AnomalyDetector(scaler="none", epochs={epochs}, batch_size=256, device="cpu").fit(X)
        out = est.decision_function(X)
    assert len(out) == X.shape[0]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"baseline_mb": base, "peak_mb": peak, "seconds": time.perf_counter() - t0, "nnz": int(X.nnz)}}))
"""


def child(args: argparse.Namespace, run: bool) -> dict:
    code = CHILD.format(
        repo=str(REPO),
        rows=args.rows,
        cols=args.cols,
        density=args.density,
        epochs=args.epochs,
        estimator=args.estimator,
        threads=args.threads,
        run=run,
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--cols", type=int, default=5_000)
    p.add_argument("--density", type=float, default=0.001)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--estimator", default="Autoencoder", choices=("Autoencoder", "AnomalyDetector"))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    t0 = time.perf_counter()
    base = child(args, run=False)
    full = child(args, run=True)
    dense_mb = args.rows * args.cols * 4 / 2**20
    print(
        f"\nsparse input, {args.rows} x {args.cols}, density {args.density} ({full['nnz']} non-zeros), "
        f"{args.estimator}, {args.epochs} epoch(s), batch 256, {args.threads} threads"
    )
    print(f"{'':44s} {'peak RSS MB':>12s} {'seconds':>9s}")
    print(f"{'baseline (imports + the CSR matrix)':44s} {base['peak_mb']:12.0f}")
    print(
        f"{'aekit fit + transform, batch by batch':44s} {full['peak_mb']:12.0f} {full['seconds']:9.1f}"
    )
    print(
        f"{'scikit-learn style X.toarray() (the dense X)':44s} {dense_mb:12.0f}   (its size alone, not run)"
    )
    print(
        f"bar: peak under 1024 MB -> {'holds' if full['peak_mb'] < 1024 else 'FAILS'}  "
        f"(total {time.perf_counter() - t0:.0f} s)"
    )


if __name__ == "__main__":
    main()
