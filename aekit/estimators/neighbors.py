"""Search by latent vector: which stored items are most like a query, by the distance of their codes.

:class:`LatentIndex` holds vectors (an encoder's codes, or any array) with an id per row and answers
``kneighbors(X, k)`` like scikit-learn's ``NearestNeighbors``: with an encoder (a fitted
:class:`aekit.Autoencoder` or :class:`aekit.VAE`) the inputs are encoded first, so ``fit`` and
``kneighbors`` take images or rows. Exact search by scikit-learn's brute force by default; with
``faiss-cpu`` installed (``pip install 'aekit[faiss]'``) an index of at least ``faiss_min`` vectors
is searched by faiss' exact flat index, which is several times faster on large indexes.
Euclidean and cosine distances; items at the same distance come in the order of their rows.

Saved as a folder: ``vectors.safetensors`` and ``index.json`` (metric, ids, where the items came
from), nothing pickled; the two are written together or not at all, and read back checked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import _io
from .._notes import note
from ..errors import ArgumentTypeError, DataError, NotFound, RunFailure, UsageError, one_line
from ..training.serialize import load_tensors, save_tensors
from .base import check_positive_int
from .validation import check_finite_codes, check_input

METRICS = ("euclidean", "cosine")
BACKENDS = ("auto", "sklearn", "faiss")
INDEX_CONFIG = "index.json"
INDEX_VECTORS = "vectors.safetensors"
INDEX_VERSION = (
    2  # 2: written as one transaction with a manifest; 'aekit index' records model and items
)
QUERY_BATCH = 4096  # queries searched at a time (the index's own search bounds its memory)
BLOCK_MIB = 64  # the (queries x items) distances scikit-learn and the tie search hold at a time


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
    def _vectors(self, X: Any, name: str, ids: Sequence[Any] | None = None) -> np.ndarray:
        _check_encoder(self.encoder)
        Z = self.encoder.transform(X) if self.encoder is not None else X
        if self.encoder is not None and np.ndim(Z) > 2:  # a code that is not flat: one vector each
            Z = np.asarray(Z).reshape(len(Z), -1)
        if self.encoder is not None:  # its inputs were checked: a bad value is the code's
            check_finite_codes(Z, ids, name)
        Z = check_input(None, Z, reset=None, name=name)
        if len(Z.shape) != 2:
            raise DataError(f"{name}: expected vectors of shape (n, k), got {Z.shape}")
        out = np.ascontiguousarray(Z, dtype=np.float32)
        if self.encoder is None and (out is X or not out.flags.owndata):
            # the caller's own array (or a view of it, a tensor's memory): the index keeps a copy,
            # or the caller's next write to its buffer would move the stored vectors
            out = out.copy()
        return out

    def fit(self, X: Any, y: Any = None, *, ids: Sequence[Any] | None = None) -> LatentIndex:
        """Store the vectors of ``X`` (encoded when there is an encoder) and their ``ids``; returns ``self``."""
        if self.metric not in METRICS:
            raise UsageError(f"metric must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if self.backend not in BACKENDS:
            raise UsageError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        # saved with the index: checked here whether faiss is installed or not (_build uses it then)
        check_positive_int("faiss_min", self.faiss_min)
        if ids is not None and (isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__")):
            raise ArgumentTypeError(f"ids must be a sequence of one id per sample, got {ids!r}")
        Z = self._vectors(X, "X", ids)
        if ids is not None and len(ids) != len(Z):
            raise DataError(
                f"ids has {len(ids)} values but X has {len(Z)} samples; give one id per sample"
            )
        self.ids_ = list(range(len(Z))) if ids is None else [_plain(v) for v in ids]
        _note_unclear_ids(self.ids_)
        self._build(Z)
        _note_zero_codes(Z, self.ids_, "items", self._built["metric"])
        return self

    def _build(self, Z: np.ndarray) -> None:
        faiss_min = check_positive_int("faiss_min", self.faiss_min)
        faiss = _faiss()
        if self.backend == "faiss" and faiss is None:
            raise UsageError(
                "backend='faiss' needs faiss: pip install 'aekit[faiss]' (or use backend='sklearn')"
            )
        self.vectors_ = Z
        # what the index was built with: what it searches by and what save writes, whatever
        # set on the attributes later
        self._built = {"metric": self.metric, "backend": self.backend, "faiss_min": faiss_min}
        use_faiss = faiss is not None and (
            self.backend == "faiss" or (self.backend == "auto" and len(Z) >= faiss_min)
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
    def kneighbors(
        self, X: Any, k: int = 10, *, ids: Sequence[Any] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest stored items of each query: ``(distances, indices)``, each (n_queries, k), nearest first.

        ``indices`` are rows of the index; ``[index.ids_[i] for i in indices[q]]`` are their ids.
        Items at the same distance come in the order of their rows (the first rows among them make
        the ``k``), so an indexed item queried comes back at rank 1 unless others tie with it.
        ``ids``: the queries' names, used in messages only.
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
        Q = self._vectors(X, "query", ids)
        if Q.shape[1] != self.vectors_.shape[1]:
            raise DataError(
                f"query vectors have {Q.shape[1]} dimensions but the index holds {self.vectors_.shape[1]}; "
                f"encode the queries with the index's model"
            )
        _note_zero_codes(Q, ids, "queries", self._built["metric"])
        dist = np.empty((len(Q), k), np.float32)
        idx = np.empty((len(Q), k), np.int64)
        for i in range(0, len(Q), QUERY_BATCH):
            dist[i : i + QUERY_BATCH], idx[i : i + QUERY_BATCH] = self._search(
                Q[i : i + QUERY_BATCH], k
            )
        return dist, idx

    def _search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.backend_ == "sklearn":
            return self._sklearn_search(Q, k)
        if self._built["metric"] == "cosine":
            sim, idx = self._index.search(_unit(Q), k)
            return _by_row(1.0 - sim, idx)  # cosine distance, as scikit-learn reports it
        sq, idx = self._index.search(Q, k)
        return _by_row(np.sqrt(np.maximum(sq, 0.0)), idx)  # faiss gives squared distances

    def _sklearn_search(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """scikit-learn's answer with ties by row: one more neighbour shows whether items tie with
        the k-th (which of them it returns is arbitrary); those queries are searched again by
        :func:`_nearest`, which takes the first rows among them."""
        from sklearn import config_context, get_config

        n = len(self.vectors_)
        # cosine goes through pairwise_distances_chunked, whose blocks are working_memory's
        # (1 GiB by default: 1.5 GB held for 2,000 queries of 200,000 items); euclidean is bounded
        with config_context(working_memory=min(BLOCK_MIB, get_config()["working_memory"])):
            dist, idx = _by_row(*self._index.kneighbors(Q, n_neighbors=min(k + 1, n)))
        if k == n:
            return dist, idx
        tied = dist[:, k - 1] == dist[:, k]
        dist, idx = dist[:, :k], idx[:, :k]
        if tied.any():
            dist[tied], idx[tied] = _nearest(Q[tied], self.vectors_, k, self._built["metric"])
        return dist, idx

    # ---- persistence -----------------------------------------------------------------------------
    def save(
        self, path: str | Path, *, overwrite: bool = False, extra: dict[str, Any] | None = None
    ) -> Path:
        """Write the index to the folder ``path``: ``vectors.safetensors`` and ``index.json`` (plus ``extra`` JSON).

        Both files are written beside the folder and swapped in together (:mod:`aekit._transaction`):
        an interrupted or failed save (a full disk) leaves the previous index whole. A path that
        holds files aekit did not write, or another kind of aekit folder, is refused.
        """
        from .._manifest import check_replaceable
        from .._outputs import check_save_target
        from .._transaction import followed, staged_folder
        from .persistence import as_path

        if not hasattr(self, "vectors_"):
            from ..errors import NotFittedError

            raise NotFittedError("this LatentIndex is empty; call fit(X) before save(path)")
        path = followed(as_path(path, "path"))
        check_save_target(path, overwrite, "an index")
        if os.path.lexists(path) and not path.is_dir():
            raise UsageError(f"cannot save an index to {path}: it is a file; expected a folder")
        if path.is_dir() and any(path.iterdir()) and not overwrite:
            raise UsageError(
                f"{path} already exists; pass overwrite=True (--overwrite) to replace it"
            )
        check_replaceable(path, "index", option="index folder", shown=str(path))
        config = {
            **(extra or {}),
            "format": "aekit-latent-index",
            "version": INDEX_VERSION,
            **self._built,
            "ids": self.ids_,
        }
        if "model" not in config and self.encoder is not None:  # what encoded the items
            from .provenance import encoder_checksum

            sha = encoder_checksum(self.encoder)
            config.update({} if sha is None else {"model": {"path": None, "sha256": sha}})
        _check_saved_ids(self.ids_)
        try:
            json.dumps(config, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ArgumentTypeError(f"extra and ids must be plain JSON values: {exc}") from None
        with staged_folder(path, "index") as work:
            save_tensors(work / INDEX_VECTORS, {"vectors": torch.from_numpy(self.vectors_)})
            _io.write_json(work / INDEX_CONFIG, config)
        return path

    @classmethod
    def load(cls, path: str | Path, encoder: Any = None) -> LatentIndex:
        """Read an index written by :meth:`save` (JSON and safetensors; nothing is unpickled).

        Each file is checked: ``index.json``'s fields and types, the vectors' shape and values,
        and (for an index with a manifest) that the two are the files written together.
        """
        from .._manifest import changed_files
        from .._transaction import readable
        from .persistence import as_path

        path = readable(as_path(path, "path"))
        config = read_index_config(path)
        vectors = _read_vectors(path / INDEX_VECTORS)
        if vectors.ndim != 2 or len(vectors) != len(config["ids"]):
            raise RunFailure(
                f"{path}: {len(config['ids'])} ids for vectors of shape {tuple(vectors.shape)}; "
                f"the index is damaged, build it again"
            )
        changed = changed_files(path, [INDEX_CONFIG, INDEX_VECTORS])
        if changed:
            raise RunFailure(
                f"{path / changed[0]}: changed since the index was written, so index.json and "
                f"vectors.safetensors are not the pair written together; build the index again"
            )
        if encoder is not None:
            from .provenance import check_encoder

            _check_encoder(encoder)
            check_encoder(config.get("model"), encoder, str(path))
        index = cls(
            encoder=encoder,
            metric=config["metric"],
            backend=config.get("backend", "auto"),
            faiss_min=int(config.get("faiss_min", 20000)),
        )
        index.ids_ = list(config["ids"])
        index._build(np.ascontiguousarray(vectors))
        return index


def _read_vectors(file: Path) -> np.ndarray:
    """The index's vectors: a 2-D float array of finite numbers, or one line naming the file."""
    if not os.path.lexists(file):
        raise NotFound(
            f"{file.parent}: no {INDEX_VECTORS}, a file of the index; build the index again",
            filename=str(file),
        )
    try:
        tensors = load_tensors(file)
    except (RuntimeError, OSError) as exc:
        raise RunFailure(f"{file}: not an aekit index's vectors ({exc})") from None
    vectors = tensors.get("vectors")
    if vectors is None or not vectors.is_floating_point():
        raise RunFailure(
            f"{file}: the tensor 'vectors' is missing or not floating point; build the index again"
        )
    vectors = vectors.float().numpy()
    bad = ~np.isfinite(vectors)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise RunFailure(
            f"{file}: the tensor 'vectors' holds non-finite values (row {row} first); the index is "
            f"damaged, build it again"
        )
    return vectors


# index.json: each field -> (what it must be, a test). Fields of 'aekit index' (run, input, read,
# labels, model, items) are checked by aekit.estimators.provenance when present.
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_FIELDS = {
    "format": ("'aekit-latent-index'", lambda v: v == "aekit-latent-index"),
    "version": ("a whole number", _is_int),
    "metric": (f"one of {', '.join(METRICS)}", lambda v: v in METRICS),
    "ids": (
        "a list of names or numbers",
        lambda v: (
            isinstance(v, list)
            and all(isinstance(i, (str, int, float)) and not isinstance(i, bool) for i in v)
        ),
    ),
}
_OPTIONAL = {
    "backend": (f"one of {', '.join(BACKENDS)}", lambda v: v in BACKENDS),
    "faiss_min": ("a whole number >= 1", lambda v: _is_int(v) and v >= 1),
}


def read_index_config(path: str | Path) -> dict[str, Any]:
    """``index.json`` of an index folder, checked field by field: one line naming the file and the field."""
    from .persistence import as_path

    file = as_path(path, "path") / INDEX_CONFIG
    if not file.is_file():
        raise NotFound(
            f"{path}: no {INDEX_CONFIG}; expected an index written by 'aekit index'",
            filename=str(file),
        )
    try:
        config = json.loads(file.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RunFailure(f"{file}: not valid JSON ({one_line(exc)[:200]})") from None
    except OSError as exc:
        raise RunFailure(f"{file}: cannot read it ({exc.strerror or exc})") from None
    if not isinstance(config, dict):
        raise RunFailure(
            f"{file}: holds a JSON {type(config).__name__}; expected an aekit index's object"
        )
    for key, (what, ok) in _FIELDS.items():
        if key not in config:
            raise RunFailure(
                f"{file}: the field {key!r} is missing; the index is damaged, build it again"
            )
        if not ok(config[key]):
            raise _bad_field(file, key, what, config[key])
    for key, (what, ok) in _OPTIONAL.items():
        if key in config and not ok(config[key]):
            raise _bad_field(file, key, what, config[key])
    return config


def _bad_field(file: Path, key: str, what: str, value: Any) -> RunFailure:
    shown = one_line(repr(value))[:60]
    if key == "format":
        return RunFailure(f"{file}: not an aekit index (the field 'format' is {shown}, not {what})")
    return RunFailure(
        f"{file}: the field {key!r} must be {what}, got {shown}; the index is damaged, build it again"
    )


def _unit(Z: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine similarity = inner product); zero rows stay zero."""
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return np.ascontiguousarray(Z / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _check_saved_ids(ids: list) -> None:
    """Refuse ids that ``index.json`` cannot hold as ids (tuples, None, True): the saved index would
    not load back (:data:`_FIELDS`)."""
    if _FIELDS["ids"][1](ids):
        return
    bad = next(i for i, v in enumerate(ids) if not _FIELDS["ids"][1]([v]))
    raise ArgumentTypeError(
        f"ids must be names or numbers to be saved; id {bad} is {ids[bad]!r} "
        f"({type(ids[bad]).__name__}); give str or number ids to fit(X, ids=...)"
    )


def _plain(value: Any) -> Any:
    """An id as plain JSON (NumPy scalars to Python); pandas' missing value (a gap in a nullable
    id column, whose truth is ambiguous) as None, the empty id it is."""
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value.item() if hasattr(value, "item") else value


def _check_encoder(encoder: Any) -> None:
    """Refuse, in one line, an encoder that cannot encode: a run's path, a model without a latent space."""
    if encoder is None or hasattr(encoder, "transform"):
        return
    if isinstance(encoder, (str, os.PathLike)):
        raise ArgumentTypeError(
            f"encoder must be a fitted model with transform (an Autoencoder or VAE), got the path "
            f"{os.fspath(encoder)!r}; load it with aekit.load(PATH)"
        )
    raise ArgumentTypeError(
        f"encoder must be a fitted model with transform (an Autoencoder or VAE), got an object "
        f"of type {type(encoder).__name__}, without a latent space to search; use a basic, stacked or vae model"
    )


def _nearest(Q: np.ndarray, Z: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Brute force: the ``k`` nearest rows of ``Z`` to each query, ties by row (the lowest rows make
    the ``k``: scikit-learn's own ``kneighbors`` takes any of them). Queries a block at a time, the
    (block x items) distances bounded to about :data:`BLOCK_MIB`."""
    from sklearn.metrics import pairwise_distances

    step = max(1, (BLOCK_MIB << 20) // (8 * max(len(Z), 1)))
    dist, idx = np.empty((len(Q), k), np.float32), np.empty((len(Q), k), np.int64)
    for i in range(0, len(Q), step):
        d = pairwise_distances(Q[i : i + step], Z, metric=metric)
        dist[i : i + step], idx[i : i + step] = _smallest(d, k)
    return dist, idx


def _by_row(dist: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each query's answers nearest first, those at the same distance in the order of their rows."""
    order = np.lexsort((idx, dist), axis=-1)
    return np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1)


def _smallest(d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` smallest values and their columns, ties by column."""
    kth = np.partition(d, k - 1, axis=1)[:, k - 1 : k]
    rows, cols = np.nonzero(d <= kth)  # k or more a row (ties with the k-th), columns ascending
    values = d[rows, cols]
    order = np.lexsort((cols, values, rows))
    starts = np.searchsorted(rows[order], np.arange(len(d)))
    picks = order[starts[:, None] + np.arange(k)]
    return values[picks], cols[picks]


def _note_zero_codes(Z: np.ndarray, ids: Sequence[Any] | None, what: str, metric: str) -> None:
    """Say when cosine distance is undefined for some vectors (all zeros): they come out at distance
    1 from everything, and an item so is never found, not even by itself."""
    if metric != "cosine":
        return
    zero = ~Z.any(axis=1)
    if zero.any():
        first = int(np.argmax(zero))
        shown = first if ids is None else one_line(repr(ids[first]))[:60]
        why = (
            "they are at distance 1 from everything and never found, not even by themselves; use "
            "metric='euclidean' to search them"
            if what == "items"
            else "every item is at distance 1 from them, and their answers are the index's first "
            "rows; an index built with metric='euclidean' (aekit index --metric euclidean) answers them"
        )
        note(
            f"{int(zero.sum())} of {len(Z)} {what}' vectors are all zeros (the first: {shown}), so "
            f"cosine distance is undefined for them: {why}",
            params=("metric",),
        )


def _note_unclear_ids(ids: list) -> None:
    """Say when ids repeat or are empty: an answer names an item by its id alone."""
    empty = next((i for i, v in enumerate(ids) if v is None or v == ""), None)
    if empty is not None:
        note(
            f"the item of row {empty} has an empty id: answers name it as ''; give each item an id"
        )
    seen: set = set()
    for v in ids if all(isinstance(v, (str, int, float)) for v in ids) else ():
        if v in seen:
            note(
                f"the id {one_line(repr(v))[:60]} names more than one item (the first repeated): "
                f"answers naming it do not say which; give each item its own id"
            )
            return
        seen.add(v)
