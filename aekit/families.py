"""The families, registered once: every other list of them is derived from :data:`FAMILIES`.

A family is what ``aekit train NAME`` trains: an estimator class (the name ``config.json`` records),
the module that defines it, the recipe that trains it into a run folder, and the command-line
module with its options and commands. ``aekit.load`` may build only the classes named here (never
an arbitrary import path), ``aekit``'s lazy names, the recipes and the CLI read the same table.

A family may have a second row for other data (``data="images"``: ``--data`` is a folder of images):
``aekit train anomaly`` trains the table detector on a table and the image detector on a folder of
images. A run records its estimator, so that later commands find the row it was trained with.

This module sits below every layer and imports nothing, so that any of them may read it.
Adding a family: a row here, then the modules it names (CONTRIBUTING.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str  # the command-line name: aekit train NAME
    estimator: str  # the estimator class, as config.json names it
    module: str  # the module that defines the estimator
    recipe: str  # "module:attribute" of its Recipe instance
    cli: str  # the aekit.cli module with its train options and commands
    # the data this row is for, over the family's first row: "images" (--data is a folder of images)
    data: str = ""


FAMILIES = (
    Family("basic", "Autoencoder", "aekit.estimators.autoencoder",
           "aekit.recipes.autoencoder:BASIC", "cmd_autoencoder"),
    Family("stacked", "Autoencoder", "aekit.estimators.autoencoder",
           "aekit.recipes.autoencoder:STACKED", "cmd_autoencoder"),
    Family("denoise", "Denoiser", "aekit.estimators.denoise",
           "aekit.recipes.denoise:RECIPE", "cmd_denoise"),
    Family("anomaly", "AnomalyDetector", "aekit.estimators.anomaly",
           "aekit.recipes.anomaly:RECIPE", "cmd_anomaly"),
    Family("anomaly", "ImageAnomalyDetector", "aekit.estimators.images",
           "aekit.recipes.images:RECIPE", "cmd_images", data="images"),
    Family("vae", "VAE", "aekit.estimators.vae", "aekit.recipes.vae:RECIPE", "cmd_vae"),
    Family("series", "SeriesDetector", "aekit.estimators.series",
           "aekit.recipes.series:RECIPE", "cmd_series"),
)  # fmt: skip

#: Estimators no command-line family trains yet: the Python API and aekit.load take them.
PYTHON_ONLY: dict[str, str] = {}

#: Estimator class name -> the module that defines it (what aekit.load may build).
ESTIMATORS = {**{f.estimator: f.module for f in FAMILIES}, **PYTHON_ONLY}
#: CLI family name -> "module:attribute" of its recipe (the family's first row).
RECIPES = {f.name: f.recipe for f in FAMILIES if not f.data}
#: The CLI modules of the families, in the order of FAMILIES.
CLI_MODULES = tuple(dict.fromkeys(f.cli for f in FAMILIES))


def family_of(estimator: str) -> str | None:
    """The first family whose estimator is ``estimator`` (a model saved with ``est.save()``)."""
    return next((f.name for f in FAMILIES if f.estimator == estimator), None)


def recipe_of(name: str, estimator: str | None = None, data: str = "") -> str | None:
    """ "module:attribute" of the recipe of family ``name``: its row for ``estimator`` (what a run
    recorded), else its row for ``data`` ("images"), else its first row; None for no such family."""
    rows = [f for f in FAMILIES if f.name == name]
    chosen = [f for f in rows if f.estimator == estimator] if estimator is not None else []
    chosen = chosen or [f for f in rows if data and f.data == data] or rows[:1]
    return chosen[0].recipe if chosen else None
