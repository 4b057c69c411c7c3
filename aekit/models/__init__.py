"""Model families: plain ``torch.nn.Module`` classes, each with a typed config dataclass.

Models know nothing of training, estimators, recipes, plots or the CLI.
"""

from .conv1d import signal_autoencoder
from .dense import DenseAutoencoder, DenseConfig

__all__ = ["DenseAutoencoder", "DenseConfig", "signal_autoencoder"]
