"""Tests for aekit.plots: every plot writes a valid PNG atomically; bad input raises ValueError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aekit.plots import (
    plot_error_histogram,
    plot_feature_errors,
    plot_history,
    plot_image_grid,
    plot_image_rows,
    plot_latent_map,
    plot_roc,
    plot_signal_reconstructions,
    plot_strip,
    plot_table_reconstructions,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RNG = np.random.default_rng(0)


def check_png(path: Path, written: Path) -> None:
    """``written`` is ``path``, a PNG of plausible size, with no temp file left beside it."""
    import matplotlib.image as mpimg

    assert written == path
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    h, w = mpimg.imread(path).shape[:2]
    assert 50 <= h <= 5000 and 50 <= w <= 5000
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def images(n: int, c: int, h: int = 8, w: int = 8) -> np.ndarray:
    return RNG.uniform(-0.2, 1.2, size=(n, c, h, w))  # out of [0, 1] on purpose: clipped


@pytest.mark.parametrize("c", [1, 3])
def test_image_rows(tmp_path: Path, c: int) -> None:
    x = images(12, c)
    path = tmp_path / "recon.png"
    check_png(path, plot_image_rows([x, x * 0.9], path, row_titles=["original", "reconstructed"]))
    path.unlink()
    out = plot_image_rows(
        [x, x, x], path, row_titles=["noisy", "denoised", "clean"], n=4, title="t"
    )
    check_png(path, out)


@pytest.mark.parametrize("c", [1, 3])
def test_image_grid_and_strip(tmp_path: Path, c: int) -> None:
    check_png(
        tmp_path / "grid.png",
        plot_image_grid(images(10, c), tmp_path / "grid.png", title="samples"),
    )
    (tmp_path / "grid.png").unlink()
    check_png(tmp_path / "m.png", plot_image_grid(images(20, c), str(tmp_path / "m.png"), ncols=5))
    (tmp_path / "m.png").unlink()
    check_png(
        tmp_path / "strip.png", plot_strip(images(7, c), tmp_path / "strip.png", title="3 -> 8")
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda p: plot_image_rows([images(5, 1), images(4, 1)], p),  # rows of different lengths
        lambda p: plot_image_rows([], p),
        lambda p: plot_image_rows([images(5, 1)], p, row_titles=["a", "b"]),
        lambda p: plot_image_rows([images(5, 1)], p, n=0),
        lambda p: plot_image_grid(np.zeros((4, 8, 8)), p),  # wrong ndim
        lambda p: plot_image_grid(images(4, 2), p),  # 2 channels
        lambda p: plot_image_grid(np.full((2, 1, 4, 4), np.nan), p),
        lambda p: plot_strip(np.zeros((0, 1, 4, 4)), p),
        lambda p: plot_history([], p),
        lambda p: plot_history([{"epoch": 1, "train_loss": None}], p),
        lambda p: plot_latent_map(np.zeros((10, 1)), None, p),
        lambda p: plot_latent_map(np.zeros(10), None, p),
        lambda p: plot_latent_map(np.zeros((10, 3)), np.zeros(9), p),
        lambda p: plot_latent_map(np.zeros((10, 3)), None, p, method="umap"),
        lambda p: plot_signal_reconstructions([(np.zeros(10), np.zeros(9), "a")], p),
        lambda p: plot_signal_reconstructions([], p),
        lambda p: plot_error_histogram([], [], 0.5, p),
        lambda p: plot_error_histogram(np.zeros((2, 2)), [1.0], 0.5, p),
        lambda p: plot_roc([0, 0, 0], [0.1, 0.2, 0.3], p),  # one class only
        lambda p: plot_roc([0, 1, 2], [0.1, 0.2, 0.3], p),
        lambda p: plot_roc([0, 1], [0.1, 0.2, 0.3], p),
        lambda p: plot_feature_errors(np.zeros(5), p),  # one row, not (n, features)
        lambda p: plot_feature_errors(-np.ones((2, 3)), p),
        lambda p: plot_feature_errors(np.ones((2, 3)), p, feature_names=["a", "b"]),
        lambda p: plot_feature_errors(np.ones((2, 3)), p, row_names=["a"]),
    ],
)
def test_bad_input_raises_value_error(tmp_path: Path, call) -> None:
    with pytest.raises(ValueError):
        call(tmp_path / "bad.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("log", [False, True])
def test_history(tmp_path: Path, log: bool) -> None:
    history = [
        {"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e if e % 2 else None}
        for e in range(1, 8)
    ]
    check_png(tmp_path / "h.png", plot_history(history, tmp_path / "h.png", log=log))


def test_history_train_only(tmp_path: Path) -> None:
    history = [{"epoch": 1, "train_loss": 0.5}]
    check_png(tmp_path / "h.png", plot_history(history, tmp_path / "h.png"))


@pytest.mark.parametrize("d", [2, 8])
@pytest.mark.parametrize("labelled", [False, True])
def test_latent_map(tmp_path: Path, d: int, labelled: bool) -> None:
    z = RNG.normal(size=(300, d))
    labels = RNG.integers(0, 10, size=300) if labelled else None
    names = [f"digit {i}" for i in range(10)] if labelled else None
    path = tmp_path / "latent.png"
    check_png(path, plot_latent_map(z, labels, path, class_names=names, title="latent"))


NOT_UTF8 = "caf\udce9"  # the Latin-1 folder name caf\xe9 read under a UTF-8 locale


@pytest.mark.parametrize(
    "draw",
    [
        lambda p: plot_latent_map(
            RNG.normal(size=(30, 2)), np.arange(30) % 2, p, class_names=[NOT_UTF8, "the"]
        ),
        lambda p: plot_latent_map(RNG.normal(size=(30, 2)), np.array([NOT_UTF8, "the"] * 15), p),
        lambda p: plot_feature_errors(
            np.ones((2, 2)), p, feature_names=[NOT_UTF8, "b"], row_names=["r", NOT_UTF8]
        ),
        lambda p: plot_signal_reconstructions(
            [(np.ones(9), np.ones(9), NOT_UTF8)], p, title=NOT_UTF8
        ),
        lambda p: plot_table_reconstructions(
            np.ones((1, 2)), np.ones((1, 2)), p, feature_names=[NOT_UTF8, "b"], row_names=[NOT_UTF8]
        ),
    ],
)
def test_names_that_are_not_utf8_are_drawn(tmp_path: Path, draw) -> None:
    """probe 59 locale H1: a class folder named in Latin-1 bytes made matplotlib's font raise when
    the latent map was saved, after training, and the run was lost."""
    path = tmp_path / "f.png"
    check_png(path, draw(path))


def test_latent_map_continuous_labels_and_subsample(tmp_path: Path) -> None:
    z = RNG.normal(size=(12_000, 4))
    path = tmp_path / "latent.png"
    check_png(path, plot_latent_map(z, RNG.normal(size=12_000), path))


def test_signal_reconstructions(tmp_path: Path) -> None:
    t = np.linspace(0, 6, 140)
    signals = [(np.sin(t), np.sin(t) + 0.1, "normal"), (np.cos(t), 0.5 * np.cos(t), "anomalous")]
    check_png(tmp_path / "ecg.png", plot_signal_reconstructions(signals, tmp_path / "ecg.png"))


@pytest.mark.parametrize("features", [6, 140])
def test_feature_errors(tmp_path: Path, features) -> None:
    errors = RNG.gamma(2.0, 0.5, (8, features))
    errors[0, 3] = 0.0  # a feature reconstructed exactly: on the log scale all the same
    names = [f"c{i}" for i in range(features)]
    path = plot_feature_errors(
        errors, tmp_path / "f.png", feature_names=names, row_names=list("abcdefgh")
    )
    check_png(tmp_path / "f.png", path)
    (tmp_path / "f.png").unlink()
    check_png(tmp_path / "f.png", plot_feature_errors(np.zeros((2, 3)), tmp_path / "f.png"))


def test_error_histogram(tmp_path: Path) -> None:
    normal, anomalous = RNG.gamma(2.0, 0.01, 500), RNG.gamma(2.0, 0.03, 100)
    check_png(tmp_path / "e.png", plot_error_histogram(normal, anomalous, 0.04, tmp_path / "e.png"))
    (tmp_path / "e.png").unlink()
    check_png(
        tmp_path / "e.png", plot_error_histogram(normal, [], None, tmp_path / "e.png", bins=20)
    )


def test_roc(tmp_path: Path) -> None:
    y = np.r_[np.zeros(200), np.ones(50)]
    scores = np.r_[RNG.normal(0, 1, 200), RNG.normal(2, 1, 50)]
    check_png(
        tmp_path / "roc.png", plot_roc(y.astype(bool), scores, tmp_path / "roc.png", title="ROC")
    )


def test_creates_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "grid.png"
    assert plot_image_grid(images(4, 1), path) == path
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_import_does_not_load_matplotlib() -> None:
    code = "import aekit.plots, sys; print('matplotlib' in sys.modules, 'sklearn' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_manifold_has_z1_z2_axes_and_every_plot_a_title(tmp_path, monkeypatch):
    import aekit.plots._common as common
    from aekit.plots import plot_manifold

    q = np.linspace(-2, 2, 4)
    check_png(
        tmp_path / "m.png",
        plot_manifold(images(12, 1), q, q[:3][::-1], tmp_path / "m.png", title="manifold"),
    )
    with pytest.raises(ValueError, match="len"):
        plot_manifold(images(5, 1), q, q, tmp_path / "bad.png")
    seen = []
    save = common._save

    def keep(fig, path, dpi=common.DPI):  # look at each figure's axes before it is written
        ax = fig.axes[0]
        seen.append(
            (
                Path(path).name,
                ax.get_title() or fig._suptitle is not None,
                ax.get_xlabel(),
                ax.get_ylabel(),
                [t.get_text() for t in ax.get_xticklabels()],
            )
        )
        return save(fig, path, dpi)

    for module in ("curves", "images", "latent", "anomaly"):
        monkeypatch.setattr(f"aekit.plots.{module}._save", keep)
    plot_manifold(images(12, 1), q, q[:3][::-1], tmp_path / "m2.png")
    plot_history([{"epoch": e, "train_loss": 1 / e} for e in range(1, 4)], tmp_path / "h.png")
    plot_latent_map(RNG.normal(size=(20, 2)), None, tmp_path / "l.png")
    plot_error_histogram(RNG.random(10), RNG.random(5), 0.5, tmp_path / "e.png")
    plot_roc(np.array([0, 1] * 5), RNG.random(10), tmp_path / "r.png")
    by_name = {s[0]: s[1:] for s in seen}
    assert by_name["m2.png"][1:3] == ("z1", "z2")
    for name in ("h.png", "l.png", "e.png", "r.png"):
        title, xlabel, ylabel, _ = by_name[name]
        assert title and xlabel and ylabel, name
    ticks = [t for t in by_name["h.png"][3] if t]
    assert all(float(t.replace("−", "-")).is_integer() for t in ticks)  # whole epochs only


def _drawn(monkeypatch, module):
    """The figures ``module``'s plots save (left open to look at; closed by the caller)."""
    figures = []

    def keep(fig, path, *args):
        figures.append(fig)
        return path

    monkeypatch.setattr(module, "_save", keep)
    return figures


def test_exact_zeros_keep_the_log_axis_and_are_counted(tmp_path, monkeypatch):
    """Probe 55 F13: a few exact zeros turned the log axis off: the bulk was one bar at 0."""
    import matplotlib.pyplot as plt

    import aekit.plots.anomaly as module

    figures = _drawn(monkeypatch, module)
    normal = np.r_[np.zeros(50), np.abs(RNG.normal(size=200)) * 1e-3]
    plot_error_histogram(normal, np.array([50.0, 100.0]), 0.01, tmp_path / "h.png")
    ax = figures[0].axes[0]
    assert ax.get_xscale() == "log"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "normal (n=250, 50 at 0 not drawn)" in texts
    plt.close(figures[0])


@pytest.mark.parametrize(
    "kwargs, needle",
    [({"bins": "ten"}, "bins must be a whole number"), ({"target_rate": "x"}, "must be a number")],
)
def test_histogram_arguments_that_are_not_numbers_are_one_line(tmp_path, kwargs, needle):
    """Probe 55 F16: bins="ten" and threshold="abc" raised Python's ValueError."""
    from aekit.errors import DataError

    with pytest.raises(DataError, match=needle):
        plot_error_histogram([1.0, 2.0], [3.0], 1.5, tmp_path / "h.png", **kwargs)
    with pytest.raises(DataError, match="threshold must be a number"):
        plot_error_histogram([1.0, 2.0], [3.0], "abc", tmp_path / "h.png")


def test_mixed_labels_names_as_one_string_and_nan_axes_are_one_line(tmp_path):
    """Probe 55 F16/F17: labels of numbers and text raised Python's TypeError; feature_names="ab"
    and a NaN latent value drew silently."""
    from aekit.errors import DataError
    from aekit.plots import plot_manifold, plot_table_reconstructions

    with pytest.raises(DataError, match="labels mix numbers and text"):
        plot_latent_map(
            RNG.normal(size=(4, 2)), np.array([1, "a", 2, "b"], object), tmp_path / "l.png"
        )
    with pytest.raises(DataError, match="feature_names must be a list of names, not one string"):
        plot_table_reconstructions(
            [[1.0, 2.0]], [[1.0, 2.0]], tmp_path / "t.png", feature_names="ab"
        )
    with pytest.raises(DataError, match="z1 contains NaN"):
        plot_manifold(np.zeros((2, 1, 4, 4)), [0.0, np.nan], [0.0], tmp_path / "m.png")
    assert not list(tmp_path.iterdir())


def test_every_plot_is_exported_and_documented():
    """Probe 55 F21: plot_series_scores was not in aekit.plots; four plots were not in the API page."""
    import aekit.plots
    from aekit.plots.series import plot_series_scores

    from ..conftest import REPO

    assert aekit.plots.plot_series_scores is plot_series_scores
    page = (REPO / "docs" / "api" / "plots.md").read_text()
    for name in aekit.plots.__all__:
        if callable(getattr(aekit.plots, name)):
            assert f".{name}\n" in page, name
    assert "`aekit.plots.FIGURE_FORMATS`" in page  # the one constant, in the prose


def test_history_labels_its_curves(tmp_path: Path, monkeypatch) -> None:
    """probe 60 generate 1: a curve labelled by what it is, not its key (a VAE's train_loss is
    its training objective); keys without a label show their name."""
    from aekit.plots import curves

    legends, save = [], curves._save

    def spy(fig, path):
        legends.extend(t.get_text() for t in fig.axes[0].get_legend().get_texts())
        return save(fig, path)

    monkeypatch.setattr(curves, "_save", spy)
    history = [{"epoch": 1, "train_loss": 2.0, "val_loss": 1.0}]
    plot_history(history, tmp_path / "h.png", labels={"train_loss": "training objective"})
    assert legends == ["training objective", "val loss"]
    with pytest.raises(ValueError, match="labels must map keys to legend texts"):
        plot_history(history, tmp_path / "b.png", labels=["a"])


def test_a_history_of_one_epoch_has_one_tick_at_that_epoch(tmp_path: Path, monkeypatch) -> None:
    """Probe 66 #9: a one-epoch run's loss.png read 0.945, 0.960, ... 1.050 on its epoch axis:
    the whole-number locator finds no whole number around a single point."""
    import matplotlib.pyplot as plt

    from aekit.plots import curves

    figures = _drawn(monkeypatch, curves)
    plot_history([{"epoch": 1, "train_loss": 0.5, "val_loss": 0.6}], tmp_path / "h.png")
    ax = figures[0].axes[0]
    assert list(ax.get_xticks()) == [1.0]
    assert ax.get_xlim()[0] < 1.0 < ax.get_xlim()[1]
    plt.close(figures[0])


def test_inf_scores_are_a_bar_at_inf_counted_in_the_legend_and_nan_is_refused(
    tmp_path, monkeypatch
):
    """Probe 66 #4: a held-out row scoring inf (a 3e38 sentinel: a known, warned outcome) made the
    histogram refuse its scores, and the finished training was lost with its figures."""
    import matplotlib.pyplot as plt

    import aekit.plots.anomaly as module
    from aekit.errors import DataError

    figures = _drawn(monkeypatch, module)
    normal = np.linspace(0.1, 5.0, 200)
    plot_error_histogram(normal, [9.0, np.inf, np.inf, np.inf], 7.0, tmp_path / "h.png")
    ax = figures[0].axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "anomalous (n=4, 3 score inf: the bar at inf)" in texts and "normal (n=200)" in texts
    (inf,) = ax.get_xticks(minor=True)
    assert [t.get_text() for t in ax.get_xticklabels(minor=True)] == ["inf"]
    assert inf > 9.0 and all(t <= 9.0 for t in ax.get_xticks())  # no number's tick past 9
    bars = [p for p in ax.patches if p.get_x() < inf < p.get_x() + p.get_width()]
    assert [p.get_height() for p in bars] == [3]
    assert ax.get_xlim()[0] <= 0 < inf < ax.get_xlim()[1]
    plt.close(figures[0])
    plot_error_histogram([np.inf, np.inf], [], None, tmp_path / "all.png")  # review 66: no score
    ax = figures[1].axes[0]  # but inf: no number's tick (an empty axis 0.0 ... 0.8 beside the bar)
    assert list(ax.get_xticks()) == [] and len(ax.get_xticks(minor=True)) == 1
    plt.close(figures[1])
    for bad in ([1.0, np.nan], [1.0, -np.inf]):
        with pytest.raises(DataError, match="scores_normal contains NaN or -inf"):
            plot_error_histogram(bad, [], 0.5, tmp_path / "bad.png")


def test_inf_feature_errors_are_drawn_at_the_colour_scale_s_top_and_counted(tmp_path, monkeypatch):
    """Probe 66 #4: feature errors of a row past float32's range are inf; they were refused."""
    import matplotlib.pyplot as plt

    import aekit.plots.anomaly as module
    from aekit.errors import DataError

    figures = _drawn(monkeypatch, module)
    errors = RNG.gamma(2.0, 0.5, (4, 3))
    errors[0, :2] = np.inf
    plot_feature_errors(errors, tmp_path / "f.png", title="what drove them")
    ax = figures[0].axes[0]
    (image,) = ax.get_images()
    top = errors[np.isfinite(errors)].max()
    assert np.allclose(image.get_array()[0, :2], top) and image.norm.vmax == top
    assert ax.get_title() == "what drove them\n2 inf errors drawn at the colour scale's top"
    plt.close(figures[0])
    with pytest.raises(DataError, match="errors contains NaN"):
        plot_feature_errors(np.full((2, 2), np.nan), tmp_path / "bad.png")


def test_an_inf_score_ranks_highest_on_the_roc_curve(tmp_path):
    """Probe 66 #4: the run's ROC curve was next to refuse the inf scores."""
    path = plot_roc([0, 0, 0, 1, 1], [0.1, 0.4, 0.2, 0.3, np.inf], tmp_path / "r.png")
    check_png(tmp_path / "r.png", path)


def test_the_threshold_s_legend_gives_the_rate_it_can_promise_beside_the_one_asked(
    tmp_path, monkeypatch
):
    """Probe 66 #10: 6 calibration images promise 0.143, and the legend said "target false-alarm
    rate 0.01" alone."""
    import matplotlib.pyplot as plt

    import aekit.plots.anomaly as module

    figures = _drawn(monkeypatch, module)
    plot_error_histogram(
        [1.0, 2.0], [3.0], 2.5, tmp_path / "h.png", target_rate=0.01, promised_rate=1 / 7
    )
    texts = [t.get_text() for t in figures[0].axes[0].get_legend().get_texts()]
    # two lines: on one it was wider than the axes (review 66)
    assert "threshold = 2.5\n(false-alarm rate 0.01 asked, 0.143 promised); normal above: 0.0%" in (
        texts
    )
    plt.close(figures[0])


def test_the_histogram_s_legend_covers_no_bar(tmp_path, monkeypatch):
    """Review 66 #7: the threshold's two-line legend lay over the tallest normal bars."""
    import matplotlib.pyplot as plt

    import aekit.plots.anomaly as module

    figures = _drawn(monkeypatch, module)
    rng = np.random.default_rng(0)
    normal, anomalous = rng.lognormal(8, 1, 1000), rng.lognormal(11, 1, 50)
    normal[:3] = np.inf
    plot_error_histogram(
        normal, anomalous, 12345.678, tmp_path / "h.png", target_rate=1e-4, promised_rate=0.000999
    )
    fig = figures[0]
    ax = fig.axes[0]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    bars = [p.get_window_extent() for p in ax.patches if p.get_height() > 0]
    assert bars and not any(legend.overlaps(b) for b in bars)
    assert legend.y1 <= ax.get_window_extent().y0  # under the axes, the threshold line above it
    plt.close(fig)
