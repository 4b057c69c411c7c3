"""The Open Inference Protocol's JSON: requests checked into arrays, arrays written as responses.

Everything a client sends is checked here before a model sees it: the JSON itself, the request's
fields, each tensor's name, shape, datatype and data (numbers of the declared type, as many as the
shape says, finite and within the type's range). A problem is a :class:`ProtocolError`: its
HTTP status and one line naming what was wrong and what was expected, which the server answers as
the protocol's ``{"error": "..."}`` body.

The protocol (KServe's "v2"): a request is ``{"id"?, "parameters"?, "inputs": [tensor, ...],
"outputs"?: [{"name", "parameters"?}, ...]}``, a tensor ``{"name", "shape", "datatype", "data",
"parameters"?}`` whose data is the values in row-major order, flat or nested as the shape; a
response is ``{"model_name", "id"?, "outputs": [tensor, ...]}`` with flat data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The protocol's datatypes of numbers, and the NumPy type of each.
NUMERIC = {
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
}
DATATYPES = (*NUMERIC, "BOOL", "BYTES")
#: NumPy dtype (by name) -> the protocol's datatype, for outputs.
OUTPUT_TYPES = {np.dtype(t).name: name for name, t in NUMERIC.items()}
MAX_DIMS = 8  # more dimensions than any model here has
MAX_DIM = 2**40  # a dimension larger than any body could hold
MAX_MESSAGE = 400  # characters of an error message
MAX_NAME = 256  # characters of a tensor or parameter name


class ProtocolError(Exception):
    """A request the server cannot answer: the HTTP status and one line for ``{"error": ...}``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(one_line(message))
        self.status = status


@dataclass
class Tensor:
    """One input tensor of a request, its data not yet read (:func:`numbers` reads it)."""

    name: str
    shape: tuple[int, ...]
    datatype: str
    data: Any


@dataclass
class InferRequest:
    """A checked inference request: its inputs by name and the outputs it asks for."""

    id: str | None
    inputs: dict[str, Tensor]
    outputs: (
        dict[str, dict[str, Any]] | None
    )  # requested output -> its parameters; None: the defaults
    parameters: dict[str, Any] = field(default_factory=dict)


# ---- reading a request ----------------------------------------------------------------------------


def parse_json(body: bytes) -> Any:
    """The body as JSON; a ProtocolError for anything else (bad UTF-8, bad syntax, absurd nesting)."""
    if not body.strip():
        raise ProtocolError("the request has no body; expected an inference request as JSON")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise ProtocolError("the request body is not UTF-8 text; expected JSON") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ProtocolError(
            "the JSON is nested too deeply; expected an inference request"
        ) from None
    except ValueError as exc:  # a number of more digits than Python converts (4300)
        raise ProtocolError(f"unreadable JSON: {exc}") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} is a JSON {_kind(value)}; expected an object")
    return value


def _kind(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_NAME:
        shown = _kind(value) if not isinstance(value, str) else f"{len(value)} characters"
        raise ProtocolError(f"{what} must be a name of 1 to {MAX_NAME} characters, got {shown}")
    return value


def split_binary(body: bytes, header_length: str) -> tuple[bytes, bytes]:
    """The JSON header and the binary data of a request of the binary tensor extension."""
    digits = header_length.isascii() and header_length.isdecimal()  # "²" is a digit to isdigit()
    if not digits or not 0 < int(header_length) <= len(body):
        raise ProtocolError(
            f"Inference-Header-Content-Length is {header_length[:20]!r}; expected the length in "
            f"bytes of the JSON at the start of the body (at most {len(body)})"
        )
    n = int(header_length)
    return body[:n], body[n:]


def parse_infer(obj: Any, binary: bytes | None = None) -> InferRequest:
    """A request's JSON (from :func:`parse_json`) checked into an :class:`InferRequest`.

    ``binary``: the bytes after the JSON in a request of the binary tensor extension (Triton's,
    which ``tritonclient`` uses by default): inputs with a ``binary_data_size`` parameter take
    their data from it, in order.
    """
    req = _object(obj, "the request")
    if "inputs" not in req:
        raise ProtocolError("the request has no 'inputs'; expected a list of input tensors")
    ident = req.get("id")
    if ident is not None and not isinstance(ident, str):
        raise ProtocolError(f"'id' is a JSON {_kind(ident)}; expected a string")
    inputs = req["inputs"]
    if not isinstance(inputs, list):
        raise ProtocolError(f"'inputs' is a JSON {_kind(inputs)}; expected a list of tensors")
    tensors: dict[str, Tensor] = {}
    offset = 0
    for i, item in enumerate(inputs):
        t = parse_tensor(item, i, binary, offset)
        if t.name in tensors:
            raise ProtocolError(f"the input {t.name!r} is given twice; give each input once")
        tensors[t.name] = t
        offset += len(t.data) if isinstance(t.data, bytes) else 0
    if binary is not None and offset != len(binary):
        raise ProtocolError(
            f"the body holds {len(binary)} bytes of binary data but the inputs' binary_data_size "
            f"add up to {offset}"
        )
    return InferRequest(
        id=ident,
        inputs=tensors,
        outputs=_requested(req.get("outputs")),
        parameters=parameters(req.get("parameters"), "the request's 'parameters'"),
    )


def parameters(value: Any, what: str) -> dict[str, Any]:
    """A ``parameters`` object (absent: empty)."""
    return {} if value is None else _object(value, what)


def _requested(value: Any) -> dict[str, dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ProtocolError(
            f"'outputs' is a JSON {_kind(value)}; expected a list of {{'name': ...}}"
        )
    out: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(value):
        item = _object(item, f"outputs[{i}]")
        name = _name(item.get("name"), f"outputs[{i}].name")
        out[name] = parameters(item.get("parameters"), f"the parameters of output {name!r}")
    return out


def parse_tensor(item: Any, index: int, binary: bytes | None = None, offset: int = 0) -> Tensor:
    """One entry of ``inputs``: its name, shape and datatype checked (the data by :func:`numbers`);
    a binary input's data is its bytes of ``binary`` from ``offset``."""
    item = _object(item, f"inputs[{index}]")
    name = _name(item.get("name"), f"inputs[{index}].name")
    params = parameters(item.get("parameters"), f"the parameters of input {name!r}")
    size = params.get("binary_data_size")
    for key in ("shape", "datatype") if size is not None else ("shape", "datatype", "data"):
        if key not in item:
            raise ProtocolError(f"the input {name!r} has no {key!r}")
    datatype = item["datatype"]
    if datatype not in DATATYPES:
        raise ProtocolError(
            f"the input {name!r} has datatype {datatype!r}; expected one of {', '.join(DATATYPES)}"
        )
    shape = _shape(item["shape"], name)
    if size is None:
        return Tensor(name, shape, datatype, item["data"])
    if binary is None:
        raise ProtocolError(
            f"the input {name!r} has binary_data_size but the request is plain JSON; send the "
            f"Inference-Header-Content-Length header, or the data as JSON"
        )
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= len(binary) - offset:
        raise ProtocolError(
            f"the input {name!r} has binary_data_size {_short(size, 20)}; expected the bytes of its "
            f"data (at most {len(binary) - offset} are left)"
        )
    return Tensor(name, shape, datatype, binary[offset : offset + size])


def _shape(value: Any, name: str) -> tuple[int, ...]:
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_DIMS
        or any(
            isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= MAX_DIM for d in value
        )
    ):
        raise ProtocolError(
            f"the input {name!r} has shape {_short(value)}; expected a list of 1 to {MAX_DIMS} "
            f"whole numbers from 0 to {MAX_DIM}"
        )
    return tuple(value)


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value) if not isinstance(value, (bytes, bytearray)) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- reading a tensor's data ----------------------------------------------------------------------


def numbers(t: Tensor, missing: bool = False) -> np.ndarray:
    """The data of a numeric tensor as a float64 array of its shape (checked: count, type, range).

    ``missing``: a float tensor may hold ``null`` or NaN (a missing cell, NaN in the array) for a
    model that fills them as the run recorded; infinity is refused all the same."""
    if t.datatype not in NUMERIC:
        raise ProtocolError(
            f"the input {t.name!r} has datatype {t.datatype}; expected numbers (FP32, or another "
            f"numeric type)"
        )
    if isinstance(t.data, bytes):
        return _binary_numbers(t, missing)
    size = math.prod(t.shape)
    flat = _flatten(t.data, t.shape, t.name)
    if len(flat) != size:
        raise ProtocolError(
            f"the input {t.name!r} has {len(flat)} values but its shape {list(t.shape)} holds {size}"
        )
    dtype = np.dtype(NUMERIC[t.datatype])
    integer = dtype.kind in "iu"
    allowed = {int} if integer else {int, float, type(None)} if missing else {int, float}
    if not set(map(type, flat)) <= allowed:  # bool, None, str, list, dict are not numbers
        bad = next(v for v in flat if type(v) not in allowed)
        raise ProtocolError(
            f"the input {t.name!r} holds {_short(bad, 20)} (a JSON {_kind(bad)}); expected "
            f"{'whole numbers' if integer else 'numbers'} ({t.datatype})"
        )
    try:
        x = np.array([np.nan if v is None else v for v in flat] if missing else flat, np.float64)
    except OverflowError:
        raise ProtocolError(
            f"the input {t.name!r} holds a number too large for {t.datatype}"
        ) from None
    _check_range(x, dtype, t, missing)
    return x.reshape(t.shape)


def _binary_numbers(t: Tensor, missing: bool = False) -> np.ndarray:
    """A binary input's bytes (little-endian, row-major) as a float64 array of its shape."""
    dtype = np.dtype(NUMERIC[t.datatype]).newbyteorder("<")
    size = math.prod(t.shape)
    if len(t.data) != size * dtype.itemsize:
        raise ProtocolError(
            f"the input {t.name!r} has {len(t.data)} bytes of binary data but its shape "
            f"{list(t.shape)} of {t.datatype} takes {size * dtype.itemsize}"
        )
    x = np.frombuffer(t.data, dtype=dtype).astype(np.float64)
    _check_range(x, dtype, t, missing)
    return x.reshape(t.shape)


def _flatten(data: Any, shape: Sequence[int], name: str) -> list:
    """Flat ``data``, or nested data as deep as ``shape`` with each level its length, flattened."""
    if not isinstance(data, list):
        raise ProtocolError(
            f"the input {name!r} has data of JSON type {_kind(data)}; expected an array of numbers"
        )
    if not any(isinstance(v, list) for v in data[:1]) or len(shape) == 1:
        return data
    flat: list = []
    _nested(data, shape, name, flat)
    return flat


def _nested(data: Any, shape: Sequence[int], name: str, out: list) -> None:
    if not isinstance(data, list) or len(data) != shape[0]:
        got = f"{len(data)} entries" if isinstance(data, list) else f"a {_kind(data)}"
        raise ProtocolError(
            f"the input {name!r} has nested data that does not match its shape "
            f"{list(shape)}: {got} where {shape[0]} were expected"
        )
    if len(shape) == 1:
        out.extend(data)
        return
    for part in data:
        _nested(part, shape[1:], name, out)


def _check_range(x: np.ndarray, dtype: np.dtype, t: Tensor, missing: bool = False) -> None:
    if missing:  # NaN is a missing cell, filled by the model; the range is that of the rest
        x = x[~np.isnan(x)]
    if x.size == 0:
        return
    if dtype.kind == "f":
        limit = float(np.finfo(dtype).max)
        if not np.isfinite(x).all():
            raise ProtocolError(
                f"the input {t.name!r} holds NaN or infinity; expected finite numbers"
            )
        lo, hi = -limit, limit
    else:
        info = np.iinfo(dtype)
        lo, hi = float(info.min), float(info.max)
    if x.min() < lo or x.max() > hi:
        raise ProtocolError(
            f"the input {t.name!r} holds a number outside the range of {t.datatype} "
            f"[{lo:.6g}, {hi:.6g}]"
        )


def scalars(t: Tensor) -> list:
    """The data of a one-dimensional tensor of any type (an id column) as a flat list of scalars."""
    if len(t.shape) != 1 or isinstance(t.data, bytes):
        raise ProtocolError(
            f"the input {t.name!r} has shape {list(t.shape)}; expected [rows], as JSON data"
        )
    flat = _flatten(t.data, t.shape, t.name)
    if len(flat) != t.shape[0] or any(isinstance(v, (list, dict)) for v in flat):
        raise ProtocolError(f"the input {t.name!r} must hold {t.shape[0]} values (text or numbers)")
    return flat


# ---- writing a response ---------------------------------------------------------------------------


def output_tensor(name: str, array: np.ndarray) -> dict[str, Any]:
    """An output as the protocol's JSON tensor (flat data, row-major)."""
    return {
        "name": name,
        "datatype": OUTPUT_TYPES[array.dtype.name],
        "shape": list(array.shape),
        "data": array.ravel().tolist(),
    }


def dumps(obj: Any) -> bytes:
    """Compact JSON; non-finite numbers are refused (no client can read them back as JSON)."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def one_line(message: str) -> str:
    """A message on one line, at most :data:`MAX_MESSAGE` characters."""
    text = " ".join(str(message).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def error_body(message: str) -> bytes:
    """The protocol's error object, its message on one line."""
    return dumps({"error": one_line(message)})
