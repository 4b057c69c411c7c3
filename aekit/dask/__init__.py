"""aekit on a Dask cluster: score (or encode) a table larger than one machine.

* :func:`score` / :func:`encode`: a Dask DataFrame in, a lazy Dask DataFrame of the run's outputs
  out (one ``map_partitions``), the ids kept;
* :func:`score_files` (``aekit score RUN --input 'data/*.parquet' --output scores/ --dask ADDRESS``):
  Parquet files in, one Parquet part per input file out, written into a staging folder and moved
  into place once every part is written.

The model goes to each worker once (:mod:`aekit.dask.models`: a worker plugin that loads it with
aekit's own loader when the worker starts), never with the tasks, which carry only its key.
Needs ``pip install 'aekit[dask]'``; importing this package imports neither Dask nor torch. See
``docs/guide/stack.md``.

Examples
--------
>>> import dask.dataframe as dd, aekit.dask                            # doctest: +SKIP
>>> from distributed import Client                                     # doctest: +SKIP
>>> client = Client("tcp://scheduler:8786")                            # doctest: +SKIP
>>> scores = aekit.dask.score("runs/ecg", dd.read_parquet("data/*.parquet"))   # doctest: +SKIP
>>> scores.to_parquet("scores/")                                       # doctest: +SKIP
"""

from .._lazy import lazy_names

_LAZY = {
    "score": "aekit.dask.frames",
    "encode": "aekit.dask.frames",
    "score_files": "aekit.dask.files",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
