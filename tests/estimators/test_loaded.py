"""A loaded run's state is what training gives, or the run is refused at load in one line naming
its file and the value (probe 67: damaged or edited numbers loaded silently and flagged every row,
or none, or failed at each later score with a line blaming the input data)."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import aekit
from aekit.errors import RunFailure

FAST = dict(epochs=1, batch_size=32, device="cpu", threads=1, seed=0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One small run of each kind whose state the checks read, saved once."""
    root = tmp_path_factory.mktemp("runs")
    rng = np.random.default_rng(0)
    table = rng.normal(size=(200, 6)).astype(np.float32)
    series = (np.sin(np.arange(800) / 10) + 0.05 * rng.normal(size=800)).astype(np.float32)
    images = (rng.random((40, 16, 16)) * 0.3 + 0.4).astype(np.float32)
    fits = {
        "table": (aekit.AnomalyDetector(**FAST), table),
        "series": (aekit.SeriesDetector(threads=1, device="cpu"), series),
        "series_ae": (aekit.SeriesDetector(method="reconstruction", **FAST), series),
        "img": (aekit.ImageAnomalyDetector(bank_size=256, threads=1, device="cpu"), images),
        "vae": (aekit.VAE(**FAST), images[:, None]),
        "den": (aekit.Denoiser(**FAST), images[:, None]),
    }
    for name, (est, X) in fits.items():
        est.fit(X).save(root / name)
    return root, table


def _copy(runs, name, tmp_path, state=None, tensors=None):
    """A copy of the run ``name`` with ``state(config_state)`` / ``tensors(weights)`` applied."""
    run = tmp_path / name
    shutil.copytree(runs[0] / name, run)
    if state is not None:
        config = json.loads((run / "config.json").read_text())
        state(config["state"])
        (run / "config.json").write_text(json.dumps(config))
    if tensors is not None:
        weights = load_file(run / "model.safetensors")
        tensors(weights)
        save_file(weights, run / "model.safetensors")
    return run


def _set(key, value):
    return lambda state: state.__setitem__(key, value)


def _tensor(name, change):
    return lambda weights: weights.__setitem__(name, change(weights[name]).contiguous())


def _drop(name):
    return lambda weights: weights.pop(name)


def _first_calibration_score(value):
    return lambda state: state["calibration"]["scores"].__setitem__(0, value)


CASES = {
    # probe 67 #2: every row flagged, or none, with exit code 0
    "zero_residual_scale": ("table", None, _tensor("residual_scale", torch.zeros_like),
                            "model.safetensors: the tensor residual_scale holds 0"),
    "zero_densities": ("table", None, _tensor("density_lrd", torch.zeros_like),
                       "model.safetensors: the tensor density_lrd holds 0"),
    "negative_k_distances": ("table", None, _tensor("density_k_distance", torch.neg),
                             "model.safetensors: the tensor density_k_distance holds -"),
    # #3: the series' scaler, level and reconstruction scale in config.json
    "series_scale_zero": ("series", lambda s: s["scaler"].__setitem__("scale", [0.0]), None,
                          "config.json: state.scaler.scale holds 0"),
    "series_scale_nan": ("series", lambda s: s["scaler"].__setitem__("scale", [float("nan")]),
                         None, "config.json: state.scaler.scale holds nan"),
    "series_level_nan": ("series", _set("level_weight", float("nan")), None,
                         "config.json: state.level_weight holds nan"),
    "reconstruction_scale_zero": ("series_ae", _set("reconstruction_scale", 0.0), None,
                                  "config.json: state.reconstruction_scale holds 0"),
    "reconstruction_scale_negative": ("series_ae", _set("reconstruction_scale", -1.0), None,
                                      "config.json: state.reconstruction_scale holds -1"),
    # #5: NaN or no calibration scores (each score then blamed the input data)
    "calibration_nan": ("table", _first_calibration_score(float("nan")), None,
                        "config.json: state.calibration.scores holds nan"),
    "calibration_empty": ("table", lambda s: s["calibration"].__setitem__("scores", []), None,
                          "config.json: state.calibration.scores holds no value"),
    "image_calibration_nan": ("img", lambda s: s["calibration_scores"].__setitem__(0, float("nan")),
                              None, "config.json: state.calibration_scores holds nan"),
    # #6: internal errors at the first use
    "feature_names_a_number": ("table", _set("feature_names", 5), None,
                               "config.json: state.feature_names holds 5; expected a list of 6"),
    "scaler_of_three_features": ("table", None, _tensor("scaler.scale", lambda t: t[:3]),
                                 "model.safetensors: the tensor scaler.scale holds 3 values"),
    "channel_names_a_number": ("series", _set("channel_names", 5), None,
                               "config.json: state.channel_names holds 5"),
    "unknown_image_score": ("img", _set("image_score", "evil"), None,
                            "config.json: state.image_score holds 'evil'"),
    "fitted_shape_of_other_size": ("vae", _set("fitted_shape", [1, 100000, 100000]), None,
                                   "config.json: state.fitted_shape holds [1, 100000, 100000]"),
    "negative_input_shape": ("den", _set("input_shape", [1, -16, 16]), None,
                             "config.json: state.input_shape holds [1, -16, 16]"),
    # #8: a kernel of a billion pixels built until memory ran out
    "filter_scale_of_a_billion_pixels": (
        "img", lambda s: s["filter_scales"].__setitem__("sigmas", [1e9]), None,
        "config.json: state.filter_scales.sigmas holds [1000000000.0]",
    ),
    # #7: every score said "fit with error='nmse'", which it was
    "no_residual_scale": ("table", None, _drop("residual_scale"),
                          "model.safetensors: no residual_scale tensor"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_or_edited_run_is_refused_at_load_naming_the_file_and_value(runs, tmp_path, case):
    name, state, tensors, needle = CASES[case]
    run = _copy(runs, name, tmp_path, state, tensors)
    with pytest.raises(RunFailure) as err:
        aekit.load(run)
    message = str(err.value)
    assert f"{run}/{needle}" in message and "the run is damaged or was edited" in message
    assert "\n" not in message


def test_a_run_without_calibration_keeps_its_recorded_threshold_with_a_note(runs, tmp_path, caplog):
    # probe 67 #4: the training rows' scores gave 22.19 where the run recorded 151.76
    saved = aekit.load(runs[0] / "table")
    run = _copy(runs, "table", tmp_path, lambda s: s.pop("calibration"))
    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        loaded = aekit.load(run)
    assert loaded.threshold_ == pytest.approx(saved.threshold_)
    np.testing.assert_array_equal(loaded.predict(runs[1]), saved.predict(runs[1]))
    assert f"{run}/config.json: no state.calibration" in caplog.text
    assert "the recorded one is kept" in caplog.text


def test_a_run_without_calibration_whose_threshold_its_scores_give_loads_without_a_note(
    runs, tmp_path, caplog
):
    # a run saved before calibration: its threshold came from the scores it still holds
    def before_calibration(state):
        state.pop("calibration")
        state.pop("threshold_value")

    with caplog.at_level(logging.WARNING, logger="aekit.notes"):
        aekit.load(_copy(runs, "table", tmp_path, before_calibration))
    assert "no state.calibration" not in caplog.text


def _add_to_header(run, name, dtype, shape):
    """``run``'s weights with one more tensor in the header and its bytes (zeros) at the end."""
    path = run / "model.safetensors"
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header, data = json.loads(raw[8 : 8 + n]), raw[8 + n :]
    size = int(np.prod(shape)) * {"F32": 4, "BOOL": 1}[dtype]
    header[name] = {
        "dtype": dtype,
        "shape": list(shape),
        "data_offsets": [len(data), len(data) + size],
    }
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + data + bytes(size))


def test_a_large_tensor_no_run_writes_is_refused_before_the_weights_are_read(runs, tmp_path):
    # probe 67 #8: a header describing 20 GiB was read whole, then "out of memory" named no file
    run = _copy(runs, "table", tmp_path)
    _add_to_header(run, "zz", "F32", (4 << 20,))
    with pytest.raises(RunFailure, match=r"model.safetensors: the tensor zz \(16,777,216 bytes"):
        aekit.load(run)


def test_a_model_tensor_larger_than_the_config_describes_is_refused_from_the_header(runs, tmp_path):
    run = _copy(runs, "table", tmp_path)
    weights = load_file(run / "model.safetensors")
    name = next(k for k in sorted(weights) if k.startswith("model.") and k.endswith("weight"))
    weights[name] = torch.zeros(4, *weights[name].shape)
    save_file(weights, run / "model.safetensors")
    with pytest.raises(RunFailure, match=f"the tensor {name} is .* in the file's header, larger"):
        aekit.load(run)


@pytest.mark.parametrize("dtype", [torch.bool, torch.int64, torch.float16])
def test_weights_of_another_dtype_are_refused_naming_the_tensor(runs, tmp_path, dtype):
    # probe 67 #9: bool weights were cast to float32 and flagged 63 rows of 300 where 1 was
    run = _copy(runs, "table", tmp_path)
    weights = load_file(run / "model.safetensors")
    name = next(k for k in sorted(weights) if k.startswith("model.") and k.endswith("weight"))
    weights[name] = (weights[name] > 0).to(dtype)
    save_file(weights, run / "model.safetensors")
    with pytest.raises(
        RunFailure, match=f"model.safetensors: the tensor {name} is [A-Z0-9]+; expected F32"
    ):
        aekit.load(run)


@pytest.mark.parametrize("name", ["table", "img"])
def test_an_infinite_calibration_score_loads(runs, tmp_path, name):
    """Review 67: a normal row scoring past float32's range is a score that calibration keeps (the
    threshold stays below it): refused as damaged, a run aekit wrote would not load."""
    key = "calibration" if name == "table" else None

    def inf_score(state):
        scores = state[key]["scores"] if key else state["calibration_scores"]
        scores[-1] = float("inf")

    run = _copy(runs, name, tmp_path, inf_score)
    loaded = aekit.load(run)
    assert np.isposinf(loaded.calibration_scores_).any()
