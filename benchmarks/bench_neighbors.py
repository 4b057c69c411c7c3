"""Search by latent vector on Fashion-MNIST: precision at 10 and query time, latents vs raw pixels.

    python benchmarks/bench_neighbors.py [--run runs/basic] [--epochs 10] [--threads 2]

For each of the 10,000 test images, its 10 nearest training images (of 60,000): by the basic
recipe's 64-d latents through ``aekit.estimators.neighbors.LatentIndex`` (faiss when installed,
else scikit-learn's brute force), and by raw pixels (784-d) with scikit-learn's
``NearestNeighbors(algorithm="brute")``, the peer. Precision at 10: the fraction of the 10 that
share the query's label. The issue's bar: latents within 0.03 of pixels, 10,000 queries in < 10 s.

Without ``--run`` the basic recipe (its own settings) is trained here first (a few minutes on 2 CPU
cores); with it, that run's model is used.
"""

from __future__ import annotations

import time

import _common as C
import numpy as np
import torch

import aekit
from aekit.data import load_builtin
from aekit.estimators.neighbors import LatentIndex
from aekit.recipes.autoencoder import BASIC

K = 10


def precision_at_k(idx: np.ndarray, y_items: np.ndarray, y_queries: np.ndarray) -> float:
    """Mean over queries of the fraction of its neighbours (rows of ``idx``) that share its label."""
    return float((y_items[idx] == y_queries[:, None]).mean())


def timed_search(index, queries: np.ndarray) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    _, idx = (
        index.kneighbors(queries, K)
        if isinstance(index, LatentIndex)
        else index.kneighbors(queries, K)
    )
    return idx, time.perf_counter() - t0


def main() -> None:
    args = C.parse_args(
        __doc__.splitlines()[0],
        epochs=10,
        batch_size=32,
        run="",
        backend="auto",
        metric="euclidean",
    )
    train, test = load_builtin("fashion-mnist", "train"), load_builtin("fashion-mnist", "test")
    if args.run:
        ae = aekit.load(args.run, device="cpu")
        source = f"run {args.run}"
    else:
        t0 = time.perf_counter()
        ae = BASIC.build({"epochs": args.epochs, "batch_size": args.batch_size, "device": "cpu"})
        ae.fit(train.x)
        source = (
            f"basic recipe trained here ({args.epochs} epochs, {time.perf_counter() - t0:.0f} s)"
        )

    t0 = time.perf_counter()
    z_train, z_test = ae.transform(train.x), ae.transform(test.x)
    encode_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = LatentIndex(metric=args.metric, backend=args.backend).fit(z_train)
    build_s = time.perf_counter() - t0
    idx_latent, latent_s = timed_search(index, z_test)

    latent_sk = LatentIndex(metric=args.metric, backend="sklearn").fit(z_train)
    idx_latent_sk, latent_sk_s = timed_search(latent_sk, z_test)

    from sklearn.neighbors import NearestNeighbors

    pixels_train, pixels_test = train.x.reshape(len(train.x), -1), test.x.reshape(len(test.x), -1)
    raw = NearestNeighbors(metric=args.metric, algorithm="brute").fit(pixels_train)
    t0 = time.perf_counter()
    _, idx_raw = raw.kneighbors(pixels_test, K)
    raw_s = time.perf_counter() - t0

    p_latent = precision_at_k(idx_latent, train.y, test.y)
    p_latent_sk = precision_at_k(idx_latent_sk, train.y, test.y)
    p_raw = precision_at_k(idx_raw, train.y, test.y)
    print(
        f"\nnearest neighbours on Fashion-MNIST: {len(test.x)} test queries against {len(train.x)} training images, "
        f"k={K}, {args.metric}"
    )
    print(
        f"model: {source}; torch threads {torch.get_num_threads()}; encoding 70,000 images {encode_s:.2f} s"
    )
    print(f"{'':42s} {'dims':>5s} {'precision@10':>13s} {'query s':>9s}")
    print(
        f"{'aekit LatentIndex (' + index.backend_ + ', latents)':42s} {z_train.shape[1]:5d} {p_latent:13.4f} "
        f"{latent_s:9.2f}   (+ {build_s:.2f} s to build)"
    )
    print(
        f"{'aekit LatentIndex (sklearn, latents)':42s} {z_train.shape[1]:5d} {p_latent_sk:13.4f} {latent_sk_s:9.2f}"
    )
    print(
        f"{'scikit-learn brute force, raw pixels':42s} {pixels_train.shape[1]:5d} {p_raw:13.4f} {raw_s:9.2f}"
    )
    print(
        f"precision gap (pixels - latents): {p_raw - p_latent:+.4f}  (bar: <= 0.03); "
        f"latent queries {latent_s:.2f} s (bar: < 10 s)"
    )


if __name__ == "__main__":
    main()
