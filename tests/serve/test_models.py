"""The served series model: a p-value per step only where the detector has calibration scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aekit
from aekit.serve.models import Series

from ..synthetic_series import sine_series

torch.set_num_threads(1)


def test_a_calibrated_series_run_serves_p_values_and_an_uncalibrated_one_does_not():
    x, _ = sine_series(1600, kind="spike", at=1400, seed=2)
    kw = dict(method="neighbors", device="cpu", threads=1)
    plain = Series("s", aekit.SeriesDetector(**kw).fit(x[:1000]), {})
    calibrated = Series("s", aekit.SeriesDetector(threshold="fpr:0.05", **kw).fit(x[:1000]), {})
    assert [o.name for o in plain._outputs()] == ["score", "label"]
    assert [o.name for o in calibrated._outputs()] == ["score", "label", "p_value"]
    out = calibrated.compute(x[1000:], ("score", "label", "p_value"))
    np.testing.assert_array_equal(out["p_value"], calibrated.est.p_values(x[1000:]))
    # the kept-back steps count as the windows they span: too few for 5%, p <= 1 / (m + 1) flags
    least = 1 / (calibrated.est.calibration_windows_ + 1)
    np.testing.assert_array_equal(out["p_value"] <= max(0.05, least), out["label"] == 1)


def test_the_latent_output_is_described_as_it_is_answered():
    """A conv encoder's code (2, 4, 4): the metadata said [-1, 32], the answers were (B, 2, 4, 4)."""
    from aekit.serve.models import Encoder

    from ..nets import ConvDecoder, ConvEncoder

    X = np.random.default_rng(0).random((16, 1, 8, 8), dtype=np.float32)
    ae = aekit.Autoencoder(encoder=ConvEncoder((1, 8, 8)), decoder=ConvDecoder((1, 8, 8)),
                           epochs=1, device="cpu", threads=1).fit(X)  # fmt: skip
    served = Encoder("conv", ae, {})
    latent = next(o for o in served._outputs() if o.name == "latent")
    answer = served.compute(X[:2], ("latent",))["latent"]
    assert list(latent.json()["shape"])[1:] == list(answer.shape[1:]) == [2, 4, 4]


def test_a_run_resized_at_training_resizes_served_images_and_brings_outputs_back():
    """probe 56 surfaces #4: a run trained with --image-size 8x8 served 12x10 images at 12x10 (the
    CLI resizes to 8x8); now resized as aekit score resizes, the map and denoised image back."""
    from aekit.data import resize_images
    from aekit.serve.models import Denoiser, ImageDetector
    from aekit.serve.protocol import parse_infer

    rng = np.random.default_rng(0)
    good, x = rng.random((12, 1, 8, 8), np.float32), rng.random((3, 1, 12, 10), np.float32)
    config = {"data": {"image_size": [8, 8]}}
    det = aekit.ImageAnomalyDetector(bank_size=64, threads=1).fit(good)
    den = aekit.Denoiser(channels=(2, 2), epochs=1, device="cpu", threads=1).fit(good)
    body = {"inputs": [{"name": "input", "shape": [3, 1, 12, 10], "datatype": "FP32",
                        "data": x.ravel().tolist()}], "outputs": [{"name": "score"}, {"name": "map"}]}  # fmt: skip
    (work,) = ImageDetector("d", det, config).work(parse_infer(body))
    out = work.run(work.x, work.names)
    at8 = resize_images(x, (8, 8))
    np.testing.assert_allclose(out["score"], det.score_samples(at8), rtol=1e-6)
    assert out["map"].shape == (3, 12, 10)
    body["outputs"] = None
    (work,) = Denoiser("n", den, config).work(parse_infer(body))
    denoised = work.run(work.x, work.names)["denoised"]
    np.testing.assert_allclose(denoised, resize_images(den.transform(at8), (12, 10)), atol=1e-6)


def test_a_run_that_fills_none_refuses_a_missing_cell_naming_its_column():
    """probe 56 surfaces #2: serve refused every missing cell; now it fills as the run records, and
    a run trained with --fill none (no recorded values) names what is missing."""
    import pytest

    from aekit.serve.models import Detector
    from aekit.serve.protocol import ProtocolError, parse_infer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype(np.float32)
    det = aekit.AnomalyDetector(epochs=1, device="cpu", threads=1).fit(x)
    body = {"inputs": [{"name": "input", "shape": [2, 3], "datatype": "FP32",
                        "data": [0.1, None, 0.3, 0.4, 0.5, 0.6]}]}  # fmt: skip
    with pytest.raises(
        ProtocolError, match=r"1 of 2 rows have missing values \(1: 1\).*records no values"
    ):
        Detector("t", det, {"data": {"fill_values": None}}).rows(parse_infer(body))
    filled = Detector("t", det, {"data": {"fill_values": {"1": 7.0}}}).rows(parse_infer(body))
    np.testing.assert_array_equal(filled, np.float32([[0.1, 7.0, 0.3], [0.4, 0.5, 0.6]]))


def test_a_served_run_changed_on_disk_is_said_once_in_the_log(tmp_path, monkeypatch, caplog):
    """Lifecycle probe 58 #1: a served run calibrated (or resumed, or overwritten) kept answering
    with the threshold it was loaded with, and nothing said so (103 alarms served, 126 on disk)."""
    import logging

    from aekit.serve import watch
    from aekit.serve.models import load_model
    from aekit.serve.protocol import parse_infer

    X = np.random.default_rng(0).normal(size=(120, 4)).astype(np.float32)
    aekit.AnomalyDetector(epochs=1, device="cpu").fit(X).save(tmp_path / "run")
    monkeypatch.setattr(watch, "CHECK_EVERY", 0.0)
    served = load_model("cur", tmp_path / "run")
    tensor = {"name": "input", "shape": [2, 4], "datatype": "FP32", "data": X[:2].ravel().tolist()}
    request = parse_infer({"inputs": [tensor]})
    with caplog.at_level(logging.WARNING, logger="aekit.serve"):
        served.work(request)
        assert "changed on disk" not in caplog.text
        aekit.load(tmp_path / "run").set_threshold("fpr:0.2").save(tmp_path / "run", overwrite=True)
        served.work(request)
        served.work(request)
    assert caplog.text.count("changed on disk since the server loaded it") == 1
    assert "'cur' still answers as loaded; restart the server" in caplog.text
    # review 3: a served VAE's requests look too
    images = np.random.default_rng(1).random((16, 1, 8, 8)).astype(np.float32)
    aekit.VAE(latent_dim=2, channels=(4, 4), epochs=1, device="cpu").fit(images).save(
        tmp_path / "v"
    )
    vae = load_model("gen", tmp_path / "v")
    tensor = {
        "name": "input",
        "shape": [1, 1, 8, 8],
        "datatype": "FP32",
        "data": images[0].ravel().tolist(),
    }
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aekit.serve"):
        (tmp_path / "v" / "config.json").write_text(
            (tmp_path / "v" / "config.json").read_text() + " "
        )
        vae.work(parse_infer({"inputs": [tensor]}))
    assert "model 'gen' still answers as loaded" in caplog.text


def test_a_categorical_run_takes_the_tables_own_columns_by_name(tmp_path):
    """probe 58 lifecycle #3: a run trained with --categorical plan served only its one-hot
    columns (plan=basic, ...): a client posting the table's own `plan` was refused. Now `plan` as
    text, read as aekit score reads the file (the same scores), a missing cell filled as recorded."""
    import csv

    from aekit.serve.models import load_model
    from aekit.serve.protocol import ProtocolError, parse_infer

    from ..cli.helpers import cli_here

    rng = np.random.default_rng(0)
    plans = [["basic", "pro", "free"][i % 3] for i in range(60)]
    rows = [[f"{v:.4f}" for v in rng.normal(size=2)] + [p] for p in plans]
    rows[5][0] = ""  # a missing number: filled with the run's recorded value
    with open(tmp_path / "t.csv", "w", newline="") as f:
        csv.writer(f).writerows([["a", "b", "plan"], *rows])
    cli_here(
        "train", "anomaly", "--data", tmp_path / "t.csv", "--categorical", "plan", "--epochs", "1",
        "--device", "cpu", "--quiet", "--no-figures", "--out", tmp_path / "run",
    )  # fmt: skip
    cli_here(
        "score", tmp_path / "run", "--input", tmp_path / "t.csv", "--output", tmp_path / "s.csv"
    )
    with open(tmp_path / "s.csv") as f:
        want = [float(r["score"]) for r in csv.DictReader(f)]
    served = load_model("t", tmp_path / "run")
    inputs = {i["name"]: i["datatype"] for i in served.metadata()["inputs"]}
    assert inputs["plan"] == "BYTES" and inputs["a"] == inputs["b"] == "FP32"
    a = [None if r[0] == "" else float(r[0]) for r in rows]
    body = {"inputs": [
        {"name": "plan", "datatype": "BYTES", "shape": [60], "data": plans},
        {"name": "b", "datatype": "FP32", "shape": [60], "data": [float(r[1]) for r in rows]},
        {"name": "a", "datatype": "FP32", "shape": [60], "data": a},
    ]}  # fmt: skip
    (work,) = served.work(parse_infer(body))
    got = work.run(work.x, ("score",))["score"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # the one-hot columns posted as numbers, as the metadata asked before: still read
    onehot = {n: [float(p == n.split("=")[1]) for p in plans] for n in served.columns if "=" in n}
    body["inputs"] = body["inputs"][1:] + [
        {"name": n, "datatype": "FP32", "shape": [60], "data": v} for n, v in onehot.items()
    ]
    (work,) = served.work(parse_infer(body))
    np.testing.assert_allclose(work.run(work.x, ("score",))["score"], want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ProtocolError, match="missing 'plan'"):
        served.work(parse_infer({"inputs": body["inputs"][:2]}))


def test_a_date_only_categorical_run_takes_its_dates_as_text(tmp_path):
    """review 59 #2: a run whose only --categorical column is a date (its feature keeps the
    column's name) listed `day` as BYTES and then refused a BYTES `day`: now read as aekit score
    reads the file, and the days as numbers still read as before."""
    import csv

    from aekit.serve.models import load_model
    from aekit.serve.protocol import parse_infer

    from ..cli.helpers import cli_here

    rng = np.random.default_rng(1)
    days = [f"2024-03-{1 + i % 28:02d}" for i in range(40)]
    a = [round(float(v), 4) for v in rng.normal(size=40)]
    with open(tmp_path / "d.csv", "w", newline="") as f:
        csv.writer(f).writerows([["a", "day"], *zip(a, days)])
    cli_here(
        "train", "anomaly", "--data", tmp_path / "d.csv", "--categorical", "day", "--epochs", "1",
        "--device", "cpu", "--quiet", "--no-figures", "--out", tmp_path / "run",
    )  # fmt: skip
    served = load_model("d", tmp_path / "run")
    assert {i["name"]: i["datatype"] for i in served.metadata()["inputs"]}["day"] == "BYTES"
    a_in = {"name": "a", "datatype": "FP32", "shape": [40], "data": a}
    as_text = {"name": "day", "datatype": "BYTES", "shape": [40], "data": days}
    number = [19783.0 + i % 28 for i in range(40)]  # days since 1970-01-01: 2024-03-01 is 19783
    as_days = {"name": "day", "datatype": "FP32", "shape": [40], "data": number}
    (text,) = served.work(parse_infer({"inputs": [a_in, as_text]}))
    (nums,) = served.work(parse_infer({"inputs": [a_in, as_days]}))
    np.testing.assert_array_equal(text.x, nums.x)


def test_a_photo_served_to_a_resized_run_gets_the_map_aekit_score_writes(tmp_path):
    """probe 60 inspect #4: a photo posted as its 8-bit values scaled to [0, 1] was resized as
    floats, a file as 8-bit pixels; the inputs differed by under 1/255 but the maps by up to 0.26
    (15% of the pixel threshold). Now resized as its 8-bit pixels: the same numbers."""
    from PIL import Image

    from aekit.data import read_path, resize_images
    from aekit.data.images import read_image
    from aekit.serve.models import ImageDetector
    from aekit.serve.protocol import parse_infer

    rng = np.random.default_rng(1)
    for i in range(3):
        pixels = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
        Image.fromarray(pixels, "RGB").save(tmp_path / f"{i}.png")
    good = rng.integers(0, 256, (12, 3, 12, 16)).astype(np.float32) / 255
    det = aekit.ImageAnomalyDetector(bank_size=64, threads=1).fit(good)
    files = read_path(tmp_path, image_size=(12, 16))  # as aekit score reads them
    cli_maps = resize_images(det.anomaly_maps(files.x)[:, None], (30, 40))[
        :, 0
    ]  # back, as aekit score
    x = np.stack([read_image(tmp_path / f"{i}.png") for i in range(3)])
    body = {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                        "data": x.ravel().tolist()}], "outputs": [{"name": "map"}]}  # fmt: skip
    (work,) = ImageDetector("d", det, {"data": {"image_size": [12, 16]}}).work(parse_infer(body))
    served = work.run(work.x, work.names)["map"]
    np.testing.assert_allclose(served, cli_maps, atol=1e-5)


def test_an_array_served_to_a_resized_autoencoder_answers_as_aekit_encode_reads_it():
    """Review 60: the 8-bit resize of served images (an image detector's, as aekit score reads
    files) reached every family, whose commands read .npy arrays too and resize them as floats:
    a stacked run's served codes moved 0.0068 from aekit encode's on the same MNIST-style array."""
    from aekit.data import resize_images
    from aekit.serve.models import Encoder
    from aekit.serve.protocol import parse_infer

    rng = np.random.default_rng(3)
    train = rng.integers(0, 256, (40, 1, 12, 12)).astype(np.float32) / 255
    ae = aekit.Autoencoder(latent_dim=3, epochs=1, threads=1).fit(train)
    x = rng.integers(0, 256, (3, 1, 20, 20)).astype(np.float32) / 255  # 8-bit values / 255
    body = {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                        "data": x.ravel().tolist()}], "outputs": [{"name": "latent"}]}  # fmt: skip
    (work,) = Encoder("e", ae, {"data": {"image_size": [12, 12]}}).work(parse_infer(body))
    served = work.run(work.x, work.names)["latent"]
    np.testing.assert_allclose(served, ae.transform(resize_images(x, (12, 12))), atol=1e-6)


def test_a_vae_fitted_on_height_by_width_serves_the_shapes_its_metadata_declares():
    """Review 60: a VAE fitted in Python on (n, H, W) gives its reconstructions and samples back
    so, and served them so, where its metadata declares [-1, 1, H, W]."""
    from aekit.serve.models import VAE
    from aekit.serve.protocol import parse_infer

    x = np.random.default_rng(4).random((32, 12, 12)).astype(np.float32)
    vae = aekit.VAE(latent_dim=2, epochs=1, threads=1).fit(x)
    served = VAE("v", vae, {})
    declared = {t.name: t.shape for t in served.outputs}
    body = {"inputs": [{"name": "input", "shape": [3, 1, 12, 12], "datatype": "FP32",
                        "data": x[:3].ravel().tolist()}], "outputs": [{"name": "reconstruction"}]}  # fmt: skip
    (work,) = served.work(parse_infer(body))
    got = work.run(work.x, work.names)["reconstruction"]
    assert got.shape == (3, 1, 12, 12) and tuple(declared["reconstruction"][1:]) == (1, 12, 12)
    assert served._sample(2, 0)["sample"].shape == (2, *declared["sample"][1:])
