"""The in-memory form of every dataset aekit reads: :class:`Data`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import DataError
from .rowstore import RowStore, RowsView


@dataclass
class Data:
    """Samples, optional labels, and what is needed to write results back in the same form.

    ``x`` is float32: images are ``(n, C, H, W)`` in [0, 1]; tables and signals are
    ``(n, features)``. Data larger than memory has a row store on disk as ``x``
    (:class:`aekit.data.NpyRows`), and :meth:`subset` gives views of it. The optional
    per-sample fields (``y``, ``names``, ``ids``) follow ``x``'s order and are carried through
    :meth:`subset`. A copy with some fields changed is ``dataclasses.replace(data, y=...)``, so
    that the fields not named (``id_name``, ``image_mode``, ...) are kept.

    Parameters
    ----------
    x : ndarray of float32
        Images ``(n, C, H, W)`` in [0, 1], or tables and signals ``(n, features)``.
    y : ndarray of shape (n,), optional
        Labels.
    feature_names : list of str, optional
        Column names of ``x`` for tables read with a header.
    names : list of str, optional
        Relative file paths (posix) of images read from a folder.
    image_mode : {"L", "RGB"}, optional
        The mode of images read from files.
    ids : ndarray of shape (n,), optional
        The values of an id column, carried through to outputs.
    id_name : str, optional
        The id column's name, written as the header of the ids in outputs.
    sizes : list of (int, int), optional
        Each image's own ``(height, width)`` when it was resized on reading (``image_size``), so
        that outputs can be written back at it.
    source : str
        Where the data came from, for messages and run configs.

    Examples
    --------
    >>> data = Data(x=np.zeros((4, 3), np.float32), y=np.array([0, 1, 0, 1]))
    >>> len(data.subset(data.y == 1))
    2
    """

    x: np.ndarray  # float32. images: (n, C, H, W) in [0, 1]; tables and signals: (n, features)
    y: np.ndarray | None = None  # labels (n,) or None
    feature_names: list[str] | None = None  # column names of x for tables read with a header
    names: list[str] | None = None  # relative file paths (posix) of images read from a folder
    image_mode: str | None = None  # "L" or "RGB" for images read from files
    ids: np.ndarray | None = None  # values of an --id-column, carried through
    source: str = ""  # where it came from, for messages and run configs
    id_name: str | None = None  # the id column's name (its header in outputs)
    sizes: list[tuple[int, int]] | None = None  # images resized on reading: each one's own (H, W)

    def __post_init__(self) -> None:
        # A length mismatch is a bug in the code that built this object, not bad user input.
        n = len(self.x)
        for field in ("y", "names", "ids", "sizes"):
            value = getattr(self, field)
            if value is not None and len(value) != n:
                raise ValueError(f"Data.{field} has {len(value)} entries but x has {n} samples")

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, idx) -> Data:
        """Return the samples selected by ``idx`` (a slice, integer indices or a boolean mask)."""
        rows = np.arange(len(self.x))[idx]
        rows = np.atleast_1d(rows)
        if isinstance(self.x, RowStore):  # rows on disk: a view, no copy
            x = RowsView(self.x, rows)
        else:
            x = self.x[rows]
        return replace(
            self,
            x=x,
            y=None if self.y is None else self.y[rows],
            names=None if self.names is None else [self.names[i] for i in rows],
            ids=None if self.ids is None else self.ids[rows],
            sizes=None if self.sizes is None else [self.sizes[i] for i in rows],
        )


def columns_by_name(data: Data, names: Sequence[str] | None, what: str = "columns"):
    """``data.x`` with the columns ``names`` in that order, by name when both sides know them.

    ``x`` is returned as it is when either side has no names or they already agree; reordering
    reads a row store into memory.

    Parameters
    ----------
    data : Data
        The samples, with ``feature_names`` when read from a table with a header.
    names : sequence of str or None
        The columns a model was fitted on (``feature_names_in_``, a series' ``channel_names_``).
    what : str, default "columns"
        What the columns are called in the error ("columns", "channels").

    Returns
    -------
    ndarray or row store
        ``data.x``, its columns in the order of ``names``.

    Raises
    ------
    DataError
        One line naming up to five of the columns that ``data`` lacks.

    Examples
    --------
    >>> data = Data(x=np.array([[1.0, 2.0, 3.0]]), feature_names=["a", "b", "c"])
    >>> columns_by_name(data, ["c", "a"]).tolist()
    [[3.0, 1.0]]
    """
    have = data.feature_names
    if names is None or have is None or list(have) == list(names):
        return data.x
    missing = [n for n in names if n not in have]
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise DataError(f"{data.source}: missing the model's {what} {', '.join(missing[:5])}{more}")
    x = data.x.rows(0, len(data.x)) if isinstance(data.x, RowStore) else data.x  # reorder in memory
    return x[:, [have.index(n) for n in names]]
