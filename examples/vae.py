"""Convolutional VAE on binarized MNIST: TensorFlow's "Convolutional Variational Autoencoder".

Two stride-2 convs (32, 64) to a 2-D latent, a transposed-conv decoder with a Bernoulli
likelihood, Adam 1e-4, batch 32, 10 epochs; the ELBO on the test set; samples, the 2-D latent
manifold, interpolation. Then your own images (here a generated folder of PNGs).

    AEKIT_DATA=/path/to/datasets python examples/vae.py         # ~10+ min on a laptop CPU
    AEKIT_EXAMPLES_QUICK=1 python examples/vae.py               # a few seconds

Figures go to $AEKIT_EXAMPLES_OUT (default runs/examples/vae).
"""

import os
import tempfile
from pathlib import Path

import numpy as np

import aekit
from aekit import plots
from aekit.data import load_builtin, read_path, write_output
from aekit.recipes.vae import manifold_latents

QUICK = os.environ.get("AEKIT_EXAMPLES_QUICK") == "1"
if QUICK:
    print(
        "AEKIT_EXAMPLES_QUICK=1: one epoch on a subset; the numbers are not comparable with the tutorial's"
    )
OUT = Path(os.environ.get("AEKIT_EXAMPLES_OUT", "runs/examples/vae"))
FIG = dict(overwrite=True)  # a second run replaces the figures of the first

# binarized-mnist: MNIST with pixels > 0.5 set to 1, else 0 (the tutorial's data).
train, test = load_builtin("binarized-mnist", "train"), load_builtin("binarized-mnist", "test")
n_train, n_test = (1000, 200) if QUICK else (None, None)
x_train, x_test, y_test = train.x[:n_train], test.x[:n_test], test.y[:n_test]

# the tutorial's settings, as `aekit train vae --preset recipe`: the plain ELBO (free_bits=0.0)
vae = aekit.VAE(free_bits=0.0, lr=1e-4, schedule="constant", epochs=1 if QUICK else 10)  # latent 2
vae = vae.fit(x_train, validation_data=x_test)
print(
    f"test ELBO: aekit {vae.elbo(x_test).mean():.1f} nats   tutorial about -156 (10 epochs, latent 2)"
)
m = vae.evaluate(x_test, k=100, n_iw=10 if QUICK else 1000)  # + importance-weighted -log p(x)
print(
    f"reconstruction {m['test_reconstruction']:.1f} + KL {m['test_kl']:.1f}; NLL (k=100) {m['test_nll_iw']:.1f}"
)

# The tutorial's figures: generated digits and the decoded 2-D latent manifold; plus more.
plots.plot_image_grid(
    vae.sample(16, seed=0), OUT / "samples.png", title="samples z ~ N(0, I)", **FIG
)
plots.plot_image_grid(
    vae.inverse_transform(manifold_latents(20)), OUT / "manifold.png", ncols=20, **FIG
)
plots.plot_latent_map(
    vae.transform(x_test), y_test, OUT / "latent_map.png", title="test posterior means", **FIG
)
plots.plot_strip(vae.interpolate(x_test[0], x_test[1], steps=10), OUT / "interpolation.png", **FIG)
plots.plot_history(vae.history_, OUT / "loss.png", ylabel="-ELBO (nats per image)", **FIG)

# Your own data: a folder of images. Gray levels: likelihood="gaussian"; binary images: the default.
with tempfile.TemporaryDirectory() as tmp:
    yy, xx = np.mgrid[0:28, 0:28]
    r = np.random.default_rng(0).uniform(4, 12, 200)[:, None, None]
    # 200 disc PNGs
    write_output(Path(tmp) / "shapes", ((xx - 14) ** 2 + (yy - 14) ** 2 < r**2)[:, None])
    shapes = read_path(Path(tmp) / "shapes")  # Data: x (200, 1, 28, 28) in {0, 1}
    own = aekit.VAE(latent_dim=1, epochs=2 if QUICK else 10, lr=1e-3).fit(shapes.x)
    plots.plot_image_grid(
        own.sample(16), OUT / "own_samples.png", title="samples of your own data", **FIG
    )
    print(f"own images {shapes.x.shape}: ELBO {own.elbo(shapes.x).mean():.1f} nats")
print(f"figures in {OUT}/")
