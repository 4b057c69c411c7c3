"""scikit-learn's check_estimator on all four estimators, every check: passed / expected to fail (why) / failed.

    python benchmarks/check_sklearn.py [--defaults]

The suite (tests/estimators/test_sklearn_contract.py) runs every check on all four at the settings
this runs first (tables of any range: the Denoiser with a linear output, the VAE with a Gaussian
likelihood); this prints them as one table and, with ``--defaults``, also runs them for the
estimators' defaults (sigmoid / Bernoulli: the checks' data outside [0, 1] are refused by design
and declared). Tiny fits (1 epoch, batch 64).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aekit  # noqa: E402
from aekit.estimators.base import expected_failed_checks  # noqa: E402

TINY = dict(epochs=1, batch_size=64, device="cpu")


def estimators(defaults: bool) -> list:
    ests = [
        aekit.Autoencoder(latent_dim=2, **TINY),
        aekit.AnomalyDetector(hidden=(4,), latent_dim=2, **TINY),
        aekit.Denoiser(channels=(4,), output_activation="linear", **TINY),
        aekit.VAE(latent_dim=2, channels=(4, 4), likelihood="gaussian", **TINY),
    ]
    if defaults:
        ests += [
            aekit.Denoiser(channels=(4,), **TINY),
            aekit.VAE(latent_dim=2, channels=(4, 4), **TINY),
        ]
    return ests


def main() -> None:
    from sklearn import __version__ as sklearn_version
    from sklearn.utils.estimator_checks import check_estimator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--defaults", action="store_true", help="also the Denoiser's and the VAE's default settings"
    )
    args = p.parse_args()
    print(f"scikit-learn {sklearn_version}")
    failed_any = False
    for est in estimators(args.defaults):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(
                est, expected_failed_checks=expected_failed_checks(est), on_fail=None, on_skip=None
            )
        by: dict[str, list] = {}
        for r in results:
            by.setdefault(r["status"], []).append(r)
        print(
            f"\n{est!r}: "
            + ", ".join(f"{len(v)} {k}" for k, v in sorted(by.items()))
            + f" ({time.perf_counter() - t0:.1f} s)"
        )
        for r in by.get("skipped", []):
            print(
                f"  skipped  {r['check_name']}: {r['exception'] or r.get('expected_to_fail_reason')}"
            )
        reasons: dict[str, list[str]] = {}
        for r in by.get("xfail", []):
            reasons.setdefault(r["expected_to_fail_reason"], []).append(r["check_name"])
        for reason, names in reasons.items():
            print(
                f"  expected to fail ({len(set(names))}): {', '.join(sorted(set(names)))}\n      because {reason}"
            )
        for r in by.get("failed", []):
            failed_any = True
            print(f"  FAILED   {r['check_name']}: {' '.join(str(r['exception']).split())[:300]}")
        print(f"  passed: {', '.join(sorted({r['check_name'] for r in by.get('passed', [])}))}")
    print("\nno check failed" if not failed_any else "\nSOME CHECKS FAILED")


if __name__ == "__main__":
    main()
