"""Every recipe's data handling keeps the fields it does not change: a table's id column name
(``id_name``), images' mode (``image_mode``) and the ids themselves, from ``load_data`` through the
fit and ``evaluate`` to the data of ``aekit evaluate`` (the held-out split and a given file)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from aekit.data import Data
from aekit.recipes.base import get_recipe

from ..cli.helpers import cli_here
from ..synthetic_series import sine_series, write_csv

SPIED = ("load_data", "load_eval_data", "fit", "evaluate")


def _table(folder, labelled: bool = False) -> tuple[str, list[str]]:
    """A CSV whose first column is the id ``user_id`` (and a ``status`` label: ok or bad)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    path = folder / "t.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "a", "b", "c", "d", *(["status"] if labelled else [])])
        for i, row in enumerate(x):
            w.writerow([f"u{i}", *row, *(["bad" if i % 6 == 0 else "ok"] if labelled else [])])
    options = ["--id-column", "user_id"]
    if labelled:
        options += ["--label-column", "status", "--normal-label", "ok"]
    return str(path), options


def _images(folder) -> tuple[str, list[str]]:
    """A folder of 8x8 RGB PNGs."""
    rng = np.random.default_rng(0)
    (folder / "imgs").mkdir()
    for i in range(24):
        pixels = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels, "RGB").save(folder / "imgs" / f"{i:02d}.png")
    return str(folder / "imgs"), []


def _series(folder) -> tuple[str, list[str]]:
    """A sine series with a time column."""
    x, _ = sine_series(400, kind="none")
    path = write_csv(folder / "s.csv", x)
    return str(path), ["--time-column", "time", "--train-steps", "300"]


# family, kind of data, (id_name, image_mode, has ids) every Data the recipe hands on must keep
CASES = [
    ("basic", "table", ("user_id", None, True)),
    ("stacked", "table", ("user_id", None, True)),
    ("anomaly", "table", ("user_id", None, True)),
    ("anomaly", "labelled table", ("user_id", None, True)),
    ("basic", "streamed table", ("user_id", None, True)),  # the id column given by its index
    ("anomaly", "streamed table", ("user_id", None, True)),
    ("basic", "images", (None, "RGB", False)),
    ("denoise", "images", (None, "RGB", False)),
    ("vae", "images", (None, "RGB", False)),
    ("series", "series", ("time", None, True)),  # the time column under its own name
]


def _data(kind: str, folder) -> tuple[str, list[str]]:
    if kind == "images":
        return _images(folder)
    if kind == "series":
        return _series(folder)
    if kind == "streamed table":
        path, _ = _table(folder)
        return path, ["--id-column", "0", "--stream"]
    return _table(folder, labelled=kind == "labelled table")


def _spy(recipe, monkeypatch) -> list[tuple[str, Data]]:
    """Wrap the recipe's data steps; return the list of (step, Data) each takes or gives."""
    seen: list[tuple[str, Data]] = []

    def found(step: str, value) -> None:
        if isinstance(value, Data):
            seen.append((step, value))
        elif isinstance(value, (tuple, list)):
            for v in value:
                found(step, v)

    for step in SPIED:
        original = getattr(recipe, step)

        def spy(*args, _original=original, _step=step, **kw):
            found(_step, [*args, *kw.values()])
            result = _original(*args, **kw)
            found(_step, result)
            return result

        monkeypatch.setattr(recipe, step, spy)
    return seen


@pytest.mark.parametrize(("family", "kind", "kept"), CASES, ids=[f"{f}-{k}" for f, k, _ in CASES])
def test_every_data_step_keeps_id_name_and_image_mode(family, kind, kept, tmp_path, monkeypatch):
    path, options = _data(kind, tmp_path)
    seen = _spy(get_recipe(family), monkeypatch)
    run = tmp_path / "run"
    train = ["train", family, "--data", path, *options, "--epochs", "1", "--out", run]
    cli_here(*train, "--no-figures", "--quiet", "--device", "cpu")
    cli_here("evaluate", run)  # the run's held-out split
    cli_here("evaluate", run, "--data", path)  # a given file

    assert {step for step, _ in seen} == set(SPIED)
    id_name, image_mode, has_ids = kept
    for step, data in seen:
        assert (data.id_name, data.image_mode) == (id_name, image_mode), (step, data.source)
        assert (data.ids is not None) == has_ids, (step, data.source)
