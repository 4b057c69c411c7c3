"""`make demo`: train the main recipes on the built-in data and draw their figures.

Each run goes to OUT/<name>/ (config.json, model.safetensors, history.csv, metrics.json,
figures/*.png). The settings are the recipes' own (``--preset recipe``, so the figures do not move
when the defaults do), shortened where a recipe would take more than a couple of minutes on a
laptop CPU; the whole demo takes a few minutes. Each run prints a line per epoch on stderr (a bar
on a terminal), and records the data root it read, so that ``aekit evaluate``, ``aekit plot`` and
``aekit interpolate`` work on the runs afterwards without ``$AEKIT_DATA``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

# name, aekit arguments
RUNS = [
    (
        "basic",
        ["train", "basic", "--preset", "recipe", "--dataset", "fashion-mnist", "--epochs", "10"],
    ),
    (
        "stacked",
        [
            "train",
            "stacked",
            "--preset",
            "recipe",
            "--dataset",
            "fashion-mnist",
            "--hidden",
            "256,128",
            "--epochs",
            "5",
        ],
    ),
    (
        "denoise",
        [
            "train",
            "denoise",
            "--preset",
            "recipe",
            "--dataset",
            "fashion-mnist",
            "--noise",
            "gaussian:0.2",
            "--epochs",
            "3",
        ],
    ),
    ("anomaly", ["train", "anomaly", "--preset", "recipe", "--dataset", "ecg5000"]),
    (
        "vae",
        [
            "train",
            "vae",
            "--preset",
            "recipe",
            "--dataset",
            "mnist",
            "--latent-dim",
            "2",
            "--batch-size",
            "128",
            "--lr",
            "1e-3",
            "--epochs",
            "5",
        ],
    ),
]


def main(out: str = "runs/demo") -> int:
    root = Path(out)
    t0 = time.perf_counter()
    for name, args in RUNS:
        run = root / name
        cmd = [sys.executable, "-m", "aekit", *args, "--out", str(run), "--overwrite"]
        print(f"\n$ aekit {' '.join(cmd[3:])}", flush=True)
        t = time.perf_counter()
        if subprocess.call(cmd) != 0:
            print(f"demo: '{name}' failed", file=sys.stderr)
            return 1
        figures = sorted(p.name for p in (run / "figures").glob("*.png"))
        print(
            f"  {time.perf_counter() - t:.0f}s; figures in {run / 'figures'}: {', '.join(figures)}",
            flush=True,
        )
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f}s; runs in {root}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
