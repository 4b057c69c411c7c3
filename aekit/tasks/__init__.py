"""Tasks: scikit-learn-style estimators built on the models and the shared training loop.

One module per estimator (autoencoder, denoise, anomaly, vae), plus what they share:
``base`` (the estimator base class), ``persistence`` (save/load), ``recipes`` (what
``aekit train FAMILY`` runs: data, fit, metrics, figures).
"""
