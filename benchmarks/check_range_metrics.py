"""aekit's overlap-based range metrics against ``prts``, Tatbul et al.'s reference implementation.

    pip install prts        # into the benchmark environment only
    python benchmarks/check_range_metrics.py [--cases 500]

Random per-step labels and flags (a few ranges each, of random lengths, sometimes meeting several
ranges of the other kind, sometimes none); for each, aekit's ``overlap_precision`` and
``overlap_recall`` against ``prts.ts_precision``/``ts_recall`` with alpha 0, the flat bias and the
reciprocal cardinality. Prints the largest difference; exits 1 above 1e-9.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aekit.estimators.series.metrics import find_ranges, label_ranges, overlap_scores


def random_flags(rng: np.random.Generator, n: int) -> np.ndarray:
    flags = np.zeros(n, np.int64)
    for _ in range(int(rng.integers(1, 6))):
        at, length = int(rng.integers(0, n - 1)), int(rng.integers(1, n // 5))
        flags[at : at + length] = 1
    return flags


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=500)
    args = p.parse_args()
    from prts import ts_precision, ts_recall

    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(args.cases):
        n = int(rng.integers(20, 400))
        y, f = random_flags(rng, n), random_flags(rng, n)
        ours = overlap_scores(label_ranges(y), find_ranges(f.astype(float), 0.5))
        kw = dict(alpha=0.0, cardinality="reciprocal", bias="flat")
        theirs = (ts_precision(y, f, **kw), ts_recall(y, f, **kw))
        worst = max(
            worst,
            abs(ours["overlap_precision"] - theirs[0]),
            abs(ours["overlap_recall"] - theirs[1]),
        )
    print(f"{args.cases} random cases: largest difference from prts {worst:.3g}")
    sys.exit(0 if worst <= 1e-9 else 1)


if __name__ == "__main__":
    main()
