"""The worker plugin that loads an aekit model once in each Dask worker (:mod:`aekit.dask.models`)."""

from __future__ import annotations

from distributed import WorkerPlugin

from .models import held, let_go


class ModelPlugin(WorkerPlugin):
    """Holds a model's files; on each worker's start (and on registration) loads it once, and on
    unregistration (or the worker's end) lets go of it."""

    def __init__(self, key: str, files: dict[str, bytes]):
        self.key = key
        self.files = files

    def setup(self, worker) -> None:
        threads = getattr(getattr(worker, "state", None), "nthreads", None)
        held(self.key, self.files, threads)

    def teardown(self, worker) -> None:
        let_go(self.key)
