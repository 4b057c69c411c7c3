"""Stacked autoencoder: the basic tutorial with a deeper, symmetric network.

784 -> 256 -> 128 -> 64 -> 128 -> 256 -> 784 on Fashion-MNIST (the tutorial's data, loss and
10 epochs), then the same model on your own data (here a small generated .npy array).

    AEKIT_DATA=/path/to/datasets python examples/stacked.py
    AEKIT_EXAMPLES_QUICK=1 python examples/stacked.py           # a few seconds

Figures go to $AEKIT_EXAMPLES_OUT (default runs/examples/stacked).
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
OUT = Path(os.environ.get("AEKIT_EXAMPLES_OUT", "runs/examples/stacked"))
FIG = dict(overwrite=True)  # a second run replaces the figures of the first

train, test = load_builtin("fashion-mnist", "train"), load_builtin("fashion-mnist", "test")
n_train, n_test = (2000, 500) if QUICK else (None, None)
x_train, x_test, y_test = train.x[:n_train], test.x[:n_test], test.y[:n_test]

# hidden=(256, 128): the encoder's widths before the 64-wide code; the decoder mirrors them.
ae = aekit.Autoencoder(latent_dim=64, hidden=(256, 128), epochs=1 if QUICK else 10)
ae.fit(x_train, validation_data=x_test)
metrics = ae.evaluate(x_test)
print(
    f"val_loss (MSE): aekit stacked {metrics['val_mse']:.4f}   tutorial (basic model) 0.0088-0.0089"
)
# ae.encoder_ and ae.decoder_ are plain torch modules, usable on their own.

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

# Your own data: a .npy array of shape (n, features) (or .npz, .csv, a folder of images).
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "features.npy"
    np.save(path, np.random.default_rng(0).random((400, 32), dtype=np.float32))  # values in [0, 1]
    own_x = read_path(path).x
    own = aekit.Autoencoder(latent_dim=4, hidden=(16, 8), epochs=5).fit(own_x)
    print(f"own .npy {own_x.shape} -> codes {own.transform(own_x).shape}")
print(f"figures in {OUT}/")
