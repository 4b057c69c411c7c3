"""The one training loop every model family shares, its checkpoints and run folders.

Training knows nothing of estimators, recipes, plots or the CLI.
"""
