"""``aekit export``: runs trained with the CLI, exported to ONNX and checked with onnxruntime."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from aekit.cli.main import main

from ..badinput import assert_one_line, cli
from .helpers import run_cli

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """An anomaly run on rows and a basic run on images, one epoch each."""
    root = tmp_path_factory.mktemp("cli_export")
    rng = np.random.default_rng(0)
    np.save(root / "rows.npy", rng.random((80, 6)).astype(np.float32))
    np.save(root / "images.npy", rng.random((40, 1, 6, 6)).astype(np.float32))
    common = ["--epochs", "1", "--device", "cpu", "--no-figures", "--quiet"]
    assert (
        main(
            [
                "train",
                "anomaly",
                "--data",
                str(root / "rows.npy"),
                "--latent-dim",
                "2",
                *common,
                "--out",
                str(root / "anomaly"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                "basic",
                "--data",
                str(root / "images.npy"),
                "--latent-dim",
                "3",
                *common,
                "--out",
                str(root / "basic"),
            ]
        )
        == 0
    )
    return root


def _wrote(out: str, path, part: str) -> float:
    """The one line of 'aekit export'; returns the reported max abs difference."""
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wrote {path} (part {part};"), out
    return float(re.search(r"max abs difference (\S+) on 5 samples", lines[0]).group(1))


def test_export_default_part_overwrite_and_metadata(runs, tmp_path, capsys):
    out = tmp_path / "detector.onnx"
    assert main(["export", str(runs / "anomaly"), "--format", "onnx", "--output", str(out)]) == 0
    assert _wrote(capsys.readouterr().out, out, "detector") <= 1e-5
    props = {p.key: json.loads(p.value) for p in onnx.load(str(out)).metadata_props}
    config = json.loads((runs / "anomaly" / "config.json").read_text())
    assert props["family"] == "anomaly" and props["part"] == "detector"
    assert props["threshold"] == pytest.approx(config["state"]["threshold_value"])
    assert props["inputs"] == {"x": ["batch", 6]} and set(props["outputs"]) == {
        "score",
        "label",
        "p_value",
    }

    before = out.read_bytes()
    assert (
        main(["export", str(runs / "anomaly"), "--output", str(out), "--part", "autoencoder"]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "--overwrite" in err
    assert out.read_bytes() == before
    assert (
        main(
            [
                "export",
                str(runs / "anomaly"),
                "--output",
                str(out),
                "--part",
                "autoencoder",
                "--overwrite",
            ]
        )
        == 0
    )
    assert _wrote(capsys.readouterr().out, out, "autoencoder") <= 1e-5


def test_export_encoder_of_an_image_run(runs, tmp_path, capsys):
    out = tmp_path / "sub" / "encoder.onnx"
    assert (
        main(
            [
                "export",
                str(runs / "basic"),
                "--output",
                str(out),
                "--part",
                "encoder",
                "--opset",
                "18",
            ]
        )
        == 0
    )
    assert _wrote(capsys.readouterr().out, out, "encoder") <= 1e-5
    model = onnx.load(str(out))
    assert [i.name for i in model.graph.input] == ["x"] and [
        o.name for o in model.graph.output
    ] == ["latent"]
    assert [
        d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim
    ] == ["batch", 1, 6, 6]


@pytest.mark.parametrize(
    "argv, code, needles",
    [
        (
            ["{R}/basic", "--part", "detector"],
            2,
            ["no part 'detector'", "autoencoder (default), encoder, decoder"],
        ),
        (["{R}/nosuchrun"], 2, ["nosuchrun", "no such run"]),
        (["{R}/basic", "--opset", "5"], 2, ["opset 5", "between 18"]),
        (["{R}/basic", "--opset", "0"], 2, ["--opset", ">= 1"]),
        (["{R}/basic", "--opset", "99"], 2, ["--opset must be a whole number"]),  # not "opset"
        (["{R}/basic", "--format", "tflite"], 2, ["--format", "invalid choice"]),
    ],
)
def test_export_errors_are_one_line(runs, tmp_path, argv, code, needles):
    code_got, _, err = cli(
        "export", *[a.format(R=runs) for a in argv], "--output", tmp_path / "m.onnx"
    )
    assert_one_line(code_got, err, code, needles)
    assert not list(tmp_path.iterdir())  # nothing written, not even a temp file


def test_a_real_process_prints_one_line_and_nothing_on_stderr(runs, tmp_path):
    """The exporter's own logs and warnings (they bypass redirect_stderr) stay out of the output."""
    out = tmp_path / "decoder.onnx"
    proc = run_cli("export", runs / "basic", "--output", out, "--part", "decoder")
    assert proc.stderr == "" and _wrote(proc.stdout, out, "decoder") <= 1e-5


@pytest.mark.parametrize(
    "family, options",
    [
        ("anomaly", ["--bank-size", "64", "--threads", "1"]),
        ("denoise", ["--channels", "2,2", "--epochs", "1", "--batch-size", "4"]),
    ],
)
def test_a_run_trained_resized_exports_the_image_size_its_graph_takes(
    tmp_path, capsys, family, options
):
    """probe 60 inspect #1: 'aekit export' of an --image-size run left image_size out of the graph's
    metadata (the docs' meta["image_size"] was a KeyError); only the Python path recorded it."""
    from PIL import Image

    rng = np.random.default_rng(3)
    (tmp_path / "good").mkdir()
    for i in range(6):
        pixels = (rng.random((20, 28)) * 255).astype(np.uint8)
        Image.fromarray(pixels, "L").save(tmp_path / "good" / f"{i}.png")
    run, out = tmp_path / "run", tmp_path / "run.onnx"
    argv = ["train", family, "--data", str(tmp_path / "good"), "--image-size", "16x12"]
    assert main([*argv, *options, "--out", str(run), "--no-figures", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["export", str(run), "--output", str(out)]) == 0
    props = {p.key: json.loads(p.value) for p in onnx.load(str(out)).metadata_props}
    assert props["image_size"] == [12, 16] and props["family"] == family
    printed = capsys.readouterr().out
    # probe 60 inspect #3: random images (1.5e-5) hid what photos reach (1e-3); the image
    # detector is checked on its own training images too, where they still are
    own = re.search(r", (\S+) on the maps and scores of 5 of the run's training images", printed)
    assert (own is not None) == (family == "anomaly"), printed
    if own:
        assert 0 <= float(own.group(1)) < 0.1
