"""SciPy sparse matrices as a row store: one batch at a time is made dense, never the whole matrix.

One-hot and TF-IDF features are usually sparse and often far too large to densify: a
200,000 x 5,000 matrix is 4 GB of float32 dense but ~12 MB in CSR at 0.1% non-zeros. The
training loop and the estimators' batched inference already read row stores
(``aekit.data.rowstore.RowStore``: ``__len__``, ``take``, ``rows``, ``sample_shape``), so
a CSR matrix behind that protocol trains and scores with memory bounded by one batch.
"""

from __future__ import annotations

import numpy as np


class SparseRows:
    """A SciPy sparse matrix served as dense float32 rows, a batch at a time.

    Parameters
    ----------
    matrix : scipy.sparse matrix or array of shape (n, features)
        Converted to CSR once (row slices and row gathers are cheap in CSR).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> rows = SparseRows(sp.eye(4, format="csr"))
    >>> rows.take([2, 0])
    array([[0., 0., 1., 0.],
           [1., 0., 0., 0.]], dtype=float32)
    >>> len(rows), rows.sample_shape
    (4, (4,))
    """

    def __init__(self, matrix) -> None:
        self.matrix = matrix.tocsr()
        if self.matrix.dtype != np.float32:
            self.matrix = self.matrix.astype(np.float32)  # copies only the non-zeros
        self.sample_shape = (int(self.matrix.shape[1]),)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), self.sample_shape[0])

    def __repr__(self) -> str:
        return f"SparseRows(shape={self.shape}, nnz={self.matrix.nnz})"

    def take(self, indices) -> np.ndarray:
        """Rows ``indices`` (in that order), dense: (len(indices), features) float32."""
        return self.matrix[np.asarray(indices, dtype=np.int64)].toarray()

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop``, dense: (stop - start, features) float32."""
        return self.matrix[start:stop].toarray()
