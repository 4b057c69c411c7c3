"""ONNX export of every family and part: onnxruntime matches the estimators' own outputs within 1e-5,
at batch sizes other than the traced one (the batch axis is dynamic)."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
onnx = pytest.importorskip("onnx")
import onnxruntime as ort  # noqa: E402

import aekit  # noqa: E402
from aekit.errors import NotFittedError, UsageError  # noqa: E402
from aekit.estimators.vae import prior_draws  # noqa: E402
from aekit.export import PARTS, export_onnx, verify_onnx  # noqa: E402
from aekit.export.onnx import EXAMPLE_BATCH  # noqa: E402

torch.set_num_threads(1)
TOL = 1e-5
BATCH = 7  # != EXAMPLE_BATCH: a batch size the graph was not traced with
LENGTH = 24


def run(path, x: np.ndarray) -> dict[str, np.ndarray]:
    """onnxruntime's outputs by name."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.shape[0] == "batch"
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {inp.name: np.ascontiguousarray(x, np.float32)})))


def close(got: np.ndarray, want: np.ndarray) -> float:
    assert got.shape == want.shape, (got.shape, want.shape)
    diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)), initial=0.0))
    assert diff <= TOL, diff
    return diff


def sines(n: int, seed: int, spikes: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, LENGTH)
    x = 3 + 2 * np.sin(t + rng.uniform(0, 2 * np.pi, (n, 1))) + rng.normal(0, 0.05, (n, LENGTH))
    if spikes:
        x[:, ::5] += 3.0
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def ae():
    X = np.random.default_rng(1).random((48, 10), dtype=np.float32)
    return aekit.Autoencoder(latent_dim=3, epochs=1, device="cpu").fit(X)


@pytest.fixture(scope="module", params=["basic-table", "stacked-images"])
def autoencoder(request, ae):
    if request.param == "basic-table":
        return ae
    return aekit.Autoencoder(
        latent_dim=4, hidden=(8,), activation="gelu", epochs=1, device="cpu"
    ).fit(np.random.default_rng(1).random((48, 1, 6, 5), dtype=np.float32))


@pytest.fixture(scope="module")
def denoiser():
    # not multiples of 4: padded
    images = np.random.default_rng(2).random((24, 1, 10, 6), dtype=np.float32)
    return aekit.Denoiser(channels=(4, 2), epochs=1, device="cpu").fit(images)


def fit_detector(scaler: str):
    return aekit.AnomalyDetector(
        hidden=(8,), latent_dim=2, scaler=scaler, epochs=30, batch_size=32, device="cpu"
    ).fit(sines(200, 0))


@pytest.fixture(scope="module")
def det():
    return fit_detector("minmax")


@pytest.fixture(scope="module", params=["minmax", "standard"])
def detector(request, det):
    return det if request.param == "minmax" else fit_detector(request.param)


def binary_images(n: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, 1, 9, 11)) > 0.5).astype(np.float32)


@pytest.fixture(scope="module")
def vae():
    return aekit.VAE(latent_dim=2, channels=(4, 4), epochs=1, device="cpu").fit(
        binary_images(24, 3)
    )


# ---- every family and part -------------------------------------------------------------------------


@pytest.mark.parametrize("part", PARTS["Autoencoder"])
def test_autoencoder(autoencoder, part, tmp_path, rng):
    path = export_onnx(autoencoder, tmp_path / "m.onnx", None if part == "autoencoder" else part)
    x = rng.random((BATCH, *autoencoder.input_shape_), dtype=np.float32)
    if part == "autoencoder":
        close(run(path, x)["reconstruction"], autoencoder.reconstruct(x))
        # batch 1: the usual service call
        close(run(path, x[:1])["reconstruction"], autoencoder.reconstruct(x[:1]))
    elif part == "encoder":
        close(run(path, x)["latent"], autoencoder.transform(x))
    else:
        z = rng.random((BATCH, autoencoder.latent_dim), dtype=np.float32)
        close(run(path, z)["reconstruction"], autoencoder.inverse_transform(z))


@pytest.mark.parametrize("part", PARTS["Denoiser"])
def test_denoiser(denoiser, part, tmp_path, rng):
    path = export_onnx(denoiser, tmp_path / "m.onnx", part)
    for shape in [
        (BATCH, 1, 10, 6),
        (1, 1, 13, 17),
        (3, 1, 8, 8),
    ]:  # the training size, then others: H, W dynamic
        x = rng.random(shape, dtype=np.float32)
        if part == "denoiser":
            close(run(path, x)["denoised"], denoiser.transform(x))
        elif part == "encoder":
            with torch.no_grad():
                close(run(path, x)["features"], denoiser.model_.encode(torch.from_numpy(x)).numpy())
        else:
            f = rng.random((shape[0], 2, shape[2] // 4, shape[3] // 4 + 1), dtype=np.float32)
            with torch.no_grad():
                close(run(path, f)["image"], denoiser.model_.decode(torch.from_numpy(f)).numpy())


def test_detector_scores_labels_and_threshold(detector, tmp_path):
    # both density terms are in the graph too: the code's and the scaled input's
    for density in (detector.code_density_, detector.input_density_):
        assert density is not None and density.gamma > 0
    path = export_onnx(detector, tmp_path / "det.onnx")
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert ops.count("TopK") == 2
    # 11 rows in the input's units, both kinds
    x = np.concatenate([sines(6, 7), sines(5, 8, spikes=True)])
    out = run(path, x)
    close(out["score"], detector.decision_function(x))
    labels = detector.predict(x)
    assert out["label"].dtype == np.int64 and labels.min() == 0 and labels.max() == 1
    np.testing.assert_array_equal(out["label"], labels)
    meta = onnx.load(str(path)).metadata_props
    props = {p.key: json.loads(p.value) for p in meta}
    assert (
        props["threshold"] == pytest.approx(detector.threshold_)
        and props["scaler"] == detector.scaler
    )
    # A threshold changed after fitting is the one exported.
    q50 = copy.deepcopy(detector).set_threshold("percentile", q=50)
    np.testing.assert_array_equal(
        run(export_onnx(q50, tmp_path / "q50.onnx"), x)["label"], q50.predict(x)
    )


def test_a_detector_whose_codes_repeat_agrees_on_every_row(tmp_path):
    # distinct rows sharing a ReLU code of zeros: tied copies in the density's reference, which
    # torch and ONNX Runtime broke apart, and 12 of 500 rows scored up to 10 apart (1e-20 vs 1.49)
    rng = np.random.default_rng(0)
    det = aekit.AnomalyDetector(epochs=1, seed=0, threads=1, verbose=0, device="cpu")
    det.fit(rng.random((2000, 20), dtype=np.float32))
    x = np.random.default_rng(5).random((500, 20), dtype=np.float32)
    out = run(export_onnx(det, tmp_path / "det.onnx"), x)
    close(out["score"], det.decision_function(x))
    np.testing.assert_array_equal(out["label"], det.predict(x))


def test_a_conv2d_detector_of_images(tmp_path):
    images = np.random.default_rng(4).random((40, 3, 10, 6), dtype=np.float32)  # padded inside
    det = aekit.AnomalyDetector(architecture="conv2d", hidden=(4, 4), epochs=2, device="cpu")
    det.fit(images)
    x = np.random.default_rng(5).random((BATCH, 3, 10, 6), dtype=np.float32)
    out = run(export_onnx(det, tmp_path / "det.onnx"), x)
    close(out["score"], det.decision_function(x))
    np.testing.assert_array_equal(out["label"], det.predict(x))


def test_detector_compares_in_float32_as_predict_does(det, tmp_path):
    """predict compares float32 scores with the threshold in float32; a float64 graph would flip this label."""
    x = sines(11, 7)
    score = det.decision_function(x)
    same = np.flatnonzero(run(export_onnx(det, tmp_path / "a.onnx"), x)["score"] == score)
    if not len(same):
        pytest.skip("no score is bit for bit the same in onnxruntime")
    i = int(same[0])
    # below the score in float64, equal in float32
    edge = copy.deepcopy(det).set_threshold(float(score[i]) - 1e-12)
    assert edge.predict(x)[i] == 0
    assert run(export_onnx(edge, tmp_path / "edge.onnx"), x)["label"][i] == 0


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_detector_flags_a_non_finite_row_as_an_anomaly(det, tmp_path, value):
    """Issue 28: the graph labelled a NaN row normal (NaN > threshold is false); PyTorch refuses it."""
    x = sines(4, 7)
    x[1, 3] = value
    x[2] = (
        3e38  # finite, far out (a float's sentinel): its score overflowed to NaN, labelled normal
    )
    out = run(export_onnx(det, tmp_path / "d.onnx"), x)
    assert out["label"][1] == 1 and np.isnan(out["score"][1])
    assert out["label"][2] == 1 and out["score"][2] == det.decision_function(x[2:3])[0] == np.inf
    finite = [0, 3]  # the other rows are scored as predict scores them
    close(out["score"][finite], det.decision_function(x[finite]))
    np.testing.assert_array_equal(out["label"][finite], det.predict(x[finite]))


def test_detector_autoencoder_in_input_units(detector, tmp_path):
    path = export_onnx(detector, tmp_path / "ae.onnx", "autoencoder")
    x = sines(BATCH, 9)
    close(run(path, x)["reconstruction"], detector.reconstruct(x))


@pytest.mark.parametrize("part", PARTS["VAE"])
def test_vae(vae, part, tmp_path):
    path = export_onnx(vae, tmp_path / "m.onnx", part)
    x = binary_images(BATCH, 5)
    # sampling: z ~ N(0, I) drawn as VAE.sample draws it, decoded to E[x|z] in [0, 1]
    if part == "decoder":
        z = prior_draws(BATCH, 2, torch.Generator().manual_seed(4))
        image = run(path, z)["image"]
        close(image, vae.sample(BATCH, seed=4))
        assert image.min() >= 0 and image.max() <= 1
    elif part == "encoder":
        out = run(path, x)
        close(out["mu"], vae.transform(x))
        with torch.no_grad():
            close(out["logvar"], vae.model_.encode(torch.from_numpy(x))[1].numpy())
    else:
        close(run(path, x)["reconstruction"], vae.reconstruct(x))


def test_vae_gaussian_decoder_gives_the_means(tmp_path):
    vae = aekit.VAE(
        latent_dim=2, channels=(4, 4), likelihood="gaussian", epochs=1, device="cpu"
    ).fit(binary_images(24, 3))
    z = prior_draws(BATCH, 2, torch.Generator().manual_seed(4))  # as VAE.sample draws z
    close(run(export_onnx(vae, tmp_path / "m.onnx"), z)["image"], vae.sample(BATCH, seed=4))


# ---- the file ---------------------------------------------------------------------------------------------


def test_one_file_with_names_dynamic_batch_and_metadata(denoiser, tmp_path):
    path = export_onnx(
        denoiser, tmp_path / "out" / "den.onnx", metadata={"note": "for the service"}
    )
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "den.onnx"
    ]  # weights inside, no temp file left
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    props = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert props["aekit_version"] == aekit.__version__ and props["estimator"] == "Denoiser"
    assert (
        props["family"] == "denoise"
        and props["part"] == "denoiser"
        and props["note"] == "for the service"
    )
    assert props["inputs"] == {"x": ["batch", 1, "height", "width"]}
    assert props["outputs"] == {"denoised": ["batch", 1, "height", "width"]}
    assert props["params"]["channels"] == [4, 2]
    dims = [d.dim_param or d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 1, "height", "width"]


def test_export_from_a_saved_model_and_verify(det, tmp_path):
    det.save(tmp_path / "saved")
    path = export_onnx(tmp_path / "saved", tmp_path / "det.onnx")
    assert verify_onnx(path, det) <= TOL
    assert verify_onnx(path, tmp_path / "saved", sines(3, 11)) <= TOL


def test_opset(ae, tmp_path):
    path = export_onnx(ae, tmp_path / "m.onnx", opset=18)
    assert {o.domain: o.version for o in onnx.load(str(path)).opset_import}[""] == 18
    for bad in (0, 10_000, 2.5):
        with pytest.raises(UsageError, match="opset must be a whole number"):
            export_onnx(ae, tmp_path / "bad.onnx", opset=bad)
    assert not (tmp_path / "bad.onnx").exists()


# ---- errors: one line, nothing written ------------------------------------------------------------------


def test_unknown_part_lists_the_valid_ones(vae, tmp_path):
    with pytest.raises(UsageError) as exc:
        export_onnx(vae, tmp_path / "m.onnx", "detector")
    msg = str(exc.value)
    assert (
        "\n" not in msg
        and "VAE has no part 'detector'" in msg
        and "decoder (default), encoder, autoencoder" in msg
    )
    assert not list(tmp_path.iterdir())


def test_refuses_to_overwrite_unless_asked(ae, tmp_path):
    out = tmp_path / "m.onnx"
    out.write_bytes(b"keep")
    with pytest.raises(UsageError, match="already exists; pass --overwrite"):
        export_onnx(ae, out)
    assert out.read_bytes() == b"keep"
    export_onnx(ae, out, overwrite=True)
    assert onnx.load(str(out)).graph.input[0].name == "x"
    with pytest.raises(UsageError, match="expected a .onnx file"):
        export_onnx(ae, tmp_path / "m.pt")


def test_not_fitted_and_not_an_estimator(tmp_path):
    with pytest.raises(NotFittedError):
        export_onnx(aekit.VAE(), tmp_path / "m.onnx")
    with pytest.raises(UsageError, match="fitted aekit estimator"):
        export_onnx(object(), tmp_path / "m.onnx")
    # a kind with no graph, and no network (the series detector's nearest windows): one line,
    # not an AttributeError on its missing model_
    series = aekit.SeriesDetector(window=8).fit(np.sin(np.arange(200) / 3.0))
    # probe 52 dep 6: it said "expected ... or a run folder" to a run folder given
    with pytest.raises(
        UsageError, match="cannot export a SeriesDetector to ONNX: the families"
    ) as e:
        export_onnx(series, tmp_path / "m.onnx")
    assert "run folder" not in str(e.value)


@pytest.mark.parametrize("module", ["onnx", "onnxscript", "onnxruntime"])
def test_missing_dependency_names_the_extra(ae, tmp_path, monkeypatch, module):
    monkeypatch.setitem(__import__("sys").modules, module, None)  # import fails as if not installed
    with pytest.raises(UsageError) as exc:
        if module == "onnxruntime":
            verify_onnx(tmp_path / "m.onnx", ae)
        else:
            export_onnx(ae, tmp_path / "m.onnx")
    assert "pip install 'aekit[onnx]'" in str(exc.value) and module in str(exc.value)


def test_verify_refuses_another_estimator(ae, vae, tmp_path):
    assert EXAMPLE_BATCH != BATCH
    path = export_onnx(vae, tmp_path / "vae.onnx")
    with pytest.raises(UsageError, match="holds a VAE part"):
        verify_onnx(path, ae)


@pytest.mark.parametrize("part", ["autoencoder", "encoder", "decoder"])
def test_an_autoencoder_of_a_raw_table_exports_its_scaling(tmp_path, part):
    # columns of very different scales
    x = sines(64, 3) * np.linspace(1, 500, LENGTH, dtype=np.float32)
    ae = aekit.Autoencoder(latent_dim=3, epochs=1, device="cpu").fit(x)
    assert ae.scaler_.kind == "standard"
    path = export_onnx(ae, tmp_path / f"{part}.onnx", part)
    assert verify_onnx(path, ae) <= TOL * 500  # outputs in the table's units (up to ~1500)
    inputs = (
        np.random.default_rng(1).standard_normal((BATCH, 3)).astype(np.float32)
        if part == "decoder"
        else x[:BATCH]
    )
    want = {
        "autoencoder": ae.reconstruct,
        "encoder": ae.transform,
        "decoder": ae.inverse_transform,
    }[part](inputs)
    got = next(iter(run(path, inputs).values()))
    assert np.max(np.abs(got - want)) <= 1e-3 * max(1.0, float(np.abs(want).max()))


def test_the_check_counts_a_nan_on_one_side_as_a_difference():
    # max(0.0, nan) is 0.0: a graph giving NaN for PyTorch's finite outputs read as agreement
    from aekit.export.verify import _gap

    ones = np.ones(3, np.float32)
    assert _gap(ones, ones + 0.5) == 0.5
    assert _gap(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == np.inf
    assert _gap(np.array([np.inf, np.nan]), np.array([np.inf, np.nan])) == 0.0
    assert _gap(np.array([np.inf]), np.array([3.0])) == np.inf


@pytest.mark.parametrize(
    "name, version, least",
    [("torch", "2.7.1+cpu", "2.8"), ("torch", "2.5.0", "2.8"), ("onnxscript", "0.6.0", "0.6.1")],
)
def test_a_release_that_cannot_export_every_part_is_one_line(
    autoencoder, tmp_path, monkeypatch, name, version, least
):
    """Probe 64 floor #3-#5: the onnx extra admitted torch 2.6 (the detector failed to trace, the
    denoiser's graph gave other sizes on odd images, through 2.7) and onnxscript 0.6.0 (every
    export refused): a bare install beside an older release gets a line, not a wrong file."""
    import onnxscript

    monkeypatch.setattr(torch if name == "torch" else onnxscript, "__version__", version)
    with pytest.raises(
        UsageError, match=rf"needs {name} >= {least}, not {re.escape(version)}; run: pip install"
    ):
        export_onnx(autoencoder, tmp_path / "a.onnx")
    assert not (tmp_path / "a.onnx").exists()


@pytest.mark.parametrize("form", ["rows", "height by width"])
def test_a_vae_fitted_on_rows_or_height_by_width_exports_and_checks(tmp_path, form):
    """Probe 60 generate (fixer): `aekit export` of a VAE fitted in Python on rows failed its own
    check ("output image has shape (5, 1, 1, 6), PyTorch gives (5, 6)"), and one fitted on (n, H, W)
    too once it gave that form back: the graph's are the network's shapes, the same values."""
    x = np.random.default_rng(0).random((64, 12, 10)).astype(np.float32)
    x = x.reshape(64, -1)[:, :6] if form == "rows" else x
    vae = aekit.VAE(epochs=1, threads=1, latent_dim=2, device="cpu").fit(x)
    for part in PARTS["VAE"]:
        path = export_onnx(vae, tmp_path / f"{part}.onnx", part=part)
        assert verify_onnx(path, vae) < 1e-5, part


def test_reconstructions_near_float32s_limit_stay_finite_in_the_graph(tmp_path):
    """Review 65 #2: the estimators held reconstructions within float32's range, the graph did its
    own float32 ``* scale + offset``: 34 of 300 rows -inf in onnxruntime, finite in PyTorch."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    x[:, 0] = rng.uniform(-3e38, 3e38, 300)
    ae = aekit.Autoencoder(epochs=2, seed=0, scaler="standard", device="cpu").fit(x)
    path = export_onnx(ae, tmp_path / "m.onnx")
    got = run(path, x)["reconstruction"]
    assert np.isfinite(got).all() and np.isfinite(ae.reconstruct(x)).all()
    z = ae.transform(x)
    decoded = run(export_onnx(ae, tmp_path / "d.onnx", "decoder"), z)["reconstruction"]
    assert np.isfinite(decoded).all()
