"""mubench plugin mlflow: each finished cell becomes an MLflow run (a logger on ``mubench_cell_finished``).

Where: ``MUBENCH_MLFLOW_URI``, else MLflow's own ``MLFLOW_TRACKING_URI``, else the local folder
``./mlruns`` (browse it with ``mlflow ui --backend-store-uri ./mlruns``); ``MUBENCH_MLFLOW=off`` turns
the logger off. Runs go to the experiment ``mubench`` (``MUBENCH_MLFLOW_EXPERIMENT`` names another). Registration only: mlflow is imported when the first cell finishes, never at listing.
"""
from mubench_harness import hookimpl


@hookimpl
def mubench_cell_finished(cell, outcome):
    from .tracker import log_cell

    log_cell(cell, outcome)
