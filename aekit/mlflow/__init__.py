"""aekit in MLflow: tracking of training runs and an MLflow model of any run.

* :class:`MLflowLog` (``fit(..., mlflow=True)``, ``aekit train ... --mlflow``): parameters, the
  losses of each epoch, the held-out metrics, figures and the run folder, in an MLflow run.
* :func:`save_model` / :func:`log_model`: an MLflow model whose ``python_function`` flavour loads
  the run with aekit's own loader (safetensors and JSON; MLflow's "models from code", no pickle),
  with a signature from the run's inputs and outputs. ``mlflow.pyfunc.load_model(uri).predict(df)``
  gives aekit's scores or latent vectors (:mod:`aekit.estimators.outputs`); ``mlflow models serve``
  serves it and ``mlflow.pyfunc.spark_udf`` scores with it in Spark.

Everything here needs ``pip install 'aekit[mlflow]'`` (the ``mlflow-skinny`` client); importing this
package does not import MLflow. See ``docs/guide/stack.md``.

Examples
--------
>>> import aekit.mlflow, mlflow                                     # doctest: +SKIP
>>> with mlflow.start_run():                                        # doctest: +SKIP
...     info = aekit.mlflow.log_model("runs/ecg", registered_model_name="ecg")
>>> mlflow.pyfunc.load_model(info.model_uri).predict(df)            # doctest: +SKIP
"""

from .._lazy import lazy_names

_LAZY = {
    "MLflowLog": "aekit.training.mlflow",
    "save_model": "aekit.mlflow.flavour",
    "log_model": "aekit.mlflow.flavour",
    "model_signature": "aekit.mlflow.flavour",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
