"""The ``python_function`` model of an aekit run: MLflow calls :meth:`AekitModel.load_context` once,
then :meth:`AekitModel.predict` for each batch of rows (a request of ``mlflow models serve``, a
batch of ``spark_udf``)."""

from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from ..errors import UsageError

RUN = "run"  # the artifact that holds the run folder (config.json and model.safetensors)


class AekitModel(PythonModel):
    """An aekit run as an MLflow ``PythonModel``: loaded with :func:`aekit.load`, never unpickled."""

    estimator: Any = None
    prepare: Any = None  # the run's recorded reading of a table: categorical columns, fill values

    def load_context(self, context) -> None:
        from ..estimators.outputs import recorded_preparation
        from ..estimators.persistence import load

        self.estimator = load(context.artifacts[RUN])
        self.prepare = recorded_preparation(context.artifacts[RUN])

    # The hint is MLflow's "no schema from this hint": the signature given at save time checks the input.
    def predict(self, context, model_input: pd.DataFrame, params=None):
        """The run's outputs (:mod:`aekit.estimators.outputs`) for ``model_input``, one row per input row."""
        return predict(self.estimator, model_input, self.prepare)


def predict(est: Any, model_input: Any, prepare: dict | None = None):
    """A DataFrame of ``est``'s outputs for a DataFrame of rows (columns by name; read as the run
    reads a table with ``prepare``: :func:`aekit.estimators.outputs.recorded_preparation`) or an
    array of samples (rows, or images of the training images' shape)."""
    from ..estimators.outputs import is_table, output_frame, outputs

    if isinstance(model_input, pd.DataFrame):
        if not is_table(est):
            raise UsageError(
                f"this model reads images of shape {tuple(est.input_shape_)}; send a float32 array "
                f"of shape (n, {', '.join(map(str, est.input_shape_))}), not a table"
            )
        out = output_frame(est, model_input, prepare=prepare)
        out.index = model_input.index  # the input's own: a join or concat lines the rows up
        return out
    x = np.asarray(model_input, dtype=np.float32)
    return pd.DataFrame(outputs(est, x))
