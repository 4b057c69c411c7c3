"""Anomaly detection on ECG5000: TensorFlow's "Intro to Autoencoders", third example.

The classic split of ECG5000 (4000 train / 1000 test beats; class 1 normal, 2-5 anomalous), global
min-max scaling, a dense 140-32-16-8-16-32-140 autoencoder trained on normal beats only (MAE,
batch 512, 20 epochs), threshold = mean + 1 std of the training errors. Then your own table
(here a generated CSV with a label column).

    AEKIT_DATA=/path/to/datasets python examples/anomaly_ecg5000.py    # ~10 s
    AEKIT_EXAMPLES_QUICK=1 python examples/anomaly_ecg5000.py

Figures go to $AEKIT_EXAMPLES_OUT (default runs/examples/anomaly_ecg5000).
"""

import os
import tempfile
from pathlib import Path

import numpy as np

import aekit
from aekit import plots
from aekit.data import ecg5000_classic_split, read_path

QUICK = os.environ.get("AEKIT_EXAMPLES_QUICK") == "1"
if QUICK:
    print("AEKIT_EXAMPLES_QUICK=1: a few epochs; not comparable with the tutorial's numbers")
OUT = Path(os.environ.get("AEKIT_EXAMPLES_OUT", "runs/examples/anomaly_ecg5000"))
FIG = dict(overwrite=True)  # a second run replaces the figures of the first

# In the classic split y is 1 for a normal beat (the tutorial's labels); aekit's detector scores
# anomalies, so its labels are 1 = anomaly.
train, test = ecg5000_classic_split()
# the tutorial's settings
det = aekit.AnomalyDetector.from_preset("recipe", epochs=3 if QUICK else 20)
det.fit(train.x[train.y == 1], validation_data=test.x)  # train on normal beats only
m = det.evaluate(test.x, 1 - test.y)
print(f"threshold {m['threshold']:.4f}; ROC-AUC {m['roc_auc']:.3f}")
print(f"accuracy  aekit {m['accuracy']:.3f}   tutorial 0.949")
# Precision and recall of the normal class (normal = positive), as in the tutorial.
print(f"precision aekit {m['precision_normal']:.3f}   tutorial 0.992")
print(f"recall    aekit {m['recall_normal']:.3f}   tutorial 0.918")

# The tutorial's figures: a normal and an anomalous beat with their reconstructions, the
# histograms of reconstruction errors with the threshold; plus loss curves and the ROC curve.
scores, anomalous = det.decision_function(test.x), test.y == 0
i, j = np.flatnonzero(~anomalous)[0], np.flatnonzero(anomalous)[0]
rec = det.reconstruct(test.x[[i, j]])
plots.plot_signal_reconstructions(
    [(test.x[i], rec[0], "normal"), (test.x[j], rec[1], "anomalous")],
    OUT / "reconstructions.png",
    **FIG,
)
plots.plot_error_histogram(
    scores[~anomalous], scores[anomalous], det.threshold_, OUT / "error_histogram.png", **FIG
)
plots.plot_roc(anomalous.astype(int), scores, OUT / "roc.png", **FIG)
plots.plot_history(det.history_, OUT / "loss.png", **FIG)

# Your own data: a CSV of signals or features with a label column; train on the normal rows.
with tempfile.TemporaryDirectory() as tmp:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 50)
    x = np.sin(t + rng.uniform(0, 6, (600, 1))) + 0.05 * rng.normal(size=(600, 50))
    label = np.where(rng.random(600) < 0.1, "fault", "ok")
    x[label == "fault"] += rng.normal(0, 0.8, (np.sum(label == "fault"), 50))  # corrupted signals
    csv = Path(tmp) / "sensors.csv"
    header = ",".join([f"t{k}" for k in range(50)] + ["label"])
    rows = np.column_stack([x.round(4), label])
    np.savetxt(csv, rows, fmt="%s", delimiter=",", header=header, comments="")
    data = read_path(csv, label_column="label")  # x (600, 50), y the strings 'ok' / 'fault'
    own = aekit.AnomalyDetector(epochs=30, batch_size=32, threshold="percentile", q=99)
    own.fit(data.x[data.y == "ok"])
    print(f"own CSV: ROC-AUC {own.evaluate(data.x, data.y == 'fault')['roc_auc']:.3f}")
print(f"figures in {OUT}/")
