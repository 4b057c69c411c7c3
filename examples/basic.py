"""Basic autoencoder: TensorFlow's "Intro to Autoencoders", first example.

Fashion-MNIST images, a dense 784 -> 64 -> 784 autoencoder, MSE, Adam, 10 epochs. Then the same
three lines on your own data (here a small generated CSV table).

    AEKIT_DATA=/path/to/datasets python examples/basic.py      # ~1 min on a laptop CPU
    AEKIT_EXAMPLES_QUICK=1 python examples/basic.py             # a few seconds, smoke test

Figures go to $AEKIT_EXAMPLES_OUT (default runs/examples/basic).
"""

import os
import tempfile
from pathlib import Path

import numpy as np

import aekit
from aekit import plots
from aekit.data import load_builtin, read_path

QUICK = os.environ.get("AEKIT_EXAMPLES_QUICK") == "1"
if QUICK:
    print(
        "AEKIT_EXAMPLES_QUICK=1: one epoch on a subset; the numbers are not comparable with the tutorial's"
    )
OUT = Path(os.environ.get("AEKIT_EXAMPLES_OUT", "runs/examples/basic"))
FIG = dict(overwrite=True)  # a second run replaces the figures of the first

# 1. Load: x is float32 (n, 1, 28, 28) in [0, 1], y the class labels.
train, test = load_builtin("fashion-mnist", "train"), load_builtin("fashion-mnist", "test")
n_train, n_test = (2000, 500) if QUICK else (None, None)
x_train, x_test, y_test = train.x[:n_train], test.x[:n_test], test.y[:n_test]

# 2. Fit: latent 64, no hidden layers = the tutorial's model.
ae = aekit.Autoencoder(latent_dim=64, epochs=1 if QUICK else 10).fit(
    x_train, validation_data=x_test
)

# 3. Evaluate, beside the tutorial's figure.
metrics = ae.evaluate(x_test)
print(f"val_loss (MSE): aekit {metrics['val_mse']:.4f}   tutorial 0.0088-0.0089")

# 4. The tutorial's figures: originals over reconstructions; plus loss curves and the latent map.
x = x_test[:10]
plots.plot_image_rows(
    [x, ae.reconstruct(x)],
    OUT / "reconstructions.png",
    row_titles=["original", "reconstructed"],
    **FIG,
)
plots.plot_history(ae.history_, OUT / "loss.png", **FIG)
plots.plot_latent_map(
    ae.transform(x_test), y_test, OUT / "latent_map.png", title="test latents (PCA)", **FIG
)
ae.save(OUT / "model", overwrite=True)  # aekit.load(OUT / "model") reads it back

# Your own data: a CSV table, one sample per row (header optional). Features outside [0, 1]
# need output_activation="linear".
with tempfile.TemporaryDirectory() as tmp:
    csv = Path(tmp) / "measurements.csv"
    rng = np.random.default_rng(0)
    # six measurements driven by two hidden factors, plus noise: what a code of 2 can hold (rows
    # of independent noise hold nothing to compress, and score no better than the columns' means)
    rows = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(300, 6))
    np.savetxt(csv, rows, delimiter=",", header="a,b,c,d,e,f", comments="")
    table = read_path(csv)  # Data: x (300, 6), feature_names ['a', ..., 'f']
    own = aekit.Autoencoder(
        latent_dim=2, output_activation="linear", epochs=20 if QUICK else 100, lr=1e-2
    )
    own.fit(table.x)  # 300 rows: 1,000 steps, a few seconds
    mse, means = own.evaluate(table.x)["val_mse"], table.x.var(axis=0).mean()
    print(
        f"own CSV {table.x.shape} -> codes {own.transform(table.x).shape}; MSE {mse:.3f} "
        f"(the columns' means: {means:.3f})"
    )
print(f"figures in {OUT}/")
