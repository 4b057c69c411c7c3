"""onnxruntime, imported quietly: without its telemetry, its default logger at aekit's level."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from types import ModuleType

# onnxruntime's telemetry opt-outs (the older name, and the newer one that makes it complete), read
# once when it is imported: it wrote ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ into the
# user's home, and with no writable HOME printed a coloured warning on a successful export
TELEMETRY_OFF = ("ORT_DISABLE_TELEMETRY", "ORT_TELEMETRY_DISABLED")


def onnxruntime(require: Callable[[str], ModuleType]) -> ModuleType:
    """onnxruntime as ``require`` imports it, with its telemetry off (a user's own setting of the
    variables stands) and its default logger quieted as aekit's sessions are (errors only)."""
    if "onnxruntime" in sys.modules:  # imported by the host: its settings are the host's
        return require("onnxruntime")
    mine = not any(name in os.environ for name in TELEMETRY_OFF)  # a user's own setting stands
    unset = list(TELEMETRY_OFF) if mine else []
    os.environ.update(dict.fromkeys(unset, "1"))
    try:
        ort = require("onnxruntime")
    finally:  # the processes this one starts keep the user's environment
        for name in unset:
            os.environ.pop(name, None)
    ort.set_default_logger_severity(3)
    if mine:
        with contextlib.suppress(AttributeError):  # an older onnxruntime
            ort.disable_telemetry_events()
    return ort
