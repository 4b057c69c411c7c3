"""The neighbours figure: queries beside their neighbours."""

import numpy as np
import pytest

from aekit.errors import DataError
from aekit.plots import plot_neighbors


def test_writes_a_png(tmp_path):
    rng = np.random.default_rng(0)
    q, nb = rng.random((3, 1, 8, 8)), rng.random((3, 4, 1, 8, 8))
    path = plot_neighbors(
        q, nb, tmp_path / "nn.png", distances=rng.random((3, 4)), labels=list(range(15)), title="t"
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "kw",
    [
        dict(neighbors=np.zeros((2, 4, 1, 8, 8))),
        dict(neighbors=np.zeros((3, 4, 1, 7, 8))),
        dict(distances=np.zeros((3, 5))),
        dict(labels=[0] * 3),
    ],
)
def test_bad_shapes_are_refused(tmp_path, kw):
    args = dict(
        queries=np.zeros((3, 1, 8, 8)), neighbors=np.zeros((3, 4, 1, 8, 8)), path=tmp_path / "x.png"
    )
    args.update(kw)
    with pytest.raises(DataError):
        plot_neighbors(**args)
