"""mubench plugin mlflow: each finished cell becomes an MLflow run (a logger on ``mubench_cell_finished``).

Opt-in, where: ``MUBENCH_MLFLOW_URI``, else MLflow's own ``MLFLOW_TRACKING_URI``, else with
``MUBENCH_MLFLOW=on`` the local folder ``./mlruns`` (browse it with ``mlflow ui --backend-store-uri ./mlruns``);
none of them set (or ``MUBENCH_MLFLOW=off``): nothing is logged. Runs go to the experiment ``mubench`` (``MUBENCH_MLFLOW_EXPERIMENT`` names another). Registration only: mlflow is imported when the first cell finishes, never at listing.
"""
from mubench_harness import hookimpl


@hookimpl
def mubench_cell_finished(cell, outcome):
    from .tracker import log_cell

    log_cell(cell, outcome)
