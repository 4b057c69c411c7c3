"""Image anomaly detection on real textures with generated, labelled defects (issue 37).

    .venv/bin/pip install scikit-image        # the benchmark extra: pip install -e ".[bench]"
    .venv/bin/python benchmarks/bench_image_anomaly.py [--textures brick grass] [--size 64]
        [--train 256] [--methods features pixels ssim] [--overlay DIR]

The textures are scikit-image's ``brick`` and ``grass`` (grayscale 512x512, shipped in its wheel;
scikit-image is needed by this script only, never by aekit). Good training crops come from the top
half of a texture, good and defective test crops from the bottom half
(:func:`aekit.data.defects.defect_dataset`): scratches, spots, missing patches, brightness changes
and a foreign texture pasted in (the other texture), each with its mask. Every detector is an
``aekit.ImageAnomalyDetector`` with one ``method`` in the same process, on the same crops:

* ``features`` (aekit's default): a memory bank of per-pixel texture statistics;
* ``pixels``: the same bank on raw 7x7 pixel patches (PatchCore's idea without a backbone);
* ``ssim``: the SSIM autoencoder (Bergmann et al., 2019).

Printed per texture and detector: image ROC-AUC and PR-AUC, pixel ROC-AUC, PRO (integrated to a
false-positive rate of 0.3, normalised), the false-alarm rate and recall of the image threshold
(``fpr:0.01``) on the test crops, the share of each defect it flags and each defect's image
ROC-AUC against the good crops, and fit seconds (the bank or the training, and the scoring of the
held-out calibration crops). anomalib is not installed here, so its models do
not run. ``--overlay DIR`` draws 8 test crops of each texture with the default's map and contour.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aekit
from aekit.data.defects import DefectSet, defect_dataset
from aekit.estimators.images import image_map_metrics

COLUMNS = ("image_roc_auc", "image_pr_auc", "pixel_roc_auc", "pro", "false_alarm_rate", "recall")


def textures() -> dict[str, np.ndarray]:
    try:
        from skimage import data
    except ImportError:
        print("skipped: needs scikit-image (pip install scikit-image), which ships the textures")
        raise SystemExit(0) from None
    return {
        "brick": data.brick().astype(np.float32) / 255,
        "grass": data.grass().astype(np.float32) / 255,
    }


def run(method: str, ds: DefectSet, args) -> tuple[dict, float, aekit.ImageAnomalyDetector]:
    det = aekit.ImageAnomalyDetector(method=method, seed=args.seed, threads=args.threads)
    start = time.perf_counter()
    det.fit(ds.train)
    seconds = time.perf_counter() - start
    maps = det.anomaly_maps(ds.test)
    scores = det.image_scores(maps)
    out = image_map_metrics(ds.labels, scores, ds.masks, maps)
    flagged = scores > det.threshold_
    out["false_alarm_rate"] = float(flagged[ds.labels == 0].mean())
    out["recall"] = float(flagged[ds.labels == 1].mean())
    kinds = np.asarray(ds.kinds)
    out["flagged"] = {k: float(flagged[kinds == k].mean()) for k in dict.fromkeys(ds.kinds)}
    good = scores[kinds == "good"]
    out["per_defect"] = {  # each defect's crops against the good ones: which defects it misses
        k: float(roc_auc_score(np.r_[np.zeros(len(good)), np.ones((kinds == k).sum())],
                               np.r_[good, scores[kinds == k]]))
        for k in dict.fromkeys(ds.kinds) if k != "good"
    }  # fmt: skip
    return out, seconds, det


def overlay(det, ds: DefectSet, name: str, folder: Path) -> Path:
    """8 test crops (2 good, 6 defective) with the map over them and the pixel threshold's contour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = [0, 1, *np.flatnonzero(ds.labels)[:: max(1, ds.labels.sum() // 6)][:6]]
    maps = det.anomaly_maps(ds.test[picks])
    fig, axes = plt.subplots(2, 8, figsize=(16, 4.4))
    for col, (i, m) in enumerate(zip(picks, maps)):
        axes[0, col].imshow(ds.test[i, 0], cmap="gray", vmin=0, vmax=1)
        axes[0, col].contour(ds.masks[i], levels=[0.5], colors="lime", linewidths=0.8)
        axes[0, col].set_title(ds.kinds[i], fontsize=9)
        axes[1, col].imshow(ds.test[i, 0], cmap="gray", vmin=0, vmax=1)
        shown = axes[1, col].imshow(m, cmap="inferno", alpha=0.5, vmin=0, vmax=maps.max())
        axes[1, col].contour(m, levels=[det.pixel_threshold_], colors="cyan", linewidths=0.8)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.colorbar(shown, ax=axes, fraction=0.01, label="anomaly")
    fig.suptitle(
        f"{name}: top, the test crop and its true mask (green); bottom, aekit's map and its "
        f"pixel-threshold contour (cyan)"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"overlay_{name}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--textures", nargs="+", default=["brick", "grass"])
    p.add_argument("--methods", nargs="+", default=["features", "pixels", "ssim"])
    p.add_argument("--size", type=int, default=64, help="crop side in pixels")
    p.add_argument("--train", type=int, default=256, help="good training crops")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--overlay", type=Path, default=None, help="folder for the overlay figures")
    args = p.parse_args()
    tex = textures()
    print(f"{'texture':8} {'detector':9} " + " ".join(f"{c:>16}" for c in COLUMNS) + "   fit s")
    for name in args.textures:
        donor = tex["grass" if name != "grass" else "brick"]
        ds = defect_dataset(
            tex[name], np.random.default_rng(args.seed), size=args.size, n_train=args.train,
            donor=donor,
        )  # fmt: skip
        for method in args.methods:
            out, seconds, det = run(method, ds, args)
            cells = " ".join(f"{'-' if out[c] is None else f'{out[c]:.3f}':>16}" for c in COLUMNS)
            print(f"{name:8} {method:9} {cells} {seconds:7.1f}", flush=True)
            shares = ", ".join(f"{k} {v:.1f}" for k, v in out["flagged"].items())
            print(f"  share flagged at the image threshold: {shares}")
            aucs = ", ".join(f"{k} {v:.2f}" for k, v in out["per_defect"].items())
            print(f"  image ROC-AUC of each defect against the good crops: {aucs}")
            if args.overlay is not None and method == "features":
                print(f"  overlay: {overlay(det, ds, name, args.overlay)}")


if __name__ == "__main__":
    main()
