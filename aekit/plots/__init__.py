"""Plots: pure functions from NumPy arrays to a figure file, each returning the path written.

The file's ending names its format (.png, .pdf, .svg, .jpg, .tif, .eps; the map overlays .png,
.jpg, .tif, .pdf); an existing file is replaced only with ``overwrite=True``.

They know nothing of models, training or the CLI. matplotlib and scikit-learn are imported only
when a plot is drawn, so importing this package is cheap; the figures are matplotlib's ``Figure``
objects, not pyplot's, so a plot leaves the user's backend and open figures as they were.
"""

from aekit.plots._common import FIGURE_FORMATS
from aekit.plots.anomaly import (
    plot_error_histogram,
    plot_feature_errors,
    plot_roc,
    plot_signal_reconstructions,
)
from aekit.plots.curves import plot_history
from aekit.plots.images import plot_image_grid, plot_image_rows, plot_manifold, plot_strip
from aekit.plots.latent import plot_latent_map
from aekit.plots.maps import map_overlay, plot_map_overlay, plot_map_overlays
from aekit.plots.neighbors import plot_neighbors
from aekit.plots.series import plot_series_scores
from aekit.plots.tables import plot_table_reconstructions

__all__ = [
    "FIGURE_FORMATS",
    "plot_error_histogram",
    "plot_feature_errors",
    "plot_history",
    "plot_image_grid",
    "plot_image_rows",
    "plot_latent_map",
    "map_overlay",
    "plot_map_overlay",
    "plot_map_overlays",
    "plot_manifold",
    "plot_neighbors",
    "plot_roc",
    "plot_series_scores",
    "plot_signal_reconstructions",
    "plot_strip",
    "plot_table_reconstructions",
]
