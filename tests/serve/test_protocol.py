"""The protocol's tensors read into arrays without a server: flat or nested data, each numeric type."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aekit.serve.protocol import ProtocolError, numbers, output_tensor, parse_infer


def _read(shape, datatype, data) -> np.ndarray:
    req = parse_infer(
        {"inputs": [{"name": "x", "shape": shape, "datatype": datatype, "data": data}]}
    )
    return numbers(req.inputs["x"])


def test_flat_and_nested_data_read_alike_in_row_major_order():
    flat = _read([2, 3], "FP32", [1, 2, 3, 4, 5, 6.5])
    nested = _read([2, 3], "FP32", [[1, 2, 3], [4, 5, 6.5]])
    np.testing.assert_array_equal(flat, nested)
    assert flat.shape == (2, 3) and flat[1, 2] == 6.5


@pytest.mark.parametrize("datatype", ["INT8", "INT64", "UINT8", "FP16", "FP64"])
def test_every_numeric_datatype_is_read(datatype):
    np.testing.assert_array_equal(_read([1, 2], datatype, [1, 2]), [[1, 2]])


@pytest.mark.parametrize(
    "datatype, data, word",
    [
        ("UINT8", [1, 256], "range of UINT8"),
        ("INT8", [-129, 0], "range of INT8"),
        ("FP16", [1.0, 70000.0], "range of FP16"),
        ("INT64", [1, 2.5], "whole numbers"),
        ("BOOL", [True, False], "expected numbers"),
    ],
)
def test_values_outside_the_declared_type_are_refused(datatype, data, word):
    with pytest.raises(ProtocolError, match=word) as err:
        _read([2], datatype, data)
    assert err.value.status == 400


def test_outputs_are_flat_with_their_shape_and_datatype():
    t = output_tensor("latent", np.arange(6, dtype=np.float32).reshape(2, 3))
    assert t == {"name": "latent", "datatype": "FP32", "shape": [2, 3], "data": [0, 1, 2, 3, 4, 5]}
    assert output_tensor("label", np.array([0, 1]))["datatype"] == "INT64"


def test_binary_inputs_read_as_their_json_twins():
    """Triton's binary tensor extension (tritonclient's default): little-endian bytes after the JSON."""
    from aekit.serve.protocol import split_binary

    x = np.array([[1.5, -2.0, 3.25]], dtype="<f4")
    tensor = {
        "name": "x",
        "shape": [1, 3],
        "datatype": "FP32",
        "parameters": {"binary_data_size": 12},
    }
    header = json.dumps({"inputs": [tensor]}).encode()
    body, binary = split_binary(header + x.tobytes(), str(len(header)))
    req = parse_infer(json.loads(body), binary)
    np.testing.assert_array_equal(numbers(req.inputs["x"]), x)
    with pytest.raises(ProtocolError, match="binary_data_size"):
        parse_infer(json.loads(body), binary + b"\0")  # bytes left over
    short = header.replace(b"12", b"8")
    body, binary = split_binary(short + x.tobytes()[:8], str(len(short)))
    with pytest.raises(ProtocolError, match="takes 12"):
        numbers(parse_infer(json.loads(body), binary).inputs["x"])
    # a header length of other digits ("²", latin-1 0xB2: isdigit() but not int()) is a 400's line
    for length in ("\xb2", "\u0663", "-3", "1e3"):
        with pytest.raises(ProtocolError, match="Inference-Header-Content-Length"):
            split_binary(header + x.tobytes(), length)
