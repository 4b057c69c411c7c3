"""The one training loop every model family shares, its checkpoints and run folders.

Training knows nothing of tasks, plots or the CLI.
"""
