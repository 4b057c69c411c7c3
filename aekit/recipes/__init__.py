"""Recipes: what ``aekit train FAMILY`` runs, end to end, into a run folder.

``spec`` says where a run's data comes from (:class:`DataSpec`), ``base`` holds what every family
shares (:class:`Recipe`, the registry), ``run`` drives any recipe into a run folder
(:func:`train_run`, :func:`load_run`) and ``folder`` locks and writes that folder; one module
per family (``autoencoder``, ``denoise``, ``anomaly``, ``vae``, ``series``; ``images``, the
anomaly family's row for a folder of images) holds its data, held-out metrics and figures. Recipes use the estimators,
plots, data and training, and know nothing of the CLI.
"""

from .base import RECIPES, Recipe, get_recipe
from .run import load_run, train_run
from .spec import DataSpec

__all__ = ["DataSpec", "RECIPES", "Recipe", "get_recipe", "load_run", "train_run"]
