"""Denoising autoencoder: TensorFlow's "Intro to Autoencoders", second example.

Fashion-MNIST with Gaussian noise (factor 0.2, clipped to [0, 1]), a Conv2d (16, 8) stride-2
encoder and ConvTranspose2d decoder, MSE, 10 epochs. Then your own images (here a generated
folder of PNGs).

    AEKIT_DATA=/path/to/datasets python examples/denoise.py     # a few minutes on a laptop CPU
    AEKIT_EXAMPLES_QUICK=1 python examples/denoise.py           # a few seconds

Figures go to $AEKIT_EXAMPLES_OUT (default runs/examples/denoise).
"""

import os
import tempfile
from pathlib import Path

import numpy as np

import aekit
from aekit import plots
from aekit.data import load_builtin, read_path, write_output

QUICK = os.environ.get("AEKIT_EXAMPLES_QUICK") == "1"
if QUICK:
    print(
        "AEKIT_EXAMPLES_QUICK=1: one epoch on a subset; the numbers are not comparable with the tutorial's"
    )
OUT = Path(os.environ.get("AEKIT_EXAMPLES_OUT", "runs/examples/denoise"))
FIG = dict(overwrite=True)  # a second run replaces the figures of the first

train, test = load_builtin("fashion-mnist", "train"), load_builtin("fashion-mnist", "test")
n_train, n_test = (1000, 200) if QUICK else (None, None)
x_train, x_test = train.x[:n_train], test.x[:n_test]

# Trained on clean images: every batch is corrupted afresh with `noise`; the target is the clean image.
den = aekit.Denoiser(noise="gaussian:0.2", channels=(16, 8), epochs=1 if QUICK else 10)
den.fit(x_train, validation_data=x_test)  # held-out images are noised once, with a fixed seed
metrics = den.evaluate(x_test)
print(f"val_loss (MSE): aekit {metrics['val_mse']:.4f}   tutorial 0.0071-0.0076")
print(f"PSNR: noisy {metrics['noisy_psnr']:.1f} dB -> denoised {metrics['val_psnr']:.1f} dB")

# The tutorial's figure: noisy over denoised (and the clean originals).
noisy = den.add_noise(x_test[:10], seed=0)
plots.plot_image_rows(
    [noisy, den.transform(noisy), x_test[:10]],
    OUT / "denoised.png",
    row_titles=["noisy", "denoised", "clean"],
    **FIG,
)
plots.plot_history(den.history_, OUT / "loss.png", **FIG)

# Your own data: a folder of PNG/JPEG images (same size, or read_path(..., image_size=(64, 64))).
with tempfile.TemporaryDirectory() as tmp:
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    blobs = np.stack(
        [
            np.exp(-((xx - a) ** 2 + (yy - b) ** 2) * 20)
            for a, b in np.random.default_rng(0).random((64, 2))
        ]
    )
    write_output(Path(tmp) / "photos", blobs[:, None])  # 64 PNGs, 32x32 grayscale
    photos = read_path(Path(tmp) / "photos")  # Data: x (64, 1, 32, 32), names ['000000.png', ...]
    # 64 images: 2 steps an epoch, so epochs=100 for 200 steps (20 epochs made them worse)
    own = aekit.Denoiser(noise="saltpepper:0.05", epochs=20 if QUICK else 100).fit(photos.x)
    # same names
    write_output(Path(tmp) / "cleaned", own.transform(own.add_noise(photos.x)), like=photos)
    print(f"own images {photos.x.shape}: {own.evaluate(photos.x)}")
print(f"figures in {OUT}/")
