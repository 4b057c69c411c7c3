"""aekit's VUS-ROC and VUS-PR against the TSB-AD benchmark's implementation, on the same scores.

    pip install TSB-AD        # into the benchmark environment only (it pins NumPy below 2)
    python benchmarks/check_vus.py [--cases 200]

Random per-step labels (one to five anomalous ranges, some close enough that their buffers meet,
some at the series' ends) and scores (noise, a bump near some ranges, ties); buffers up to a
random window. For each case, aekit's ``vus`` against TSB-AD's ``generate_curve`` (``version="opt"``,
250 thresholds, as its ``get_metrics`` calls it). Prints the largest difference; exits 1 above 1e-9.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aekit.estimators.series.vus import vus


def random_case(rng: np.random.Generator):
    n = int(rng.integers(100, 3000))
    y = np.zeros(n, np.int64)
    for _ in range(int(rng.integers(1, 6))):
        at = int(rng.choice([0, n - 5, *rng.integers(0, n - 1, 4)]))
        y[at : at + int(rng.integers(1, max(2, n // 20)))] = 1
    if y.all():
        y[0] = 0
    s = rng.normal(size=n)
    s += 2 * np.convolve(y, np.ones(int(rng.integers(1, 30))), "same") * rng.uniform(0, 1)
    if rng.uniform() < 0.3:
        s = np.round(s, 1)  # ties
    return y, s, int(rng.integers(0, 200))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200)
    args = p.parse_args()
    from TSB_AD.evaluation.basic_metrics import generate_curve

    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(args.cases):
        y, s, window = random_case(rng)
        ours = vus(y, s, window)
        theirs = generate_curve(y, s, window, "opt", 250)[-2:]
        worst = max(worst, abs(ours[0] - theirs[0]), abs(ours[1] - theirs[1]))
    print(f"{args.cases} cases: the largest difference from TSB-AD's VUS-ROC/VUS-PR is {worst:.3g}")
    sys.exit(0 if worst <= 1e-9 else 1)


if __name__ == "__main__":
    main()
