"""The size check before anything is allocated (aekit/training/memory.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

import aekit
from aekit.training import memory

ROOT = Path(__file__).resolve().parents[2]


def _builds():
    """Builders of aekit's networks of every kind, with one sample's shape."""
    from aekit.models.conv import image_autoencoder
    from aekit.models.dense import DenseAutoencoder, DenseConfig
    from aekit.models.dense_ensemble import DenseEnsemble

    dense = DenseConfig(input_shape=(20,), latent_dim=3, hidden=(16, 8), activation="elu")
    return [
        (lambda: DenseAutoencoder(dense), (20,)),
        (lambda: DenseEnsemble(dense, 3), (20,)),
        (lambda: DenseAutoencoder(DenseConfig(input_shape=(1, 6, 6), latent_dim=2)), (1, 6, 6)),
        (lambda: image_autoencoder((1, 12, 12), (4, 8), 5), (1, 12, 12)),
    ]


def test_the_counted_activations_are_a_meta_forwards_own():
    """The linear and elementwise leaves are counted without running torch's meta kernels: the same
    bytes as the forward through them, so the refusal lines say what they said."""
    for build, shape in _builds():
        with torch.device("meta"):
            plain = build()
        for batch in (1, 7, 300):
            counted = memory.activation_bytes(memory._meta_model(build), shape, batch)
            assert counted == memory.activation_bytes(plain, shape, batch) > 0


def test_the_check_and_a_cold_load_import_no_compiler(tmp_path):
    """Probe 57 citizen #3: the check's meta forward through nn.Linear imported torch._dynamo and
    sympy (~1.4 s on a first fit or load), set TORCHINDUCTOR_CACHE_DIR and left a temp folder.
    (A fit's own torch.optim.Adam imports torch._dynamo in torch 2.13: the check is tested alone.)"""
    X = np.random.default_rng(0).random((200, 12), dtype=np.float32)
    for name, est in (
        ("ae", aekit.Autoencoder(latent_dim=3, epochs=1, threads=1)),
        ("ad", aekit.AnomalyDetector(epochs=1, threads=1)),
    ):
        est.fit(X).save(tmp_path / name)
    np.save(tmp_path / "X.npy", X)
    code = f"""
import os, sys, numpy as np, aekit
from aekit.models.dense import DenseConfig
from aekit.models.dense_ensemble import DenseEnsemble
from aekit.training.memory import check_model_fits
X = np.load({str(tmp_path / "X.npy")!r})
config = DenseConfig(input_shape=(12,), latent_dim=3, hidden=(16, 8))
check_model_fits(lambda: DenseEnsemble(config, 3), (12,), 256)
aekit.load({str(tmp_path / "ae")!r}).transform(X)
aekit.load({str(tmp_path / "ad")!r}).score_samples(X)
print("torch._dynamo" in sys.modules, "TORCHINDUCTOR_CACHE_DIR" in os.environ, "sympy" in sys.modules)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TORCHINDUCTOR_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "False"], out.stdout  # nor sympy (empty_like's)
