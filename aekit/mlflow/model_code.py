"""The code of every aekit MLflow model (MLflow's "models from code"): copied into the model folder
by :func:`aekit.mlflow.save_model` and run by ``mlflow.pyfunc.load_model``, it names the model class;
the model itself is the run folder among the model's artifacts, read by aekit's own loader."""

import mlflow

from aekit.mlflow.pyfunc import AekitModel

mlflow.models.set_model(AekitModel())
