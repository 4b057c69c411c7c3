"""Help that tells: a line for every argument, each family's own defaults, every choice list."""

from __future__ import annotations

import argparse

import pytest

from aekit.cli.main import build_parser, main


def _parsers(parser, path=()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_argument_of_every_command_has_a_help_line():
    missing = [
        f"aekit {' '.join(path)} {action.dest}"
        for path, parser in _parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
        and not action.help
    ]
    assert missing == []


@pytest.mark.parametrize(
    "family, shown",
    [
        (
            "basic",
            ["(default: auto)", "(default: 0.001)", "recipe, fast", "runs/basic"],
        ),
        ("stacked", ["(default: 256,128)"]),
        ("denoise", ["(default: gaussian:0.2)", "(default: 16,8)", "recipe, fast"]),
        ("vae", ["(default: 0.001)", "(default: onecycle)", "(default: 2)", "recipe, strong"]),
    ],
)
def test_each_family_shows_its_own_defaults_and_presets(family, shown, capsys):
    with pytest.raises(SystemExit):
        main(["train", family, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for s in shown:
        assert s in text, s


def test_static_name_lists_agree_with_the_library():
    """The dataset names, here so that building the parser imports nothing heavy (the estimators'
    choices come from their parameter tables: tests/estimators/test_params.py)."""
    from aekit.cli.options import DATASET_NAMES
    from aekit.data import DATASETS

    assert tuple(DATASETS) == DATASET_NAMES


def test_datasets_download_lists_the_names(capsys):
    with pytest.raises(SystemExit):
        main(["datasets", "download", "--help"])
    out = capsys.readouterr().out
    assert "mnist, fashion-mnist, binarized-mnist, ecg5000" in " ".join(out.split())


def test_image_size_says_width_by_height(capsys):
    with pytest.raises(SystemExit):
        main(["encode", "--help"])
    assert "WIDTHxHEIGHT" in capsys.readouterr().out


def test_train_series_lists_only_what_applies(capsys):
    """A series reads --data (or its first --train-steps): the built-in, image, split and streaming
    options of the other families are neither listed nor taken."""
    from aekit.cli.cmd_series import NOT_APPLICABLE

    with pytest.raises(SystemExit):
        main(["train", "series", "--help"])
    shown = capsys.readouterr().out
    for option in NOT_APPLICABLE["series"]:
        assert option not in shown, option
    assert "--data PATH" in shown and "--train-steps" in shown and "--time-column" in shown
    # the files a series is read from: no .npz, no folder of images (the other families' words)
    data = " ".join(shown.rsplit("--data PATH", 1)[1].split("--label-column")[0].split())
    assert ".parquet" in data and ".npz" not in data and "images" not in data
    with pytest.raises(SystemExit) as stop:
        main(["train", "series", "--data", "x.csv", "--stream"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --stream" in capsys.readouterr().err


def test_auto_as_config_json_records_it_is_taken_back(tmp_path):
    """Probe 52 rep 5: config.json records latent_dim and hidden "auto" (the defaults the README
    names), and the options refused the word."""
    import numpy as np

    rows = tmp_path / "rows.npy"
    np.save(rows, np.random.default_rng(0).random((40, 6)).astype(np.float32))
    common = ["--data", str(rows), "--epochs", "1", "--quiet", "--no-figures", "--threads", "1"]
    for family, more in (("basic", ["--latent-dim", "auto"]), ("anomaly", ["--hidden", "auto"])):
        assert main(["train", family, *common, *more, "--out", str(tmp_path / family)]) == 0


def _help(capsys, *command: str) -> str:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_offers_only_what_the_command_takes(capsys):
    """Probe 56 docs 2 and 11: ``train denoise`` listed --latent-dim, which it refuses (still
    refused in one line naming --channels: tests/cli/test_cli_denoise.py); ``encode`` offered a
    folder output, which is reconstruct's alone (codes are vectors)."""
    assert "--latent-dim" not in _help(capsys, "train", "denoise")
    assert "--latent-dim" in _help(capsys, "train", "basic")
    assert "folder" not in _help(capsys, "encode").split("--output PATH", 2)[2].split("data:")[0]
    assert "or a folder for images" in _help(capsys, "reconstruct")


def test_help_names_every_output_column_and_what_the_figures_cover(capsys):
    """Probe 56 docs 5 / maths 3: a table run's scores have p_value (and error_COLUMN with
    --feature-errors); maths 1: a --train-steps series run's figures include its training steps."""
    score = _help(capsys, "score").split("--output FILE", 2)[2]
    assert "[id,] score, is_anomaly, p_value, then an error_COLUMN" in score
    assert "the N training steps included" in _help(capsys, "evaluate")
    assert "cover the whole series" in _help(capsys, "train", "series")


def test_score_help_says_how_the_ranges_count_steps(capsys):
    """Probe 61 labels #8: the ranges file's start and end are step numbers from 0 with end
    inclusive; the help said only "(start, end, peak score)", so a 1-based or half-open reading
    was off by one."""
    ranges = _help(capsys, "score").split("--ranges FILE", 2)[2].split("--channels")[0]
    assert "step numbers from 0, end inclusive" in ranges


def test_train_anomaly_says_the_image_detectors_batch_beside_the_tables(capsys):
    """A folder of images trains the image detector (batch 16): its help said the table's 32 alone."""
    with pytest.raises(SystemExit):
        main(["train", "anomaly", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "samples per optimizer step (default: 32; a folder of images: 16)" in text
