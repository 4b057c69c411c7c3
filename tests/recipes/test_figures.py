"""What the recipes' figures show: a rule's target rate, the data's units, titles that fit; and
that they draw again over the run's own figures (``aekit plot``)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import aekit.plots
from aekit.recipes import DataSpec, load_run, train_run


@pytest.fixture
def drawn(monkeypatch):
    """name -> the keyword arguments of the last call of that aekit.plots function (still drawn)."""
    calls: dict[str, dict] = {}
    for name in (
        "plot_error_histogram",
        "plot_table_reconstructions",
        "plot_signal_reconstructions",
    ):
        real = getattr(aekit.plots, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls[_name] = {"args": args, **kwargs}
            return _real(*args, **kwargs)

        monkeypatch.setattr(aekit.plots, name, spy)
    return calls


def _table(path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    x[-3:, 1] -= 8.0  # three rows far out in one column
    lines = ["id,a,b,c,d,label"] + [
        f"r{i}," + ",".join(f"{v:.5f}" for v in row) + f",{int(i >= n - 3)}"
        for i, row in enumerate(x)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_histogram_names_an_fpr_rule_s_target_rate(tmp_path, drawn):
    """Probe 55 F1: no caller passed target_rate: "fpr:0.02" was never named on the histogram."""
    spec = DataSpec(
        data=str(_table(tmp_path / "t.csv")), label_column="label", normal_label="0", id_column="id"
    )
    est, _ = train_run(
        "anomaly", {"epochs": 1, "threshold": "fpr:0.2", "threads": 1}, spec, tmp_path / "run"
    )
    assert drawn["plot_error_histogram"]["target_rate"] == 0.2
    # drawn again over the run's own figures, as `aekit plot` does
    est, recipe, config = load_run(tmp_path / "run")
    est.set_params(threshold="mean_std")
    recipe.figures(
        est, recipe.load_eval_data(spec, int(config["seed"])), tmp_path / "run" / "figures"
    )
    assert drawn["plot_error_histogram"]["target_rate"] is None


def test_table_reconstructions_are_in_the_held_out_rows_units(tmp_path, drawn):
    """Probe 55 F4: the basic recipe's standard units came from the 4 rows drawn: a value 5 SD out
    was drawn at -1.5, and a single row at 0."""
    spec = DataSpec(
        data=str(_table(tmp_path / "t.csv", n=200)), id_column="id", drop_columns=["label"]
    )
    train_run("basic", {"epochs": 1, "latent_dim": 2, "threads": 1}, spec, tmp_path / "run")
    call = drawn["plot_table_reconstructions"]
    drawn_rows = call["args"][0]
    assert len(drawn_rows) == 4 and call["center"] is not None
    assert not np.allclose(call["scale"], drawn_rows.std(axis=0))  # all held-out rows' spread


def _png(path, a):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(a, np.uint8), "L").save(path)


def test_the_image_histogram_is_titled_for_image_scores(tmp_path, drawn):
    """Probe 55 F14/F1: titled "reconstruction errors" for the features method (no reconstruction),
    and its default rule fpr:0.01 not named."""
    rng = np.random.default_rng(0)
    for i in range(12):
        _png(tmp_path / "good" / f"{i}.png", 100 + 40 * rng.random((16, 16)))
    spec = DataSpec(data=str(tmp_path / "good"))
    train_run("anomaly", {"bank_size": 64, "threads": 1}, spec, tmp_path / "run")
    call = drawn["plot_error_histogram"]
    assert call["title"] == "image scores of held-out images" and call["target_rate"] == 0.01


def _image_run(tmp_path):
    """A run of the image detector on 12 good images (1 held out to calibrate on); its spec."""
    rng = np.random.default_rng(0)
    for i in range(12):
        _png(tmp_path / "good" / f"{i}.png", 100 + 40 * rng.random((16, 16)))
    spec = DataSpec(data=str(tmp_path / "good"))
    train_run("anomaly", {"bank_size": 64, "threads": 1}, spec, tmp_path / "run")
    return spec


def test_the_image_histogram_s_axis_says_what_the_score_is(tmp_path, drawn):
    """Probe 66 #6: the axis said "its map's highest value" for the mean of the map's top 5%."""
    spec = _image_run(tmp_path)
    xlabel = drawn["plot_error_histogram"]["xlabel"]
    assert xlabel == "image score (mean of its map's top 5%, at most 256 pixels)"
    # a run saved before the top-5% score keeps its map's maximum, and says so
    est, recipe, config = load_run(tmp_path / "run")
    est.image_score_ = "max"
    recipe.figures(
        est, recipe.load_eval_data(spec, int(config["seed"])), tmp_path / "run" / "figures"
    )
    assert drawn["plot_error_histogram"]["xlabel"] == "image score (its map's maximum)"


def test_the_image_histogram_gives_the_rate_its_threshold_can_promise(tmp_path, drawn):
    """Probe 66 #10: the legend gave the rate 0.01 asked, where 1 calibration image promises 0.5
    (the note at training said so)."""
    _image_run(tmp_path)
    call = drawn["plot_error_histogram"]
    assert call["target_rate"] == 0.01 and call["promised_rate"] == 0.5


def test_signal_reconstructions_are_named_by_the_rows_they_show(tmp_path, drawn):
    """Probe 66 #7: the panels were titled "sample 0", "sample 1", "sample 2" (their place among
    the rows drawn) while they showed held-out rows 4, 8 and 10; the id column was not used."""
    rng = np.random.default_rng(0)
    x = np.sin(np.linspace(0, 6, 60) + rng.uniform(0, 6, (100, 1))) + rng.normal(0, 0.1, (100, 60))
    lines = ["id," + ",".join(f"t{i}" for i in range(60))] + [
        f"beat{k}," + ",".join(f"{v:.5f}" for v in row) for k, row in enumerate(x)
    ]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    spec = DataSpec(data=str(tmp_path / "s.csv"), id_column="id")
    train_run("basic", {"epochs": 1, "latent_dim": 2, "threads": 1}, spec, tmp_path / "run")
    panels = drawn["plot_signal_reconstructions"]["args"][0]
    assert len(panels) == 3
    for signal, _, title in panels:
        assert title.startswith("id beat"), title
        np.testing.assert_allclose(signal, x[int(title[len("id beat") :])], atol=1e-5)
