"""The file a plot writes: the format its ending names, never a user's file replaced unasked."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from aekit.errors import ArgumentTypeError, DataError, UsageError
from aekit.plots import plot_history, plot_image_grid, plot_map_overlay, plot_strip

HISTORY = [{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}]
MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".jpg": b"\xff\xd8\xff", ".tif": b"II*\x00"}


def test_an_existing_file_is_refused_unless_overwrite(tmp_path):
    """Probe 55 F6: a plot replaced the user's file silently (est.save refuses without overwrite)."""
    mine = tmp_path / "mine.png"
    mine.write_text("user data")
    with pytest.raises(UsageError, match="already exists; pass overwrite=True"):
        plot_history(HISTORY, mine)
    with pytest.raises(UsageError, match="already exists"):
        plot_strip(np.zeros((2, 1, 4, 4)), mine)
    with pytest.raises(UsageError, match="already exists"):
        plot_map_overlay(np.zeros((1, 4, 4)), np.zeros((4, 4)), mine, threshold=1, scale=2)
    assert mine.read_text() == "user data"
    assert plot_history(HISTORY, mine, overwrite=True) == mine
    assert mine.read_bytes()[:4] == MAGIC[".png"]
    with pytest.raises(ArgumentTypeError, match="overwrite must be True or False"):
        plot_history(HISTORY, mine, overwrite="yes")


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".jpg", ".tif", ".PNG"])
def test_the_format_is_the_one_the_ending_names(tmp_path, suffix):
    """Probe 55 F5: a .pdf, .svg or .jpg path got PNG bytes."""
    path = plot_history(HISTORY, tmp_path / f"h{suffix}")
    assert path.read_bytes().startswith(MAGIC[suffix.lower()])
    if suffix != ".PNG":
        over = plot_map_overlay(
            np.zeros((1, 4, 4)), np.zeros((4, 4)), tmp_path / f"o{suffix}", threshold=1, scale=2
        )
        assert over.read_bytes().startswith(MAGIC[suffix])


def test_svg_and_unknown_endings(tmp_path):
    assert b"<svg" in plot_history(HISTORY, tmp_path / "h.svg").read_bytes()[:1000]
    for name in ("h.txt", "h.bmp", "noext"):
        with pytest.raises(UsageError, match=r"expected one of \.png, \.pdf, \.svg"):
            plot_history(HISTORY, tmp_path / name)
    with pytest.raises(UsageError, match=r"expected one of \.png, \.jpg"):  # Pillow writes no SVG
        plot_map_overlay(
            np.zeros((1, 4, 4)), np.zeros((4, 4)), tmp_path / "o.svg", threshold=1, scale=2
        )
    assert list(tmp_path.iterdir()) == [tmp_path / "h.svg"]


@pytest.mark.parametrize("path", [None, b"x.png", "", 3])
def test_a_path_that_is_not_one_is_one_line(tmp_path, path):
    """Probe 55 F16: None or bytes raised Python's TypeError."""
    with pytest.raises(ArgumentTypeError, match="path must be a file path"):
        plot_history(HISTORY, path)


def test_8bit_images_are_refused_as_the_estimators_refuse_them(tmp_path):
    """Probe 55 F18: uint8 0-255 images were clipped to 1: an all-white grid, no word."""
    x = (np.random.default_rng(0).uniform(size=(4, 1, 8, 8)) * 255).astype(np.uint8)
    with pytest.raises(DataError, match="divide 8-bit pixels by 255"):
        plot_image_grid(x, tmp_path / "g.png")
    with pytest.raises(DataError, match="divide 8-bit pixels by 255"):
        plot_map_overlay(x[0], np.zeros((8, 8)), tmp_path / "o.png", threshold=1, scale=2)
    plot_image_grid(x // 255, tmp_path / "bits.png")  # 0/1 integers are images in [0, 1]


def test_a_plot_leaves_the_users_matplotlib_session_as_it_was(tmp_path):
    # through pyplot, the first plot set the "Agg" backend for the process: a notebook's inline
    # display or a backend the user chose was replaced (probe 55 F7)
    code = (
        "import matplotlib, sys\n"
        "matplotlib.use('svg')\n"
        "from aekit.plots import plot_history\n"
        f"plot_history([{{'epoch': 1, 'train_loss': 1.0}}], {str(tmp_path / 'h.png')!r})\n"
        "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["svg", "False"], out.stdout + out.stderr
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_a_users_matplotlib_settings_reach_neither_the_figures_nor_back(tmp_path):
    """Probe 62 env #1: a matplotlibrc with ``text.usetex: True`` (no LaTeX here) or
    ``figure.dpi: 0``, or an MPLBACKEND that names no backend, failed every figure: a finished
    training ended in "internal error", its run left unfinished. The figures are matplotlib's
    defaults; the user's settings stay as they were. A process of its own: the rc is read at import."""
    rc = tmp_path / "mplrc"
    rc.mkdir()
    (rc / "matplotlibrc").write_text("text.usetex: True\nfigure.dpi: 0\nlines.linewidth: 9\n")
    code = (
        "import os, sys\n"
        "from aekit.plots import plot_history\n"
        f"plot_history([{{'epoch': 1, 'train_loss': 1.0}}], {str(tmp_path / 'h.png')!r})\n"
        "import matplotlib\n"
        "print(matplotlib.rcParams['text.usetex'], matplotlib.rcParams['lines.linewidth'],"
        " os.environ['MPLBACKEND'])\n"
    )
    env = {**os.environ, "MPLCONFIGDIR": str(rc), "MPLBACKEND": "garbage"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "9.0", "garbage"], out.stdout + out.stderr
    clean = tmp_path / "clean.png"  # as drawn without the user's settings: the same bytes
    plot_history([{"epoch": 1, "train_loss": 1.0}], clean)
    assert (tmp_path / "h.png").read_bytes() == clean.read_bytes()


def test_figures_drawn_from_threads_leave_the_users_settings(tmp_path):
    """review 2 F1: each figure put back the rcParams it found; two threads' figures left one's
    matplotlib defaults as the user's settings (linewidth 7 became 1.5)."""
    import threading

    import matplotlib

    history = [{"epoch": e, "train_loss": 1.0 / e} for e in range(1, 30)]
    with matplotlib.rc_context({"lines.linewidth": 7.0}):
        threads = [
            threading.Thread(target=plot_history, args=(history, tmp_path / f"h{i}.png"))
            for i in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert matplotlib.rcParams["lines.linewidth"] == 7.0
