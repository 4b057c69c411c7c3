"""Estimators: the library a Python user imports, in scikit-learn's conventions.

One module per estimator (``autoencoder``, ``denoise``, ``anomaly``, ``vae``) and what they share:
``base`` (the estimator base class), ``losses``, ``noise``, ``thresholds``, ``preprocessing``
and ``persistence`` (save/load). Estimators build on ``data``, ``models`` and ``training``, and know
nothing of recipes, plots, export or the CLI.
"""
