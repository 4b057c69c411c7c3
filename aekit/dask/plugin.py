"""The worker plugin that loads an aekit model once in each Dask worker (:mod:`aekit.dask.models`)."""

from __future__ import annotations

from distributed import WorkerPlugin

from .models import from_files, install


class ModelPlugin(WorkerPlugin):
    """Holds a model's files; on each worker's start (and on registration) loads it once."""

    def __init__(self, key: str, files: dict[str, bytes]):
        self.key = key
        self.files = files

    def setup(self, worker) -> None:
        threads = getattr(getattr(worker, "state", None), "nthreads", None)
        install(self.key, from_files(self.files, threads=threads))
