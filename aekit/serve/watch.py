"""Whether a served run is still the one on disk.

The server reads a run once, at start, and answers with it until it stops. A run calibrated,
resumed or overwritten while it is served is not picked up (a restart serves the new one), and it
was not said either: the answers then differed from ``aekit score RUN``'s without a word (103
alarms served where the recalibrated run on disk gave 126). Now the change is said once in the
server's log, checked at most once a second as requests come.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger("aekit.serve")

CHECK_EVERY = 1.0  # seconds between two looks at a run's config.json


class RunWatch:
    """The run folder ``folder`` served as ``name``, as it was when loaded."""

    def __init__(self, name: str, folder: str | Path):
        self.name, self.folder = name, str(folder)
        self.config = Path(folder) / "config.json" if str(folder) else None
        self.loaded = self._stamp()
        self.next = time.monotonic() + CHECK_EVERY
        self.said = False

    def _stamp(self) -> tuple[int, int, int] | None:
        """config.json's identity: a calibrate replaces the file, --overwrite the folder."""
        try:
            st = os.stat(self.config) if self.config is not None else None
        except OSError:  # removed meanwhile: a change too
            return None
        return None if st is None else (st.st_ino, st.st_mtime_ns, st.st_size)

    def check(self) -> None:
        """One log line, the first time the run on disk is found changed."""
        now = time.monotonic()
        if self.said or self.config is None or now < self.next:
            return
        self.next = now + CHECK_EVERY
        if self._stamp() != self.loaded:
            self.said = True
            log.warning(
                "note: %s changed on disk since the server loaded it (calibrated, resumed, "
                "overwritten or removed): model %r still answers as loaded; restart the server to "
                "serve it as it is now",
                self.folder,
                self.name,
            )
