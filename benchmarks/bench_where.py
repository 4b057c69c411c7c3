"""Where a sample departs from normal: ``AnomalyDetector.feature_errors`` and ``anomaly_maps`` on real data.

    .venv/bin/python benchmarks/bench_where.py [--data-dir ../shared/datasets] [--seed 0]

Three checks, each beside a plain alternative in the same process:

* **Which column** (scikit-learn's breast cancer table, benign rows normal, a 70/30 split): one
  column of every benign test row changed, either moved by 4 of its standard deviations or replaced
  by the same column of a random training row (its range kept, its relation to the other columns
  broken). How often the largest feature error names the changed column, beside the largest
  z-score against the training rows (chance: 1 in 30).
* **Which pixels, whole images** (MNIST digits 1, 4 and 7 as (n, 1, 28, 28) images, 2,000 training
  images each): a 6x6 square of 0.5-1.0 pasted on half of 200 test images of the digit. Pixel
  ROC-AUC of the maps on the pasted images and image ROC-AUC, ``AnomalyDetector`` (its dense
  network and ``architecture="conv2d"``) beside ``ImageAnomalyDetector``.
* **Which pixels, textures** (with scikit-image installed: the brick and grass crops of
  ``bench_image_anomaly.py``, its generated defects): ``AnomalyDetector`` on the crops as images,
  both networks (``ImageAnomalyDetector``'s figures: ``bench_image_anomaly.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aekit
from aekit.data import load_builtin
from aekit.data.defects import defect_dataset
from aekit.estimators.images import image_map_metrics


def which_column(seed: int) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    train, test = train_test_split(X[y == 1].astype(np.float32), test_size=0.3, random_state=seed)
    det = aekit.AnomalyDetector(seed=seed).fit(train)
    mean, sd = train.mean(0), train.std(0)
    rng = np.random.default_rng(seed)
    named = {"moved": ([], []), "swapped": ([], [])}
    for j in range(X.shape[1]):
        moved, swapped = test.copy(), test.copy()
        moved[:, j] += 4 * sd[j]
        swapped[:, j] = train[rng.integers(0, len(train), len(test)), j]
        for kind, Z in (("moved", moved), ("swapped", swapped)):
            named[kind][0].append(np.mean(det.feature_errors(Z).argmax(1) == j))
            named[kind][1].append(np.mean((np.abs(Z - mean) / sd).argmax(1) == j))
    print(f"breast cancer ({len(train)} training rows, {len(test)} test rows x 30 columns)")
    for kind, (ours, z) in named.items():
        print(
            f"  {kind:8s} named first: feature_errors {np.mean(ours):.3f}, z-score {np.mean(z):.3f}"
        )


def pasted_squares(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 6x6 square of one value in [0.5, 1] on the first half of ``images`` (in place); the masks."""
    masks = np.zeros((len(images), *images.shape[2:]), bool)
    for i in range(len(images) // 2):
        y, x = rng.integers(4, images.shape[-1] - 10, 2)
        images[i, :, y : y + 6, x : x + 6] = rng.uniform(0.5, 1.0)
        masks[i, y : y + 6, x : x + 6] = True
    return masks


def detectors(seed: int, images: bool = True) -> list[tuple[str, object]]:
    """The detectors compared on images: the anomaly detector's two networks, the image detector."""
    out = [
        ("AnomalyDetector", aekit.AnomalyDetector(seed=seed)),
        ("conv2d", aekit.AnomalyDetector(architecture="conv2d", seed=seed)),
    ]
    return (
        out + [("ImageAnomalyDetector", aekit.ImageAnomalyDetector(seed=seed))] if images else out
    )


def which_pixels_mnist(root: str | None, seed: int) -> None:
    rng = np.random.default_rng(seed)
    train, test = load_builtin("mnist", "train", root), load_builtin("mnist", "test", root)
    print("MNIST digits with a pasted square: pixel / image ROC-AUC, fit seconds")
    for digit in (1, 4, 7):
        good = train.x[train.y == digit][:2000].reshape(-1, 1, 28, 28).astype(np.float32)
        images = test.x[test.y == digit][:200].reshape(-1, 1, 28, 28).astype(np.float32).copy()
        masks = pasted_squares(images, rng)
        half = len(images) // 2
        line = []
        for name, det in detectors(seed):
            start = time.perf_counter()
            det.fit(good)
            fit = time.perf_counter() - start
            maps = det.anomaly_maps(images)
            pixel = roc_auc_score(masks[:half].ravel(), maps[:half].ravel())
            image = roc_auc_score(masks.any(axis=(1, 2)), det.score_samples(images))
            line.append(f"{name} {pixel:.3f} / {image:.3f} ({fit:.1f} s)")
        print(f"  digit {digit}: " + ", ".join(line))


def which_pixels_textures(seed: int) -> None:
    try:
        from skimage import data
    except ImportError:
        print("textures skipped: needs scikit-image (pip install scikit-image)")
        return
    tex = {"brick": data.brick(), "grass": data.grass()}
    print("textures (the anomaly detector on the crops as images): image / pixel ROC-AUC, PRO")
    for name, other in (("brick", "grass"), ("grass", "brick")):
        ds = defect_dataset(
            tex[name].astype(np.float32) / 255,
            np.random.default_rng(seed),
            donor=tex[other].astype(np.float32) / 255,
        )
        line = []
        for label, det in detectors(seed, images=False):
            det.fit(ds.train)
            maps = det.anomaly_maps(ds.test)
            r = image_map_metrics(ds.labels, det.score_samples(ds.test), ds.masks, maps)
            line.append(
                f"{label} {r['image_roc_auc']:.3f} / {r['pixel_roc_auc']:.3f}, {r['pro']:.3f}"
            )
        print(f"  {name}: " + "; ".join(line))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="the data root (default: $AEKIT_DATA)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    which_column(args.seed)
    which_pixels_mnist(args.data_dir, args.seed)
    which_pixels_textures(args.seed)


if __name__ == "__main__":
    main()
