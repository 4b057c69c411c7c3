"""``aekit serve``: runs behind the Open Inference Protocol (KServe's "v2" REST protocol).

One module per concept: :mod:`.protocol` reads and checks the protocol's JSON (requests into
arrays, arrays into responses, the one-line ``{"error": ...}`` answers), :mod:`.models` is a
served run (its inputs and outputs per family, computed with the estimators' public methods),
:mod:`.batching` gathers requests that arrive close together into one call of the model,
:mod:`.metrics` counts them for Prometheus, :mod:`.app` is the ASGI application (routes, limits,
the API key) and :mod:`.server` runs it under uvicorn until SIGTERM.

The server sits on top, beside the CLI: it parses and calls, and nothing below imports it. Its
packages are the optional extra ``aekit[serve]`` (:data:`INSTALL`); this module imports none of
them, so that the CLI can say what to install when they are missing.
"""

from __future__ import annotations

import importlib.util

INSTALL = "pip install 'aekit[serve]'"
#: The import names of the extra's packages.
PACKAGES = ("starlette", "uvicorn", "prometheus_client")


def missing_packages() -> list[str]:
    """The packages of ``aekit[serve]`` that cannot be imported here."""
    missing = []
    for name in PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a module set to None in sys.modules, a broken install
            found = False
        if not found:
            missing.append(name)
    return missing
