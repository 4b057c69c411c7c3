"""A DataFrame's rows for a model's outputs (aekit.estimators.outputs): the MLflow model's and the
scoring service's reading of a frame."""

from __future__ import annotations

import numpy as np
import pytest

import aekit
from aekit.errors import DataError
from aekit.estimators.outputs import table_rows

pd = pytest.importorskip("pandas")


def test_a_frame_with_nothing_to_prepare_is_read_without_pyarrow(monkeypatch):
    """Probe 64 packaging #1: `pip install 'aekit[mlflow]'` brought no pyarrow, and every
    `mlflow.pyfunc.load_model(uri).predict(df)` failed "reading a DataFrame as a table needs
    pyarrow", a run's preparation ({} for an estimator) read through Arrow though it had none."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    det = aekit.AnomalyDetector(epochs=1, hidden=(4,), latent_dim=2, device="cpu").fit(frame)
    import aekit.data.parquet as parquet

    def arrow(*args, **kwargs):
        raise DataError("input: reading a DataFrame as a table needs pyarrow; pip install pyarrow")

    monkeypatch.setattr(parquet, "read_frame", arrow)  # as it reads without pyarrow installed
    rows = table_rows(det, frame[["c", "a", "b"]], prepare={})
    np.testing.assert_array_equal(rows, frame.to_numpy(np.float32))
    fill = {"fill_values": {"a": 0.0, "b": 0.0, "c": 0.0}}  # every table run records them
    np.testing.assert_array_equal(table_rows(det, frame, prepare=fill), rows)  # review 64 #2
    frame.iloc[2, 0] = np.nan
    with pytest.raises(DataError, match="needs pyarrow"):  # a cell to fill: the data layer's
        table_rows(det, frame, prepare=fill)
