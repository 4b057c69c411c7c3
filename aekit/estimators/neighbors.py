"""Search by latent vector: which stored items are most like a query, by the distance of their codes.

:class:`LatentIndex` holds vectors (an encoder's codes, or any array) with an id per row and answers
``kneighbors(X, k)`` like scikit-learn's ``NearestNeighbors``: with an encoder (a fitted
:class:`aekit.Autoencoder` or :class:`aekit.VAE`) the inputs are encoded first, so ``fit`` and
``kneighbors`` take images or rows. Exact search by scikit-learn's brute force by default; with
``faiss-cpu`` installed (``pip install 'aekit[faiss]'``) an index of at least ``faiss_min`` vectors
is searched by faiss' exact flat index, which is several times faster on large indexes.
Euclidean and cosine distances.

Saved as a folder: ``vectors.safetensors`` and ``index.json`` (metric, ids, where the items came
from), nothing pickled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import _io
from ..errors import DataError, RunFailure, UsageError
from ..training.serialize import load_tensors, save_tensors
from .base import check_positive_int
from .validation import check_input

METRICS = ("euclidean", "cosine")
BACKENDS = ("auto", "sklearn", "faiss")
INDEX_CONFIG = "index.json"
INDEX_VECTORS = "vectors.safetensors"
QUERY_BATCH = 4096  # queries searched at a time: bounds the (queries x items) distance block


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class LatentIndex:
    """Nearest neighbours by latent vector, with ``fit(X)`` / ``kneighbors(X, k)``.

    Parameters
    ----------
    encoder : fitted estimator with ``transform``, optional
        Encodes ``X`` in :meth:`fit` and :meth:`kneighbors`; without it ``X`` are the vectors.
    metric : {"euclidean", "cosine"}, default "euclidean"
    backend : {"auto", "sklearn", "faiss"}, default "auto"
        "auto": faiss when it is installed and the index holds at least ``faiss_min`` vectors,
        else scikit-learn's ``NearestNeighbors`` (brute force).
    faiss_min : int, default 20000

    Attributes
    ----------
    vectors_ : ndarray of float32, shape (n, k)
    ids_ : list
        One id per vector (file names, an id column, or row numbers).
    backend_ : str
        The backend in use.

    Examples
    --------
    >>> import numpy as np
    >>> index = LatentIndex().fit(np.eye(3, dtype=np.float32), ids=["a", "b", "c"])
    >>> dist, idx = index.kneighbors(np.array([[1.0, 0.1, 0.0]], np.float32), k=2)
    >>> [index.ids_[i] for i in idx[0]]
    ['a', 'b']
    """

    def __init__(
        self,
        encoder: Any = None,
        metric: str = "euclidean",
        backend: str = "auto",
        faiss_min: int = 20000,
    ):
        self.encoder = encoder
        self.metric = metric
        self.backend = backend
        self.faiss_min = faiss_min

    # ---- building --------------------------------------------------------------------------------
    def _vectors(self, X: Any, name: str) -> np.ndarray:
        Z = self.encoder.transform(X) if self.encoder is not None else X
        Z = check_input(None, Z, reset=None, name=name)
        if len(Z.shape) != 2:
            raise DataError(f"{name}: expected vectors of shape (n, k), got {Z.shape}")
        return np.ascontiguousarray(Z, dtype=np.float32)

    def fit(self, X: Any, y: Any = None, *, ids: Sequence[Any] | None = None) -> LatentIndex:
        """Store the vectors of ``X`` (encoded when there is an encoder) and their ``ids``; returns ``self``."""
        if self.metric not in METRICS:
            raise UsageError(f"metric must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if self.backend not in BACKENDS:
            raise UsageError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        Z = self._vectors(X, "X")
        if ids is not None and len(ids) != len(Z):
            raise DataError(
                f"ids has {len(ids)} values but X has {len(Z)} samples; give one id per sample"
            )
        self.ids_ = list(range(len(Z))) if ids is None else [_plain(v) for v in ids]
        self._build(Z)
        return self

    def _build(self, Z: np.ndarray) -> None:
        self.vectors_ = Z
        faiss = _faiss()
        if self.backend == "faiss" and faiss is None:
            raise UsageError(
                "backend='faiss' needs faiss: pip install 'aekit[faiss]' (or use backend='sklearn')"
            )
        use_faiss = faiss is not None and (
            self.backend == "faiss"
            or (
                self.backend == "auto" and len(Z) >= check_positive_int("faiss_min", self.faiss_min)
            )
        )
        if use_faiss:
            self._index = (
                faiss.IndexFlatIP(Z.shape[1])
                if self.metric == "cosine"
                else faiss.IndexFlatL2(Z.shape[1])
            )
            self._index.add(_unit(Z) if self.metric == "cosine" else Z)
            self.backend_ = "faiss"
        else:
            from sklearn.neighbors import NearestNeighbors

            self._index = NearestNeighbors(metric=self.metric, algorithm="brute").fit(Z)
            self.backend_ = "sklearn"

    # ---- searching -------------------------------------------------------------------------------
    def kneighbors(self, X: Any, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest stored items of each query: ``(distances, indices)``, each (n_queries, k), nearest first.

        ``indices`` are rows of the index; ``[index.ids_[i] for i in indices[q]]`` are their ids.
        """
        if not hasattr(self, "vectors_"):
            from ..errors import NotFittedError

            raise NotFittedError(
                "this LatentIndex is empty; call fit(X) first or load one with LatentIndex.load(PATH)"
            )
        k = check_positive_int("k", k)
        if k > len(self.vectors_):
            raise UsageError(
                f"k={k} but the index holds {len(self.vectors_)} items; ask for at most that many"
            )
        Q = self._vectors(X, "query")
        if Q.shape[1] != self.vectors_.shape[1]:
            raise DataError(
                f"query vectors have {Q.shape[1]} dimensions but the index holds {self.vectors_.shape[1]}; "
                f"encode the queries with the index's model"
            )
        dist = np.empty((len(Q), k), np.float32)
        idx = np.empty((len(Q), k), np.int64)
        for i in range(0, len(Q), QUERY_BATCH):
            dist[i : i + QUERY_BATCH], idx[i : i + QUERY_BATCH] = self._search(
                Q[i : i + QUERY_BATCH], k
            )
        return dist, idx

    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.backend_ == "sklearn":
            return self._index.kneighbors(Q, n_neighbors=k)
        if self.metric == "cosine":
            sim, idx = self._index.search(_unit(Q), k)
            return 1.0 - sim, idx  # cosine distance, as scikit-learn reports it
        sq, idx = self._index.search(Q, k)
        return np.sqrt(np.maximum(sq, 0.0)), idx  # faiss gives squared distances

    # ---- persistence -----------------------------------------------------------------------------
    def save(
        self, path: str | Path, *, overwrite: bool = False, extra: dict[str, Any] | None = None
    ) -> Path:
        """Write the index to the folder ``path``: ``vectors.safetensors`` and ``index.json`` (plus ``extra`` JSON)."""
        path = Path(path)
        if (path / INDEX_CONFIG).exists() and not overwrite:
            raise UsageError(
                f"{path} already holds an index; pass overwrite=True (--overwrite) to replace it"
            )
        path.mkdir(parents=True, exist_ok=True)
        save_tensors(path / INDEX_VECTORS, {"vectors": torch.from_numpy(self.vectors_)})
        _io.write_json(
            path / INDEX_CONFIG,
            {
                **(extra or {}),
                "format": "aekit-latent-index",
                "version": 1,
                "metric": self.metric,
                "backend": self.backend,
                "faiss_min": self.faiss_min,
                "ids": self.ids_,
            },
        )
        return path

    @classmethod
    def load(cls, path: str | Path, encoder: Any = None) -> LatentIndex:
        """Read an index written by :meth:`save` (JSON and safetensors; nothing is unpickled)."""
        path = Path(path)
        config = read_index_config(path)
        try:
            vectors = (
                load_tensors(path / INDEX_VECTORS)["vectors"].numpy().astype(np.float32, copy=False)
            )
        except (KeyError, RuntimeError, OSError) as exc:
            raise RunFailure(
                f"{path / INDEX_VECTORS}: not an aekit index's vectors ({exc})"
            ) from None
        if vectors.ndim != 2 or len(vectors) != len(config["ids"]):
            raise RunFailure(
                f"{path}: {len(config['ids'])} ids for vectors of shape {tuple(vectors.shape)}; "
                f"the index is damaged, build it again"
            )
        index = cls(
            encoder=encoder,
            metric=config["metric"],
            backend=config.get("backend", "auto"),
            faiss_min=int(config.get("faiss_min", 20000)),
        )
        index.ids_ = list(config["ids"])
        index._build(np.ascontiguousarray(vectors))
        return index


def read_index_config(path: str | Path) -> dict[str, Any]:
    """``index.json`` of an index folder, checked."""
    file = Path(path) / INDEX_CONFIG
    if not file.is_file():
        raise UsageError(f"{path}: no {INDEX_CONFIG}; expected an index written by 'aekit index'")
    try:
        config = json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunFailure(f"{file}: not valid JSON ({exc})") from None
    if (
        not isinstance(config, dict)
        or config.get("format") != "aekit-latent-index"
        or config.get("metric") not in METRICS
        or not isinstance(config.get("ids"), list)
    ):
        raise RunFailure(f"{file}: not an aekit index (format, metric or ids missing)")
    return config


def _unit(Z: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine similarity = inner product); zero rows stay zero."""
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return np.ascontiguousarray(Z / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _plain(value: Any) -> Any:
    """An id as plain JSON (NumPy scalars to Python)."""
    return value.item() if hasattr(value, "item") else value
