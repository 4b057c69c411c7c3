"""Stacked autoencoder (Fashion-MNIST, 784-256-128-64, Adam 1e-3, batch 32, MSE): plain loop vs aekit.

python benchmarks/bench_stacked.py [--epochs 10] [--preset fast]
"""

from bench_basic import main

if __name__ == "__main__":
    main(default_hidden="256,128", title="stacked autoencoder")
